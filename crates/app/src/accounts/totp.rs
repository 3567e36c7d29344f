//! Time-based one-time passwords (RFC 6238) as the staff second factor for
//! those who enrol one: SHA-1, six digits, 30-second steps, one step of skew.

use super::Actor;
use super::session::{self, SessionInfo};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::user;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DbErr, EntityTrait};
use totp_rs::{Algorithm, Secret, TOTP};

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("动态口令错误，请输入手机验证器中当前显示的6位数字")]
    WrongCode,
    #[error("登录已过期，请重新登录")]
    Expired,
    #[error("尚未绑定动态口令")]
    NotEnrolled,
    #[error("动态口令无法处理")]
    Invalid,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn totp(secret: &[u8]) -> Result<TOTP, TotpError> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).map_err(|_| TotpError::Invalid)
}

fn now_secs(ctx: &Ctx) -> u64 {
    u64::try_from(ctx.now().timestamp()).unwrap_or(0)
}

/// A fresh secret for enrolment: base32 for manual entry, the otpauth URI for
/// authenticator apps, and the secret sealed with the field key so the form can
/// carry it until the first code confirms it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub base32: String,
    pub uri: String,
    pub sealed: String,
}

pub fn start_enrolment(ctx: &Ctx, actor: &Actor) -> Enrolment {
    let raw: Vec<u8> = [*uuid::Uuid::new_v4().as_bytes(), *uuid::Uuid::new_v4().as_bytes()].concat()[..20].to_vec();
    enrolment_for(ctx, actor, raw)
}

/// The same enrolment again (after a mistyped code), from the sealed secret.
pub fn resume_enrolment(ctx: &Ctx, actor: &Actor, sealed: &str) -> Option<Enrolment> {
    let raw = ctx.crypto.decrypt(sealed).ok().and_then(|h| hex::decode(h).ok()).filter(|r| r.len() == 20)?;
    Some(enrolment_for(ctx, actor, raw))
}

fn enrolment_for(ctx: &Ctx, actor: &Actor, raw: Vec<u8>) -> Enrolment {
    let base32 = Secret::Raw(raw.clone()).to_encoded().to_string();
    let issuer = "通州企服";
    let label = format!("{issuer}:{}", actor.username);
    let query = serde_urlencoded::to_string([
        ("secret", base32.as_str()),
        ("issuer", issuer),
        ("algorithm", "SHA1"),
        ("digits", "6"),
        ("period", "30"),
    ])
    .unwrap_or_default();
    let uri = format!(
        "otpauth://totp/{}?{query}",
        serde_urlencoded::to_string([("", label.as_str())]).unwrap_or_default().trim_start_matches('=')
    );
    Enrolment { base32, uri, sealed: ctx.crypto.encrypt(&hex::encode(&raw)) }
}

/// Confirms enrolment with the first code from the authenticator.
pub async fn confirm_enrolment(ctx: &Ctx, actor: &Actor, meta: &Meta, sealed: &str, code: &str) -> Result<(), TotpError> {
    let raw = ctx.crypto.decrypt(sealed).ok().and_then(|h| hex::decode(h).ok()).ok_or(TotpError::Invalid)?;
    if !totp(&raw)?.check(code.trim(), now_secs(ctx)) {
        return Err(TotpError::WrongCode);
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = user::Entity::find_by_id(actor.user_id).one(&txn).await?.ok_or(TotpError::Invalid)?;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret_enc = Set(Some(ctx.crypto.encrypt(&hex::encode(&raw))));
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.totp_enrol", "user", actor.user_id, serde_json::json!({})))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the enrolled authenticator (the SMS code remains).
pub async fn remove(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), TotpError> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = user::Entity::find_by_id(actor.user_id).one(&txn).await?.ok_or(TotpError::Invalid)?;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret_enc = Set(None);
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.totp_remove", "user", actor.user_id, serde_json::json!({})))
        .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn enrolled(ctx: &Ctx, user_id: i64) -> Result<bool, DbErr> {
    Ok(user::Entity::find_by_id(user_id).one(&ctx.db).await?.is_some_and(|u| u.totp_secret_enc.is_some()))
}

/// Completes a pending login with a code from the enrolled authenticator.
pub async fn verify_login(ctx: &Ctx, meta: &Meta, token: &str, code: &str) -> Result<SessionInfo, TotpError> {
    let s = session::resolve_session(ctx, token).await?.ok_or(TotpError::Expired)?;
    if s.stage != qifu_domain::accounts::SessionStage::Mfa {
        return Err(TotpError::Expired);
    }
    let u = user::Entity::find_by_id(s.actor.user_id).one(&ctx.db).await?.ok_or(TotpError::Expired)?;
    let raw = u
        .totp_secret_enc
        .as_deref()
        .and_then(|e| ctx.crypto.decrypt(e).ok())
        .and_then(|h| hex::decode(h).ok())
        .ok_or(TotpError::NotEnrolled)?;
    if !totp(&raw)?.check(code.trim(), now_secs(ctx)) {
        super::login::log_attempt(ctx, meta, &s.actor.username, Some(s.actor.user_id), false, "second_factor").await?;
        return Err(TotpError::WrongCode);
    }
    session::promote(ctx, &s.id).await?;
    super::login::log_attempt(ctx, meta, &s.actor.username, Some(s.actor.user_id), true, "ok").await?;
    Ok(SessionInfo { stage: qifu_domain::accounts::SessionStage::Full, ..s })
}

/// The current code for a secret (tests and diagnostics).
pub fn current_code(secret_hex: &str, unix_secs: u64) -> Option<String> {
    let raw = hex::decode(secret_hex).ok()?;
    Some(totp(&raw).ok()?.generate(unix_secs))
}
