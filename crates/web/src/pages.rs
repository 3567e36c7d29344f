//! Handlers, grouped by area.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod authorization;
pub mod certification;
pub mod demands;
pub mod health;
pub mod messages;
pub mod onboarding;
pub mod policies;
pub mod portal;
pub mod search;

use serde::Deserialize;

/// `?page=N` on list pages; anything unparsable is page 1.
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub page: u64,
}

pub fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()).filter(|n| *n >= 1 && *n <= 100_000).unwrap_or(1))
}

/// An uploaded file as a response: its checked content type, never cached,
/// sandboxed so nothing in it can run on our origin.
pub fn file_response(f: &qifu_db::entity::file::Model, bytes: Vec<u8>) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = bytes.into_response();
    if let Ok(ct) = HeaderValue::from_str(&f.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    r
}
