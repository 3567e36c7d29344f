//! Field encryption and keyed hashing with the Chinese commercial algorithms:
//! SM4 in GCM mode for personal fields (phone numbers, ID numbers), HMAC-SM3 for
//! the blind index that lets us find a record by such a field without decrypting.
//!
//! The 128-bit key comes from `security.field_key` (32 hex digits). When it is not
//! configured, a key is generated once into `<data_dir>/keys/field.key`; several
//! nodes must share the same key, so production configures it explicitly.
//! Rotation: see docs/SECURITY.md.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sm3::Sm3;
use sm4::Sm4;
use sm4::cipher::consts::U12;
use std::path::Path;

type Sm4Gcm = AesGcm<Sm4, U12>;

/// Version tag of the ciphertext format, so keys and formats can rotate.
const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct Crypto {
    cipher: Sm4Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("security.field_key 应为32位十六进制数（128位密钥）")]
    BadKey,
    #[error("无法读写密钥文件 {0}：{1}")]
    KeyFile(String, std::io::Error),
    #[error("密文无法解密（密钥不匹配或数据已损坏）")]
    Decrypt,
}

impl Crypto {
    /// From a 16-byte key. The MAC key is derived from it with SM3.
    pub fn from_key(key: [u8; 16]) -> Self {
        let cipher = Sm4Gcm::new(&key.into());
        let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable_mac());
        mac.update(b"qifu blind index v1");
        let mac_key: [u8; 32] = mac.finalize().into_bytes().into();
        Crypto { cipher, mac_key }
    }

    /// The configured key, or the data directory's key file; `None` when there is neither.
    pub fn find(configured_hex: &str, data_dir: &Path) -> Result<Option<Self>, CryptoError> {
        if !configured_hex.trim().is_empty() {
            return Ok(Some(Self::from_key(parse_key(configured_hex.trim())?)));
        }
        let path = key_file(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(s) => Ok(Some(Self::from_key(parse_key(s.trim())?))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CryptoError::KeyFile(path.display().to_string(), e)),
        }
    }

    /// Generates a key into the data directory's key file (a fresh installation only).
    pub fn generate(data_dir: &Path) -> Result<Self, CryptoError> {
        let path = key_file(data_dir);
        let key: [u8; 16] = *uuid::Uuid::new_v4().as_bytes();
        let dir = path.parent().unwrap_or(data_dir);
        std::fs::create_dir_all(dir).map_err(|e| CryptoError::KeyFile(dir.display().to_string(), e))?;
        write_private(&path, &hex::encode(key)).map_err(|e| CryptoError::KeyFile(path.display().to_string(), e))?;
        Ok(Self::from_key(key))
    }

    /// The configured key, or the data directory's (generated if missing). For
    /// tools without a database; a node uses [`crate::context::Ctx::new`], which
    /// refuses to generate a key when encrypted data exists.
    pub fn load(configured_hex: &str, data_dir: &Path) -> Result<Self, CryptoError> {
        match Self::find(configured_hex, data_dir)? {
            Some(c) => Ok(c),
            None => Self::generate(data_dir),
        }
    }

    /// A fingerprint of the key (keyed SM3 of a fixed label, 32 hex digits): stored
    /// with the data, it shows which key the data was written with without revealing it.
    pub fn fingerprint(&self) -> String {
        self.blind_index("qifu field key fingerprint v1")[..32].to_owned()
    }

    /// Encrypts to `v1:<base64(nonce || ciphertext+tag)>`.
    pub fn encrypt(&self, plain: &str) -> String {
        let nonce_bytes: [u8; 12] = uuid::Uuid::new_v4().as_bytes()[..12].try_into().unwrap_or([0; 12]);
        let nonce = Nonce::<U12>::from_slice(&nonce_bytes);
        let ct = self.cipher.encrypt(nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, CryptoError> {
        let b64 = stored.strip_prefix(PREFIX).ok_or(CryptoError::Decrypt)?;
        let raw = B64.decode(b64).map_err(|_| CryptoError::Decrypt)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain = self.cipher.decrypt(Nonce::<U12>::from_slice(nonce), ct).map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Decrypt)
    }

    /// Keyed SM3 (HMAC-SM3) of a normalised value, hex: the blind index.
    pub fn blind_index(&self, value: &str) -> String {
        let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(&self.mac_key).unwrap_or_else(|_| unreachable_mac());
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn unreachable_mac() -> Hmac<Sm3> {
    // HMAC accepts keys of any length, so construction cannot fail.
    <Hmac<Sm3> as Mac>::new_from_slice(b"k").unwrap_or_else(|_| unreachable_mac())
}

/// `<data_dir>/keys/field.key`.
pub fn key_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("keys").join("field.key")
}

fn parse_key(hex_key: &str) -> Result<[u8; 16], CryptoError> {
    let bytes = hex::decode(hex_key).map_err(|_| CryptoError::BadKey)?;
    bytes.try_into().map_err(|_| CryptoError::BadKey)
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        f.write_all(content.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, content)
    }
}

/// SM3 of bytes, hex.
pub fn sm3_hex(data: &[u8]) -> String {
    use sm3::Digest;
    hex::encode(Sm3::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let c = Crypto::from_key([7; 16]);
        let e1 = c.encrypt("13800138000");
        let e2 = c.encrypt("13800138000");
        assert_ne!(e1, e2, "random nonce");
        assert!(!e1.contains("13800138000"));
        assert_eq!(c.decrypt(&e1).unwrap(), "13800138000");
        let mut bad = e1.clone();
        bad.pop();
        bad.push(if e1.ends_with('A') { 'B' } else { 'A' });
        assert!(c.decrypt(&bad).is_err());
        let other = Crypto::from_key([8; 16]);
        assert!(other.decrypt(&e1).is_err());
        assert_eq!(c.blind_index("13800138000"), c.blind_index("13800138000"));
        assert_ne!(c.blind_index("13800138000"), other.blind_index("13800138000"));
        assert_eq!(c.blind_index("x").len(), 64);
    }

    #[test]
    fn sm3_standard_vector() {
        // GB/T 32905-2016 example 1: SM3("abc").
        assert_eq!(sm3_hex(b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }

    #[test]
    fn key_file_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = Crypto::load("", dir.path()).unwrap();
        let b = Crypto::load("", dir.path()).unwrap();
        assert_eq!(a.blind_index("x"), b.blind_index("x"));
        assert!(Crypto::load("abc", dir.path()).is_err());
        assert!(Crypto::load("00112233445566778899aabbccddeeff", dir.path()).is_ok());
    }
}
