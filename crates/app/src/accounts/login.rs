//! Password login with captcha, account lockout, per-IP throttling, the staff
//! second factor (SMS code) and the optional staff client certificate.

use super::session::{SessionInfo, create_session};
use super::sms_code::{self, SmsCodeError, SmsPurpose, add_event, count_events};
use super::{captcha, load_actor, password};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::Duration;
use qifu_db::Committed;
use qifu_db::entity::user;
use qifu_domain::accounts::LoginResult;
use qifu_domain::accounts::Phone;
use qifu_domain::accounts::SessionStage;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

#[derive(Debug, Clone, Default)]
pub struct LoginRequest {
    /// Username or mobile phone number.
    pub account: String,
    pub password: String,
    pub captcha_id: String,
    pub captcha: String,
    /// Whether the TLS proxy verified a client certificate from the configured CA.
    pub client_cert_verified: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("图形验证码错误或已过期，请重新输入")]
    Captcha,
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("密码连续错误次数过多，账号已锁定，请{0}分钟后再试或联系管理员解锁")]
    Locked(i64),
    #[error("登录失败次数过多，请稍后再试")]
    IpThrottled,
    #[error("账号或所属组织已停用，请联系管理员")]
    Disabled,
    #[error("工作人员须使用数字证书登录，请插入证书后通过证书入口访问")]
    ClientCertRequired,
    #[error(transparent)]
    Db(#[from] DbErr),
}

#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one value per sign-in, moved once
pub enum LoginOutcome {
    /// Signed in; the cookie token and the session.
    Done { token: String, info: SessionInfo },
    /// Password accepted; a second factor must follow on this (pending) session.
    SecondFactor { token: String },
}

async fn log(ctx: &Ctx, meta: &Meta, account: &str, user_id: Option<i64>, ok: bool, reason: &str) -> Result<(), DbErr> {
    // Appended to the login log's keyed chain (crate::audit).
    let result = if ok { LoginResult::Success } else { LoginResult::Failure };
    crate::audit::record_login(ctx, meta, account, user_id, result, reason).await
}

fn masked_account(account: &str) -> String {
    match Phone::parse(account) {
        Ok(p) => p.masked(),
        Err(_) => account.to_owned(),
    }
}

