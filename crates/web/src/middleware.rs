//! Cross-cutting middleware: metrics, error pages, CSRF cookie.

use crate::AppState;
use crate::error::{ApiError, Denied, ErrorInfo};
use crate::extract::{AnonCsrf, CSRF_COOKIE};
use crate::kit::{ErrorPage, PageChrome};
use askama::Template;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use std::time::Instant;

/// Request count and latency by route.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = res.status().as_u16().to_string();
    metrics::counter!("qifu_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("qifu_http_request_duration_seconds", "method" => method, "route" => route).record(secs);
    res
}

/// Gives every visitor a CSRF cookie (double-submit token for forms used
/// before login).
pub async fn csrf_cookie(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing =
        crate::extract::cookie(req.headers(), CSRF_COOKIE).filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (qifu_app::accounts::random_token(), true),
    };
    req.extensions_mut().insert(AnonCsrf(token.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let secure = if st.ctx.settings.web.secure_cookies { "; Secure" } else { "" };
        let c = format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Turns error responses without a page of their own (our `WebError`s, 404s of
/// unknown routes, 413 from the body limit, 408/503 from the timeout, panics)
/// into the Chinese error page carrying the request id, or under `/api/` into
/// the API's error envelope.
pub async fn error_pages(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let a11y = crate::extract::a11y_from(req.headers());
    let wants_json = req.uri().path().starts_with("/api/");
    let (parts, body) = req.into_parts();
    let asked = Asked::of(&parts, &st);
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    if let Some(d) = res.extensions().get::<Denied>().copied() {
        asked.record_denied(&st, d).await;
    }
    let info = res.extensions().get::<ErrorInfo>().cloned();
    let has_own_body = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if info.is_none() && has_own_body {
        return res;
    }
    let message = info.map(|i| i.message).unwrap_or_else(|| default_message(status.as_u16()).to_owned());
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    // The body is replaced: an encoding the compression layer gave the old one
    // (gzip) no longer describes it, and a browser would fail to decode the page.
    parts.headers.remove(header::CONTENT_ENCODING);
    if wants_json {
        let body = ApiError::new(status, ApiError::code_of(status), message).body();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return Response::from_parts(parts, Body::from(body.to_string()));
    }
    let page = ErrorPage {
        chrome: PageChrome::bare(&st, a11y, &format!("{} 出错了", status.as_u16())),
        status: status.as_u16(),
        message,
        request_id,
    };
    match page.render() {
        Ok(html) => {
            let mut r = Html(html).into_response();
            *r.status_mut() = status;
            for (k, v) in parts.headers.iter() {
                if k != header::CONTENT_TYPE {
                    r.headers_mut().append(k.clone(), v.clone());
                }
            }
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            Response::from_parts(parts, Body::from("系统繁忙，请稍后再试。"))
        }
    }
}

/// Who asked for what, kept from the request for a refusal's audit record.
struct Asked {
    method: String,
    path: String,
    session: Option<String>,
    meta: qifu_app::Meta,
}

impl Asked {
    fn of(parts: &axum::http::request::Parts, st: &AppState) -> Asked {
        Asked {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            session: crate::extract::cookie(&parts.headers, crate::extract::SESSION_COOKIE),
            meta: crate::extract::request_meta(parts, st),
        }
    }

    /// Records an authorisation failure (actor, path, permission); counts and alerts in `app`.
    async fn record_denied(&self, st: &AppState, d: Denied) {
        let actor = match &self.session {
            Some(token) => qifu_app::accounts::resolve_session(&st.ctx, token).await.ok().flatten().map(|s| s.actor),
            None => None,
        };
        if let Err(e) =
            qifu_app::audit::record_denied(&st.ctx, actor.as_ref(), &self.meta, &self.method, &self.path, d.permission).await
        {
            tracing::warn!(error = %e, "authorisation failure not recorded");
        }
    }
}

/// `Cache-Control: no-store` on every response to a signed-in visitor (pages
/// with personal data must not stay in a shared or browser cache) and on every
/// download; static files keep their own caching.
pub async fn no_store(req: Request, next: Next) -> Response {
    let signed_in = crate::extract::cookie(req.headers(), crate::extract::SESSION_COOKIE).is_some();
    let static_file = req.uri().path().starts_with("/static/") || req.uri().path() == "/favicon.ico";
    let mut res = next.run(req).await;
    let download =
        res.headers().get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("attachment"));
    if (signed_in && !static_file) || download {
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    res
}

fn default_message(status: u16) -> &'static str {
    match status {
        404 => "您访问的页面不存在或已被删除。",
        405 => "不支持此操作方式。",
        408 | 503 => "服务器处理超时，请稍后再试。",
        413 => "提交的内容过大，请缩小后重试。",
        415 | 422 | 400 => "提交的内容格式不正确，请检查后重试。",
        429 => "操作过于频繁，请稍后再试。",
        401 | 403 => "您没有访问此页面的权限。",
        s if s >= 500 => "系统繁忙，请稍后再试。",
        _ => "请求无法完成。",
    }
}

/// `Idempotency-Key` on the JSON API's POSTs: the first request with a key runs
/// and its answer is kept a day; a retry with the same key and the same request
/// gets that answer again (`Idempotency-Replayed: true`) without a second
/// write; the same key with a different request is refused (422), and while
/// the first is still running a retry gets 409. Server errors are not kept, so
/// a retry after one runs again.
pub async fn idempotency(State(st): State<AppState>, req: Request, next: Next) -> Response {
    use crate::error::ApiError;
    use axum::http::{Method, StatusCode};
    let Some(key) = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return next.run(req).await;
    };
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    if !qifu_app::idempotency::valid_key(&key) {
        return ApiError::invalid(
            "Idempotency-Key 应为1到64个字母、数字、短横线或下划线",
            vec![("Idempotency-Key", "格式不正确".to_owned())],
        )
        .into_response();
    }
    let route = format!("{} {}", req.method(), req.uri().path());
    let (parts, body) = req.into_parts();
    let limit = st.ctx.settings.web.body_limit_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "提交的内容过大").into_response();
    };
    let fingerprint = qifu_app::crypto::sm3_hex(&bytes);
    match qifu_app::idempotency::claim(&st.ctx, &key, &route, &fingerprint).await {
        Ok(qifu_app::idempotency::Claim::New) => {}
        Ok(qifu_app::idempotency::Claim::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = (status, body).into_response();
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res.headers_mut().insert("idempotency-replayed", HeaderValue::from_static("true"));
            return res;
        }
        Ok(qifu_app::idempotency::Claim::Mismatch) => {
            return ApiError::invalid(
                "这个 Idempotency-Key 已用于另一个请求；新的请求请使用新的 Idempotency-Key",
                vec![("Idempotency-Key", "已用于另一个请求".to_owned())],
            )
            .into_response();
        }
        Ok(qifu_app::idempotency::Claim::InFlight) => {
            return ApiError::new(StatusCode::CONFLICT, "in_progress", "相同的请求正在处理，请稍后用同一 Idempotency-Key 重试")
                .into_response();
        }
        Err(e) => return crate::error::WebError::from(e).into_response(),
    }
    let res = next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await;
    let too_large = || ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "系统繁忙，请稍后再试。").into_response();
    run_and_keep(&st, &key, &route, res, too_large, |_, body| Some(String::from_utf8_lossy(body).into_owned())).await
}

