//! The server side of the WeChat Official Account (微信公众号) message
//! protocol, with no network code:
//!
//! - [`signature`] / [`msg_signature`] / [`verify`]: the SHA-1 signatures that
//!   authenticate WeChat's requests (URL verification and safe-mode bodies);
//! - [`Crypto`]: safe mode (安全模式) AES-256-CBC exactly as WeChat's
//!   `WXBizMsgCrypt` (32-byte PKCS#7 padding, random prefix, length, app id);
//! - [`parse_envelope`] / [`parse_message`]: the XML bodies WeChat POSTs,
//!   parsed without DTDs or entities and with a size limit;
//! - [`text_reply`] / [`news_reply`] / [`encrypted_reply`]: passive replies.
//!
//! A web handler verifies [`signature`] (plain mode) or [`msg_signature`] over
//! the envelope's `Encrypt` (safe mode) before trusting anything in a body.

mod crypto;
mod error;
mod message;
mod reply;
mod signature;

pub use crypto::Crypto;
pub use error::Error;
pub use message::{Envelope, MAX_XML_BYTES, Message, parse_envelope, parse_message};
pub use reply::{Article, MAX_NEWS_ARTICLES, encrypted_reply, news_reply, text_reply};
pub use signature::{msg_signature, signature, verify};

#[cfg(test)]
mod tests;
