//! A local fake of the market-regulation registry JSON service, for tests.
//!
//! It speaks the interface documented in
//! `qifu_app::integrations::registry_http`:
//!
//! - `GET /enterprises/{credit_code}` with `Authorization: Bearer {token}` and
//!   an `Accept` that allows `application/json`;
//! - 200 with `{"credit_code", "name", "legal_representative": {"name",
//!   "id_number"}, "status", "registered_on"}` for a known enterprise;
//! - 404 `{"error": {"code": "NOT_FOUND", ...}}` for an unknown one;
//! - 401 `UNAUTHORIZED` (with `WWW-Authenticate: Bearer`) for a missing or
//!   wrong token, 406 `NOT_ACCEPTABLE` for an `Accept` without JSON, 400
//!   `INVALID_CREDIT_CODE` for a path segment that is not a canonical credit
//!   code, and 404 `ROUTE_NOT_FOUND` for any other path — never `NOT_FOUND`,
//!   so a client pointed at the wrong base path can tell.
//!
//! - `GET /changes?since=YYYY-MM-DD[&cursor=C]`: the records changed on or
//!   after `since` (ordered by change date, then credit code), a page of
//!   [`FakeRegistry::set_page_size`] at a time, as `{"items": [...],
//!   "next_cursor": ...}`; 400 `INVALID_DATE` without a valid `since`.
//!
//! Every error body is `{"error": {"code": "...", "message": "..."}}`.
//! [`FakeRegistry::fail_next_with`] makes the next request answer a given
//! status (with `Retry-After` on 429), before any check, as a gateway in
//! front of the service would.

use anyhow::{Context, Result};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use qifu_app::integrations::registry::RegistryRecord;
use qifu_domain::certification::CreditCode;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The registration date the fake reports for every enterprise (the client
/// does not use it; the protocol carries it).
pub const REGISTERED_ON: &str = "2015-06-01";

/// The change date of records added without one.
pub const DEFAULT_CHANGED_ON: &str = "2026-01-01";

/// A running fake registry on `127.0.0.1`; stops when dropped.
pub struct FakeRegistry {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// By the credit code in the request path.
    records: HashMap<String, RegistryRecord>,
    /// When each record last changed, by credit code.
    changed: HashMap<String, chrono::NaiveDate>,
    page_size: Option<usize>,
    fail_next: Option<u16>,
    requests: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the fake down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FakeRegistry {
    /// Starts the fake on `127.0.0.1:0`, accepting one bearer token.
    pub async fn start(token: &str) -> Result<FakeRegistry> {
        let shared = Arc::new(Shared { token: token.to_owned(), inner: Mutex::new(Inner::default()) });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("bind the fake registry")?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/enterprises/{code}", get(show_enterprise))
            .route("/changes", get(list_changes))
            .fallback(no_route)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake registry stopped");
            }
        });
        Ok(FakeRegistry { addr, shared, server })
    }

    /// `http://127.0.0.1:PORT/`, to use as `registry.http_url`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Adds (or replaces) an enterprise, served under its own credit code.
    pub fn insert(&self, record: RegistryRecord) {
        let code = record.credit_code.clone();
        self.insert_under(&code, record);
    }

    /// Serves `record` for requests about `credit_code`, even when the
    /// record carries another code — a registry answering about the wrong
    /// enterprise.
    pub fn insert_under(&self, credit_code: &str, record: RegistryRecord) {
        self.shared.lock().records.insert(credit_code.to_owned(), record);
    }

    /// Adds (or replaces) an enterprise that changed on `on` (the default for
    /// [`FakeRegistry::insert`] is [`DEFAULT_CHANGED_ON`]).
    pub fn insert_changed(&self, record: RegistryRecord, on: chrono::NaiveDate) {
        let code = record.credit_code.clone();
        let mut inner = self.shared.lock();
        inner.changed.insert(code.clone(), on);
        inner.records.insert(code, record);
    }

    /// Records per page of `/changes` (default 100).
    pub fn set_page_size(&self, n: usize) {
        self.shared.lock().page_size = Some(n.max(1));
    }

    /// The next request, whatever it is, answers with this HTTP status and
    /// the protocol's error body; later ones are served normally.
    pub fn fail_next_with(&self, status: u16) {
        self.shared.lock().fail_next = Some(status);
    }

    /// How many requests reached the fake so far.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

