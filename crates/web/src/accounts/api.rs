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

/// The account endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_captcha, create_sms_code, create_registration))]
pub struct AccountsApi;

/// A new image captcha: answer it in `sms-codes`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaptchaResponse {
    /// The challenge's id (64 hex digits), sent back with the answer.
    id: String,
    /// The picture, `data:image/png;base64,…`.
    image: String,
}

/// Issues an image captcha (valid five minutes, single use).
#[utoipa::path(
    get,
    path = "/api/v1/captcha",
    tag = "accounts",
    responses(
        (status = 200, description = "新的图形验证码", body = CaptchaResponse),
        (status = 503, description = "系统繁忙", body = crate::error::ApiErrorBody),
    )
)]
pub async fn get_captcha(State(st): State<AppState>) -> Result<Json<CaptchaResponse>, ApiError> {
    let c = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    Ok(Json(CaptchaResponse { id: c.id, image: c.image }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SmsCodeRequest {
    /// Mainland mobile number, 11 digits.
    #[serde(default)]
    #[schema(example = "13812345678")]
    phone: String,
    /// The captcha's `id`.
    #[serde(default)]
    captcha_id: String,
    /// The characters in the captcha picture.
    #[serde(default)]
    captcha: String,
    /// `register` (default) or `reset` (password reset).
    #[serde(default)]
    #[schema(example = "register")]
    purpose: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SmsCodeResponse {
    /// The number the code went to, masked (`138****5678`).
    sent_to: String,
    /// Seconds the code stays valid.
    expires_in: i64,
}

/// Sends a six-digit SMS code to a phone after a correct captcha answer (at most
/// one a minute per phone; daily caps per phone and per IP).
#[utoipa::path(
    post,
    params(("Idempotency-Key" = Option<String>, Header, description = "可选：1到64个字母、数字、-、_（如 UUID）。同一键的重试得到第一次的应答（Idempotency-Replayed: true），不会重复写入；键保留一天。")),
    path = "/api/v1/sms-codes",
    tag = "accounts",
    request_body = SmsCodeRequest,
    responses(
        (status = 202, description = "验证码已发送", body = SmsCodeResponse),
        (status = 400, description = "请求内容不是有效的 JSON", body = crate::error::ApiErrorBody),
        (status = 422, description = "手机号码、图形验证码或用途不正确（fields 逐项说明）", body = crate::error::ApiErrorBody),
        (status = 429, description = "发送过于频繁或超过当日上限", body = crate::error::ApiErrorBody),
        (status = 503, description = "短信通道暂不可用", body = crate::error::ApiErrorBody),
    )
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegistrationRequest {
    /// The phone the SMS code went to.
    #[serde(default)]
    phone: String,
    /// The enterprise's registered name, 4–100 characters.
    #[serde(default)]
    enterprise_name: String,
    /// The contact person, 2–32 characters.
    #[serde(default)]
    contact_name: String,
    /// At least 8 characters with three kinds of characters; not a common password.
    #[serde(default)]
    password: String,
    /// The six-digit code from `sms-codes` (purpose `register`).
    #[serde(default)]
    sms_code: String,
    /// Channel of origin (`?ch=` code), optional.
    #[serde(default)]
    channel: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegistrationResponse {
    user_id: i64,
    /// The generated login name (`qy…`); the phone also signs in.
    username: String,
}

/// Registers an enterprise account (快速注册) with a verified phone.
#[utoipa::path(
    post,
    params(("Idempotency-Key" = Option<String>, Header, description = "可选：1到64个字母、数字、-、_（如 UUID）。同一键的重试得到第一次的应答（Idempotency-Replayed: true），不会重复写入；键保留一天。")),
    path = "/api/v1/registrations",
    tag = "accounts",
    request_body = RegistrationRequest,
    responses(
        (status = 201, description = "已注册", body = RegistrationResponse),
        (status = 400, description = "请求内容不是有效的 JSON", body = crate::error::ApiErrorBody),
        (status = 422, description = "注册信息有误（fields 逐项说明）", body = crate::error::ApiErrorBody),
    )
)]
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
