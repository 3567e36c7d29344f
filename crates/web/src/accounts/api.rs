//! The JSON API's account endpoints (`/api/v1`): captcha, SMS codes and
//! enterprise registration. Errors use the API's one envelope ([`ApiError`]).

use crate::AppState;
use crate::error::{ApiError, WebError};
use crate::extract::{ApiJson, ApiMeta};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use qifu_app::accounts::{self, Registration, SmsPurpose};
use qifu_domain::accounts::Phone;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct CaptchaResponse {
    id: String,
    image: String,
}

pub async fn get_captcha(State(st): State<AppState>) -> Result<Json<CaptchaResponse>, ApiError> {
    let c = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(Json(CaptchaResponse { id: c.id, image: c.image }))
}

#[derive(Deserialize)]
pub struct SmsCodeRequest {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    captcha_id: String,
    #[serde(default)]
    captcha: String,
    #[serde(default)]
    purpose: String,
}

#[derive(Serialize)]
pub struct SmsCodeResponse {
    sent_to: String,
    expires_in: i64,
}

pub async fn create_sms_code(
    State(st): State<AppState>,
    ApiMeta(meta): ApiMeta,
    ApiJson(r): ApiJson<SmsCodeRequest>,
) -> Result<(StatusCode, Json<SmsCodeResponse>), ApiError> {
    // Sign-in codes are not sent through this endpoint; no purpose means registering.
    let purpose = match SmsPurpose::parse(&r.purpose) {
        _ if r.purpose.is_empty() => SmsPurpose::Register,
        Some(p @ (SmsPurpose::Register | SmsPurpose::ResetPassword)) => p,
        _ => return Err(ApiError::invalid("用途只能是 register 或 reset", vec![("purpose", "用途不正确".into())])),
    };
    let phone = Phone::parse(&r.phone).map_err(|e| ApiError::invalid("手机号码不正确", vec![("phone", e.to_string())]))?;
    if !accounts::check_captcha(&st.ctx.db, &st.ctx, &r.captcha_id, &r.captcha).await? {
        let m = "图形验证码错误或已过期";
        return Err(ApiError::invalid(m, vec![("captcha", m.into())]));
    }
    accounts::send_code(&st.ctx, &meta, &phone, purpose).await.map_err(WebError::from)?;
    Ok((StatusCode::ACCEPTED, Json(SmsCodeResponse { sent_to: phone.masked(), expires_in: st.ctx.settings.sms.code_ttl_secs })))
}

#[derive(Deserialize)]
pub struct RegistrationRequest {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    enterprise_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    sms_code: String,
    #[serde(default)]
    channel: String,
}

#[derive(Serialize)]
pub struct RegistrationResponse {
    user_id: i64,
    username: String,
}

pub async fn create_registration(
    State(st): State<AppState>,
    ApiMeta(meta): ApiMeta,
    ApiJson(r): ApiJson<RegistrationRequest>,
) -> Result<(StatusCode, Json<RegistrationResponse>), ApiError> {
    let reg = Registration {
        phone: r.phone,
        enterprise_name: r.enterprise_name,
        contact_name: r.contact_name,
        confirm: r.password.clone(),
        password: r.password,
        sms_code: r.sms_code,
        channel: r.channel,
    };
    let (user_id, username) = accounts::register_enterprise(&st.ctx, &meta, &reg).await.map_err(WebError::from)?;
    Ok((StatusCode::CREATED, Json(RegistrationResponse { user_id, username })))
}
