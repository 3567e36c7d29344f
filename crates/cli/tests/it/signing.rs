//! SM2 platform signatures through the app crate's public API.

use qifu_testkit::qifu_app::signing::{self, DIST_ID, PlatformSigner, SigningError};
use std::process::Command;

/// A data-use authorisation as the platform would sign it: compact JSON with
/// keys in a fixed order.
fn authorisation_record() -> Vec<u8> {
    let record = serde_json::json!({
        "authorisation_id": "0199a6f2-7c1e-7b52-9a43-5d2c1e8f0a11",
        "enterprise_credit_code": "91110112MA01ABCD2X",
        "enterprise_name": "北京运河智造科技有限公司",
        "grantee": "北京运河农商银行通州支行",
        "scope": ["工商登记信息", "纳税信用等级"],
        "valid_until": "2027-06-30T15:59:59Z",
    });
    serde_json::to_vec(&record).unwrap()
}

#[test]
fn signed_authorisation_verifies_with_the_published_key_and_not_after_a_change() {
    let signer = PlatformSigner::generate();
    let record = authorisation_record();
    let signature = signer.sign(&record);

    // What the platform publishes and what it stores (encrypted).
    let pem = signer.public_key_pem();
    let stored = signer.secret_hex();
    assert!(!format!("{signer:?}").contains(&stored), "Debug must not print the secret");

    signing::verify(&pem, &record, &signature).unwrap();
    signing::verify(&signer.public_key_hex(), &record, &signature).unwrap();

    // After a restart the stored key signs for the same public key.
    let reloaded = PlatformSigner::from_secret_hex(&stored).unwrap();
    assert_eq!(reloaded.public_key_pem(), pem);
    signing::verify(&pem, &record, &reloaded.sign(&record)).unwrap();

    // One changed byte in the record, or in the signature, and it no longer verifies.
    let mut tampered = record.clone();
    let at = tampered.iter().position(|&b| b == b'2').unwrap();
    tampered[at] = b'3';
    assert!(matches!(signing::verify(&pem, &tampered, &signature), Err(SigningError::Invalid)));

    let mut bad_sig = signature.clone().into_bytes();
    bad_sig[100] = if bad_sig[100] == b'a' { b'b' } else { b'a' };
    let bad_sig = String::from_utf8(bad_sig).unwrap();
    assert!(signing::verify(&pem, &record, &bad_sig).is_err());

    // Errors carry the messages shown to users.
    let err = signing::verify("not a key", &record, &signature).unwrap_err();
    assert_eq!(err.to_string(), "密钥格式不正确");
    let err = signing::verify(&pem, &record, "00").unwrap_err();
    assert_eq!(err.to_string(), "签名格式不正确");
    let err = signing::verify(&pem, &tampered, &signature).unwrap_err();
    assert_eq!(err.to_string(), "签名验证失败");
}

/// OpenSSL reads the published PEM and verifies the platform's signature with
/// the default identifier. Skipped where the `openssl` command is missing.
#[test]
fn openssl_reads_the_public_key_and_verifies_the_signature() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED: openssl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let signer = PlatformSigner::generate();
    let record = authorisation_record();
    let signature = from_hex(&signer.sign(&record));

    let pem_path = dir.path().join("platform.pem");
    let msg_path = dir.path().join("record.json");
    let sig_path = dir.path().join("record.sig");
    std::fs::write(&pem_path, signer.public_key_pem()).unwrap();
    std::fs::write(&msg_path, &record).unwrap();
    std::fs::write(&sig_path, der_signature(&signature[..32], &signature[32..])).unwrap();

    let text = Command::new("openssl").args(["pkey", "-pubin", "-noout", "-text", "-in"]).arg(&pem_path).output().unwrap();
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("SM2"), "openssl should name the SM2 curve: {text}");

    let verify = |msg: &std::path::Path| {
        Command::new("openssl")
            .args(["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey"])
            .arg(&pem_path)
            .arg("-pkeyopt")
            .arg(format!("distid:{DIST_ID}"))
            .arg("-in")
            .arg(msg)
            .arg("-sigfile")
            .arg(&sig_path)
            .output()
            .unwrap()
    };
    let ok = verify(&msg_path);
    assert!(ok.status.success(), "{}{}", String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));

    let mut tampered = record.clone();
    tampered[0] = b' ';
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, &tampered).unwrap();
    assert!(!verify(&tampered_path).status.success());
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// `r‖s` as the DER `SEQUENCE { INTEGER r, INTEGER s }` that OpenSSL expects.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        let mut value = bytes[start..].to_vec();
        if value[0] & 0x80 != 0 {
            value.insert(0, 0);
        }
        let mut out = vec![0x02, value.len() as u8];
        out.extend(value);
        out
    }
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}