pub async fn login(ctx: &Ctx, meta: &Meta, req: &LoginRequest) -> Result<LoginOutcome, LoginError> {
    let now = ctx.now();
    let sec = &ctx.settings.security;
    let account = req.account.trim();
    let shown = masked_account(account);
    let ip_key = format!("login_fail:ip:{}", meta.ip);
    let window_start = now - Duration::minutes(sec.ip_window_minutes);
    if count_events(&ctx.db, &ip_key, window_start).await? >= sec.ip_failure_limit {
        log(ctx, meta, &shown, None, false, "ip_throttled").await?;
        return Err(LoginError::IpThrottled);
    }
    if !captcha::check_captcha(&ctx.db, ctx, &req.captcha_id, &req.captcha).await? {
        add_event(&ctx.db, &ip_key, now).await?;
        log(ctx, meta, &shown, None, false, "captcha").await?;
        return Err(LoginError::Captcha);
    }
    let found = if account.is_empty() || account.chars().count() > 64 {
        None
    } else if let Ok(phone) = Phone::parse(account) {
        user::Entity::find().filter(user::Column::PhoneHash.eq(ctx.crypto.blind_index(phone.as_str()))).one(&ctx.db).await?
    } else {
        user::Entity::find().filter(user::Column::Username.eq(account)).one(&ctx.db).await?
    };
    let Some(u) = found else {
        let _ = password::verify_password(&req.password, password::dummy_hash());
        add_event(&ctx.db, &ip_key, now).await?;
        log(ctx, meta, &shown, None, false, "unknown_user").await?;
        return Err(LoginError::BadCredentials);
    };
    if let Some(until) = u.locked_until.filter(|t| *t > now) {
        add_event(&ctx.db, &ip_key, now).await?;
        log(ctx, meta, &shown, Some(u.id), false, "locked").await?;
        return Err(LoginError::Locked((until - now).num_minutes() + 1));
    }
    if !password::verify_password(&req.password, &u.password_hash) {
        add_event(&ctx.db, &ip_key, now).await?;
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let uid = u.id;
        // Counted atomically and read back in the same transaction, so
        // concurrent wrong passwords cannot undercount and escape the lockout.
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, sea_orm::sea_query::ExprTrait::add(Expr::col(user::Column::FailedLogins), 1))
            .filter(user::Column::Id.eq(uid))
            .exec(&txn)
            .await?;
        let failures = user::Entity::find_by_id(uid).one(&txn).await?.map(|x| x.failed_logins).unwrap_or(1);
        let mut am: user::ActiveModel = user::ActiveModel { id: sea_orm::ActiveValue::Unchanged(uid), ..Default::default() };
        if failures >= sec.lockout_threshold {
            am.failed_logins = Set(0);
            am.locked_until = Set(Some(now + Duration::minutes(sec.lockout_minutes)));
            am.update(&txn).await?;
            audit::record(
                &txn,
                ctx,
                None,
                meta,
                Entry::ok("user.lock", "user", uid, serde_json::json!({"failures": failures, "minutes": sec.lockout_minutes})),
            )
            .await?;
        }
        txn.commit().await?;
        log(ctx, meta, &shown, Some(uid), false, "bad_password").await?;
        if failures >= sec.lockout_threshold {
            return Err(LoginError::Locked(sec.lockout_minutes));
        }
        return Err(LoginError::BadCredentials);
    }
    let Some(actor) = load_actor(&ctx.db, u.id).await? else {
        log(ctx, meta, &shown, Some(u.id), false, "disabled").await?;
        return Err(LoginError::Disabled);
    };
    if actor.is_staff() && sec.staff_client_cert && !req.client_cert_verified {
        log(ctx, meta, &shown, Some(u.id), false, "client_cert").await?;
        return Err(LoginError::ClientCertRequired);
    }
    let uid = u.id;
    let mut am: user::ActiveModel = u.into();
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.last_login_at = Set(Some(now));
    am.update_committed(&ctx.db).await?;
    if actor.is_staff() && sec.staff_second_factor {
        let (token, _) = create_session(ctx, uid, SessionStage::Mfa, meta).await?;
        log(ctx, meta, &shown, Some(uid), true, "password_ok_second_factor_pending").await?;
        return Ok(LoginOutcome::SecondFactor { token });
    }
    let (token, csrf) = create_session(ctx, uid, SessionStage::Full, meta).await?;
    log(ctx, meta, &shown, Some(uid), true, "ok").await?;
    let id = super::session::token_id(&token);
    Ok(LoginOutcome::Done { token, info: SessionInfo { actor, csrf_token: csrf, id, stage: SessionStage::Full } })
}

