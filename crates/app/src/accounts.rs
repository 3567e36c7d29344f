//! Accounts: organisations, users, built-in roles, password login and sessions.

mod menu;
mod password;
mod session;

pub use menu::{
    MenuEntry, back_office_menu, can_view_enterprises, can_view_jobs, require_back_office,
};

pub use password::{hash_password, verify_password};
pub use session::{
    LoginError, SessionInfo, login, logout, prune_sessions, random_token, resolve_session,
};

use crate::context::Ctx;
use qifu_db::entity::{organisation, role, user, user_role};
use qifu_domain::accounts::{BuiltinRole, OrgKind, check_password_strength, check_username};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, TransactionTrait,
};

/// The user behind a request, with what the rest of `app` needs to decide
/// permission and data scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: i64,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub roles: Vec<BuiltinRole>,
    pub must_change_password: bool,
}

impl Actor {
    pub fn has_role(&self, r: BuiltinRole) -> bool {
        self.roles.contains(&r)
    }

    /// Operator and government staff, and institution staff, work in the back office.
    pub fn can_use_back_office(&self) -> bool {
        matches!(
            self.org_kind,
            OrgKind::Operator | OrgKind::Government | OrgKind::Institution
        )
    }

    pub fn role_labels(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// Creates the built-in roles that are missing. Idempotent.
pub async fn ensure_builtin_roles<C: ConnectionTrait>(conn: &C, ctx: &Ctx) -> Result<(), DbErr> {
    let existing: Vec<String> = role::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.code)
        .collect();
    for r in BuiltinRole::ALL {
        if existing.iter().any(|c| c == r.code()) {
            continue;
        }
        role::ActiveModel {
            code: Set(r.code().to_owned()),
            name: Set(r.label().to_owned()),
            org_kind: Set(r.org_kind().as_str().to_owned()),
            builtin: Set(true),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// A user to create from the command line or the demo generator.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: BuiltinRole,
    /// The organisation to join; created with this name if none of the role's kind has it.
    pub org_name: String,
    pub must_change_password: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("用户名“{0}”已被使用")]
    UsernameTaken(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Creates a user (and its organisation when needed) in one transaction.
pub async fn create_user(ctx: &Ctx, new: NewUser) -> Result<i64, CreateUserError> {
    let txn = ctx.db.begin().await?;
    let id = create_user_in(&txn, ctx, new).await?;
    txn.commit().await?;
    Ok(id)
}

/// Creates a user inside the caller's transaction.
pub async fn create_user_in<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    new: NewUser,
) -> Result<i64, CreateUserError> {
    check_username(&new.username).map_err(CreateUserError::Invalid)?;
    check_password_strength(&new.password).map_err(CreateUserError::Invalid)?;
    let display = new.display_name.trim();
    if display.is_empty() || display.chars().count() > 64 {
        return Err(CreateUserError::Invalid("姓名不能为空且不超过64个字符"));
    }
    let org_name = new.org_name.trim();
    if org_name.is_empty() || org_name.chars().count() > 200 {
        return Err(CreateUserError::Invalid(
            "组织名称不能为空且不超过200个字符",
        ));
    }
    let hash =
        hash_password(&new.password).map_err(|_| CreateUserError::Invalid("密码无法处理"))?;
    ensure_builtin_roles(conn, ctx).await?;
    if user::Entity::find()
        .filter(user::Column::Username.eq(&new.username))
        .one(conn)
        .await?
        .is_some()
    {
        return Err(CreateUserError::UsernameTaken(new.username));
    }
    let kind = new.role.org_kind();
    let org = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(kind.as_str()))
        .filter(organisation::Column::Name.eq(org_name))
        .one(conn)
        .await?;
    let org_id = match org {
        Some(o) => o.id,
        None => insert_org(conn, ctx, kind, org_name, None).await?,
    };
    let now = ctx.now();
    let u = user::ActiveModel {
        org_id: Set(org_id),
        username: Set(new.username.clone()),
        display_name: Set(display.to_owned()),
        password_hash: Set(hash),
        status: Set("active".to_owned()),
        must_change_password: Set(new.must_change_password),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if qifu_db::is_unique_violation(&e) {
            CreateUserError::UsernameTaken(new.username.clone())
        } else {
            e.into()
        }
    })?;
    let role = role::Entity::find()
        .filter(role::Column::Code.eq(new.role.code()))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(new.role.code().to_owned()))?;
    user_role::ActiveModel {
        user_id: Set(u.id),
        role_id: Set(role.id),
    }
    .insert(conn)
    .await?;
    Ok(u.id)
}

/// Inserts an organisation row and returns its id.
pub async fn insert_org<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    kind: OrgKind,
    name: &str,
    credit_code: Option<String>,
) -> Result<i64, DbErr> {
    let now = ctx.now();
    let o = organisation::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        name: Set(name.to_owned()),
        credit_code: Set(credit_code),
        status: Set("active".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(o.id)
}

/// Loads the actor for a user id, if the user and organisation are active.
pub async fn load_actor<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<Option<Actor>, DbErr> {
    let Some(u) = user::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    if u.status != "active" {
        return Ok(None);
    }
    let Some(org) = organisation::Entity::find_by_id(u.org_id).one(conn).await? else {
        return Ok(None);
    };
    if org.status != "active" {
        return Ok(None);
    }
    let Some(org_kind) = OrgKind::parse(&org.kind) else {
        return Ok(None);
    };
    let role_ids: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(u.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect();
    let roles = role::Entity::find()
        .filter(role::Column::Id.is_in(role_ids))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| BuiltinRole::parse(&r.code))
        .collect();
    Ok(Some(Actor {
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        org_id: org.id,
        org_kind,
        org_name: org.name,
        roles,
        must_change_password: u.must_change_password,
    }))
}
