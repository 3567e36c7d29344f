//! Sign-in (password + captcha, then the staff second factor), sign-out,
//! registration and password recovery.

use crate::AppState;
use crate::error::{WebError, safe_next};
use crate::extract::{CsrfForm, SESSION_COOKIE, Viewer, client_cert_verified};
use crate::view::{FieldErrors, LoginPage, PageChrome, RegisterPage, ResetPage, VerifyPage};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, LoginError, LoginOutcome, LoginRequest, Registration, RegistrationError, SmsPurpose};
use qifu_domain::accounts::Phone;
use serde::Deserialize;

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
) -> Result<String, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(LoginPage { chrome: PageChrome::new(st, v, "登录", ""), account, next, error, notice, captcha }.render()?)
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
    let html = login_page(&st, &v, String::new(), safe_next(q.next.as_deref()).unwrap_or_default(), None, notice).await?;
    Ok(Html(html).into_response())
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
                Err(LoginError::Db(e)) => return Err(e.into()),
                Err(LoginError::IpThrottled) => return Err(WebError::TooMany(LoginError::IpThrottled.to_string())),
                Err(e) => Err(e.to_string()),
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
            let to = if next.is_empty() {
                "/login/verify".to_owned()
            } else {
                format!("/login/verify?next={}", crate::error::urlencode(&next))
            };
            Ok(with_cookie(Redirect::to(&to).into_response(), session_cookie(&st, &token)))
        }
        Err(message) => {
            let html = login_page(&st, &viewer, account, next, Some(message), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
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
    Ok(Html(page.render()?).into_response())
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

pub async fn verify(
    State(st): State<AppState>,
    headers: HeaderMap,
    CsrfForm { viewer, form }: CsrfForm<VerifyForm>,
) -> Result<Response, WebError> {
    let Some(token) = crate::extract::cookie(&headers, SESSION_COOKIE).filter(|_| viewer.pending.is_some()) else {
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
    if form.action == "totp" {
        return match accounts::totp::verify_login(&st.ctx, &viewer.meta, &token, &form.code).await {
            Ok(info) => {
                let fallback = if info.actor.can_use_back_office() { "/admin" } else { "/" };
                Ok(Redirect::to(if next.is_empty() { fallback } else { &next }).into_response())
            }
            Err(accounts::totp::TotpError::Db(e)) => Err(e.into()),
            Err(accounts::totp::TotpError::Expired) => Ok(Redirect::to("/login").into_response()),
            Err(e) => Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(None, Some(e.to_string())).render()?)).into_response()),
        };
    }
    if form.action == "send" {
        return match accounts::send_second_factor(&st.ctx, &viewer.meta, &token).await {
            Ok(masked) => Ok(Html(render(Some(masked), None).render()?).into_response()),
            Err(accounts::SecondFactorError::Db(e)) => Err(e.into()),
            Err(e) => Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(None, Some(e.to_string())).render()?)).into_response()),
        };
    }
    match accounts::verify_second_factor(&st.ctx, &viewer.meta, &token, &form.code).await {
        Ok(info) => {
            let fallback = if info.actor.can_use_back_office() { "/admin" } else { "/" };
            Ok(Redirect::to(if next.is_empty() { fallback } else { &next }).into_response())
        }
        Err(accounts::SecondFactorError::Db(e)) => Err(e.into()),
        Err(accounts::SecondFactorError::Expired) => Ok(Redirect::to("/login").into_response()),
        Err(e) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(Some(String::new()), Some(e.to_string())).render()?))
                .into_response())
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
        accounts::logout(&st.ctx, &token).await?;
    }
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        HeaderValue::from_static("qifu_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    ))
}

// ---- registration ----

#[derive(Debug, Deserialize, Default, Clone)]
pub struct RegisterForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    enterprise_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    captcha_id: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    ch: String,
}

#[derive(Debug, Deserialize)]
pub struct ChannelQuery {
    ch: Option<String>,
}

async fn register_page(
    st: &AppState,
    v: &Viewer,
    f: RegisterForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(RegisterPage {
        chrome: PageChrome::new(st, v, "企业注册", ""),
        phone: f.phone,
        enterprise_name: f.enterprise_name,
        contact_name: f.contact_name,
        ch: f.ch,
        sms_code: f.sms_code,
        errors,
        notice,
        captcha,
    }
    .render()?)
}

pub async fn show_register(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<ChannelQuery>,
) -> Result<Html<String>, WebError> {
    let f = RegisterForm { ch: q.ch.as_deref().and_then(accounts::clean_channel).unwrap_or_default(), ..Default::default() };
    Ok(Html(register_page(&st, &v, f, FieldErrors::default(), None).await?))
}

