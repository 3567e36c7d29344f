//! SM2 signatures (GB/T 32918.2 / GM/T 0003.2) with the platform key.
//!
//! The platform signs enterprises' data-use authorisations with one SM2 key
//! pair; anyone can verify a signature with the published public key. Messages
//! are hashed with SM3 together with `Z_A`, which binds the signer's public key
//! and the distinguishing identifier [`DIST_ID`] (the default user ID of
//! GM/T 0009), so a verifier elsewhere (OpenSSL, GmSSL, a bank's SDK) must use
//! the same identifier.
//!
//! Encodings, chosen so that other tools read them without conversion:
//! - secret key: the 32-byte scalar as 64 hex digits (stored encrypted by the caller);
//! - public key: the uncompressed SEC1 point `04‖x‖y` as 130 hex digits, or a
//!   SubjectPublicKeyInfo PEM with the SM2 curve OID (`openssl pkey -pubin` reads it);
//! - signature: `r‖s`, 64 bytes as 128 hex digits (not DER).

use std::fmt;

use sm2::dsa::signature::{Signer, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::Generate;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve::zeroize::Zeroizing;
use sm2::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sm2::{NonZeroScalar, PublicKey};

/// Distinguishing identifier used in `Z_A`: the default user ID of GM/T 0009.
pub const DIST_ID: &str = "1234567812345678";

/// Length of the secret scalar, in bytes.
const SECRET_LEN: usize = 32;

/// Why a key or signature was rejected.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The key is not a valid SM2 key in a supported encoding.
    #[error("密钥格式不正确")]
    BadKey,
    /// The signature is not 128 hex digits encoding `r‖s` with both in `[1, n-1]`.
    #[error("签名格式不正确")]
    BadSignature,
    /// The signature is well-formed but does not match the message and key.
    #[error("签名验证失败")]
    Invalid,
}

/// The platform's SM2 signing key.
#[derive(Clone)]
pub struct PlatformSigner {
    key: SigningKey,
}

impl PlatformSigner {
    /// Generates a new key pair from the operating system's random number
    /// generator.
    ///
    /// # Panics
    /// Only if the operating system's random number generator fails.
    pub fn generate() -> Self {
        match Self::from_scalar(NonZeroScalar::generate()) {
            Ok(signer) => signer,
            // `from_scalar` fails only for an identifier longer than 8191 bytes.
            Err(err) => unreachable!("SM2 key from a fresh non-zero scalar: {err}"),
        }
    }

    /// Loads a key from its secret scalar as 64 hex digits (as [`Self::secret_hex`] gives).
    pub fn from_secret_hex(hex: &str) -> Result<Self, SigningError> {
        let hex = hex.trim();
        if hex.len() != 2 * SECRET_LEN {
            return Err(SigningError::BadKey);
        }
        let bytes = Zeroizing::new(hex::decode(hex).map_err(|_| SigningError::BadKey)?);
        let scalar = NonZeroScalar::try_from(bytes.as_slice()).map_err(|_| SigningError::BadKey)?;
        Self::from_scalar(scalar)
    }

    fn from_scalar(scalar: NonZeroScalar) -> Result<Self, SigningError> {
        let key = SigningKey::from_nonzero_scalar(DIST_ID, scalar).map_err(|_| SigningError::BadKey)?;
        Ok(Self { key })
    }

    /// The secret scalar as 64 lowercase hex digits. Key material: store it
    /// encrypted and never log it.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// The public key as an uncompressed SEC1 point (`04‖x‖y`), 130 lowercase hex digits.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_sec1_point(false).as_bytes())
    }

    /// The public key as a SubjectPublicKeyInfo PEM (`id-ecPublicKey` with
    /// the SM2 curve OID 1.2.156.10197.1.301), LF line endings.
    pub fn public_key_pem(&self) -> String {
        match self.key.verifying_key().to_public_key_pem(LineEnding::LF) {
            Ok(pem) => pem,
            // DER-encoding a fixed-size SPKI around a valid point cannot fail.
            Err(err) => unreachable!("SPKI encoding of an SM2 public key: {err}"),
        }
    }

    /// Signs `msg` with SM3 and [`DIST_ID`]; returns `r‖s` as 128 lowercase
    /// hex digits. The nonce is derived deterministically (RFC 6979 with SM3),
    /// so the same key and message give the same signature.
    pub fn sign(&self, msg: &[u8]) -> String {
        let signature: Signature = self.key.sign(msg);
        hex::encode(signature.to_bytes())
    }
}