/// The answer `fail_next_with` asked for.
fn forced(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match status {
        StatusCode::UNAUTHORIZED => ("UNAUTHORIZED", "访问令牌无效"),
        StatusCode::FORBIDDEN => ("FORBIDDEN", "无权访问登记信息"),
        StatusCode::NOT_FOUND => ("NOT_FOUND", "未找到该企业的登记信息"),
        StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMITED", "请求过于频繁，请稍后再试"),
        StatusCode::SERVICE_UNAVAILABLE => ("SERVICE_UNAVAILABLE", "服务暂不可用"),
        s if s.is_server_error() => ("INTERNAL_ERROR", "服务内部错误"),
        _ => ("FORCED_ERROR", "测试指定的应答"),
    };
    let mut res = error(status, code, message);
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    res
}

/// Counts the request and takes a pending forced failure, if any.
fn arrive(shared: &Shared) -> Option<Response> {
    let mut inner = shared.lock();
    inner.requests += 1;
    inner.fail_next.take().map(forced)
}

fn authorised(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !shared.token.is_empty() && t == shared.token)
}

/// Whether `Accept` allows a JSON answer. The fake is strict: the protocol
/// says the client sends `Accept: application/json`, so a missing header is
/// refused too.
fn accepts_json(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|range| {
        let media = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        matches!(media.as_str(), "application/json" | "application/*" | "*/*")
    })
}

fn record_json(r: &RegistryRecord) -> serde_json::Value {
    let b = &r.base;
    json!({
        "credit_code": r.credit_code,
        "name": r.name,
        "legal_representative": {"name": r.legal_rep_name, "id_number": r.legal_rep_id},
        "status": r.status,
        "registered_on": b.founded_on.map(|d| d.to_string()),
        "entity_type": b.entity_type,
        "registered_capital_wan": b.registered_capital_fen.map(|f| f as f64 / 1_000_000.0),
        "address": b.address,
        "division_code": b.division_code,
        "industry_code": b.industry_code,
    })
}

async fn show_enterprise(State(shared): State<Arc<Shared>>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    if let Some(res) = arrive(&shared) {
        return res;
    }
    if !authorised(&shared, &headers) {
        let mut res = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "缺少访问令牌或访问令牌无效");
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    if !accepts_json(&headers) {
        return error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "本接口只提供 application/json");
    }
    // Canonical form only: no lower case, spaces or full-width characters.
    match CreditCode::parse(&code) {
        Ok(parsed) if parsed.as_str() == code => {}
        Ok(_) => {
            return error(StatusCode::BAD_REQUEST, "INVALID_CREDIT_CODE", "统一社会信用代码应使用大写半角字符");
        }
        Err(e) => return error(StatusCode::BAD_REQUEST, "INVALID_CREDIT_CODE", &e.to_string()),
    }
    let found = shared.lock().records.get(&code).map(record_json);
    match found {
        Some(body) => (StatusCode::OK, Json(body)).into_response(),
        None => error(StatusCode::NOT_FOUND, "NOT_FOUND", "未找到该企业的登记信息"),
    }
}

#[derive(serde::Deserialize)]
struct ChangesQuery {
    since: Option<String>,
    cursor: Option<String>,
}

