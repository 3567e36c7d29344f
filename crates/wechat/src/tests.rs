//! Tests against published vectors, a wechatpy-produced fixture, and the
//! failure cases (all of which must be errors, never panics).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeEncrypt, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::*;

// ---------------------------------------------------------------------------
// Vector A: Tencent's official 公众号 WXBizMsgCrypt Python sample (Sample.py,
// author jonyqin, 2014), as copied in e.g. charlesXu86/Chatbot_CN
// `Chatbot_Web/impl/weixin/Sample.py` and wegostudio/wego
// `tests/crypto/tests.py`.
const A_TOKEN: &str = "spamtest";
const A_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const A_APP_ID: &str = "wx2c2769f8efd9abc2";
const A_TIMESTAMP: &str = "1409735669";
const A_NONCE: &str = "1320562132";
const A_MSG_SIGNATURE: &str = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
const A_FROM_XML: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>";
const A_ENCRYPT: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
/// The sample's plaintext, as wechatpy 1.8.18 `WeChatCrypto.decrypt_message`
/// also returns it (the sample prints it rather than stating it).
const A_PLAIN: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>";

// ---------------------------------------------------------------------------
// Vector B: wechatpy/wechatpy `tests/test_crypto.py` (WeChat Work / 企业微信,
// the same WXBizMsgCrypt scheme with the CorpID in place of the AppID).
const B_TOKEN: &str = "123456";
const B_AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const B_ID: &str = "wx49f0ab532d5d035a";
// test_check_signature_should_ok
const B_ECHO_SIGNATURE: &str = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96";
const B_ECHO_TIMESTAMP: &str = "1411443780";
const B_ECHO_NONCE: &str = "437374425";
const B_ECHO_STR: &str = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
// test_encrypt_message: random prefix mocked as "1234567890123456".
const B_REPLY: &str = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
const B_REPLY_ENCRYPT: &str = "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3";
const B_REPLY_SIGNATURE: &str = "407518b7649e86ef23978113f92d27afa9296533";
const B_TIMESTAMP: &str = "1411525903";
const B_NONCE: &str = "461056294";
// test_decrypt_message
const B_POST_XML: &str = "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>";
const B_POST_SIGNATURE: &str = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d";

// ---------------------------------------------------------------------------
// Vector C: wechatpy/wechatpy `tests/test_utils.py` (check_signature).
const C_TOKEN: &str = "test";
const C_TIMESTAMP: &str = "1410685589";
const C_NONCE: &str = "test";
const C_SIGNATURE: &str = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff";

// ---------------------------------------------------------------------------
// Fixture D: produced here with wechatpy 1.8.18 (PyPI, with cryptography
// 50.0.2):
//   WeChatCrypto("qifu-token", D_AES_KEY, "wx5f1e2d3c4b5a6978")
//       .encrypt_message(D_PLAIN, "827361", "1717200001")
// (random prefix chosen by wechatpy). Content holds Chinese and a split "]]>".
const D_TOKEN: &str = "qifu-token";
const D_AES_KEY: &str = "QifuWeChatInteropKey0123456789abcdefghijklm";
const D_APP_ID: &str = "wx5f1e2d3c4b5a6978";
const D_TIMESTAMP: &str = "1717200001";
const D_NONCE: &str = "827361";
const D_PLAIN: &str = "<xml><ToUserName><![CDATA[gh_qifu0000001]]></ToUserName><FromUserName><![CDATA[oQifuUser0001]]></FromUserName><CreateTime>1717200000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[政策 ]]]]><![CDATA[> 申报]]></Content><MsgId>24601234567890123</MsgId></xml>";
const D_ENCRYPT: &str = "LNtwJrbPMatPmTUndZ8aSS0ONL+kEv3ojqbIkrpTuviO87dT175CrslmUosNkNZf9+PJVOBXnnLl8u9L/CoR15BNN9+hwRhaHGMnwXDDZpwFJ4rItyN5fLkkhhH9XEc1iwqDFYfg8r0WMf+TUtOk3+KrmJ7YZRU2Rj19WOmRtbC1MVRFjKr03+OaMDq1gnd9lTsEf7q9qwaSYnjIIvfv90FbmWGWyVZyBzg05aVI543Zq3c7XPfiPv3QlIfakcomjFm7JkTkIEqJodSmG8FGC5ecTyouslBZ87PPX+RCMkbfJBpTN8Y6tQCCa6cloffp6fQL/GtlfiBZ9hxGmmJtVqXqdTc+DheOvlfqe+ul5Yj/kqiY5iySp0lx3lA6AT+/fsj9ESqKQhVaazDsPzkF6LluW3L224sGmzb3jv9rHFs=";
const D_MSG_SIGNATURE: &str = "27ef424ad421cbac17f4e86b6ee85efe16649a49";

