//! Passive replies: the XML the server returns in the HTTP response.

use std::fmt::Write as _;

use crate::{Crypto, Error, msg_signature};

/// WeChat shows at most 8 articles in a news reply.
pub const MAX_NEWS_ARTICLES: usize = 8;

/// One article (图文) of a news reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Article {
    /// Title.
    pub title: String,
    /// Summary shown under the title.
    pub description: String,
    /// Cover image URL.
    pub pic_url: String,
    /// Link opened when tapped.
    pub url: String,
}

/// Writes `text` as CDATA. `]]>` inside is split across two sections, and
/// characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) are dropped.
fn push_cdata(out: &mut String, text: &str) {
    out.push_str("<![CDATA[");
    let clean: String = text.chars().filter(|&c| is_xml_char(c)).collect();
    out.push_str(&clean.replace("]]>", "]]]]><![CDATA[>"));
    out.push_str("]]>");
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn push_element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>");
    push_cdata(out, text);
    let _ = write!(out, "</{name}>");
}

fn push_header(out: &mut String, to_user: &str, from_user: &str, create_time: i64, msg_type: &str) {
    out.push_str("<xml>");
    push_element(out, "ToUserName", to_user);
    push_element(out, "FromUserName", from_user);
    let _ = write!(out, "<CreateTime>{create_time}</CreateTime>");
    push_element(out, "MsgType", msg_type);
}

/// A text reply: `to_user` is the user's OpenID (the message's
/// `FromUserName`), `from_user` the account's original id.
#[must_use]
pub fn text_reply(to_user: &str, from_user: &str, create_time: i64, content: &str) -> String {
    let mut out = String::with_capacity(256 + content.len());
    push_header(&mut out, to_user, from_user, create_time, "text");
    push_element(&mut out, "Content", content);
    out.push_str("</xml>");
    out
}

/// A news (图文) reply with `ArticleCount` and `Articles/item`. Only the
/// first [`MAX_NEWS_ARTICLES`] articles are sent; pass at least one.
#[must_use]
pub fn news_reply(to_user: &str, from_user: &str, create_time: i64, articles: &[Article]) -> String {
    let articles = &articles[..articles.len().min(MAX_NEWS_ARTICLES)];
    let mut out = String::with_capacity(256 + 256 * articles.len());
    push_header(&mut out, to_user, from_user, create_time, "news");
    let _ = write!(out, "<ArticleCount>{}</ArticleCount><Articles>", articles.len());
    for article in articles {
        out.push_str("<item>");
        push_element(&mut out, "Title", &article.title);
        push_element(&mut out, "Description", &article.description);
        push_element(&mut out, "PicUrl", &article.pic_url);
        push_element(&mut out, "Url", &article.url);
        out.push_str("</item>");
    }
    out.push_str("</Articles></xml>");
    out
}

/// Wraps a reply (from [`text_reply`] or [`news_reply`]) for safe mode:
/// encrypts it and signs it with `token`, `timestamp` and `nonce` (normally
/// those of the request).
///
/// # Errors
/// [`Error::InvalidField`] if `nonce` has characters XML cannot carry,
/// [`Error::EncryptFailed`] if encryption fails.
pub fn encrypted_reply(crypto: &Crypto, token: &str, reply_xml: &str, timestamp: i64, nonce: &str) -> Result<String, Error> {
    if !nonce.chars().all(is_xml_char) {
        return Err(Error::InvalidField("Nonce"));
    }
    let encrypt = crypto.encrypt(reply_xml)?;
    let timestamp = timestamp.to_string();
    let signature = msg_signature(token, &timestamp, nonce, &encrypt);
    let mut out = String::with_capacity(encrypt.len() + 256);
    out.push_str("<xml>");
    push_element(&mut out, "Encrypt", &encrypt);
    push_element(&mut out, "MsgSignature", &signature);
    let _ = write!(out, "<TimeStamp>{timestamp}</TimeStamp>");
    push_element(&mut out, "Nonce", nonce);
    out.push_str("</xml>");
    Ok(out)
}
