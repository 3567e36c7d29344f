//! The web layer's errors. Every app error converts into [`WebError`] once (the
//! kernel's here, each area's in its own module); pages render it as the Chinese
//! error page, the JSON API as [`ApiError`]'s one envelope. Internal causes are
//! logged once with the request id and never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("页面不存在")]
    NotFound,
    #[error("没有权限")]
    Forbidden,
    /// Forbidden for want of a named permission (the guards say which).
    #[error("没有权限")]
    ForbiddenTo(qifu_domain::accounts::Permission),
    /// Forbidden, with the reason shown to the user.
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Not logged in: go to the login page and come back to `next`.
    #[error("请先登录")]
    LoginRequired { next: String },
    /// The request itself is malformed (unreadable form, unknown choice).
    #[error("{0}")]
    BadRequest(String),
    #[error("请求已过期，请刷新页面后重试")]
    Csrf,
    #[error("请先修改初始密码")]
    MustChangePassword,
    #[error("{0}")]
    TooMany(String),
    /// The submitted values break a rule: a message per field (`form` for the
    /// whole form). A form shows them beside its fields.
    #[error("{}", .0.summary())]
    Invalid(FieldErrors),
    /// The record's state does not allow the action (already decided, withdrawn…).
    #[error("{0}")]
    Conflict(String),
    /// An outside service (SMS gateway, …) cannot take the request now.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl WebError {
    /// An access error of a check for `permission`: a refusal names it.
    pub fn denied(e: qifu_app::actor::AccessError, permission: qifu_domain::accounts::Permission) -> Self {
        match e {
            qifu_app::actor::AccessError::Forbidden => WebError::ForbiddenTo(permission),
            other => other.into(),
        }
    }

    /// An authorisation failure (not a CSRF or password-change refusal), with
    /// the permission asked for when known: audited at the boundary.
    fn denial(&self) -> Option<Denied> {
        match self {
            WebError::Forbidden | WebError::ForbiddenBecause(_) => Some(Denied { permission: None }),
            WebError::ForbiddenTo(p) => Some(Denied { permission: Some(p.code()) }),
            _ => None,
        }
    }

    /// A single message for the whole form.
    pub fn invalid(message: impl Into<String>) -> Self {
        WebError::Invalid(FieldErrors::form(message))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::ForbiddenTo(_) | WebError::ForbiddenBecause(_) | WebError::Csrf => {
                StatusCode::FORBIDDEN
            }
            WebError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            WebError::MustChangePassword => StatusCode::FORBIDDEN,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The messages a form shows again for a refused submission (field errors,
    /// or a state conflict as a message for the whole form); any other error
    /// (access, internal…) is handed back to end the request.
    pub fn into_fields(self) -> Result<FieldErrors, WebError> {
        match self {
            WebError::Invalid(f) => Ok(f),
            WebError::Conflict(m) => Ok(FieldErrors::form(m)),
            other => Err(other),
        }
    }

    /// The message of an error the user can act on (a refused value, a state
    /// conflict, a rate limit, an unavailable service), for a page to show in
    /// place; access and internal errors are handed back.
    pub fn into_message(self) -> Result<String, WebError> {
        match self {
            WebError::Invalid(_)
            | WebError::Conflict(_)
            | WebError::BadRequest(_)
            | WebError::TooMany(_)
            | WebError::Unavailable(_) => Ok(self.to_string()),
            other => Err(other),
        }
    }

    /// What the error page (or the API envelope) tells the user.
    fn public_message(&self) -> String {
        match self {
            WebError::NotFound => "您访问的页面不存在或已被删除。".to_owned(),
            WebError::Forbidden | WebError::ForbiddenTo(_) => "您没有访问此页面的权限。".to_owned(),
            WebError::Csrf => "页面已过期或来源无法验证，请返回刷新后重试。".to_owned(),
            WebError::LoginRequired { .. } => "请先登录。".to_owned(),
            WebError::MustChangePassword => "请先修改初始密码。".to_owned(),
            WebError::Internal(_) => "系统繁忙，请稍后再试。".to_owned(),
            other => other.to_string(),
        }
    }

    /// Logs an internal error's whole cause chain, once.
    fn log(&self) {
        if let WebError::Internal(e) = self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
    }
}

/// Marks a response whose body the error-page middleware should render.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
}

