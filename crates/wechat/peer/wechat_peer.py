#!/usr/bin/env python3
"""Plays the WeChat Official Account platform (微信公众平台) against a running
server, using wechatpy as an independent implementation of the protocol.

It checks, in order:
  1. URL verification: a GET with a correct signature must echo `echostr`;
  2. a GET with a forged signature must get HTTP 403;
  3. a text message POSTed in --mode plain or safe (encrypted with wechatpy's
     WeChatCrypto) must get a passive reply (text or news), which is parsed
     (and in safe mode signature-checked and decrypted) with wechatpy;
  4. a subscribe-by-QR-code event (EventKey qrscene_42) likewise.

On success it prints one JSON object on stdout, e.g.
  {"verify": "ok", "forged": 403, "reply_type": "news", "content": "",
   "articles": [{"title": "...", "url": "..."}],
   "subscribe": {"reply_type": "text", "content": "...", "articles": []}}
and exits 0. Any protocol mismatch prints a message on stderr and exits 1.

Needs only the standard library and wechatpy (pip install wechatpy cryptography).
"""

import argparse
import json
import random
import string
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import wechatpy
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner, check_signature


class Mismatch(Exception):
    """The server broke the protocol."""


def fail(message):
    raise Mismatch(message)


def sign(*parts):
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def nonce():
    return "".join(random.choice(string.digits) for _ in range(10))


def request(method, url, params, body=None, timeout=10.0):
    """Returns (status, text) for any HTTP status; raises Mismatch on transport errors."""
    full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
    data = body.encode("utf-8") if body is not None else None
    req = urllib.request.Request(full, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "text/xml; charset=utf-8")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        fail(f"{method} {url}: {e}")


def signed_params(token):
    ts = str(int(time.time()))
    n = nonce()
    sig = sign(token, ts, n)
    check_signature(token, sig, ts, n)  # wechatpy agrees with our signing
    return {"signature": sig, "timestamp": ts, "nonce": n}


def verify_url(args):
    echostr = "qifu" + nonce() + "echo"
    params = signed_params(args.token)
    params["echostr"] = echostr
    status, text = request("GET", args.url, params, timeout=args.timeout)
    if status != 200:
        fail(f"URL verification: HTTP {status}, body {text[:200]!r}")
    if text != echostr:
        fail(f"URL verification: expected echostr {echostr!r}, got {text[:200]!r}")
    return "ok"