impl fmt::Debug for PlatformSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformSigner").field("public_key", &self.public_key_hex()).finish_non_exhaustive()
    }
}

/// Verifies an SM2 signature (`r‖s` as 128 hex digits) over `msg` with [`DIST_ID`].
///
/// `public_key` is either the SEC1 point in hex (as [`PlatformSigner::public_key_hex`]
/// gives; a compressed point is accepted too) or a SubjectPublicKeyInfo PEM
/// (as [`PlatformSigner::public_key_pem`] gives). Surrounding whitespace is ignored.
pub fn verify(public_key: &str, msg: &[u8], signature_hex: &str) -> Result<(), SigningError> {
    verify_with_id(DIST_ID, public_key, msg, signature_hex)
}

fn verify_with_id(dist_id: &str, public_key: &str, msg: &[u8], signature_hex: &str) -> Result<(), SigningError> {
    let public_key = parse_public_key(public_key)?;
    let key = VerifyingKey::new(dist_id, public_key).map_err(|_| SigningError::BadKey)?;
    let signature = parse_signature(signature_hex)?;
    key.verify(msg, &signature).map_err(|_| SigningError::Invalid)
}

fn parse_public_key(text: &str) -> Result<PublicKey, SigningError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return PublicKey::from_public_key_pem(text).map_err(|_| SigningError::BadKey);
    }
    let bytes = hex::decode(text).map_err(|_| SigningError::BadKey)?;
    PublicKey::from_sec1_bytes(&bytes).map_err(|_| SigningError::BadKey)
}