/// Marks a refusal the error-page middleware records in the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct Denied {
    pub permission: Option<&'static str>,
}

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> Self {
        // A database that is busy past its timeout, or a disk that refuses the
        // write, is not a fault of the request: 503 with a message to retry
        // (and, for the disk, a count in /readyz and /metrics).
        if qifu_db::is_busy(&e) {
            tracing::warn!(error = %e, "database busy");
            return WebError::Unavailable("系统繁忙，请稍后重试。".to_owned());
        }
        if qifu_app::system::note_storage_failure(&e) {
            return WebError::Unavailable("服务器存储空间不足或暂时无法写入，您提交的内容没有保存，请稍后重试。".to_owned());
        }
        WebError::Internal(anyhow::Error::new(e))
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("template"))
    }
}

/// The kernel's access errors: 403 and 404 everywhere.
impl From<qifu_app::actor::AccessError> for WebError {
    fn from(e: qifu_app::actor::AccessError) -> Self {
        match e {
            qifu_app::actor::AccessError::NotFound => WebError::NotFound,
            qifu_app::actor::AccessError::Forbidden => WebError::Forbidden,
            qifu_app::actor::AccessError::Db(d) => d.into(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::LoginRequired { next } => {
                let to = format!("/login?next={}", urlencode(next));
                return Redirect::to(&to).into_response();
            }
            WebError::MustChangePassword => return Redirect::to("/account/password").into_response(),
            _ => {}
        }
        // A database error reaching here inside another error is classified too.
        let this = match self {
            WebError::Internal(e) => match e.chain().find_map(|c| c.downcast_ref::<sea_orm::DbErr>()) {
                Some(d) if qifu_db::is_busy(d) || qifu_db::is_storage_failure(d) => {
                    WebError::from(sea_orm::DbErr::Custom(d.to_string()))
                }
                _ => WebError::Internal(e),
            },
            other => other,
        };
        this.log();
        let mut res = this.status().into_response();
        if let Some(d) = this.denial() {
            res.extensions_mut().insert(d);
        }
        res.extensions_mut().insert(ErrorInfo { message: this.public_message() });
        res
    }
}

/// Field-level messages of a form, shown under each field (`form` for the
/// whole form).
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    /// One message for the whole form.
    pub fn form(message: impl Into<String>) -> Self {
        FieldErrors(vec![("form", message.into())])
    }

    /// Adds a field's message unless the field already has one.
    pub fn add(&mut self, field: &'static str, msg: String) {
        if self.get(field).is_none() {
            self.0.push((field, msg));
        }
    }