fn crypto_a() -> Crypto {
    Crypto::new(A_AES_KEY, A_APP_ID).unwrap()
}

/// AES-256-CBC over an arbitrary, already padded `plaintext` with the key
/// and IV `Crypto` derives, to build malformed messages.
fn raw_encrypt(aes_key: &str, plaintext: &[u8]) -> String {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = engine.decode(format!("{aes_key}=")).unwrap();
    let mut buf = plaintext.to_vec();
    let len = buf.len();
    let ct = cbc::Encryptor::<Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded::<NoPadding>(&mut buf, len)
        .unwrap()
        .to_vec();
    STANDARD.encode(ct)
}

/// `random ‖ len ‖ msg ‖ app_id` without padding.
fn frame(msg: &[u8], declared_len: u32, app_id: &str) -> Vec<u8> {
    let mut v = b"0123456789abcdef".to_vec();
    v.extend_from_slice(&declared_len.to_be_bytes());
    v.extend_from_slice(msg);
    v.extend_from_slice(app_id.as_bytes());
    v
}

fn pkcs7(mut v: Vec<u8>, block: usize) -> Vec<u8> {
    let pad = block - v.len() % block;
    v.resize(v.len() + pad, u8::try_from(pad).unwrap());
    v
}

// --- signatures ------------------------------------------------------------

#[test]
fn url_signature_matches_wechatpy_vector() {
    let computed = signature(C_TOKEN, C_TIMESTAMP, C_NONCE);
    assert_eq!(computed, C_SIGNATURE);
    assert!(verify(C_SIGNATURE, &computed));
    assert!(verify(&C_SIGNATURE.to_ascii_uppercase(), &computed));
    // wechatpy's test_check_signature_should_fail: last digit changed.
    assert!(!verify("f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", &computed));
    assert!(!verify(&C_SIGNATURE[..39], &computed));
    assert!(!verify("", &computed));
}

