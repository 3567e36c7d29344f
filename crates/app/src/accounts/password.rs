//! Argon2id password hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    // OWASP's first Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(pw: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher().hash_password(pw.as_bytes(), &salt)?.to_string())
}

/// Constant-work verification; a malformed stored hash verifies as false.
pub fn verify_password(pw: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => hasher().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the user does not exist so
/// that an unknown username takes as long as a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("dummy-password-Not-Used-1").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash_password("Qifu@2026demo").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Qifu@2026demo", &h));
        assert!(!verify_password("Qifu@2026demO", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