async fn list_changes(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ChangesQuery>,
) -> Response {
    if let Some(res) = arrive(&shared) {
        return res;
    }
    if !authorised(&shared, &headers) {
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "缺少访问令牌或访问令牌无效");
    }
    if !accepts_json(&headers) {
        return error(StatusCode::NOT_ACCEPTABLE, "NOT_ACCEPTABLE", "本接口只提供 application/json");
    }
    let Some(since) = q.since.as_deref().and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_DATE", "since 应为 YYYY-MM-DD");
    };
    let offset: usize = match q.cursor.as_deref().map(str::parse) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "INVALID_CURSOR", "游标无效"),
    };
    let inner = shared.lock();
    let default_on = chrono::NaiveDate::parse_from_str(DEFAULT_CHANGED_ON, "%Y-%m-%d").unwrap_or_default();
    let mut all: Vec<(chrono::NaiveDate, &String, &RegistryRecord)> = inner
        .records
        .iter()
        .map(|(code, r)| (inner.changed.get(code).copied().unwrap_or(default_on), code, r))
        .filter(|(on, _, _)| *on >= since)
        .collect();
    all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let size = inner.page_size.unwrap_or(100);
    let items: Vec<serde_json::Value> = all
        .iter()
        .skip(offset)
        .take(size)
        .map(|(on, _, r)| {
            let mut v = record_json(r);
            v["changed_on"] = json!(on.to_string());
            v
        })
        .collect();
    let next = (offset + size < all.len()).then(|| (offset + size).to_string());
    (StatusCode::OK, Json(json!({"items": items, "next_cursor": next}))).into_response()
}

async fn no_route(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(res) = arrive(&shared) {
        return res;
    }
    error(StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND", "没有这个接口")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "fake-token";

    fn shared() -> Arc<Shared> {
        Arc::new(Shared { token: TOKEN.to_owned(), inner: Mutex::new(Inner::default()) })
    }

    fn headers(auth: Option<&str>, accept: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    fn good() -> HeaderMap {
        headers(Some("Bearer fake-token"), Some("application/json"))
    }

    fn code() -> String {
        CreditCode::from_body("91110112MA01AB12C").unwrap().as_str().to_owned()
    }

    async fn call(shared: &Arc<Shared>, h: HeaderMap, path: &str) -> (StatusCode, serde_json::Value) {
        let res = show_enterprise(State(shared.clone()), h, Path(path.to_owned())).await;
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn token_and_accept_are_checked() {
        let s = shared();
        let (status, body) = call(&s, headers(None, Some("application/json")), &code()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
        let (status, _) = call(&s, headers(Some("Bearer other"), Some("application/json")), &code()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = call(&s, headers(Some("fake-token"), Some("application/json")), &code()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = call(&s, headers(Some("Bearer fake-token"), Some("text/html")), &code()).await;
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
        assert_eq!(body["error"]["code"], "NOT_ACCEPTABLE");
        let (status, _) = call(&s, headers(Some("Bearer fake-token"), Some("text/html, application/json;q=0.9")), &code()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(s.lock().requests, 5);
    }

    #[tokio::test]
    async fn malformed_codes_are_bad_requests() {
        let s = shared();
        let lower = code().to_ascii_lowercase();
        for bad in ["", "123", "91110112MA01AB12CX", lower.as_str(), "91110112MA01AB12C0"] {
            let (status, body) = call(&s, good(), bad).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(body["error"]["code"], "INVALID_CREDIT_CODE", "{bad}");
        }
    }

    #[tokio::test]
    async fn known_and_unknown_enterprises_and_forced_failures() {
        let s = shared();
        s.lock().records.insert(
            code(),
            RegistryRecord {
                credit_code: code(),
                name: "甲公司".to_owned(),
                legal_rep_name: "李四".to_owned(),
                legal_rep_id: None,
                status: "存续".to_owned(),
                base: qifu_app::integrations::registry::RegistryBase {
                    founded_on: chrono::NaiveDate::parse_from_str(REGISTERED_ON, "%Y-%m-%d").ok(),
                    ..Default::default()
                },
            },
        );
        let (status, body) = call(&s, good(), &code()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["credit_code"], code());
        assert_eq!(body["legal_representative"]["name"], "李四");
        assert!(body["legal_representative"]["id_number"].is_null());
        assert_eq!(body["registered_on"], REGISTERED_ON);

        let unknown = CreditCode::from_body("91110112MA01AB12D").unwrap();
        let (status, body) = call(&s, good(), unknown.as_str()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "NOT_FOUND");

        s.lock().fail_next = Some(429);
        let res = show_enterprise(State(s.clone()), good(), Path(code())).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        // Only the next one.
        let (status, _) = call(&s, good(), &code()).await;
        assert_eq!(status, StatusCode::OK);
    }
}