#[derive(Debug, thiserror::Error)]
pub enum SecondFactorError {
    #[error("登录已过期，请重新登录")]
    Expired,
    #[error("账号未绑定手机号码，无法接收验证码，请联系安全管理员")]
    NoPhone,
    #[error("短信验证码错误或已过期")]
    WrongCode,
    #[error("验证码错误次数过多，本次登录已结束，账号已临时锁定{0}分钟，请稍后重新登录或联系安全管理员")]
    TooManyFailures(i64),
    #[error(transparent)]
    Sms(#[from] SmsCodeError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

async fn pending(ctx: &Ctx, token: &str) -> Result<(SessionInfo, Phone), SecondFactorError> {
    let s = super::session::resolve_session(ctx, token).await?.ok_or(SecondFactorError::Expired)?;
    if s.stage != SessionStage::Mfa {
        return Err(SecondFactorError::Expired);
    }
    let u = user::Entity::find_by_id(s.actor.user_id).one(&ctx.db).await?.ok_or(SecondFactorError::Expired)?;
    let phone = u
        .phone_enc
        .as_deref()
        .and_then(|e| ctx.crypto.decrypt(e).ok())
        .and_then(|p| Phone::parse(&p).ok())
        .ok_or(SecondFactorError::NoPhone)?;
    Ok((s, phone))
}

/// Sends the login code to the phone of the pending session's user. Returns the masked phone.
pub async fn send_second_factor(ctx: &Ctx, meta: &Meta, token: &str) -> Result<String, SecondFactorError> {
    let (_, phone) = pending(ctx, token).await?;
    sms_code::send_code(ctx, meta, &phone, SmsPurpose::Login).await?;
    Ok(phone.masked())
}

/// Completes a pending login with the SMS code.
pub async fn verify_second_factor(
    ctx: &Ctx,
    meta: &Meta,
    token: &str,
    code: &str,
) -> Result<(String, SessionInfo), SecondFactorError> {
    let (s, phone) = pending(ctx, token).await?;
    if !sms_code::verify_code(&ctx.db, ctx, &phone, SmsPurpose::Login, code).await? {
        return Err(match second_factor_failed(ctx, meta, &s, "sms").await? {
            Some(minutes) => SecondFactorError::TooManyFailures(minutes),
            None => SecondFactorError::WrongCode,
        });
    }
    Ok(second_factor_passed(ctx, meta, s).await?)
}

/// A second factor that passed: the user's failure count is cleared, and the
/// pending session is replaced by a full one under a new token and a new CSRF
/// token (the token seen before the second factor is worthless afterwards).
/// Returns the new cookie token and the session.
pub(crate) async fn second_factor_passed(ctx: &Ctx, meta: &Meta, s: SessionInfo) -> Result<(String, SessionInfo), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    user::Entity::update_many()
        .col_expr(user::Column::MfaFailures, Expr::value(0))
        .filter(user::Column::Id.eq(s.actor.user_id))
        .exec(&txn)
        .await?;
    let (token, csrf, id) = super::session::rotate_to_full(&txn, &s.id).await?;
    txn.commit().await?;
    log(ctx, meta, &s.actor.username, Some(s.actor.user_id), true, "ok").await?;
    Ok((token, SessionInfo { stage: SessionStage::Full, csrf_token: csrf, id, ..s }))
}

/// A wrong second factor (SMS code or authenticator code) on a pending session.
/// Failures count on the session and on the user; once either reaches
/// `security.lockout_threshold` the user's pending sessions end, the account
/// locks for `security.lockout_minutes`, and the security administrators are
/// alerted. Returns the lock's minutes when it locked.
pub(crate) async fn second_factor_failed(ctx: &Ctx, meta: &Meta, s: &SessionInfo, method: &str) -> Result<Option<i64>, DbErr> {
    use qifu_db::entity::session;
    let sec = &ctx.settings.security;
    let uid = s.actor.user_id;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    // Counted atomically and read back in the same transaction (as wrong passwords).
    user::Entity::update_many()
        .col_expr(user::Column::MfaFailures, sea_orm::sea_query::ExprTrait::add(Expr::col(user::Column::MfaFailures), 1))
        .filter(user::Column::Id.eq(uid))
        .exec(&txn)
        .await?;
    session::Entity::update_many()
        .col_expr(session::Column::MfaFailures, sea_orm::sea_query::ExprTrait::add(Expr::col(session::Column::MfaFailures), 1))
        .filter(session::Column::Id.eq(s.id.as_str()))
        .exec(&txn)
        .await?;
    let by_user = user::Entity::find_by_id(uid).one(&txn).await?.map(|u| u.mfa_failures).unwrap_or(1);
    let by_session = session::Entity::find_by_id(s.id.clone()).one(&txn).await?.map(|x| x.mfa_failures).unwrap_or(1);
    let locked = by_user.max(by_session) >= sec.lockout_threshold;
    if locked {
        let now = ctx.now();
        user::Entity::update_many()
            .col_expr(user::Column::MfaFailures, Expr::value(0))
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(user::Column::LockedUntil, Expr::value(Some(now + Duration::minutes(sec.lockout_minutes))))
            .filter(user::Column::Id.eq(uid))
            .exec(&txn)
            .await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(uid))
            .filter(session::Column::Stage.eq(SessionStage::Mfa))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            ctx,
            None,
            meta,
            Entry::ok(
                "user.lock",
                "user",
                uid,
                serde_json::json!({"reason": "second_factor", "method": method, "failures": by_user.max(by_session), "minutes": sec.lockout_minutes}),
            ),
        )
        .await?;
        audit::alert_security_admins(
            &txn,
            ctx,
            "安全告警：第二因素验证连续失败",
            &format!(
                "用户 {}（{}）登录时第二因素验证（短信验证码或动态口令）连续失败{}次，本次登录已结束，账号已锁定{}分钟。若非本人操作，其密码可能已泄露，请核实并重置密码。",
                s.actor.display_name,
                s.actor.username,
                by_user.max(by_session),
                sec.lockout_minutes
            ),
            "/admin/operation-log?action=user.lock",
        )
        .await?;
    }
    txn.commit().await?;
    let reason = if locked { "second_factor_locked" } else { "second_factor" };
    log(ctx, meta, &s.actor.username, Some(uid), false, reason).await?;
    Ok(locked.then_some(sec.lockout_minutes))
}
