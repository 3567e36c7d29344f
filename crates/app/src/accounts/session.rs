//! Database sessions. The cookie holds a random token; the table holds only its
//! SM3 hash, so a leaked table does not leak live sessions. A session is "full"
//! once every required factor passed, or "mfa" while a second factor is pending.

use super::{Actor, load_actor};
use crate::actor::AccessError;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::{DateTime, Duration, Utc};
use qifu_db::Committed;
use qifu_db::entity::{organisation, session, user};
use qifu_domain::accounts::Permission;
use qifu_domain::accounts::SessionStage;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sm3::{Digest, Sm3};

/// A live session: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub actor: Actor,
    pub csrf_token: String,
    /// Hash id of this session (not the cookie token).
    pub id: String,
    pub stage: SessionStage,
}

pub fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub(crate) fn token_id(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

/// Opens a session; returns the cookie token.
pub(crate) async fn create_session(ctx: &Ctx, user_id: i64, stage: SessionStage, meta: &Meta) -> Result<(String, String), DbErr> {
    let now = ctx.now();
    let token = random_token();
    let csrf = random_token();
    session::ActiveModel {
        id: Set(token_id(&token)),
        user_id: Set(user_id),
        csrf_token: Set(csrf.clone()),
        ip: Set(meta.ip.chars().take(64).collect()),
        user_agent: Set(meta.user_agent.chars().take(256).collect()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + Duration::hours(ctx.settings.web.session_absolute_hours)),
        stage: Set(stage),
        mfa_failures: Set(0),
    }
    .insert_committed(&ctx.db)
    .await?;
    Ok((token, csrf))
}

/// Opens a fully signed-in session for a user without a login, for the
/// benchmark kit (`qifu bench load`) on its own database. Not reachable from
/// the web; returns the cookie token and the CSRF token.
pub async fn open_session_for_tools(ctx: &Ctx, user_id: i64) -> Result<(String, String), DbErr> {
    create_session(ctx, user_id, SessionStage::Full, &Meta::system("qifu bench")).await
}

/// Resolves a cookie token to a live session, enforcing the idle and absolute
/// timeouts, and records the activity. Sessions still waiting for a second factor
/// are returned with stage [`SessionStage::Mfa`]; callers treat those as not signed in.
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
    let idle = if s.stage == SessionStage::Mfa { idle.min(Duration::minutes(10)) } else { idle };
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
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(now))
            .filter(session::Column::Id.eq(id.clone()))
            .exec(&ctx.db)
            .await?;
    }
    Ok(Some(SessionInfo { actor, csrf_token: s.csrf_token, id, stage: s.stage }))
}

pub async fn logout(ctx: &Ctx, token: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(token_id(token)).exec(&ctx.db).await?;
    Ok(())
}

/// Deletes sessions past their absolute or idle expiry.
pub async fn prune_sessions(ctx: &Ctx) -> Result<u64, DbErr> {
    let now = ctx.now();
    let idle_cutoff = now - Duration::minutes(ctx.settings.web.session_idle_minutes);
    let r = session::Entity::delete_many()
        .filter(Condition::any().add(session::Column::ExpiresAt.lte(now)).add(session::Column::LastSeenAt.lte(idle_cutoff)))
        .exec(&ctx.db)
        .await?;
    Ok(r.rows_affected)
}

/// A session as lists show it.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub org_name: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub current: bool,
}

async fn rows(ctx: &Ctx, sessions: Vec<session::Model>, current: Option<&str>) -> Result<Vec<SessionRow>, DbErr> {
    let uids: Vec<i64> = sessions.iter().map(|s| s.user_id).collect();
    let users = user::Entity::find().filter(user::Column::Id.is_in(uids)).all(&ctx.db).await?;
    let oids: Vec<i64> = users.iter().map(|u| u.org_id).collect();
    let orgs = organisation::Entity::find().filter(organisation::Column::Id.is_in(oids)).all(&ctx.db).await?;
    Ok(sessions
        .into_iter()
        .map(|s| {
            let u = users.iter().find(|u| u.id == s.user_id);
            let org = u.and_then(|u| orgs.iter().find(|o| o.id == u.org_id));
            SessionRow {
                current: current == Some(s.id.as_str()),
                id: s.id,
                user_id: s.user_id,
                username: u.map(|u| u.username.clone()).unwrap_or_default(),
                display_name: u.map(|u| u.display_name.clone()).unwrap_or_default(),
                org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
                ip: s.ip,
                user_agent: s.user_agent,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
            }
        })
        .collect())
}

