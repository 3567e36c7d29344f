//! Safe mode (安全模式) message encryption, compatible with WeChat's
//! `WXBizMsgCrypt`.
//!
//! - key: `base64decode(EncodingAESKey + "=")`, 32 bytes; IV: its first 16 bytes;
//! - plaintext: 16 random bytes ‖ message length (u32, big-endian) ‖ message ‖ app id;
//! - AES-256-CBC over the plaintext padded with PKCS#7 to a multiple of
//!   **32** bytes (WeChat's block size for padding, not AES's 16);
//! - the ciphertext travels base64-encoded (standard alphabet, with padding).

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use crate::Error;
use crate::message::MAX_XML_BYTES;

type Aes256CbcEnc = cbc::Encryptor<Aes256>;
type Aes256CbcDec = cbc::Decryptor<Aes256>;

/// WeChat pads to 32-byte multiples (its `PKCS7Encoder.block_size = 32`).
const PAD_BLOCK: usize = 32;
/// AES's own block size: a valid ciphertext is a whole number of these.
const AES_BLOCK: usize = 16;
/// Random prefix (16 bytes) plus the 4-byte length.
const HEADER: usize = 20;

/// Decodes the 43-character EncodingAESKey. Its last character carries two
/// unused bits that WeChat's keys do not zero, so trailing bits are allowed
/// (as Python's `base64.b64decode`, used by WeChat's own sample, does).
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// The safe-mode cipher of one Official Account.
#[derive(Clone)]
pub struct Crypto {
    key: [u8; 32],
    app_id: String,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crypto").field("key", &"<redacted>").field("app_id", &self.app_id).finish()
    }
}

impl Crypto {
    /// Builds the cipher from the account's 43-character EncodingAESKey and
    /// its AppID.
    ///
    /// # Errors
    /// [`Error::InvalidAesKey`] if the key is not 43 base64 characters,
    /// [`Error::EmptyAppId`] if `app_id` is empty.
    pub fn new(encoding_aes_key: &str, app_id: &str) -> Result<Self, Error> {
        if encoding_aes_key.len() != 43 {
            return Err(Error::InvalidAesKey);
        }
        if app_id.is_empty() {
            return Err(Error::EmptyAppId);
        }
        let decoded = KEY_ENGINE.decode(format!("{encoding_aes_key}=")).map_err(|_| Error::InvalidAesKey)?;
        let key: [u8; 32] = decoded.try_into().map_err(|_| Error::InvalidAesKey)?;
        Ok(Self { key, app_id: app_id.to_owned() })
    }

    /// The AppID messages are encrypted for.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// Encrypts `msg` with 16 fresh random bytes, returning base64 for the
    /// `Encrypt` element.
    ///
    /// # Errors
    /// [`Error::EncryptFailed`] if the system has no randomness or the
    /// message is too long.
    pub fn encrypt(&self, msg: &str) -> Result<String, Error> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|_| Error::EncryptFailed)?;
        self.encrypt_with_random(msg, random)
    }

    /// Encrypts `msg` with the given 16 "random" bytes: deterministic, for
    /// tests and test vectors. Use [`Crypto::encrypt`] otherwise.
    ///
    /// # Errors
    /// [`Error::EncryptFailed`] if the message is longer than `u32::MAX` bytes.
    pub fn encrypt_with_random(&self, msg: &str, random: [u8; 16]) -> Result<String, Error> {
        let len = u32::try_from(msg.len()).map_err(|_| Error::EncryptFailed)?;
        let body = HEADER + msg.len() + self.app_id.len();
        let pad = PAD_BLOCK - body % PAD_BLOCK; // 1..=32
        let mut buf = Vec::with_capacity(body + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(msg.as_bytes());
        buf.extend_from_slice(self.app_id.as_bytes());
        let pad_byte = u8::try_from(pad).map_err(|_| Error::EncryptFailed)?;
        buf.resize(body + pad, pad_byte);
        let total = buf.len();
        let ciphertext = Aes256CbcEnc::new(&self.key.into(), &self.iv().into())
            .encrypt_padded::<NoPadding>(&mut buf, total)
            .map_err(|_| Error::EncryptFailed)?;
        Ok(STANDARD.encode(ciphertext))
    }

    /// Decrypts the base64 `Encrypt` value of a safe-mode message and returns
    /// the message (an XML document, or the `echostr` of a verification).
    ///
    /// Check the request's `msg_signature` first: decryption alone does not
    /// authenticate the sender.
    ///
    /// # Errors
    /// [`Error::TooLarge`] over the XML size limit, [`Error::InvalidCiphertext`]
    /// for bad base64 or a length that is not a multiple of 16,
    /// [`Error::DecryptFailed`] for bad padding, a bad length field or
    /// non-UTF-8 content, [`Error::AppIdMismatch`] if it was encrypted for
    /// another account.
    pub fn decrypt(&self, encrypt_b64: &str) -> Result<String, Error> {
        if encrypt_b64.len() > MAX_XML_BYTES {
            return Err(Error::TooLarge);
        }
        let mut buf = STANDARD.decode(encrypt_b64.trim()).map_err(|_| Error::InvalidCiphertext)?;
        if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
            return Err(Error::InvalidCiphertext);
        }
        let plain = Aes256CbcDec::new(&self.key.into(), &self.iv().into())
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| Error::InvalidCiphertext)?;
        let unpadded = unpad(plain).ok_or(Error::DecryptFailed)?;
        let (header, rest) = unpadded.split_at_checked(HEADER).ok_or(Error::DecryptFailed)?;
        let len_bytes: [u8; 4] = header[16..].try_into().map_err(|_| Error::DecryptFailed)?;
        let msg_len = usize::try_from(u32::from_be_bytes(len_bytes)).map_err(|_| Error::DecryptFailed)?;
        let (msg, app_id) = rest.split_at_checked(msg_len).ok_or(Error::DecryptFailed)?;
        if app_id != self.app_id.as_bytes() {
            return Err(Error::AppIdMismatch);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| Error::DecryptFailed)
    }
}

/// Strips PKCS#7 padding of 1..=32 bytes, all equal to the pad length.
fn unpad(data: &[u8]) -> Option<&[u8]> {
    let pad = usize::from(*data.last()?);
    if pad == 0 || pad > PAD_BLOCK || pad > data.len() {
        return None;
    }
    let (body, padding) = data.split_at(data.len() - pad);
    padding.iter().all(|&b| usize::from(b) == pad).then_some(body)
}