fn parse_signature(text: &str) -> Result<Signature, SigningError> {
    let text = text.trim();
    if text.len() != 2 * Signature::BYTE_SIZE {
        return Err(SigningError::BadSignature);
    }
    let bytes = hex::decode(text).map_err(|_| SigningError::BadSignature)?;
    // Rejects r or s equal to zero or not below the group order (GB/T 32918.2 B1, B2).
    Signature::from_slice(&bytes).map_err(|_| SigningError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Secret scalar and public key of the example key shipped with the `sm2`
    /// crate (RustCrypto elliptic-curves, sm2 0.14.0,
    /// `tests/examples/pkcs8-private-key.pem` and `tests/pkcs8.rs`), where the
    /// public key was extracted with `openssl ec -text`.
    const KAT_SECRET: &str = "4bb8df505722299592cbed4283b354a13ff5d3feeb3a0660c5bdf3c87c559499";
    const KAT_PUBLIC: &str = "0408d77ae04c01cc4c1104360dd8af6b6f7df334283d7c1a6afd5652407b87bee5014e2a57c36c150d16324dc664e31e6432359609c4e79847a5b161c8c7364c8a";
    /// The same public key as SubjectPublicKeyInfo PEM (`tests/examples/pkcs8-public-key.pem`).
    const KAT_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAECNd64EwBzEwRBDYN2K9rb33zNCg9
fBpq/VZSQHuHvuUBTipXw2wVDRYyTcZk4x5kMjWWCcTnmEelsWHIxzZMig==
-----END PUBLIC KEY-----
";

    // Note on test vectors: the worked examples in GB/T 32918.2 / GM/T 0003.2
    // Annex A use a separate test curve, not the recommended SM2 curve, so they
    // cannot be checked with the `sm2` crate (which implements only the latter).
    // The two vectors below use the recommended curve and interoperate with OpenSSL.

    /// Verification KAT from the `sm2` crate's own tests (sm2 0.14.0,
    /// `tests/sm2dsa.rs`, `verify_test_vector`): the signature was made by
    /// `openssl pkeyutl -sign -digest sm3 -pkeyopt distid:example@rustcrypto.org`.
    #[test]
    fn verifies_known_answer_from_sm2_crate() {
        let signature = "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fc\
                         f7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c";
        let id = "example@rustcrypto.org";
        assert!(verify_with_id(id, KAT_PUBLIC, b"testing", signature).is_ok());
        assert!(matches!(verify_with_id(id, KAT_PUBLIC, b"testinG", signature), Err(SigningError::Invalid)));
        // The same signature under the default identifier does not verify: Z_A differs.
        assert!(matches!(verify(KAT_PUBLIC, b"testing", signature), Err(SigningError::Invalid)));
    }

    /// Verification KAT with the default identifier: signed with the key above by
    /// OpenSSL 3.0.19, `openssl pkeyutl -sign -rawin -digest sm3
    /// -pkeyopt distid:1234567812345678` (DER signature converted to `r‖s`).
    /// Shows that [`DIST_ID`] and the hashing of `Z_A` match OpenSSL.
    #[test]
    fn verifies_known_answer_from_openssl_with_default_id() {
        let msg = br#"{"enterprise":"91110112MA01ABCD2X","scope":"credit-report"}"#;
        let signature = "9d3885acf3d7135b51e56e8398d47005ff2feee9b29308f071317b0a368994dd\
                         b7b1b015dbf0fda6c76c13f984c3dce0c8ba3ab9524284ac29fd78c86470dc95";
        assert!(verify(KAT_PUBLIC, msg, signature).is_ok());
        assert!(verify(KAT_PUBLIC_PEM, msg, signature).is_ok());
        assert!(verify(&KAT_PUBLIC.to_uppercase(), msg, &signature.to_uppercase()).is_ok());
    }

    #[test]
    fn known_secret_gives_known_public_key() -> Result<(), SigningError> {
        let signer = PlatformSigner::from_secret_hex(KAT_SECRET)?;
        assert_eq!(signer.public_key_hex(), KAT_PUBLIC);
        assert_eq!(signer.public_key_pem(), KAT_PUBLIC_PEM);
        Ok(())
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let signer = PlatformSigner::generate();
        let msg = "企业数据使用授权：北京运河智造科技有限公司".as_bytes();
        let signature = signer.sign(msg);
        assert_eq!(signature.len(), 128);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(verify(&signer.public_key_hex(), msg, &signature).is_ok());
        assert!(verify(&signer.public_key_pem(), msg, &signature).is_ok());
        // Empty messages are signable too.
        assert!(verify(&signer.public_key_hex(), b"", &signer.sign(b"")).is_ok());
    }

    #[test]
    fn public_key_encodings_have_documented_shape() {
        let signer = PlatformSigner::generate();
        let hex = signer.public_key_hex();
        assert_eq!(hex.len(), 130);
        assert!(hex.starts_with("04"));
        let pem = signer.public_key_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(signer.secret_hex().len(), 64);
    }

    #[test]
    fn changed_message_fails() {
        let signer = PlatformSigner::generate();
        let msg = b"{\"authorisation\":1}".to_vec();
        let signature = signer.sign(&msg);
        for i in 0..msg.len() {
            let mut changed = msg.clone();
            changed[i] ^= 0x01;
            assert!(matches!(verify(&signer.public_key_hex(), &changed, &signature), Err(SigningError::Invalid)));
        }
        let mut longer = msg.clone();
        longer.push(b' ');
        assert!(verify(&signer.public_key_hex(), &longer, &signature).is_err());
    }

    #[test]
    fn changed_signature_fails() {
        let signer = PlatformSigner::generate();
        let msg = b"authorisation";
        let signature = signer.sign(msg);
        let public = signer.public_key_hex();
        for i in 0..signature.len() {
            let mut changed = signature.clone().into_bytes();
            changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(changed).unwrap_or_default();
            // Either r or s leaves [1, n-1] (BadSignature) or the check fails (Invalid).
            assert!(verify(&public, msg, &changed).is_err(), "digit {i}");
        }
    }

    #[test]
    fn another_key_fails() {
        let signer = PlatformSigner::generate();
        let other = PlatformSigner::generate();
        assert_ne!(signer.public_key_hex(), other.public_key_hex());
        let signature = signer.sign(b"msg");
        assert!(matches!(verify(&other.public_key_hex(), b"msg", &signature), Err(SigningError::Invalid)));
        assert!(matches!(verify(&other.public_key_pem(), b"msg", &signature), Err(SigningError::Invalid)));
    }

    #[test]
    fn secret_hex_round_trips() -> Result<(), SigningError> {
        let signer = PlatformSigner::generate();
        let loaded = PlatformSigner::from_secret_hex(&signer.secret_hex())?;
        assert_eq!(loaded.secret_hex(), signer.secret_hex());
        assert_eq!(loaded.public_key_hex(), signer.public_key_hex());
        // Signatures are deterministic per key and message.
        assert_eq!(loaded.sign(b"x"), signer.sign(b"x"));
        assert!(verify(&signer.public_key_pem(), b"x", &loaded.sign(b"x")).is_ok());
        let upper = PlatformSigner::from_secret_hex(&signer.secret_hex().to_uppercase())?;
        assert_eq!(upper.public_key_hex(), signer.public_key_hex());
        Ok(())
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let signer = PlatformSigner::generate();
        let debug = format!("{signer:?}");
        assert!(!debug.contains(&signer.secret_hex()));
        assert!(debug.contains(&signer.public_key_hex()));
    }

    #[test]
    fn malformed_secrets_are_rejected() {
        let order = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
        for bad in [
            "",
            "0",
            "abc",
            &KAT_SECRET[..63],
            &KAT_SECRET[..62],
            &format!("{KAT_SECRET}00"),
            &"zz".repeat(32),
            &"0".repeat(64),
            order,
            &"f".repeat(64),
            // 64 bytes, but a full-width digit.
            &format!("４{}", &KAT_SECRET[3..]),
        ] {
            assert!(matches!(PlatformSigner::from_secret_hex(bad), Err(SigningError::BadKey)), "{bad:?}");
        }
    }

    #[test]
    fn malformed_public_keys_are_rejected() {
        let signer = PlatformSigner::generate();
        let signature = signer.sign(b"m");
        let hex = signer.public_key_hex();
        let pem = signer.public_key_pem();
        let not_on_curve = format!("04{}", "11".repeat(64));
        let truncated_pem = pem.replace("-----END PUBLIC KEY-----\n", "");
        let garbage_pem = "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n";
        // A well-formed SPKI for another curve (NIST P-256, made with `openssl genpkey`).
        let p256_pem = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkLQNllcxhA/5fpzXSc9BBM3RrCSM
/CbxbJFzVdVd41XNVZivJtA8M0MKuvUYKSLl2EkiTWCfyQ00uyP6jeUUJQ==
-----END PUBLIC KEY-----
";
        for bad in [
            "",
            "04",
            "00",
            &hex[..129],
            &hex[..128],
            &format!("{hex}00"),
            &hex[2..],
            &not_on_curve,
            "-----BEGIN PUBLIC KEY-----",
            &truncated_pem,
            garbage_pem,
            p256_pem,
            "not a key",
        ] {
            assert!(matches!(verify(bad, b"m", &signature), Err(SigningError::BadKey)), "{bad:?}");
        }
    }

    #[test]
    fn malformed_signatures_are_rejected() {
        let signer = PlatformSigner::generate();
        let public = signer.public_key_hex();
        let signature = signer.sign(b"m");
        let order = "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";
        for bad in [
            String::new(),
            "0".to_owned(),
            signature[..127].to_owned(),
            signature[..126].to_owned(),
            format!("{signature}00"),
            "zz".repeat(64),
            "0".repeat(128),
            format!("{}{}", "0".repeat(64), &signature[64..]),
            format!("{}{}", &signature[..64], "0".repeat(64)),
            format!("{order}{}", &signature[64..]),
            format!("{}{order}", &signature[..64]),
            "f".repeat(128),
        ] {
            assert!(matches!(verify(&public, b"m", &bad), Err(SigningError::BadSignature)), "{bad:?}");
        }
    }

    #[test]
    fn errors_have_chinese_messages() {
        assert_eq!(SigningError::BadKey.to_string(), "密钥格式不正确");
        assert_eq!(SigningError::BadSignature.to_string(), "签名格式不正确");
        assert_eq!(SigningError::Invalid.to_string(), "签名验证失败");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_inputs_never_panic(key in ".{0,200}", sig in ".{0,200}", secret in ".{0,80}") {
            let _ = PlatformSigner::from_secret_hex(&secret);
            prop_assert!(verify(&key, b"m", &sig).is_err());
        }

        #[test]
        fn hex_shaped_inputs_never_panic(
            point in "0[0-7][0-9a-f]{128}",
            sig in "[0-9a-f]{128}",
            secret in "[0-9a-f]{64}",
        ) {
            let _ = PlatformSigner::from_secret_hex(&secret);
            let _ = verify(&point, b"m", &sig);
            prop_assert!(verify(KAT_PUBLIC, b"m", &sig).is_err());
        }

        #[test]
        fn only_the_signed_message_verifies(msg in proptest::collection::vec(any::<u8>(), 0..256), flip in any::<prop::sample::Index>()) {
            let signer = PlatformSigner::from_secret_hex(KAT_SECRET)?;
            let signature = signer.sign(&msg);
            prop_assert!(verify(KAT_PUBLIC, &msg, &signature).is_ok());
            if !msg.is_empty() {
                let mut changed = msg.clone();
                changed[flip.index(msg.len())] ^= 0x80;
                prop_assert!(matches!(verify(KAT_PUBLIC, &changed, &signature), Err(SigningError::Invalid)));
            }
        }
    }
}