def forged_get(args):
    params = signed_params(args.token)
    sig = params["signature"]
    params["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    params["echostr"] = "forged" + nonce()
    status, text = request("GET", args.url, params, timeout=args.timeout)
    if status != 403:
        fail(f"forged signature: expected HTTP 403, got {status} with body {text[:200]!r}")
    if params["echostr"] in text:
        fail("forged signature: the server echoed echostr")
    return status


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(args, msg_type, fields):
    parts = [
        f"<ToUserName>{cdata(args.account)}</ToUserName>",
        f"<FromUserName>{cdata(args.openid)}</FromUserName>",
        f"<CreateTime>{int(time.time())}</CreateTime>",
        f"<MsgType>{cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields:
        parts.append(f"<{name}>{cdata(value)}</{name}>")
    xml = "<xml>" + "".join(parts) + "</xml>"
    # wechatpy must read what we send as intended.
    parsed = wechatpy.parse_message(xml)
    if parsed.source != args.openid or parsed.target != args.account:
        fail("internal: wechatpy misread the message we built")
    return xml


def post(args, xml):
    """POSTs one message as the platform would and returns the reply XML ('' if none)."""
    params = signed_params(args.token)
    params["openid"] = args.openid
    body = xml
    crypto = None
    if args.mode == "safe":
        crypto = WeChatCrypto(args.token, args.aes_key, args.app_id)
        wrapped = crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
        root = ET.fromstring(wrapped)
        encrypt = root.findtext("Encrypt")
        msg_signature = root.findtext("MsgSignature")
        if msg_signature != sign(args.token, params["timestamp"], params["nonce"], encrypt):
            fail("internal: wechatpy's msg_signature disagrees with ours")
        params["encrypt_type"] = "aes"
        params["msg_signature"] = msg_signature
        body = (
            f"<xml><ToUserName>{cdata(args.account)}</ToUserName>"
            f"<Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        )
    status, text = request("POST", args.url, params, body, timeout=args.timeout)
    if status != 200:
        fail(f"POST: HTTP {status}, body {text[:200]!r}")
    text = text.strip()
    if text in ("", "success"):
        return ""
    if crypto is None:
        return text
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        fail(f"safe-mode reply is not XML ({e}): {text[:200]!r}")
    fields = {child.tag: (child.text or "") for child in root}
    for name in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce"):
        if not fields.get(name):
            fail(f"safe-mode reply lacks {name}: {text[:300]!r}")
    if not fields["TimeStamp"].isdigit():
        fail(f"safe-mode reply TimeStamp is not a number: {fields['TimeStamp']!r}")
    try:
        return crypto.decrypt_message(text, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
    except InvalidSignatureException:
        fail("safe-mode reply: MsgSignature does not match")
    except InvalidAppIdException:
        fail("safe-mode reply: encrypted for another AppID")
    except Exception as e:  # bad base64, padding, UTF-8...
        fail(f"safe-mode reply does not decrypt: {type(e).__name__}: {e}")


def read_reply(args, reply_xml):
    """Parses a passive reply: {"reply_type", "content", "articles"}."""
    if reply_xml == "":
        return {"reply_type": "none", "content": "", "articles": []}
    if args.mode == "safe" and "<Encrypt>" in reply_xml:
        fail("decrypted reply is itself encrypted")
    try:
        root = ET.fromstring(reply_xml)
    except ET.ParseError as e:
        fail(f"reply is not XML ({e}): {reply_xml[:200]!r}")
    if root.tag != "xml":
        fail(f"reply root is <{root.tag}>, not <xml>")
    reply = wechatpy.parse_message(reply_xml)
    if reply.source != args.account:
        fail(f"reply FromUserName {reply.source!r} is not the account {args.account!r}")
    if reply.target != args.openid:
        fail(f"reply ToUserName {reply.target!r} is not the user {args.openid!r}")
    create_time = root.findtext("CreateTime") or ""
    if not create_time.strip().isdigit():
        fail(f"reply CreateTime is not a number: {create_time!r}")
    msg_type = (root.findtext("MsgType") or "").strip()
    if msg_type == "text":
        content = reply.content
        if not content:
            fail("text reply has no Content")
        return {"reply_type": "text", "content": content, "articles": []}
    if msg_type == "news":
        count = (root.findtext("ArticleCount") or "").strip()
        items = root.findall("./Articles/item")
        if not count.isdigit() or int(count) != len(items):
            fail(f"news reply ArticleCount {count!r} but {len(items)} items")
        if not 1 <= len(items) <= 8:
            fail(f"news reply has {len(items)} articles (WeChat allows 1 to 8)")
        articles = []
        for item in items:
            title = item.findtext("Title") or ""
            url = item.findtext("Url") or ""
            if not title or not url:
                fail("news article without Title or Url")
            articles.append(
                {
                    "title": title,
                    "description": item.findtext("Description") or "",
                    "pic_url": item.findtext("PicUrl") or "",
                    "url": url,
                }
            )
        return {"reply_type": "news", "content": "", "articles": articles}
    fail(f"unexpected reply MsgType {msg_type!r}")


def main():
    parser = argparse.ArgumentParser(description="Act as the WeChat platform against a qifu server.")
    parser.add_argument("--url", required=True, help="callback URL, e.g. http://127.0.0.1:8080/wechat")
    parser.add_argument("--token", required=True)
    parser.add_argument("--aes-key", default="", help="EncodingAESKey (43 chars); safe mode only")
    parser.add_argument("--app-id", default="", help="AppID; safe mode only")
    parser.add_argument("--mode", choices=("plain", "safe"), default="plain")
    parser.add_argument("--openid", default="oQifuPeerUser0001", help="the user's OpenID")
    parser.add_argument("--account", default="gh_qifu00000001", help="the account's original id (ToUserName)")
    parser.add_argument("--text", default="政策", help="content of the text message")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    if args.mode == "safe" and (len(args.aes_key) != 43 or not args.app_id):
        parser.error("--mode safe needs --aes-key (43 characters) and --app-id")

    try:
        result = {"verify": verify_url(args), "forged": forged_get(args)}
        text = message_xml(args, "text", [("Content", args.text), ("MsgId", str(random.randrange(10**15, 10**16)))])
        result.update(read_reply(args, post(args, text)))
        subscribe = message_xml(
            args,
            "event",
            [("Event", "subscribe"), ("EventKey", "qrscene_42"), ("Ticket", "gQFqifuPeerTicket42")],
        )
        parsed = wechatpy.parse_message(subscribe)
        if getattr(parsed, "scene_id", None) != "42":
            fail("internal: wechatpy does not see scene 42 in our subscribe event")
        result["subscribe"] = read_reply(args, post(args, subscribe))
    except Mismatch as e:
        print(f"wechat_peer: protocol mismatch: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
