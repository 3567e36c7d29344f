//! JSON API (`/api/v1`): the same use cases as the pages. Errors share one
//! envelope: `{"error": {"status", "message", "fields": [{"field", "message"}]}}`.

use crate::AppState;
use crate::extract::request_meta;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use qifu_app::Meta;
use qifu_app::accounts::{self, Registration, RegistrationError, SmsPurpose};
use qifu_domain::accounts::Phone;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The request's address and agent, for the audit trail and rate limits.
pub struct ApiMeta(pub Meta);

impl FromRequestParts<AppState> for ApiMeta {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ApiMeta(request_meta(parts, st)))
    }
}

fn error(status: StatusCode, message: &str, fields: Vec<(&str, String)>) -> Response {
    let fields: Vec<_> = fields.into_iter().map(|(f, m)| json!({"field": f, "message": m})).collect();
    (status, Json(json!({"error": {"status": status.as_u16(), "message": message, "fields": fields}}))).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "internal error in API");
    error(StatusCode::INTERNAL_SERVER_ERROR, "系统繁忙，请稍后再试", vec![])
}

#[derive(Serialize)]
pub struct CaptchaResponse {
    id: String,
    image: String,
}

pub async fn get_captcha(State(st): State<AppState>) -> Response {
    match accounts::new_captcha(&st.ctx.db, &st.ctx).await {
        Ok(c) => Json(CaptchaResponse { id: c.id, image: c.image }).into_response(),
        Err(e) => internal(e),
    }
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

pub async fn create_sms_code(State(st): State<AppState>, ApiMeta(meta): ApiMeta, Json(r): Json<SmsCodeRequest>) -> Response {
    let purpose = match r.purpose.as_str() {
        "register" | "" => SmsPurpose::Register,
        "reset" => SmsPurpose::ResetPassword,
        _ => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "用途只能是 register 或 reset",
                vec![("purpose", "用途不正确".into())],
            );
        }
    };
    let phone = match Phone::parse(&r.phone) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, "手机号码不正确", vec![("phone", e.to_string())]),
    };
    match accounts::check_captcha(&st.ctx.db, &st.ctx, &r.captcha_id, &r.captcha).await {
        Ok(true) => {}
        Ok(false) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "图形验证码错误或已过期",
                vec![("captcha", "图形验证码错误或已过期".into())],
            );
        }
        Err(e) => return internal(e),
    }
    match accounts::send_code(&st.ctx, &meta, &phone, purpose).await {
        Ok(()) => {
            (StatusCode::ACCEPTED, Json(json!({"sent_to": phone.masked(), "expires_in": st.ctx.settings.sms.code_ttl_secs})))
                .into_response()
        }
        Err(accounts::SmsCodeError::Db(e)) => internal(e),
        Err(
            e @ (accounts::SmsCodeError::TooSoon(_) | accounts::SmsCodeError::PhoneDailyCap | accounts::SmsCodeError::IpDailyCap),
        ) => error(StatusCode::TOO_MANY_REQUESTS, &e.to_string(), vec![]),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string(), vec![]),
    }
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

pub async fn create_registration(
    State(st): State<AppState>,
    ApiMeta(meta): ApiMeta,
    Json(r): Json<RegistrationRequest>,
) -> Response {
    let reg = Registration {
        phone: r.phone,
        enterprise_name: r.enterprise_name,
        contact_name: r.contact_name,
        confirm: r.password.clone(),
        password: r.password,
        sms_code: r.sms_code,
        channel: r.channel,
    };
    match accounts::register_enterprise(&st.ctx, &meta, &reg).await {
        Ok((user_id, username)) => (StatusCode::CREATED, Json(json!({"user_id": user_id, "username": username}))).into_response(),
        Err(RegistrationError::Fields(list)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "注册信息有误", list.into_iter().collect())
        }
        Err(RegistrationError::Db(e)) => internal(e),
    }
}