/// The actor's own live sessions.
pub async fn list_own_sessions(ctx: &Ctx, actor: &Actor, current_id: &str) -> Result<Vec<SessionRow>, DbErr> {
    let idle_cutoff = ctx.now() - Duration::minutes(ctx.settings.web.session_idle_minutes);
    let list = session::Entity::find()
        .filter(session::Column::UserId.eq(actor.user_id))
        .filter(session::Column::LastSeenAt.gt(idle_cutoff))
        .filter(session::Column::ExpiresAt.gt(ctx.now()))
        .order_by_desc(session::Column::LastSeenAt)
        .all(&ctx.db)
        .await?;
    rows(ctx, list, Some(current_id)).await
}

/// Ends one of the actor's own sessions. Someone else's session is "not found".
pub async fn end_own_session(ctx: &Ctx, actor: &Actor, meta: &Meta, session_id: &str) -> Result<(), AccessError> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let s = session::Entity::find_by_id(session_id.to_owned()).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if s.user_id != actor.user_id {
        return Err(AccessError::NotFound);
    }
    session::Entity::delete_by_id(session_id.to_owned()).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("session.end", "session", &session_id[..12], serde_json::json!({"ip": s.ip})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Online users (在线用户): sessions active within the idle window.
pub async fn list_online(ctx: &Ctx, actor: &Actor, page: u64) -> Result<(Vec<SessionRow>, u64), AccessError> {
    let grant = super::require(actor, Permission::SessionOnline)?;
    let org_users = match grant.org() {
        Some(org) => crate::actor::org_user_ids(&ctx.db, org).await?,
        None => Vec::new(),
    };
    let idle_cutoff = ctx.now() - Duration::minutes(ctx.settings.web.session_idle_minutes);
    let q = session::Entity::find()
        .filter(grant.user_condition(session::Column::UserId, &org_users))
        .filter(session::Column::LastSeenAt.gt(idle_cutoff))
        .filter(session::Column::ExpiresAt.gt(ctx.now()))
        .filter(session::Column::Stage.eq(SessionStage::Full))
        .order_by_desc(session::Column::LastSeenAt);
    let total = q.clone().count(&ctx.db).await?;
    let list = q.offset(page.max(1).saturating_sub(1) * 50).limit(50).all(&ctx.db).await?;
    Ok((rows(ctx, list, None).await?, total))
}

/// Forces a session out (security administrators).
pub async fn force_out(ctx: &Ctx, actor: &Actor, meta: &Meta, session_id: &str) -> Result<(), AccessError> {
    let grant = super::require(actor, Permission::SessionOnline)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let s = session::Entity::find_by_id(session_id.to_owned()).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let owner_org = user::Entity::find_by_id(s.user_id).one(&txn).await?.map(|u| u.org_id).unwrap_or(-1);
    if !grant.covers(owner_org, Some(s.user_id)) {
        return Err(AccessError::NotFound);
    }
    session::Entity::delete_by_id(session_id.to_owned()).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("session.force_out", "user", s.user_id, serde_json::json!({"session": &session_id[..12], "ip": s.ip})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces an "mfa" session by a fully signed-in one under a new token and a
/// new CSRF token (same user, creation and expiry). Returns the cookie token,
/// the CSRF token and the new id.
pub(crate) async fn rotate_to_full<C: sea_orm::ConnectionTrait>(conn: &C, id: &str) -> Result<(String, String, String), DbErr> {
    let old =
        session::Entity::find_by_id(id.to_owned()).one(conn).await?.ok_or_else(|| DbErr::RecordNotFound("session".into()))?;
    let token = random_token();
    let csrf = random_token();
    let new_id = token_id(&token);
    session::Entity::delete_by_id(id.to_owned()).exec(conn).await?;
    session::ActiveModel {
        id: Set(new_id.clone()),
        user_id: Set(old.user_id),
        csrf_token: Set(csrf.clone()),
        ip: Set(old.ip),
        user_agent: Set(old.user_agent),
        created_at: Set(old.created_at),
        last_seen_at: Set(old.last_seen_at),
        expires_at: Set(old.expires_at),
        stage: Set(SessionStage::Full),
        mfa_failures: Set(0),
    }
    .insert(conn)
    .await?;
    Ok((token, csrf, new_id))
}

/// Ends every session of a user (after a password reset or when disabled).
pub(crate) async fn end_all_for_user<C: sea_orm::ConnectionTrait>(conn: &C, user_id: i64) -> Result<(), DbErr> {
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(conn).await?;
    Ok(())
}
