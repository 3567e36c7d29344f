//! Files as responses: uploaded files shown inline (sandboxed) and xlsx exports.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// An uploaded file as a response: its checked content type, never cached,
/// sandboxed so nothing in it can run on our origin.
pub fn file_response(f: &qifu_db::entity::file::Model, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    if let Ok(ct) = HeaderValue::from_str(&f.content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    r
}

/// An xlsx workbook to download as `name.xlsx`.
pub fn xlsx_response(bytes: Vec<u8>, name: &str) -> Response {
    let mut r = bytes.into_response();
    xlsx_headers(&mut r, name);
    r
}

/// Marks a response (e.g. a streamed body) as the download `name.xlsx`.
pub fn xlsx_headers(r: &mut Response, name: &str) {
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    );
    let disposition = format!("attachment; filename=\"{name}.xlsx\"; filename*=UTF-8''{}.xlsx", crate::error::urlencode(name));
    // Exports hold lists of personal data: never kept in any cache.
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
}
