//! Time-based one-time passwords (RFC 6238) as the staff second factor for
//! those who enrol one: SHA-1, six digits, 30-second steps, one step of skew.

use super::Actor;
use super::session::{self, SessionInfo};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter};
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
    #[error("该动态口令已使用过，请等待验证器显示下一个口令")]
    Replayed,
    #[error("请填写当前登录密码")]
    PasswordRequired,
    #[error("当前登录密码不正确")]
    WrongPassword,
    #[error("请填写当前登录密码或验证器中当前显示的动态口令")]
    ProofRequired,
    #[error("验证码错误次数过多，本次登录已结束，账号已临时锁定{0}分钟，请稍后重新登录或联系安全管理员")]
    TooManyFailures(i64),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn totp(secret: &[u8]) -> Result<TOTP, TotpError> {
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec()).map_err(|_| TotpError::Invalid)
}

fn now_secs(ctx: &Ctx) -> u64 {
    u64::try_from(ctx.now().timestamp()).unwrap_or(0)
}

const STEP: u64 = 30;

/// The time step (current, or one either side) whose code is `code`, if any.
fn matching_step(t: &TOTP, code: &str, now: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now / STEP;
    let mut found = None;
    // Every candidate is computed and compared without an early exit.
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = t.generate(step * STEP);
        let same = expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0 && expected.len() == code.len();
        if same && found.is_none() {
            found = i64::try_from(step).ok();
        }
    }
    found
}

fn secret_of(ctx: &Ctx, u: &user::Model) -> Option<Vec<u8>> {
    u.totp_secret_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok()).and_then(|h| hex::decode(h).ok())
}

/// Accepts `code` for the user once: the step it belongs to must be later than
/// the last accepted one (conditional update, so two concurrent uses of one
/// code cannot both pass). `Ok(false)`: wrong code; `Err(Replayed)`: used before.
pub(crate) async fn accept_code<C: sea_orm::ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    u: &user::Model,
    code: &str,
) -> Result<bool, TotpError> {
    let raw = secret_of(ctx, u).ok_or(TotpError::NotEnrolled)?;
    let Some(step) = matching_step(&totp(&raw)?, code, now_secs(ctx)) else {
        return Ok(false);
    };
    let r = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(Some(step)))
        .filter(user::Column::Id.eq(u.id))
        .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
        .exec(conn)
        .await?;
    if r.rows_affected == 0 {
        return Err(TotpError::Replayed);
    }
    Ok(true)
}

fn check_own_password(u: &user::Model, password: &str) -> Result<(), TotpError> {
    if password.is_empty() {
        return Err(TotpError::PasswordRequired);
    }
    if !super::password::verify_password(password, &u.password_hash) {
        return Err(TotpError::WrongPassword);
    }
    Ok(())
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

/// Confirms enrolment with the first code from the authenticator; the current
/// password must be given too (a hijacked session cannot plant its own
/// authenticator). The first code's step counts as used.
pub async fn confirm_enrolment(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    sealed: &str,
    code: &str,
    password: &str,
) -> Result<(), TotpError> {
    let u = user::Entity::find_by_id(actor.user_id).one(&ctx.db).await?.ok_or(TotpError::Invalid)?;
    check_own_password(&u, password)?;
    let raw = ctx.crypto.decrypt(sealed).ok().and_then(|h| hex::decode(h).ok()).ok_or(TotpError::Invalid)?;
    let step = matching_step(&totp(&raw)?, code, now_secs(ctx)).ok_or(TotpError::WrongCode)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret_enc = Set(Some(ctx.crypto.encrypt(&hex::encode(&raw))));
    am.totp_last_step = Set(Some(step));
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.totp_enrol", "user", actor.user_id, serde_json::json!({})))
        .await?;
    audit::alert_security_admins(
        &txn,
        ctx,
        "安全提示：动态口令已绑定",
        &format!("用户 {}（{}）绑定了新的手机验证器（动态口令）。若非本人操作，请立即核实。", actor.display_name, actor.username),
        "/admin/operation-log?action=user.totp_enrol",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes the enrolled authenticator (the SMS code remains), given the current
/// password or a current code from the authenticator.
pub async fn remove(ctx: &Ctx, actor: &Actor, meta: &Meta, password: &str, code: &str) -> Result<(), TotpError> {
    let u = user::Entity::find_by_id(actor.user_id).one(&ctx.db).await?.ok_or(TotpError::Invalid)?;
    if !code.trim().is_empty() {
        if !accept_code(&ctx.db, ctx, &u, code).await? {
            return Err(TotpError::WrongCode);
        }
    } else if password.is_empty() {
        return Err(TotpError::ProofRequired);
    } else {
        check_own_password(&u, password)?;
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret_enc = Set(None);
    am.totp_last_step = Set(None);
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.totp_remove", "user", actor.user_id, serde_json::json!({})))
        .await?;
    audit::alert_security_admins(
        &txn,
        ctx,
        "安全提示：动态口令已解除",
        &format!("用户 {}（{}）解除了手机验证器（动态口令）绑定。若非本人操作，请立即核实。", actor.display_name, actor.username),
        "/admin/operation-log?action=user.totp_remove",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn enrolled(ctx: &Ctx, user_id: i64) -> Result<bool, DbErr> {
    Ok(user::Entity::find_by_id(user_id).one(&ctx.db).await?.is_some_and(|u| u.totp_secret_enc.is_some()))
}

/// Completes a pending login with a code from the enrolled authenticator. A
/// wrong or replayed code counts as a second-factor failure. Returns the new
/// cookie token (the session is rotated) and the session.
pub async fn verify_login(ctx: &Ctx, meta: &Meta, token: &str, code: &str) -> Result<(String, SessionInfo), TotpError> {
    let s = session::resolve_session(ctx, token).await?.ok_or(TotpError::Expired)?;
    if s.stage != qifu_domain::accounts::SessionStage::Mfa {
        return Err(TotpError::Expired);
    }
    let u = user::Entity::find_by_id(s.actor.user_id).one(&ctx.db).await?.ok_or(TotpError::Expired)?;
    let wrong = match accept_code(&ctx.db, ctx, &u, code).await {
        Ok(true) => None,
        Ok(false) => Some(TotpError::WrongCode),
        Err(TotpError::Replayed) => Some(TotpError::Replayed),
        // A guess at a code nobody can produce is a failed second factor too.
        Err(TotpError::NotEnrolled) => Some(TotpError::NotEnrolled),
        Err(e) => return Err(e),
    };
    if let Some(e) = wrong {
        return Err(match super::login::second_factor_failed(ctx, meta, &s, "totp").await? {
            Some(minutes) => TotpError::TooManyFailures(minutes),
            None => e,
        });
    }
    Ok(super::login::second_factor_passed(ctx, meta, s).await?)
}

/// The current code for a secret (tests and diagnostics).
pub fn current_code(secret_hex: &str, unix_secs: u64) -> Option<String> {
    let raw = hex::decode(secret_hex).ok()?;
    Some(totp(&raw).ok()?.generate(unix_secs))
}