fn trimmed(f: &RegisterForm) -> RegisterForm {
    let cut = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
    RegisterForm {
        action: f.action.clone(),
        // Generous caps only: the use case reports lengths; these just bound the echo.
        phone: cut(&f.phone, 40),
        enterprise_name: cut(&f.enterprise_name, 300),
        contact_name: cut(&f.contact_name, 100),
        password: f.password.clone(),
        confirm: f.confirm.clone(),
        captcha_id: f.captcha_id.clone(),
        captcha: f.captcha.clone(),
        sms_code: cut(&f.sms_code, 6),
        ch: accounts::clean_channel(&f.ch).unwrap_or_default(),
    }
}

/// Sends a code after checking the captcha; shared by registration and recovery.
async fn send_code_with_captcha(
    st: &AppState,
    v: &Viewer,
    phone: &str,
    captcha_id: &str,
    captcha: &str,
    purpose: SmsPurpose,
) -> Result<Result<String, FieldErrors>, WebError> {
    let mut errors = FieldErrors::default();
    let phone = match Phone::parse(phone) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.add("phone", e.to_string());
            None
        }
    };
    if captcha.trim().is_empty() {
        errors.add("captcha", "请填写图形验证码".to_owned());
    } else if !accounts::check_captcha(&st.ctx.db, &st.ctx, captcha_id, captcha).await? {
        errors.add("captcha", "图形验证码错误或已过期，请重新输入".to_owned());
    }
    let Some(phone) = phone.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    match accounts::send_code(&st.ctx, &v.meta, &phone, purpose).await {
        Ok(()) => Ok(Ok(format!("验证码已发送至 {}，5分钟内有效。", phone.masked()))),
        Err(accounts::SmsCodeError::Db(e)) => Err(e.into()),
        Err(e) => {
            errors.add("sms_code", e.to_string());
            Ok(Err(errors))
        }
    }
}

pub async fn register(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<RegisterForm>,
) -> Result<Response, WebError> {
    let f = trimmed(&form);
    if f.action == "send_code" {
        let out = send_code_with_captcha(&st, &viewer, &f.phone, &f.captcha_id, &f.captcha, SmsPurpose::Register).await?;
        return Ok(match out {
            Ok(notice) => Html(register_page(&st, &viewer, f, FieldErrors::default(), Some(notice)).await?).into_response(),
            Err(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Html(register_page(&st, &viewer, f, errors, None).await?)).into_response()
            }
        });
    }
    let r = Registration {
        phone: f.phone.clone(),
        enterprise_name: f.enterprise_name.clone(),
        contact_name: f.contact_name.clone(),
        password: f.password.clone(),
        confirm: f.confirm.clone(),
        sms_code: f.sms_code.clone(),
        channel: f.ch.clone(),
    };
    match accounts::register_enterprise(&st.ctx, &viewer.meta, &r).await {
        Ok(_) => Ok(Redirect::to("/login?registered=1").into_response()),
        Err(RegistrationError::Db(e)) => Err(e.into()),
        Err(RegistrationError::Fields(list)) => {
            let errors = FieldErrors::from(list);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(register_page(&st, &viewer, f, errors, None).await?)).into_response())
        }
    }
}

// ---- password recovery ----

#[derive(Debug, Deserialize, Default, Clone)]
pub struct ResetForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    captcha_id: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn reset_page(
    st: &AppState,
    v: &Viewer,
    phone: String,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(ResetPage { chrome: PageChrome::new(st, v, "找回密码", ""), phone, errors, notice, captcha }.render()?)
}

pub async fn show_reset(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    Ok(Html(reset_page(&st, &v, String::new(), FieldErrors::default(), None).await?))
}

pub async fn reset(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<ResetForm>) -> Result<Response, WebError> {
    let phone_in: String = form.phone.trim().chars().take(20).collect();
    if form.action == "send_code" {
        let out =
            send_code_with_captcha(&st, &viewer, &phone_in, &form.captcha_id, &form.captcha, SmsPurpose::ResetPassword).await?;
        return Ok(match out {
            Ok(notice) => Html(reset_page(&st, &viewer, phone_in, FieldErrors::default(), Some(notice)).await?).into_response(),
            Err(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Html(reset_page(&st, &viewer, phone_in, errors, None).await?)).into_response()
            }
        });
    }
    let phone = match Phone::parse(&phone_in) {
        Ok(p) => p,
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("phone", e.to_string());
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, Html(reset_page(&st, &viewer, phone_in, errors, None).await?)).into_response()
            );
        }
    };
    match accounts::reset_password_by_sms(&st.ctx, &viewer.meta, &phone, &form.sms_code, &form.password, &form.confirm).await {
        Ok(()) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(accounts::PasswordError::Db(e)) => Err(e.into()),
        Err(accounts::PasswordError::Field(field, m)) => {
            let mut errors = FieldErrors::default();
            errors.add(field, m.to_owned());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(reset_page(&st, &viewer, phone_in, errors, None).await?)).into_response())
        }
    }
}