#[test]
fn signature_sorts_its_inputs() {
    // Order of the arguments does not matter; only the sorted concatenation.
    assert_eq!(signature("b", "a", "c"), signature("c", "b", "a"));
    assert_eq!(msg_signature("d", "a", "c", "b"), msg_signature("a", "b", "c", "d"));
    // SHA-1("abc").
    assert_eq!(signature("c", "b", "a"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

#[test]
fn msg_signatures_match_published_vectors() {
    assert_eq!(msg_signature(A_TOKEN, A_TIMESTAMP, A_NONCE, A_ENCRYPT), A_MSG_SIGNATURE);
    assert_eq!(msg_signature(B_TOKEN, B_ECHO_TIMESTAMP, B_ECHO_NONCE, B_ECHO_STR), B_ECHO_SIGNATURE);
    assert_eq!(msg_signature(B_TOKEN, B_TIMESTAMP, B_NONCE, B_REPLY_ENCRYPT), B_REPLY_SIGNATURE);
    let envelope = parse_envelope(B_POST_XML).unwrap();
    assert_eq!(msg_signature(B_TOKEN, B_TIMESTAMP, B_NONCE, &envelope.encrypt), B_POST_SIGNATURE);
    // wechatpy's test_check_signature_should_fail: another nonce.
    let wrong = msg_signature(B_TOKEN, B_ECHO_TIMESTAMP, "437374424", B_ECHO_STR);
    assert!(!verify(B_ECHO_SIGNATURE, &wrong));
}

// --- crypto: vectors -------------------------------------------------------

#[test]
fn decrypts_tencent_sample() {
    let envelope = parse_envelope(A_FROM_XML).unwrap();
    assert_eq!(envelope.to_user_name, "gh_10f6c3c3ac5a");
    assert_eq!(envelope.encrypt, A_ENCRYPT);
    assert!(verify(A_MSG_SIGNATURE, &msg_signature(A_TOKEN, A_TIMESTAMP, A_NONCE, &envelope.encrypt)));
    let plain = crypto_a().decrypt(&envelope.encrypt).unwrap();
    assert_eq!(plain, A_PLAIN);
    let msg = parse_message(&plain).unwrap();
    assert_eq!(msg.to_user_name, "gh_10f6c3c3ac5a");
    assert_eq!(msg.from_user_name, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(msg.create_time, 1_409_735_668);
    assert_eq!(msg.msg_type, "text");
    assert_eq!(msg.content.as_deref(), Some("abcdteT"));
    assert_eq!(msg.msg_id.as_deref(), Some("6054768590064713728"));
    assert_eq!(msg.event, None);
    assert_eq!(msg.scene(), None);
}

#[test]
fn decrypts_wechatpy_vectors() {
    let crypto = Crypto::new(B_AES_KEY, B_ID).unwrap();
    // The echostr of a URL verification decrypts to a plain number.
    assert_eq!(crypto.decrypt(B_ECHO_STR).unwrap(), "5927782489442352469");
    let envelope = parse_envelope(B_POST_XML).unwrap();
    assert_eq!(envelope.to_user_name, B_ID);
    let msg = parse_message(&crypto.decrypt(&envelope.encrypt).unwrap()).unwrap();
    assert_eq!(msg.content.as_deref(), Some("test"));
    assert_eq!(msg.from_user_name, "messense");
    assert_eq!(msg.create_time, 1_411_525_903);
}

#[test]
fn encrypt_with_random_matches_wechatpy_vector() {
    let crypto = Crypto::new(B_AES_KEY, B_ID).unwrap();
    let encrypt = crypto.encrypt_with_random(B_REPLY, *b"1234567890123456").unwrap();
    assert_eq!(encrypt, B_REPLY_ENCRYPT);
    assert_eq!(crypto.decrypt(&encrypt).unwrap(), B_REPLY);
}

#[test]
fn decrypts_wechatpy_fixture() {
    assert_eq!(msg_signature(D_TOKEN, D_TIMESTAMP, D_NONCE, D_ENCRYPT), D_MSG_SIGNATURE);
    let crypto = Crypto::new(D_AES_KEY, D_APP_ID).unwrap();
    let plain = crypto.decrypt(D_ENCRYPT).unwrap();
    assert_eq!(plain, D_PLAIN);
    let msg = parse_message(&plain).unwrap();
    assert_eq!(msg.content.as_deref(), Some("政策 ]]> 申报"));
    assert_eq!(msg.msg_id.as_deref(), Some("24601234567890123"));
}

// --- crypto: round trips ---------------------------------------------------

#[test]
fn round_trips_random_and_fixed() {
    let crypto = Crypto::new(D_AES_KEY, D_APP_ID).unwrap();
    for msg in ["", "a", "政策申报指南", &"长".repeat(1000), A_PLAIN] {
        let first = crypto.encrypt(msg).unwrap();
        let second = crypto.encrypt(msg).unwrap();
        assert_ne!(first, second, "fresh randomness each time");
        assert_eq!(crypto.decrypt(&first).unwrap(), msg);
        assert_eq!(crypto.decrypt(&second).unwrap(), msg);
        let fixed = crypto.encrypt_with_random(msg, [7; 16]).unwrap();
        assert_eq!(fixed, crypto.encrypt_with_random(msg, [7; 16]).unwrap());
        assert_eq!(crypto.decrypt(&fixed).unwrap(), msg);
        // WeChat pads to 32 bytes: the ciphertext is a multiple of 32 long.
        assert_eq!(STANDARD.decode(&fixed).unwrap().len() % 32, 0);
    }
}

#[test]
fn pads_to_32_byte_blocks_even_when_aligned() {
    let crypto = Crypto::new(D_AES_KEY, D_APP_ID).unwrap();
    // 20 + 26 + 18 = 64: exactly aligned, so a full 32-byte pad block follows.
    let msg = "abcdefghijklmnopqrstuvwxyz";
    assert_eq!(20 + msg.len() + D_APP_ID.len(), 64);
    let ct = STANDARD.decode(crypto.encrypt_with_random(msg, [0; 16]).unwrap()).unwrap();
    assert_eq!(ct.len(), 96);
}

// --- crypto: failures ------------------------------------------------------

#[test]
fn rejects_wrong_app_id() {
    let other = Crypto::new(A_AES_KEY, "wx0000000000000000").unwrap();
    assert_eq!(other.decrypt(A_ENCRYPT), Err(Error::AppIdMismatch));
    let prefix = Crypto::new(A_AES_KEY, "wx2c2769f8efd9abc").unwrap();
    assert_eq!(prefix.decrypt(A_ENCRYPT), Err(Error::AppIdMismatch));
}

#[test]
fn rejects_wrong_key() {
    let other = Crypto::new(D_AES_KEY, A_APP_ID).unwrap();
    assert!(other.decrypt(A_ENCRYPT).is_err());
}

#[test]
fn tampered_ciphertext_never_yields_the_original_or_panics() {
    let crypto = crypto_a();
    let original = STANDARD.decode(A_ENCRYPT).unwrap();
    for i in 0..original.len() {
        for bit in [0x01u8, 0x80] {
            let mut bytes = original.clone();
            bytes[i] ^= bit;
            let result = crypto.decrypt(&STANDARD.encode(&bytes));
            assert_ne!(result.as_deref(), Ok(A_PLAIN), "byte {i} bit {bit:#x}");
        }
    }
    // A changed last block garbles the padding and the app id.
    let mut bytes = original.clone();
    let n = bytes.len();
    bytes[n - 20] ^= 0x55;
    assert!(crypto.decrypt(&STANDARD.encode(&bytes)).is_err());
    // Truncated by one AES block, or with a block dropped from the middle.
    assert!(crypto.decrypt(&STANDARD.encode(&original[..n - 16])).is_err());
    let mut spliced = original[..32].to_vec();
    spliced.extend_from_slice(&original[48..]);
    assert!(crypto.decrypt(&STANDARD.encode(&spliced)).is_err());
}

#[test]
fn rejects_bad_base64_and_lengths() {
    let crypto = crypto_a();
    assert_eq!(crypto.decrypt("not base64!!"), Err(Error::InvalidCiphertext));
    assert_eq!(crypto.decrypt(""), Err(Error::InvalidCiphertext));
    assert_eq!(crypto.decrypt("AAAA"), Err(Error::InvalidCiphertext)); // 3 bytes
    assert_eq!(crypto.decrypt(&STANDARD.encode([0u8; 31])), Err(Error::InvalidCiphertext));
    assert_eq!(crypto.decrypt(&A_ENCRYPT[..A_ENCRYPT.len() - 1]), Err(Error::InvalidCiphertext));
    // Any 16 bytes decrypt to something; it must still be refused.
    assert!(crypto.decrypt(&STANDARD.encode([0u8; 16])).is_err());
    assert!(crypto.decrypt(&STANDARD.encode([0xffu8; 64])).is_err());
    let huge = "A".repeat(MAX_XML_BYTES + 4);
    assert_eq!(crypto.decrypt(&huge), Err(Error::TooLarge));
}

#[test]
fn rejects_bad_padding_and_length_fields() {
    let crypto = crypto_a();
    let good = frame(b"hello", 5, A_APP_ID);
    // Control: correctly framed and padded decrypts.
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &pkcs7(good.clone(), 32))).unwrap(), "hello");
    // PKCS#7 to 16 (other SDKs) is still valid PKCS#7 and accepted.
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &pkcs7(good.clone(), 16))).unwrap(), "hello");

    let mut zero_pad = good.clone();
    zero_pad.resize(64, 0);
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &zero_pad)), Err(Error::DecryptFailed));

    let mut pad_33 = good.clone();
    pad_33.resize(16 * 7, 33); // 45 + 67 bytes of 33: longer than 32
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &pad_33)), Err(Error::DecryptFailed));

    let mut uneven = pkcs7(good.clone(), 32);
    let n = uneven.len();
    uneven[n - 2] ^= 1; // one padding byte differs
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &uneven)), Err(Error::DecryptFailed));

    // Whole-buffer padding: nothing left, not even the header.
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &[32u8; 32])), Err(Error::DecryptFailed));

    // Declared length past the end, and u32::MAX.
    let long = pkcs7(frame(b"hello", 500, A_APP_ID), 32);
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &long)), Err(Error::DecryptFailed));
    let max = pkcs7(frame(b"hello", u32::MAX, A_APP_ID), 32);
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &max)), Err(Error::DecryptFailed));
    // Declared length too short: the rest no longer equals the app id.
    let short = pkcs7(frame(b"hello", 4, A_APP_ID), 32);
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &short)), Err(Error::AppIdMismatch));
    // Not UTF-8.
    let binary = pkcs7(frame(&[0xff, 0xfe, 0x00], 3, A_APP_ID), 32);
    assert_eq!(crypto.decrypt(&raw_encrypt(A_AES_KEY, &binary)), Err(Error::DecryptFailed));
}

