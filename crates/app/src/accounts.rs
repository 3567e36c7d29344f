//! Accounts: organisations, users and sub-accounts, roles and permissions,
//! menus, registration, login security and sessions.

mod captcha;
mod login;
mod menu;
mod onboarding;
mod orgs;
mod password;
mod register;
mod roles;
mod session;
mod sms_code;
pub mod totp;
mod users;

pub use captcha::{Captcha, check_captcha, new_captcha, prune_captchas};
pub use login::{LoginError, LoginOutcome, LoginRequest, SecondFactorError, login, send_second_factor, verify_second_factor};
pub use menu::{MenuError, MenuNode, MenuUpdate, back_office_menu, ensure_menus, list_menus, update_menu};
pub use onboarding::{
    InstitutionApplicationForm, OnboardingError, application as institution_application, apply_institution,
    licence as institution_application_licence, list_applications as list_institution_applications,
    pending_count as pending_institution_applications, review_application as review_institution_application,
};
pub use orgs::{NewInstitution, OrgRow, create_institution, list_orgs, set_org_status};
pub use password::{PasswordError, change_password, hash_password, reset_password_by_sms, verify_password};
pub use register::{Registration, RegistrationError, clean_channel, register_enterprise};

pub use roles::{RoleForm, RoleRow, list_roles, save_role};
pub use session::{
    SessionInfo, SessionRow, end_own_session, force_out, list_online, list_own_sessions, logout, open_session_for_tools,
    prune_sessions, random_token, resolve_session,
};
pub use sms_code::{SmsCodeError, SmsPurpose, send_code, verify_code};
pub use users::{
    NewSubAccount, RoleChoice, UserError, UserFilter, UserRow, create_sub_account, grantable_roles, list_users,
    reset_user_password, set_user_status, unlock_user,
};

use crate::actor::{Actor, load_actor, operator_users, require};
use crate::context::Ctx;
use qifu_db::entity::{organisation, role, role_permission, user, user_role};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::{BuiltinRole, OrgKind, Permission, check_password_with, check_username};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// Creates the built-in roles where missing and gives every built-in role the
/// built-in grants it lacks (so permissions added by an upgrade reach existing
/// installations). Idempotent.
pub async fn ensure_builtin_roles<C: ConnectionTrait>(conn: &C, ctx: &Ctx) -> Result<(), DbErr> {
    let existing = role::Entity::find().all(conn).await?;
    for r in BuiltinRole::ALL {
        let role_id = match existing.iter().find(|e| e.code == r.code()) {
            Some(e) => e.id,
            None => {
                role::ActiveModel {
                    code: Set(r.code().to_owned()),
                    name: Set(r.label().to_owned()),
                    org_kind: Set(r.org_kind()),
                    builtin: Set(true),
                    created_at: Set(ctx.now()),
                    ..Default::default()
                }
                .insert(conn)
                .await?
                .id
            }
        };
        let have: Vec<Permission> = role_permission::Entity::find()
            .filter(role_permission::Column::RoleId.eq(role_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| p.permission)
            .collect();
        for (p, s) in r.grants() {
            if !have.contains(p) {
                role_permission::ActiveModel { role_id: Set(role_id), permission: Set(*p), scope: Set(*s) }.insert(conn).await?;
            }
        }
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
    pub phone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("用户名“{0}”已被使用")]
    UsernameTaken(String),
    #[error("该手机号码已被其他账号使用")]
    PhoneTaken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Creates a user (and its organisation when needed) in one transaction.
pub async fn create_user(ctx: &Ctx, new: NewUser) -> Result<i64, CreateUserError> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let id = create_user_in(&txn, ctx, new).await?;
    crate::audit::record(
        &txn,
        ctx,
        None,
        &crate::context::Meta::system("qifu admin create-user"),
        crate::audit::Entry::ok("user.create", "user", id, serde_json::json!({"via": "cli"})),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

/// Creates a user inside the caller's transaction.
pub async fn create_user_in<C: ConnectionTrait>(conn: &C, ctx: &Ctx, new: NewUser) -> Result<i64, CreateUserError> {
    check_username(&new.username).map_err(CreateUserError::Invalid)?;
    check_password_with(&new.password, Some(&new.username), new.phone.as_deref(), &[&new.display_name, &new.org_name])
        .map_err(CreateUserError::Invalid)?;
    let display = new.display_name.trim();
    if display.is_empty() || display.chars().count() > 64 {
        return Err(CreateUserError::Invalid("姓名不能为空且不超过64个字符"));
    }
    let org_name = new.org_name.trim();
    if org_name.is_empty() || org_name.chars().count() > 200 {
        return Err(CreateUserError::Invalid("组织名称不能为空且不超过200个字符"));
    }
    let phone = match &new.phone {
        Some(p) => Some(qifu_domain::accounts::Phone::parse(p).map_err(|_| CreateUserError::Invalid("手机号码格式不正确"))?),
        None => None,
    };
    ensure_builtin_roles(conn, ctx).await?;
    let kind = new.role.org_kind();
    let org = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(kind))
        .filter(organisation::Column::Name.eq(org_name))
        .one(conn)
        .await?;
    let org_id = match org {
        Some(o) => o.id,
        None => insert_org(conn, ctx, kind, org_name, None).await?,
    };
    let role = role::Entity::find()
        .filter(role::Column::Code.eq(new.role.code()))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(new.role.code().to_owned()))?;
    insert_user(
        conn,
        ctx,
        UserInsert {
            org_id,
            username: &new.username,
            display_name: display,
            password: &new.password,
            phone: phone.as_ref(),
            must_change_password: new.must_change_password,
            is_org_admin: true,
            role_ids: &[role.id],
        },
    )
    .await
}

pub(crate) struct UserInsert<'a> {
    pub org_id: i64,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub phone: Option<&'a qifu_domain::accounts::Phone>,
    pub must_change_password: bool,
    pub is_org_admin: bool,
    pub role_ids: &'a [i64],
}

