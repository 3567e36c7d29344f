//! Bounded fuzzing of what arrives from WeChat's servers (or anyone posting
//! to the callback): the XML envelope and message parsers and the AES
//! decryption never panic, whatever the input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use qifu_wechat::{Crypto, parse_envelope, parse_message};

fn xml_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("<xml>".to_owned()),
            Just("</xml>".to_owned()),
            Just("<ToUserName><![CDATA[gh_1]]></ToUserName>".to_owned()),
            Just("<FromUserName><![CDATA[o1]]></FromUserName>".to_owned()),
            Just("<CreateTime>1700000000</CreateTime>".to_owned()),
            Just("<MsgType><![CDATA[text]]></MsgType>".to_owned()),
            Just("<MsgType><![CDATA[event]]></MsgType>".to_owned()),
            Just("<Event><![CDATA[subscribe]]></Event>".to_owned()),
            Just("<Content><![CDATA[".to_owned()),
            Just("]]></Content>".to_owned()),
            Just("<MsgId>".to_owned()),
            Just("</MsgId>".to_owned()),
            Just("<Encrypt>".to_owned()),
            Just("</Encrypt>".to_owned()),
            Just("<!DOCTYPE x [<!ENTITY a \"aaaa\">]>".to_owned()),
            Just("&a;".to_owned()),
            "\\PC{0,12}",
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn the_parsers_never_panic_on_any_text(s in "\\PC{0,400}") {
        let _ = parse_envelope(&s);
        let _ = parse_message(&s);
    }

    #[test]
    fn the_parsers_never_panic_on_xml_like_text(s in xml_like()) {
        let _ = parse_envelope(&s);
        let _ = parse_message(&s);
    }

    #[test]
    fn decryption_never_panics(s in "[A-Za-z0-9+/=]{0,200}", junk in "\\PC{0,60}") {
        let crypto = Crypto::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxqifu0000000001").unwrap();
        let _ = crypto.decrypt(&s);
        let _ = crypto.decrypt(&junk);
    }
}