#[test]
fn rejects_bad_keys() {
    assert_eq!(Crypto::new(&A_AES_KEY[..42], A_APP_ID).unwrap_err(), Error::InvalidAesKey);
    assert_eq!(Crypto::new(&format!("{A_AES_KEY}="), A_APP_ID).unwrap_err(), Error::InvalidAesKey);
    assert_eq!(Crypto::new("", A_APP_ID).unwrap_err(), Error::InvalidAesKey);
    let bad_char = format!("{}*", &A_AES_KEY[..42]);
    assert_eq!(Crypto::new(&bad_char, A_APP_ID).unwrap_err(), Error::InvalidAesKey);
    // 43 bytes but not ASCII.
    let non_ascii = format!("{}é", &A_AES_KEY[..41]);
    assert_eq!(non_ascii.len(), 43);
    assert_eq!(Crypto::new(&non_ascii, A_APP_ID).unwrap_err(), Error::InvalidAesKey);
    assert_eq!(Crypto::new(A_AES_KEY, "").unwrap_err(), Error::EmptyAppId);
    // The key is not leaked by Debug.
    let debug = format!("{:?}", crypto_a());
    assert!(debug.contains("redacted") && debug.contains(A_APP_ID));
    assert_eq!(crypto_a().app_id(), A_APP_ID);
}