/// Inserts a user row with its roles; the phone is stored encrypted with a blind index.
pub(crate) async fn insert_user<C: ConnectionTrait>(conn: &C, ctx: &Ctx, u: UserInsert<'_>) -> Result<i64, CreateUserError> {
    if user::Entity::find().filter(user::Column::Username.eq(u.username)).one(conn).await?.is_some() {
        return Err(CreateUserError::UsernameTaken(u.username.to_owned()));
    }
    let phone_hash = u.phone.map(|p| ctx.crypto.blind_index(p.as_str()));
    if let Some(h) = &phone_hash
        && user::Entity::find().filter(user::Column::PhoneHash.eq(h.as_str())).one(conn).await?.is_some()
    {
        return Err(CreateUserError::PhoneTaken);
    }
    let hash = hash_password(u.password).map_err(|_| CreateUserError::Invalid("密码无法处理"))?;
    let now = ctx.now();
    let row = user::ActiveModel {
        org_id: Set(u.org_id),
        username: Set(u.username.to_owned()),
        display_name: Set(u.display_name.to_owned()),
        password_hash: Set(hash),
        status: Set(AccountStatus::Active),
        must_change_password: Set(u.must_change_password),
        created_at: Set(now),
        updated_at: Set(now),
        phone_enc: Set(u.phone.map(|p| ctx.crypto.encrypt(p.as_str()))),
        phone_hash: Set(phone_hash),
        phone_masked: Set(u.phone.map(|p| p.masked())),
        failed_logins: Set(0),
        password_changed_at: Set(Some(now)),
        is_org_admin: Set(u.is_org_admin),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if qifu_db::is_unique_violation(&e) { CreateUserError::UsernameTaken(u.username.to_owned()) } else { e.into() }
    })?;
    for rid in u.role_ids {
        user_role::ActiveModel { user_id: Set(row.id), role_id: Set(*rid) }.insert(conn).await?;
    }
    Ok(row.id)
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
        kind: Set(kind),
        name: Set(name.to_owned()),
        credit_code: Set(credit_code),
        status: Set(AccountStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        channel: Set(None),
        certified_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(o.id)
}
