//! Extractors: who is asking (from the session cookie), forms that must carry
//! a valid CSRF token, and the JSON API's body and request data. Who may call a
//! handler is said by the guards in `guard.rs`; these only establish identity.

use crate::AppState;
use crate::error::{ApiError, WebError};
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use qifu_app::Meta;
use qifu_app::accounts::SessionInfo;
use qifu_app::actor::Actor;
use serde::de::DeserializeOwned;

pub const SESSION_COOKIE: &str = "qifu_session";
pub const A11Y_COOKIE: &str = "qifu_a11y";
pub const CSRF_COOKIE: &str = "qifu_csrf";

/// The anonymous CSRF token (the `qifu_csrf` cookie's, or a fresh one), put
/// into the request by the `csrf_cookie` middleware for the extractors.
#[derive(Clone, Debug)]
pub struct AnonCsrf(pub String);

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Whether the visitor chose the large-text, high-contrast mode.
pub fn a11y_from(headers: &HeaderMap) -> bool {
    cookie(headers, A11Y_COOKIE).as_deref() == Some("1")
}

/// The visitor: maybe signed in.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// A fully signed-in session (every required factor passed).
    pub session: Option<SessionInfo>,
    /// A session waiting for its second factor.
    pub pending: Option<SessionInfo>,
    pub anon_csrf: String,
    pub a11y: bool,
    /// Path and query of this request, for "come back here" links.
    pub here: String,
    pub meta: Meta,
    /// Unread in-site messages of the signed-in user.
    pub unread: u64,
}

impl Viewer {
    pub fn actor(&self) -> Option<&Actor> {
        self.session.as_ref().map(|s| &s.actor)
    }

    /// The token this visitor's forms must carry (a pending session's while the
    /// second factor is asked for).
    pub fn form_token(&self) -> &str {
        match (&self.session, &self.pending) {
            (Some(s), _) | (None, Some(s)) => s.csrf_token.as_str(),
            _ => &self.anon_csrf,
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        let resolved = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => qifu_app::accounts::resolve_session(&st.ctx, &token).await?,
            None => None,
        };
        let (session, pending) = match resolved {
            Some(s) if s.stage == qifu_domain::accounts::SessionStage::Full => (Some(s), None),
            Some(s) => (None, Some(s)),
            None => (None, None),
        };
        let anon_csrf = parts.extensions.get::<AnonCsrf>().map(|c| c.0.clone()).unwrap_or_default();
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".to_owned());
        let meta = request_meta(parts, st);
        let unread = match &session {
            Some(s) => qifu_app::messages::unread_count(&st.ctx, &s.actor).await?,
            None => 0,
        };
        let v = Viewer { session, pending, anon_csrf, a11y: a11y_from(&parts.headers), here, meta, unread };
        parts.extensions.insert(v.clone());
        Ok(v)
    }
}

/// A url-encoded form whose `_csrf` field matched the visitor's token.
pub struct CsrfForm<T> {
    pub viewer: Viewer,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, st).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), st)
            .await
            .map_err(|_| WebError::BadRequest("提交的内容过大或无法读取".to_owned()))?;
        let field: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::Csrf)?;
        if !constant_time_eq(field.csrf.as_bytes(), viewer.form_token().as_bytes()) || field.csrf.is_empty() {
            tracing::warn!("CSRF token mismatch");
            return Err(WebError::Csrf);
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| WebError::BadRequest("表单内容格式不正确".to_owned()))?;
        Ok(CsrfForm { viewer, form })
    }
}

/// A multipart form read whole: its text fields (each cut to 2,000 characters),
/// and the file of `file_field`, cut one byte past `max` so a size check still fails.
pub struct MultipartForm {
    pub csrf: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub file: qifu_app::files::Upload,
}