#[test]
fn errors_display_in_chinese() {
    assert_eq!(Error::InvalidXml.to_string(), "消息格式无效");
    assert_eq!(Error::MissingField("Encrypt").to_string(), "消息格式无效：缺少 Encrypt");
    assert_eq!(Error::AppIdMismatch.to_string(), "AppID 不匹配");
}

// --- XML -------------------------------------------------------------------

fn event_xml(event: &str, extra: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>\
         <CreateTime>1717200000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[{event}]]></Event>{extra}</xml>"
    )
}

#[test]
fn parses_subscribe_events() {
    let plain = parse_message(&event_xml("subscribe", "<EventKey><![CDATA[]]></EventKey>")).unwrap();
    assert!(plain.is_event("subscribe"));
    assert_eq!(plain.event_key.as_deref(), Some(""));
    assert_eq!(plain.scene(), None);
    assert_eq!(plain.msg_id, None);
    assert_eq!(plain.content, None);

    let no_key = parse_message(&event_xml("subscribe", "")).unwrap();
    assert_eq!(no_key.event_key, None);
    assert_eq!(no_key.scene(), None);

    let qr = parse_message(&event_xml(
        "subscribe",
        "<EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==]]></Ticket>",
    ))
    .unwrap();
    assert_eq!(qr.to_user_name, "gh_123");
    assert_eq!(qr.from_user_name, "oUser");
    assert_eq!(qr.create_time, 1_717_200_000);
    assert_eq!(qr.msg_type, "event");
    assert_eq!(qr.event.as_deref(), Some("subscribe"));
    assert_eq!(qr.event_key.as_deref(), Some("qrscene_123"));
    assert_eq!(qr.scene(), Some("123"));
    assert!(qr.ticket.as_deref().is_some_and(|t| t.starts_with("gQH47joAAAAAAAAAASxodHRw")));

    // A subscribe key without the prefix is not a scene.
    let odd = parse_message(&event_xml("subscribe", "<EventKey>123</EventKey>")).unwrap();
    assert_eq!(odd.scene(), None);
    let bare_prefix = parse_message(&event_xml("subscribe", "<EventKey>qrscene_</EventKey>")).unwrap();
    assert_eq!(bare_prefix.scene(), None);
}