    /// Adds a message even if the field already has one (lists of messages).
    pub fn push(&mut self, field: &'static str, msg: String) {
        self.0.push((field, msg));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, in order.
    pub fn messages(&self) -> Vec<String> {
        self.0.iter().map(|(_, m)| m.clone()).collect()
    }

    /// Every message in one line.
    pub fn summary(&self) -> String {
        self.messages().join("；")
    }
}

impl From<Vec<(&'static str, String)>> for FieldErrors {
    fn from(v: Vec<(&'static str, String)>) -> Self {
        let mut e = FieldErrors::default();
        for (f, m) in v {
            e.add(f, m);
        }
        e
    }
}

/// The envelope of every JSON API error, for the OpenAPI document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorBody {
    pub error: ApiErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrorDetail {
    /// A stable code: `invalid`, `invalid_json`, `bad_request`, `forbidden`, `not_found`, `conflict`, `too_many`, `unavailable`, `internal` …
    pub code: String,
    /// What went wrong, in Chinese, for the user.
    pub message: String,
    /// One entry per refused field (422).
    pub fields: Vec<ApiFieldError>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub message: String,
}

/// An error of the JSON API (`/api/v1`). Every endpoint answers with the same
/// envelope: `{"error": {"code": "<snake_case>", "message": "<中文>", "fields":
/// [{"field", "message"}]}}`, with the status that says what went wrong.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<(String, String)>,
    /// An authorisation failure, recorded by the error-page middleware.
    pub denied: Option<Denied>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: Vec::new(), denied: None }
    }

    /// A request the server cannot read (400).
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Values that break a rule (422), each with its field.
    pub fn invalid(message: impl Into<String>, fields: Vec<(&str, String)>) -> Self {
        ApiError {
            fields: fields.into_iter().map(|(f, m)| (f.to_owned(), m)).collect(),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    /// The code for a status without a more precise one.
    pub fn code_of(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            408 => "timeout",
            409 => "conflict",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            422 => "invalid",
            429 => "too_many_requests",
            503 => "unavailable",
            s if s >= 500 => "internal",
            _ => "error",
        }
    }

    /// The envelope itself.
    pub fn body(&self) -> serde_json::Value {
        let fields: Vec<_> = self.fields.iter().map(|(f, m)| serde_json::json!({"field": f, "message": m})).collect();
        serde_json::json!({"error": {"code": self.code, "message": self.message, "fields": fields}})
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        e.log();
        let denied = e.denial();
        let status = match e {
            // No redirects in an API: not signed in is 401.
            WebError::LoginRequired { .. } | WebError::MustChangePassword => StatusCode::UNAUTHORIZED,
            _ => e.status(),
        };
        let code = match &e {
            WebError::Csrf => "csrf",
            _ => ApiError::code_of(status),
        };
        let message = e.public_message();
        let fields = match e {
            WebError::Invalid(f) => f.0.into_iter().map(|(f, m)| (f.to_owned(), m)).collect(),
            _ => Vec::new(),
        };
        ApiError { status, code, message, fields, denied }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body())).into_response();
        if let Some(d) = self.denied {
            res.extensions_mut().insert(d);
        }
        res
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|x| x.trim_start_matches('=').to_owned()).unwrap_or_default()
}

/// Only same-site relative paths are accepted as redirect targets.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    let ok =
        n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.chars().any(char::is_control) && n.len() <= 512;
    ok.then(|| n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_relative_only() {
        assert_eq!(safe_next(Some("/admin")), Some("/admin".to_owned()));
        assert_eq!(safe_next(Some("//evil.example")), None);
        assert_eq!(safe_next(Some("https://evil.example")), None);
        assert_eq!(safe_next(Some("/\\evil")), None);
        assert_eq!(safe_next(None), None);
        assert_eq!(urlencode("/a b?x=1"), "%2Fa+b%3Fx%3D1");
    }

    #[test]
    fn access_errors_are_403_and_404() {
        use qifu_app::actor::AccessError;
        assert_eq!(WebError::from(AccessError::Forbidden).status(), StatusCode::FORBIDDEN);
        assert_eq!(WebError::from(AccessError::NotFound).status(), StatusCode::NOT_FOUND);
        let api = ApiError::from(WebError::from(AccessError::Forbidden));
        assert_eq!((api.status, api.code), (StatusCode::FORBIDDEN, "forbidden"));
    }

    #[test]
    fn one_envelope_with_fields() {
        let e = ApiError::from(WebError::Invalid(FieldErrors::from(vec![("phone", "手机号码不正确".to_owned())])));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let b = e.body();
        assert_eq!(b["error"]["code"], "invalid");
        assert_eq!(b["error"]["fields"][0]["field"], "phone");
        let internal = ApiError::from(WebError::Internal(anyhow::anyhow!("secret cause")));
        assert_eq!(internal.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.body().to_string().contains("secret"), "causes never reach a client");
    }

    #[test]
    fn form_errors_split_from_request_errors() {
        assert!(WebError::Conflict("已审核".into()).into_fields().is_ok_and(|f| f.get("form") == Some("已审核")));
        assert!(WebError::NotFound.into_fields().is_err());
        assert!(WebError::Internal(anyhow::anyhow!("x")).into_message().is_err());
        assert_eq!(WebError::TooMany("太快了".into()).into_message().ok().as_deref(), Some("太快了"));
    }
}