/// The second half of both idempotency guards: the answer to a claimed key is
/// kept (as `encode` writes it; `None` keeps nothing) for retries to get
/// again. A server error, an answer too large to keep, or one `encode`
/// declines releases the key, so a retry runs again.
async fn run_and_keep(
    st: &AppState,
    key: &str,
    route: &str,
    res: Response,
    too_large: impl FnOnce() -> Response,
    encode: impl FnOnce(&axum::http::response::Parts, &[u8]) -> Option<String>,
) -> Response {
    let release = || async {
        if let Err(e) = qifu_app::idempotency::abandon(&st.ctx, key, route).await {
            tracing::warn!(error = %e, "idempotency key not released");
        }
    };
    let status = res.status();
    if status.is_server_error() {
        release().await;
        return res;
    }
    let (rparts, rbody) = res.into_parts();
    let Ok(rbytes) = axum::body::to_bytes(rbody, 4 * 1024 * 1024).await else {
        release().await;
        return too_large();
    };
    match encode(&rparts, &rbytes) {
        Some(text) => {
            if let Err(e) = qifu_app::idempotency::finish(&st.ctx, key, route, status.as_u16(), &text).await {
                tracing::warn!(error = %e, "idempotent answer not kept; a retry will run again after a minute");
            }
        }
        None => release().await,
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

/// What a replayed page-form answer needs: its status, where it sent the
/// browser, and the page (for a re-rendered form).
#[derive(serde::Serialize, serde::Deserialize)]
struct FormAnswer {
    location: Option<String>,
    content_type: Option<String>,
    body: String,
}

/// Paths whose answers set or clear cookies: replaying them without the
/// cookie would be wrong, so they are never deduplicated.
const FORM_ONCE_EXEMPT: &[&str] = &["/login", "/logout", "/register", "/password/reset", "/account/password"];

/// The page forms' double-submit guard. Every page carries a random `_once`
/// value in its forms; a form posted again with the same value, the same
/// session and the same content (a double click, the back button, a retry
/// after a dropped connection) gets the first answer again instead of a second
/// write — a redirect to the same place, or the same re-rendered form. While
/// the first is still running, the second waits for its answer (up to 10 s).
/// Forms without `_once` (scripts, multipart uploads) are not affected.
pub async fn form_once(State(st): State<AppState>, req: Request, next: Next) -> Response {
    use axum::http::{Method, StatusCode};
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let multipart = content_type.starts_with("multipart/form-data");
    let is_form = multipart || content_type.starts_with("application/x-www-form-urlencoded");
    let path = req.uri().path().to_owned();
    if req.method() != Method::POST
        || !is_form
        || FORM_ONCE_EXEMPT.iter().any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        return next.run(req).await;
    }
    let session = crate::extract::cookie(req.headers(), crate::extract::SESSION_COOKIE).unwrap_or_default();
    let (parts, body) = req.into_parts();
    let limit = st.ctx.settings.web.body_limit_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return crate::error::WebError::BadRequest("提交的内容过大".to_owned()).into_response();
    };
    let once = if multipart {
        once_in_multipart(&bytes)
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "_once").map(|(_, v)| v))
    };
    let Some(once) = once.filter(|o| qifu_app::idempotency::valid_key(o)) else {
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    };
    // The route names the session, so one visitor's answers are never shown to another.
    let short: String = path.chars().take(160).collect();
    let route = format!("FORM {short} {}", &qifu_app::crypto::sm3_hex(session.as_bytes())[..16]);
    // A browser picks a new multipart boundary for every submission: the
    // fingerprint is of the content with the boundary taken out.
    let boundary = content_type.split("boundary=").nth(1).map(|b| b.trim_matches('"').to_owned()).filter(|b| !b.is_empty());
    let fingerprint = match boundary {
        Some(b) if multipart => {
            let text = String::from_utf8_lossy(&bytes).replace(&b, "");
            qifu_app::crypto::sm3_hex(text.as_bytes())
        }
        _ => qifu_app::crypto::sm3_hex(&bytes),
    };
    let mut waited = 0;
    loop {
        match qifu_app::idempotency::claim(&st.ctx, &once, &route, &fingerprint).await {
            Ok(qifu_app::idempotency::Claim::New) => break,
            Ok(qifu_app::idempotency::Claim::Replay { status, body }) => {
                let Ok(answer) = serde_json::from_str::<FormAnswer>(&body) else { break };
                let mut res = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), answer.body).into_response();
                if let Some(l) = answer.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                    res.headers_mut().insert(header::LOCATION, l);
                }
                if let Some(c) = answer.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                    res.headers_mut().insert(header::CONTENT_TYPE, c);
                }
                res.headers_mut().insert("idempotency-replayed", HeaderValue::from_static("true"));
                return res;
            }
            // Another request from the same page (a second form to the same
            // place with other values): an ordinary request of its own.
            Ok(qifu_app::idempotency::Claim::Mismatch) => {
                return next.run(Request::from_parts(parts, Body::from(bytes))).await;
            }
            Ok(qifu_app::idempotency::Claim::InFlight) if waited < 100 => {
                waited += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(qifu_app::idempotency::Claim::InFlight) => {
                return crate::error::WebError::Conflict("同一表单正在处理，请勿重复提交，稍后刷新页面查看结果".to_owned())
                    .into_response();
            }
            Err(e) => return crate::error::WebError::from(e).into_response(),
        }
    }
    let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let too_large = || crate::error::WebError::Internal(anyhow::anyhow!("页面过大，无法保存")).into_response();
    run_and_keep(&st, &once, &route, res, too_large, |rparts, rbytes| {
        // A compressed body is kept as it is sent, and replays carry no encoding header: keep only plain ones.
        if rparts.headers.get(header::CONTENT_ENCODING).is_some() {
            return None;
        }
        let header_text = |h: header::HeaderName| rparts.headers.get(h).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let answer = FormAnswer {
            location: header_text(header::LOCATION),
            content_type: header_text(header::CONTENT_TYPE),
            body: String::from_utf8_lossy(rbytes).into_owned(),
        };
        serde_json::to_string(&answer).ok()
    })
    .await
}

/// The `_once` field of a multipart form: our forms put it right after the
/// CSRF token, before any file, as `name="_once"`, a blank line, the value.
fn once_in_multipart(body: &[u8]) -> Option<String> {
    let marker = b"name=\"_once\"";
    let at = body.windows(marker.len()).position(|w| w == marker)?;
    let rest = &body[at + marker.len()..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    std::str::from_utf8(&value[..end]).ok().map(str::to_owned)
}