#[test]
fn parses_other_events() {
    let unsub = parse_message(&event_xml("unsubscribe", "<EventKey><![CDATA[]]></EventKey>")).unwrap();
    assert!(unsub.is_event("unsubscribe"));
    assert!(!unsub.is_event("subscribe"));
    assert_eq!(unsub.scene(), None);

    let scan =
        parse_message(&event_xml("SCAN", "<EventKey><![CDATA[42]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")).unwrap();
    assert!(scan.is_event("SCAN") && scan.is_event("scan"));
    assert_eq!(scan.scene(), Some("42"));
    assert_eq!(scan.ticket.as_deref(), Some("TICKET"));

    let click = parse_message(&event_xml("CLICK", "<EventKey><![CDATA[MENU_POLICY]]></EventKey>")).unwrap();
    assert!(click.is_event("CLICK"));
    assert_eq!(click.event_key.as_deref(), Some("MENU_POLICY"));
    assert_eq!(click.scene(), None);

    let view =
        parse_message(&event_xml("VIEW", "<EventKey><![CDATA[https://example.com/p?a=1&b=2]]></EventKey><MenuId>3</MenuId>"))
            .unwrap();
    assert!(view.is_event("VIEW"));
    assert_eq!(view.event_key.as_deref(), Some("https://example.com/p?a=1&b=2"));
    assert_eq!(view.scene(), None);

    // A text message whose content looks like an event is not one.
    let text = parse_message(
        "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
         <MsgType>text</MsgType><Content>subscribe</Content><Event>SCAN</Event><EventKey>1</EventKey></xml>",
    )
    .unwrap();
    assert!(!text.is_event("SCAN"));
    assert_eq!(text.scene(), None);
}

#[test]
fn parses_plain_text_nodes_entities_and_whitespace() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xml>\n  <ToUserName> gh_1 </ToUserName>\n  \
               <FromUserName>oUser</FromUserName>\n  <CreateTime> 1717200000 </CreateTime>\n  \
               <MsgType>  <![CDATA[text]]></MsgType>\n  <Content>a &lt;b&gt; &amp; c <![CDATA[<d>]]> 政策</Content>\n  \
               <MsgId>1</MsgId>\n</xml>\n";
    let msg = parse_message(xml).unwrap();
    assert_eq!(msg.to_user_name, "gh_1");
    assert_eq!(msg.create_time, 1_717_200_000);
    assert_eq!(msg.msg_type, "text");
    assert_eq!(msg.content.as_deref(), Some("a <b> & c <d> 政策"));
}

