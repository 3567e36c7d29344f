//! Login and logout.

use crate::AppState;
use crate::error::{WebError, safe_next};
use crate::extract::{CsrfForm, SESSION_COOKIE, Viewer};
use crate::view::{LoginPage, PageChrome};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::LoginError;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn show_login(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    if v.actor().is_some() {
        return Ok(
            Redirect::to(&safe_next(q.next.as_deref()).unwrap_or_else(|| "/".to_owned()))
                .into_response(),
        );
    }
    let page = LoginPage {
        chrome: PageChrome::new(&st, &v, "登录", ""),
        username: String::new(),
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        error: None,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    CsrfForm { viewer, form }: CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let username: String = form.username.trim().chars().take(64).collect();
    let error = if username.is_empty() {
        Some("请填写用户名")
    } else if form.password.is_empty() {
        Some("请填写密码")
    } else if form.password.chars().count() > 128 {
        Some("用户名或密码错误")
    } else {
        None
    };
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let outcome = match error {
        Some(e) => Err(e.to_owned()),
        None => match qifu_app::accounts::login(
            &st.ctx,
            &username,
            &form.password,
            &peer.ip().to_string(),
            ua,
        )
        .await
        {
            Ok(ok) => Ok(ok),
            Err(LoginError::Db(e)) => return Err(e.into()),
            Err(e) => Err(e.to_string()),
        },
    };
    match outcome {
        Ok((token, info)) => {
            let fallback = if info.actor.can_use_back_office() {
                "/admin"
            } else {
                "/"
            };
            let to = safe_next(Some(&form.next)).unwrap_or_else(|| fallback.to_owned());
            let secure = if st.ctx.settings.web.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            let cookie =
                format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
            let mut r = Redirect::to(&to).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(message) => {
            let page = LoginPage {
                chrome: PageChrome::new(&st, &viewer, "登录", ""),
                username,
                next: safe_next(Some(&form.next)).unwrap_or_default(),
                error: Some(message),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    if let Some(token) = crate::extract::cookie(&headers, SESSION_COOKIE) {
        qifu_app::accounts::logout(&st.ctx, &token).await?;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("qifu_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(r)
}
