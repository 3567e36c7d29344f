//! One error type for the web layer. Internal causes are logged once with the
//! request id and never shown; the user sees a plain Chinese page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("页面不存在")]
    NotFound,
    #[error("没有权限")]
    Forbidden,
    /// Forbidden, with the reason shown to the user.
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Not logged in: go to the login page and come back to `next`.
    #[error("请先登录")]
    LoginRequired { next: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("请求已过期，请刷新页面后重试")]
    Csrf,
    #[error("请先修改初始密码")]
    MustChangePassword,
    #[error("操作过于频繁")]
    TooMany(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Marks a response whose body the error-page middleware should render.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
}

impl From<sea_orm::DbErr> for WebError {
    fn from(e: sea_orm::DbErr) -> Self {
        WebError::Internal(anyhow::Error::new(e))
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(anyhow::Error::new(e).context("template"))
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            WebError::NotFound => (StatusCode::NOT_FOUND, "您访问的页面不存在或已被删除。".to_owned()),
            WebError::Forbidden => (StatusCode::FORBIDDEN, "您没有访问此页面的权限。".to_owned()),
            WebError::ForbiddenBecause(m) => (StatusCode::FORBIDDEN, m.clone()),
            WebError::LoginRequired { next } => {
                let to = format!("/login?next={}", urlencode(next));
                return Redirect::to(&to).into_response();
            }
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            WebError::Csrf => (StatusCode::FORBIDDEN, "页面已过期或来源无法验证，请返回刷新后重试。".to_owned()),
            WebError::MustChangePassword => return Redirect::to("/account/password").into_response(),
            WebError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, m.clone()),
            WebError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "系统繁忙，请稍后再试。".to_owned())
            }
        };
        let mut res = status.into_response();
        res.extensions_mut().insert(ErrorInfo { message });
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

impl From<qifu_app::actor::AccessError> for WebError {
    fn from(e: qifu_app::actor::AccessError) -> Self {
        match e {
            qifu_app::actor::AccessError::NotFound => WebError::NotFound,
            qifu_app::actor::AccessError::Forbidden => WebError::Forbidden,
            qifu_app::actor::AccessError::Db(d) => d.into(),
        }
    }
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
}
