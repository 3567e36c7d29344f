//! Enterprise registration and password recovery, both with an SMS code sent
//! after a captcha.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::kit::{self, FieldErrors, PageChrome, form};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, Registration, SmsPurpose};
use qifu_domain::accounts::Phone;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "accounts/register.html")]
pub struct RegisterPage {
    pub chrome: PageChrome,
    pub phone: String,
    pub enterprise_name: String,
    pub contact_name: String,
    pub ch: String,
    pub sms_code: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub captcha: accounts::Captcha,
}

#[derive(Template)]
#[template(path = "accounts/reset.html")]
pub struct ResetPage {
    pub chrome: PageChrome,
    pub phone: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub captcha: accounts::Captcha,
}

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
) -> Result<RegisterPage, WebError> {
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
    })
}

pub async fn show_register(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<ChannelQuery>,
) -> Result<Html<String>, WebError> {
    let f = RegisterForm { ch: q.ch.as_deref().and_then(accounts::clean_channel).unwrap_or_default(), ..Default::default() };
    kit::render(&register_page(&st, &v, f, FieldErrors::default(), None).await?)
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

/// Sends a code after checking the captcha; shared by registration and
/// recovery. The notice to show, or the fields' messages.
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
        // Too soon, over the daily cap, the gateway down: said beside the code field.
        Err(e) => {
            errors.add("sms_code", WebError::from(e).into_message()?);
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
        return match send_code_with_captcha(&st, &viewer, &f.phone, &f.captcha_id, &f.captcha, SmsPurpose::Register).await? {
            Ok(notice) => {
                Ok(kit::render(&register_page(&st, &viewer, f, FieldErrors::default(), Some(notice)).await?)?.into_response())
            }
            Err(errors) => form::invalid(&register_page(&st, &viewer, f, errors, None).await?),
        };
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
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&register_page(&st, &viewer, f, errors, None).await?)
        }
    }
}

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
    /// Staff: the code of their enrolled authenticator.
    #[serde(default)]
    totp: String,
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
) -> Result<ResetPage, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(ResetPage { chrome: PageChrome::new(st, v, "找回密码", ""), phone, errors, notice, captcha })
}

pub async fn show_reset(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    kit::render(&reset_page(&st, &v, String::new(), FieldErrors::default(), None).await?)
}

pub async fn reset(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<ResetForm>) -> Result<Response, WebError> {
    let phone_in: String = form.phone.trim().chars().take(20).collect();
    if form.action == "send_code" {
        let out =
            send_code_with_captcha(&st, &viewer, &phone_in, &form.captcha_id, &form.captcha, SmsPurpose::ResetPassword).await?;
        return match out {
            Ok(notice) => {
                Ok(kit::render(&reset_page(&st, &viewer, phone_in, FieldErrors::default(), Some(notice)).await?)?.into_response())
            }
            Err(errors) => form::invalid(&reset_page(&st, &viewer, phone_in, errors, None).await?),
        };
    }
    let phone = match Phone::parse(&phone_in) {
        Ok(p) => p,
        Err(e) => {
            let errors = FieldErrors::from(vec![("phone", e.to_string())]);
            return form::invalid(&reset_page(&st, &viewer, phone_in, errors, None).await?);
        }
    };
    match accounts::reset_password_by_sms(
        &st.ctx,
        &viewer.meta,
        &phone,
        &form.sms_code,
        &form.totp,
        &form.password,
        &form.confirm,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/login?reset=1").into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&reset_page(&st, &viewer, phone_in, errors, None).await?)
        }
    }
}