impl MultipartForm {
    pub async fn read(mut mp: axum::extract::Multipart, file_field: &str, max: usize) -> Result<Self, WebError> {
        let bad = |_| WebError::BadRequest("提交的内容无法读取，请重试".to_owned());
        let mut out = MultipartForm { csrf: String::new(), fields: serde_json::Map::new(), file: Default::default() };
        while let Some(field) = mp.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_owned();
            if name == file_field {
                out.file.file_name = field.file_name().unwrap_or("").to_owned();
                let data = field.bytes().await.map_err(bad)?;
                out.file.bytes = data[..data.len().min(max + 1)].to_vec();
                continue;
            }
            let text: String = field.text().await.map_err(bad)?.chars().take(2000).collect();
            if name == "_csrf" {
                out.csrf = text;
            } else {
                out.fields.insert(name, serde_json::Value::String(text));
            }
        }
        Ok(out)
    }

    /// Reads the form and checks its CSRF token against the visitor's.
    pub async fn read_for(v: &Viewer, mp: axum::extract::Multipart, file_field: &str, max: usize) -> Result<Self, WebError> {
        let form = Self::read(mp, file_field, max).await?;
        check_csrf(v, &form.csrf)?;
        Ok(form)
    }

    /// The text fields as a form struct whose fields are all strings with defaults.
    pub fn form<T: DeserializeOwned>(&self) -> Result<T, WebError> {
        serde_json::from_value(serde_json::Value::Object(self.fields.clone()))
            .map_err(|_| WebError::BadRequest("表单内容格式不正确".to_owned()))
    }
}

/// Checks a CSRF token taken from a multipart form.
pub fn check_csrf(viewer: &Viewer, token: &str) -> Result<(), WebError> {
    if token.is_empty() || !constant_time_eq(token.as_bytes(), viewer.form_token().as_bytes()) {
        return Err(WebError::Csrf);
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON request body; anything unreadable is refused in the API's envelope
/// (400 for broken JSON, 415 without a JSON content type, 422 for wrong types).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, st).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let (code, message) = match &e {
                    JsonRejection::JsonSyntaxError(_) => ("invalid_json", "请求内容不是有效的 JSON"),
                    JsonRejection::MissingJsonContentType(_) => ("unsupported_media_type", "请以 application/json 提交"),
                    JsonRejection::JsonDataError(_) => ("invalid_json", "请求内容的字段类型不正确"),
                    _ => ("bad_request", "请求内容无法读取"),
                };
                Err(ApiError::new(e.status(), code, message))
            }
        }
    }
}

/// The request's address, agent and id, for the audit trail and rate limits
/// of API calls (which have no Viewer).
pub struct ApiMeta(pub Meta);

impl FromRequestParts<AppState> for ApiMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ApiMeta(request_meta(parts, st)))
    }
}

/// Client address, user agent and request id of a request.
pub fn request_meta(parts: &Parts, st: &AppState) -> Meta {
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let sec = &st.ctx.settings.security;
    // X-Forwarded-For counts only when the connection comes from a trusted
    // proxy, and then its right-most entry that is not a trusted proxy is the
    // client: entries further left are whatever the client sent.
    let ip = match peer {
        Some(peer) if sec.trust_forwarded_for => {
            let trusted: Vec<qifu_app::netguard::Cidr> =
                sec.trusted_proxies.iter().filter_map(|c| qifu_app::netguard::Cidr::parse(c)).collect();
            let header = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
            let joined = header.join(",");
            qifu_app::netguard::client_ip(peer, (!header.is_empty()).then_some(joined.as_str()), &trusted).to_string()
        }
        Some(peer) => peer.to_string(),
        None => "0.0.0.0".to_owned(),
    };
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Meta { ip, user_agent: header("user-agent"), request_id: header("x-request-id") }
}

/// Whether the TLS proxy reported a verified client certificate.
pub fn client_cert_verified(headers: &HeaderMap, st: &AppState) -> bool {
    headers
        .get(st.ctx.settings.security.client_cert_header.as_str())
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("SUCCESS"))
}