#[test]
fn rejects_doctype_and_entities() {
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
               <xml><ToUserName>gh</ToUserName><Encrypt>&xxe;</Encrypt></xml>";
    assert_eq!(parse_envelope(xxe), Err(Error::DoctypeNotAllowed));
    let laughs = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\
                  <xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
                  <MsgType>text</MsgType><Content>&lol2;</Content></xml>";
    assert_eq!(parse_message(laughs), Err(Error::DoctypeNotAllowed));
    let empty = "<!doctype xml><xml><ToUserName>gh</ToUserName><Encrypt>x</Encrypt></xml>";
    assert_eq!(parse_envelope(empty), Err(Error::DoctypeNotAllowed));
    // An undeclared entity is an error too.
    let undeclared = "<xml><ToUserName>gh</ToUserName><Encrypt>&xxe;</Encrypt></xml>";
    assert!(parse_envelope(undeclared).is_err());
    // "<!DOCTYPE" typed by a user inside content is just text.
    let content = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
                   <MsgType>text</MsgType><Content><![CDATA[<!DOCTYPE x>]]></Content></xml>";
    assert_eq!(parse_message(content).unwrap().content.as_deref(), Some("<!DOCTYPE x>"));
}

#[test]
fn enforces_size_limit() {
    let head = "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>\
                <MsgType>text</MsgType><Content>";
    let tail = "</Content></xml>";
    let fill = MAX_XML_BYTES - head.len() - tail.len();
    let at_limit = format!("{head}{}{tail}", "x".repeat(fill));
    assert_eq!(at_limit.len(), MAX_XML_BYTES);
    assert_eq!(parse_message(&at_limit).unwrap().content.map(|c| c.len()), Some(fill));
    let over = format!("{head}{}{tail}", "x".repeat(fill + 1));
    assert_eq!(parse_message(&over), Err(Error::TooLarge));
    assert_eq!(parse_envelope(&over), Err(Error::TooLarge));
}

#[test]
fn rejects_malformed_documents() {
    assert_eq!(parse_message(""), Err(Error::InvalidXml));
    assert_eq!(parse_message("not xml"), Err(Error::InvalidXml));
    assert_eq!(parse_message("<xml><ToUserName>gh</xml>"), Err(Error::InvalidXml));
    assert_eq!(parse_envelope("<root><ToUserName>gh</ToUserName><Encrypt>x</Encrypt></root>"), Err(Error::InvalidXml));
    assert_eq!(parse_envelope("<xml><ToUserName>gh</ToUserName></xml>"), Err(Error::MissingField("Encrypt")));
    assert_eq!(parse_envelope("<xml><Encrypt>x</Encrypt></xml>"), Err(Error::MissingField("ToUserName")));
    assert_eq!(
        parse_envelope("<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[]]></Encrypt></xml>"),
        Err(Error::MissingField("Encrypt"))
    );
    assert_eq!(
        parse_envelope("<xml><ToUserName>gh</ToUserName><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>"),
        Err(Error::InvalidField("Encrypt"))
    );
    let base = |create: &str| {
        format!(
            "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>{create}</CreateTime>\
             <MsgType>text</MsgType></xml>"
        )
    };
    assert_eq!(parse_message(&base("abc")), Err(Error::InvalidField("CreateTime")));
    assert_eq!(parse_message(&base("99999999999999999999")), Err(Error::InvalidField("CreateTime")));
    assert!(parse_message(&base("1")).is_ok());
    assert_eq!(
        parse_message("<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"),
        Err(Error::MissingField("FromUserName"))
    );
    // Nested elements of the same name deeper down are not the field.
    assert_eq!(
        parse_envelope("<xml><ToUserName>gh</ToUserName><X><Encrypt>x</Encrypt></X></xml>"),
        Err(Error::MissingField("Encrypt"))
    );
}

// --- replies ---------------------------------------------------------------

#[test]
fn text_reply_is_exact_and_parses_back() {
    let xml = text_reply("oUser", "gh_123", 1_717_200_000, "您好");
    assert_eq!(
        xml,
        "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_123]]></FromUserName>\
         <CreateTime>1717200000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[您好]]></Content></xml>"
    );
    let tricky = "a]]>b]]]]>c <![CDATA[x]]> &amp; \u{0}\u{8}end\n";
    let back = parse_message(&text_reply("oUser", "gh_123", 1, tricky)).unwrap();
    assert_eq!(back.content.as_deref(), Some("a]]>b]]]]>c <![CDATA[x]]> &amp; end\n"));
    assert_eq!(back.to_user_name, "oUser");
    assert_eq!(back.from_user_name, "gh_123");
    assert_eq!(back.msg_type, "text");
}

