//! Database sessions. The cookie holds a random token; the table holds only its
//! SM3 hash, so a leaked table does not leak live sessions.

use super::{Actor, load_actor, password};
use crate::context::Ctx;
use chrono::Duration;
use qifu_db::entity::{session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter,
};
use sm3::{Digest, Sm3};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("账号已停用，请联系管理员")]
    Disabled,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A live session: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf_token: String,
}

pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn token_id(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

/// Checks the password and opens a session. Returns the cookie token.
pub async fn login(
    ctx: &Ctx,
    username: &str,
    pw: &str,
    ip: &str,
    user_agent: &str,
) -> Result<(String, SessionInfo), LoginError> {
    let username = username.trim();
    let found = if username.is_empty() || username.chars().count() > 64 {
        None
    } else {
        user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&ctx.db)
            .await?
    };
    let Some(u) = found else {
        // Same work as a wrong password.
        let _ = password::verify_password(pw, password::dummy_hash());
        return Err(LoginError::BadCredentials);
    };
    if !password::verify_password(pw, &u.password_hash) {
        return Err(LoginError::BadCredentials);
    }
    let actor = load_actor(&ctx.db, u.id)
        .await?
        .ok_or(LoginError::Disabled)?;
    let now = ctx.now();
    let token = random_token();
    let csrf = random_token();
    session::ActiveModel {
        id: Set(token_id(&token)),
        user_id: Set(u.id),
        csrf_token: Set(csrf.clone()),
        ip: Set(ip.chars().take(64).collect()),
        user_agent: Set(user_agent.chars().take(256).collect()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + Duration::hours(ctx.settings.web.session_absolute_hours)),
    }
    .insert(&ctx.db)
    .await?;
    let mut um: user::ActiveModel = u.into();
    um.last_login_at = Set(Some(now));
    um.update(&ctx.db).await?;
    Ok((
        token,
        SessionInfo {
            actor,
            csrf_token: csrf,
        },
    ))
}

/// Resolves a cookie token to a live session, enforcing the idle and absolute
/// timeouts, and records the activity.
pub async fn resolve_session(ctx: &Ctx, token: &str) -> Result<Option<SessionInfo>, DbErr> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id = token_id(token);
    let Some(s) = session::Entity::find_by_id(id.clone()).one(&ctx.db).await? else {
        return Ok(None);
    };
    let now = ctx.now();
    let idle = Duration::minutes(ctx.settings.web.session_idle_minutes);
    if now >= s.expires_at || now - s.last_seen_at >= idle {
        session::Entity::delete_by_id(id).exec(&ctx.db).await?;
        return Ok(None);
    }
    let Some(actor) = load_actor(&ctx.db, s.user_id).await? else {
        session::Entity::delete_by_id(id).exec(&ctx.db).await?;
        return Ok(None);
    };
    // Touch at most once a minute to spare the database.
    if now - s.last_seen_at >= Duration::minutes(1) {
        let csrf = s.csrf_token.clone();
        let mut am: session::ActiveModel = s.into();
        am.last_seen_at = Set(now);
        am.update(&ctx.db).await?;
        return Ok(Some(SessionInfo {
            actor,
            csrf_token: csrf,
        }));
    }
    Ok(Some(SessionInfo {
        actor,
        csrf_token: s.csrf_token,
    }))
}

pub async fn logout(ctx: &Ctx, token: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(token_id(token))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Deletes sessions past their absolute or idle expiry.
pub async fn prune_sessions(ctx: &Ctx) -> Result<u64, DbErr> {
    let now = ctx.now();
    let idle_cutoff = now - Duration::minutes(ctx.settings.web.session_idle_minutes);
    let r = session::Entity::delete_many()
        .filter(
            Condition::any()
                .add(session::Column::ExpiresAt.lte(now))
                .add(session::Column::LastSeenAt.lte(idle_cutoff)),
        )
        .exec(&ctx.db)
        .await?;
    Ok(r.rows_affected)
}
