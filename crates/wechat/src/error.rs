//! Errors of the protocol. Display texts are user-facing Chinese.

/// Anything that can go wrong handling a WeChat message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
    #[error("EncodingAESKey 无效：须为 43 位字符")]
    InvalidAesKey,
    /// The configured app id is empty.
    #[error("AppID 不能为空")]
    EmptyAppId,
    /// The ciphertext is not base64 or not a whole number of AES blocks.
    #[error("密文格式无效")]
    InvalidCiphertext,
    /// The decrypted data has bad padding, a bad length field or is not UTF-8.
    #[error("消息解密失败")]
    DecryptFailed,
    /// The decrypted message was encrypted for another app id.
    #[error("AppID 不匹配")]
    AppIdMismatch,
    /// Encryption failed (no system randomness, or an internal length error).
    #[error("消息加密失败")]
    EncryptFailed,
    /// The input is larger than [`crate::MAX_XML_BYTES`].
    #[error("消息过大")]
    TooLarge,
    /// The XML declares a DOCTYPE or entities, which are never accepted.
    #[error("消息格式无效：不允许 DOCTYPE 或实体声明")]
    DoctypeNotAllowed,
    /// The XML is malformed or its root is not `<xml>`.
    #[error("消息格式无效")]
    InvalidXml,
    /// A required element is missing (or empty).
    #[error("消息格式无效：缺少 {0}")]
    MissingField(&'static str),
    /// An element appears twice, or has a value of the wrong form.
    #[error("消息格式无效：{0} 取值有误")]
    InvalidField(&'static str),
}
