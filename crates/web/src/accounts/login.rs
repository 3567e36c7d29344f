//! Sign-in (password + captcha, then the staff second factor) and sign-out.

use crate::AppState;
use crate::error::{WebError, safe_next, urlencode};
use crate::extract::{CsrfForm, SESSION_COOKIE, Viewer, client_cert_verified, cookie};
use crate::kit::{self, Empty, PageChrome, form};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, LoginOutcome, LoginRequest, SecondFactorError, totp::TotpError};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    pub chrome: PageChrome,
    pub account: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub captcha: accounts::Captcha,
}

#[derive(Template)]
#[template(path = "accounts/verify.html")]
pub struct VerifyPage {
    pub chrome: PageChrome,
    pub next: String,
    pub sent_to: Option<String>,
    pub error: Option<String>,
    /// The user has enrolled an authenticator app.
    pub totp: bool,
}

fn session_cookie(st: &AppState, token: &str) -> HeaderValue {
    let secure = if st.ctx.settings.web.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("qifu_session=; Path=/"))
}

fn with_cookie(mut r: Response, v: HeaderValue) -> Response {
    r.headers_mut().append(header::SET_COOKIE, v);
    r
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    registered: Option<String>,
    reset: Option<String>,
}

async fn login_page(
    st: &AppState,
    v: &Viewer,
    account: String,
    next: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<LoginPage, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(LoginPage { chrome: PageChrome::new(st, v, "登录", ""), account, next, error, notice, captcha })
}

pub async fn show_login(State(st): State<AppState>, v: Viewer, Query(q): Query<LoginQuery>) -> Result<Response, WebError> {
    if v.actor().is_some() {
        return Ok(Redirect::to(&safe_next(q.next.as_deref()).unwrap_or_else(|| "/".to_owned())).into_response());
    }
    let notice = if q.registered.is_some() {
        Some("注册成功，请用手机号码或用户名登录。".to_owned())
    } else if q.reset.is_some() {
        Some("密码已重置，请用新密码登录。".to_owned())
    } else {
        None
    };
    let page = login_page(&st, &v, String::new(), safe_next(q.next.as_deref()).unwrap_or_default(), None, notice).await?;
    Ok(kit::render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    account: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    captcha_id: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { viewer, form }: CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let account: String = form.account.trim().chars().take(64).collect();
    let next = safe_next(Some(&form.next)).unwrap_or_default();
    let early = if account.is_empty() {
        Some("请填写手机号码或用户名")
    } else if form.password.is_empty() {
        Some("请填写密码")
    } else if form.captcha.trim().is_empty() {
        Some("请填写图形验证码")
    } else {
        None
    };
    let result = match early {
        Some(m) => Err(m.to_owned()),
        None => {
            let req = LoginRequest {
                account: account.clone(),
                password: form.password.chars().take(128).collect(),
                captcha_id: form.captcha_id.clone(),
                captcha: form.captcha.clone(),
                client_cert_verified: client_cert_verified(&headers, &st),
            };
            match accounts::login(&st.ctx, &viewer.meta, &req).await {
                Ok(o) => Ok(o),
                // Wrong credentials and the like are shown on the form; a
                // throttled address and internal errors end the request.
                Err(e) => match WebError::from(e) {
                    WebError::Invalid(f) => Err(f.summary()),
                    other => return Err(other),
                },
            }
        }
    };
    match result {
        Ok(LoginOutcome::Done { token, info }) => {
            let fallback = if info.actor.must_change_password {
                "/account/password"
            } else if info.actor.can_use_back_office() {
                "/admin"
            } else {
                "/"
            };
            let to = if info.actor.must_change_password {
                fallback.to_owned()
            } else {
                safe_next(Some(&form.next)).unwrap_or_else(|| fallback.to_owned())
            };
            Ok(with_cookie(Redirect::to(&to).into_response(), session_cookie(&st, &token)))
        }
        Ok(LoginOutcome::SecondFactor { token }) => {
            let to =
                if next.is_empty() { "/login/verify".to_owned() } else { format!("/login/verify?next={}", urlencode(&next)) };
            Ok(with_cookie(Redirect::to(&to).into_response(), session_cookie(&st, &token)))
        }
        Err(message) => form::invalid(&login_page(&st, &viewer, account, next, Some(message), None).await?),
    }
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn show_verify(State(st): State<AppState>, v: Viewer, Query(q): Query<NextQuery>) -> Result<Response, WebError> {
    let Some(pending) = &v.pending else {
        return Ok(Redirect::to("/login").into_response());
    };
    let totp = accounts::totp::enrolled(&st.ctx, pending.actor.user_id).await?;
    let page = VerifyPage {
        chrome: PageChrome::new(&st, &v, "身份验证", ""),
        next: safe_next(q.next.as_deref()).unwrap_or_default(),
        sent_to: None,
        error: None,
        totp,
    };
    Ok(kit::render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// The second step: an SMS code (sent on request) or the authenticator's.
pub async fn verify(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { viewer, form }: CsrfForm<VerifyForm>,
) -> Result<Response, WebError> {
    let Some(token) = cookie(&headers, SESSION_COOKIE).filter(|_| viewer.pending.is_some()) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let next = safe_next(Some(&form.next)).unwrap_or_default();
    let totp = match &viewer.pending {
        Some(p) => accounts::totp::enrolled(&st.ctx, p.actor.user_id).await?,
        None => false,
    };
    let render = |sent_to: Option<String>, error: Option<String>| VerifyPage {
        chrome: PageChrome::new(&st, &viewer, "身份验证", ""),
        next: next.clone(),
        sent_to,
        error,
        totp,
    };
    // The session was rotated: the new token replaces the pending one.
    let signed_in = |(new_token, info): (String, accounts::SessionInfo)| {
        let fallback = if info.actor.can_use_back_office() { "/admin" } else { "/" };
        with_cookie(Redirect::to(if next.is_empty() { fallback } else { &next }).into_response(), session_cookie(&st, &new_token))
    };
    if form.action == "totp" {
        return match accounts::totp::verify_login(&st.ctx, &viewer.meta, &token, &form.code).await {
            Ok(done) => Ok(signed_in(done)),
            Err(TotpError::Expired) => Ok(Redirect::to("/login").into_response()),
            Err(e) => form::invalid(&render(None, Some(WebError::from(e).into_message()?))),
        };
    }
    if form.action == "send" {
        return match accounts::send_second_factor(&st.ctx, &viewer.meta, &token).await {
            Ok(masked) => Ok(kit::render(&render(Some(masked), None))?.into_response()),
            Err(e) => form::invalid(&render(None, Some(WebError::from(e).into_message()?))),
        };
    }
    match accounts::verify_second_factor(&st.ctx, &viewer.meta, &token, &form.code).await {
        Ok(done) => Ok(signed_in(done)),
        Err(SecondFactorError::Expired) => Ok(Redirect::to("/login").into_response()),
        Err(e) => form::invalid(&render(Some(String::new()), Some(WebError::from(e).into_message()?))),
    }
}

pub async fn logout(State(st): State<AppState>, headers: HeaderMap, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        accounts::logout(&st.ctx, &token).await?;
    }
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        HeaderValue::from_static("qifu_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    ))
}
