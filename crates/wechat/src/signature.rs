//! Request signatures: SHA-1 over the lexicographically sorted parameters.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

fn sorted_sha1_hex(parts: &mut [&str]) -> String {
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts.iter() {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The `signature` of a plain request (URL verification GET and plain-mode
/// POST): lowercase hex SHA-1 of `token`, `timestamp` and `nonce` sorted and
/// concatenated.
#[must_use]
pub fn signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sorted_sha1_hex(&mut [token, timestamp, nonce])
}

/// The `msg_signature` of a safe-mode body or reply: like [`signature`] with
/// the base64 `Encrypt` value as a fourth string.
#[must_use]
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sorted_sha1_hex(&mut [token, timestamp, nonce, encrypt])
}

/// Whether the signature a request carries (`expected_hex`, compared
/// case-insensitively) equals the `computed` one, in constant time.
#[must_use]
pub fn verify(expected_hex: &str, computed: &str) -> bool {
    let expected = expected_hex.to_ascii_lowercase();
    bool::from(expected.as_bytes().ct_eq(computed.as_bytes()))
}
