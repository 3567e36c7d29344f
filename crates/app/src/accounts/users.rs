//! Users and sub-accounts. An organisation's administrator manages the accounts
//! of their own organisation; operator and system administrators manage all.
//! Records outside the actor's scope are "not found".

use super::{Actor, CreateUserError, UserInsert, insert_user};
use crate::actor::AccessError;
use crate::actor::Grant;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::{DateTime, Utc};
use qifu_db::entity::{organisation, role, user, user_role};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::check_person_name;
use qifu_domain::accounts::{Duty, OrgKind, Permission, Phone, Scope, check_separation, check_username};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// The scope the actor manages users in; organisation scope needs an org admin.
fn user_scope(actor: &Actor) -> Result<Grant, AccessError> {
    let grant = super::require(actor, Permission::UserManage)?;
    if grant.is_all() || actor.is_org_admin { Ok(grant) } else { Err(AccessError::Forbidden) }
}

async fn find_in_scope<C: ConnectionTrait>(conn: &C, grant: &Grant, id: i64) -> Result<user::Model, AccessError> {
    let u = user::Entity::find_by_id(id).one(conn).await?.ok_or(AccessError::NotFound)?;
    if !grant.covers(u.org_id, Some(u.id)) {
        return Err(AccessError::NotFound);
    }
    Ok(u)
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: String,
    pub status: Option<AccountStatus>,
    pub org_kind: Option<OrgKind>,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone_masked: Option<String>,
    pub org_name: String,
    pub org_kind: Option<OrgKind>,
    pub roles: String,
    pub status: AccountStatus,
    pub is_org_admin: bool,
    pub locked: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub async fn list_users(ctx: &Ctx, actor: &Actor, f: &UserFilter, page: u64) -> Result<(Vec<UserRow>, u64), AccessError> {
    let grant = user_scope(actor)?;
    let mut q =
        user::Entity::find().filter(grant.condition(user::Column::OrgId, Some(user::Column::Id))).order_by_asc(user::Column::Id);
    let term = f.q.trim();
    if !term.is_empty() {
        let mut cond = Condition::any().add(user::Column::Username.contains(term)).add(user::Column::DisplayName.contains(term));
        if let Ok(p) = Phone::parse(term) {
            cond = cond.add(user::Column::PhoneHash.eq(ctx.crypto.blind_index(p.as_str())));
        }
        q = q.filter(cond);
    }
    if let Some(status) = f.status {
        q = q.filter(user::Column::Status.eq(status));
    }
    if let Some(kind) = f.org_kind {
        let ids: Vec<i64> = organisation::Entity::find()
            .filter(organisation::Column::Kind.eq(kind))
            .select_only()
            .column(organisation::Column::Id)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        q = q.filter(user::Column::OrgId.is_in(ids));
    }
    let total = q.clone().count(&ctx.db).await?;
    let users = q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?;
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(users.iter().map(|u| u.org_id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    let links = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(users.iter().map(|u| u.id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    let roles = role::Entity::find().all(&ctx.db).await?;
    let now = ctx.now();
    let rows = users
        .into_iter()
        .map(|u| {
            let org = orgs.iter().find(|o| o.id == u.org_id);
            let names: Vec<&str> = links
                .iter()
                .filter(|l| l.user_id == u.id)
                .filter_map(|l| roles.iter().find(|r| r.id == l.role_id).map(|r| r.name.as_str()))
                .collect();
            UserRow {
                id: u.id,
                locked: u.locked_until.is_some_and(|t| t > now),
                username: u.username,
                display_name: u.display_name,
                phone_masked: u.phone_masked,
                org_name: org.map(|o| o.name.clone()).unwrap_or_default(),
                org_kind: org.map(|o| o.kind),
                roles: names.join("、"),
                status: u.status,
                is_org_admin: u.is_org_admin,
                last_login_at: u.last_login_at,
            }
        })
        .collect();
    Ok((rows, total))
}

#[derive(Debug, Clone, Default)]
pub struct NewSubAccount {
    /// Only honoured for actors with scope All; others create in their own organisation.
    pub org_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub role_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("表单有误")]
    Fields(Vec<(&'static str, String)>),
    #[error("{0}")]
    Invalid(String),
    /// Refused, with the reason to show (separation of duties).
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

const ONLY_SECURITY_ADMIN: &str = "三权分立：持有安全管理或安全审计职责的账号只能由安全管理员创建、停用、解锁或重置密码";

/// The duties held by the actor's permissions.
fn actor_duties(actor: &Actor) -> std::collections::BTreeSet<Duty> {
    qifu_domain::accounts::duties(actor.grants.keys().copied())
}

/// Whether the actor may give a role with these grants: a role holding the
/// security or audit duty only by a holder of the security duty, the system
/// duty only by a holder of it, and any other permission only if the actor holds
/// it with at least the same scope (no one hands out more than they have).
pub(crate) fn may_grant(actor: &Actor, grants: &[(Permission, Scope)]) -> bool {
    let mine = actor_duties(actor);
    grants.iter().all(|(p, s)| match p.duty() {
        Some(Duty::Security | Duty::Audit) => mine.contains(&Duty::Security),
        Some(Duty::System) => mine.contains(&Duty::System),
        None => actor.scope(*p).is_some_and(|held| held >= *s),
    })
}

/// The duties a user's roles hold.
async fn user_duties<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<std::collections::BTreeSet<Duty>, DbErr> {
    use qifu_db::entity::role_permission;
    let role_ids: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(user_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.role_id)
        .collect();
    let perms = role_permission::Entity::find().filter(role_permission::Column::RoleId.is_in(role_ids)).all(conn).await?;
    Ok(qifu_domain::accounts::duties(perms.into_iter().map(|p| p.permission)))
}

/// Accounts holding the security or audit duty are managed by the security
/// administrator only (the system administrator cannot take them over).
async fn check_may_manage<C: ConnectionTrait>(conn: &C, actor: &Actor, target: i64) -> Result<(), UserError> {
    let theirs = user_duties(conn, target).await?;
    if (theirs.contains(&Duty::Security) || theirs.contains(&Duty::Audit)) && !actor_duties(actor).contains(&Duty::Security) {
        return Err(UserError::Forbidden(ONLY_SECURITY_ADMIN));
    }
    Ok(())
}

/// A role the actor may choose for a new account.
#[derive(Debug, Clone)]
pub struct RoleChoice {
    pub id: i64,
    pub name: String,
    pub org_kind: OrgKind,
}

/// The roles the actor may give to new accounts: of the actor's own
/// organisation kind unless the actor manages users everywhere, and only those
/// [`may_grant`] allows.
pub async fn grantable_roles(ctx: &Ctx, actor: &Actor) -> Result<Vec<RoleChoice>, UserError> {
    let grant = user_scope(actor)?;
    let mut q = role::Entity::find().order_by_asc(role::Column::Id);
    if !grant.is_all() {
        q = q.filter(role::Column::OrgKind.eq(actor.org_kind));
    }
    let roles = q.all(&ctx.db).await?;
    let perms = qifu_db::entity::role_permission::Entity::find().all(&ctx.db).await?;
    Ok(roles
        .into_iter()
        .filter(|r| {
            let g: Vec<(Permission, Scope)> =
                perms.iter().filter(|p| p.role_id == r.id).map(|p| (p.permission, p.scope)).collect();
            may_grant(actor, &g)
        })
        .map(|r| RoleChoice { id: r.id, name: r.name, org_kind: r.org_kind })
        .collect())
}

impl CreateUserError {
    /// As a form error on the form's own username and phone fields.
    pub(crate) fn on_fields(self, username: &'static str, phone: &'static str) -> UserError {
        match self {
            e @ CreateUserError::UsernameTaken(_) => UserError::Fields(vec![(username, e.to_string())]),
            e @ CreateUserError::PhoneTaken => UserError::Fields(vec![(phone, e.to_string())]),
            CreateUserError::Invalid(m) => UserError::Invalid(m.to_owned()),
            CreateUserError::Db(d) => d.into(),
        }
    }
}

impl From<DbErr> for UserError {
    fn from(e: DbErr) -> Self {
        UserError::Access(AccessError::Db(e))
    }
}

/// A random initial password that satisfies the policy.
pub fn initial_password() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("Qf#{}{}", &raw[..8], raw[8..12].to_uppercase())
}

/// Creates a sub-account; returns the id and the one-time initial password.
pub async fn create_sub_account(ctx: &Ctx, actor: &Actor, meta: &Meta, n: &NewSubAccount) -> Result<(i64, String), UserError> {
    let grant = user_scope(actor)?;
    let org_id = if grant.is_all() { n.org_id.unwrap_or(actor.org_id) } else { actor.org_id };
    let mut errors = Vec::new();
    let username = n.username.trim();
    if let Err(m) = check_username(username) {
        errors.push(("username", m.to_owned()));
    }
    let display = n.display_name.trim();
    if let Err(m) = check_person_name(display) {
        errors.push(("display_name", m.replace("联系人", "")));
    }
    let phone = if n.phone.trim().is_empty() {
        None
    } else {
        match Phone::parse(&n.phone) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(("phone", e.to_string()));
                None
            }
        }
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let org = organisation::Entity::find_by_id(org_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let kind = org.kind;
    // The role is an explicit choice (no default), among those the actor may grant.
    let Some(role_id) = n.role_id else {
        errors.push(("role", "请选择角色".to_owned()));
        return Err(UserError::Fields(errors));
    };
    let Some(role) = role::Entity::find_by_id(role_id).one(&txn).await?.filter(|r| r.org_kind == kind) else {
        errors.push(("role", "所选角色不适用于该组织，请选择该组织类型的角色".to_owned()));
        return Err(UserError::Fields(errors));
    };
    let role_grants: Vec<(Permission, Scope)> = qifu_db::entity::role_permission::Entity::find()
        .filter(qifu_db::entity::role_permission::Column::RoleId.eq(role.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.permission, p.scope))
        .collect();
    if !may_grant(actor, &role_grants) {
        let duty = role_grants.iter().any(|(p, _)| matches!(p.duty(), Some(Duty::Security | Duty::Audit)));
        errors.push(("role", if duty { ONLY_SECURITY_ADMIN.to_owned() } else { "不能授予超出本人权限的角色".to_owned() }));
        return Err(UserError::Fields(errors));
    }
    if !errors.is_empty() {
        return Err(UserError::Fields(errors));
    }
    check_user_duties(&txn, &[role.id]).await?;
    let password = initial_password();
    let id = insert_user(
        &txn,
        ctx,
        UserInsert {
            org_id,
            username,
            display_name: display,
            password: &password,
            phone: phone.as_ref(),
            must_change_password: true,
            is_org_admin: false,
            role_ids: &[role.id],
        },
    )
    .await
    .map_err(|e| e.on_fields("username", "phone"))?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "user.create",
            "user",
            id,
            serde_json::json!({"after": {"username": username, "display_name": display, "org_id": org_id, "role": role.code, "phone": phone.map(|p| p.masked())}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((id, password))
}

/// Enables or disables an account. Nobody disables themselves.
pub async fn set_user_status(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, active: bool) -> Result<(), UserError> {
    let grant = user_scope(actor)?;
    if id == actor.user_id {
        return Err(UserError::Invalid("不能停用自己的账号".to_owned()));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = find_in_scope(&txn, &grant, id).await?;
    check_may_manage(&txn, actor, id).await?;
    let before = u.status;
    let status = if active { AccountStatus::Active } else { AccountStatus::Disabled };
    let mut am: user::ActiveModel = u.into();
    am.status = Set(status);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    if !active {
        super::session::end_all_for_user(&txn, id).await?;
    }
    let action = if active { "user.enable" } else { "user.disable" };
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(action, "user", id, serde_json::json!({"before": {"status": before}, "after": {"status": status}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn unlock_user(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), UserError> {
    let grant = user_scope(actor)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = find_in_scope(&txn, &grant, id).await?;
    check_may_manage(&txn, actor, id).await?;
    let mut am: user::ActiveModel = u.into();
    am.locked_until = Set(None);
    am.failed_logins = Set(0);
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.unlock", "user", id, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a new one-time password that must be changed at the next login.
pub async fn reset_user_password(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<String, UserError> {
    let grant = user_scope(actor)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = find_in_scope(&txn, &grant, id).await?;
    check_may_manage(&txn, actor, id).await?;
    let password = initial_password();
    let hash = super::hash_password(&password).map_err(|_| UserError::Invalid("密码无法处理".to_owned()))?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.must_change_password = Set(true);
    am.locked_until = Set(None);
    am.failed_logins = Set(0);
    am.update(&txn).await?;
    super::session::end_all_for_user(&txn, id).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.reset_password", "user", id, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(password)
}

/// Checks separation of duties across every role a user would hold.
pub(crate) async fn check_user_duties<C: ConnectionTrait>(conn: &C, role_ids: &[i64]) -> Result<(), UserError> {
    let perms = qifu_db::entity::role_permission::Entity::find()
        .filter(qifu_db::entity::role_permission::Column::RoleId.is_in(role_ids.to_vec()))
        .all(conn)
        .await?;
    check_separation(perms.iter().map(|p| p.permission)).map_err(|m| UserError::Invalid(m.to_owned()))
}