fn items(xml: &str) -> Vec<(String, String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let root = doc.root_element();
    let field = |n: roxmltree::Node<'_, '_>, name: &str| -> String {
        n.children()
            .find(|c| c.has_tag_name(name))
            .map(|c| c.descendants().filter(roxmltree::Node::is_text).filter_map(|t| t.text()).collect())
            .unwrap()
    };
    let count: usize = field(root, "ArticleCount").parse().unwrap();
    let articles = root.children().find(|c| c.has_tag_name("Articles")).unwrap();
    let out: Vec<_> = articles
        .children()
        .filter(|c| c.has_tag_name("item"))
        .map(|i| (field(i, "Title"), field(i, "Description"), field(i, "PicUrl"), field(i, "Url")))
        .collect();
    assert_eq!(count, out.len());
    assert_eq!(field(root, "MsgType"), "news");
    out
}

#[test]
fn news_reply_has_items_and_caps_at_eight() {
    let article = |i: usize| Article {
        title: format!("政策{i} ]]> 解读"),
        description: format!("摘要{i}"),
        pic_url: format!("https://example.com/{i}.png"),
        url: format!("https://example.com/p/{i}?a=1&b=2"),
    };
    let two: Vec<Article> = (0..2).map(article).collect();
    let xml = news_reply("oUser", "gh_123", 1_717_200_000, &two);
    assert!(xml.starts_with(
        "<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_123]]></FromUserName>\
         <CreateTime>1717200000</CreateTime><MsgType><![CDATA[news]]></MsgType><ArticleCount>2</ArticleCount>\
         <Articles><item><Title>"
    ));
    let parsed = items(&xml);
    assert_eq!(
        parsed[1],
        ("政策1 ]]> 解读".into(), "摘要1".into(), "https://example.com/1.png".into(), "https://example.com/p/1?a=1&b=2".into())
    );

    let ten: Vec<Article> = (0..10).map(article).collect();
    let capped = items(&news_reply("oUser", "gh_123", 1, &ten));
    assert_eq!(capped.len(), MAX_NEWS_ARTICLES);
    assert_eq!(capped[7].0, "政策7 ]]> 解读");
}

#[test]
fn encrypted_reply_is_signed_and_decrypts() {
    let crypto = Crypto::new(D_AES_KEY, D_APP_ID).unwrap();
    let reply = text_reply("oQifuUser0001", "gh_qifu0000001", 1_717_200_002, "政策 ]]> 申报");
    let wrapped = encrypted_reply(&crypto, D_TOKEN, &reply, 1_717_200_002, D_NONCE).unwrap();
    let doc = roxmltree::Document::parse(&wrapped).unwrap();
    let root = doc.root_element();
    let names: Vec<&str> = root.children().filter(roxmltree::Node::is_element).map(|n| n.tag_name().name()).collect();
    assert_eq!(names, ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]);
    let text = |name: &str| root.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).unwrap().to_owned();
    assert_eq!(text("TimeStamp"), "1717200002");
    assert_eq!(text("Nonce"), D_NONCE);
    assert!(wrapped.contains("<TimeStamp>1717200002</TimeStamp>"));
    assert!(wrapped.contains("<Nonce><![CDATA[827361]]></Nonce>"));
    let encrypt = text("Encrypt");
    assert!(verify(&text("MsgSignature"), &msg_signature(D_TOKEN, "1717200002", D_NONCE, &encrypt)));
    assert_eq!(crypto.decrypt(&encrypt).unwrap(), reply);
    assert_eq!(encrypted_reply(&crypto, D_TOKEN, &reply, 1, "bad\u{1}nonce"), Err(Error::InvalidField("Nonce")));
}
