//! Organisations: the operator registers institution accounts (机构账号注册)
//! and can disable any organisation.

use super::users::{UserError, initial_password};
use super::{Actor, UserInsert, insert_org, insert_user};
use crate::actor::AccessError;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::{DateTime, Utc};
use qifu_db::entity::{institution, organisation, role, user};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::{BuiltinRole, InstitutionKind, OrgKind, Permission, Phone, check_username};
use qifu_domain::accounts::{check_org_name, check_person_name};
use qifu_domain::certification::CreditCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: Option<String>,
    pub status: AccountStatus,
    pub channel: Option<String>,
    pub users: u64,
    pub created_at: DateTime<Utc>,
}

pub async fn list_orgs(
    ctx: &Ctx,
    actor: &Actor,
    kind: Option<OrgKind>,
    q: &str,
    page: u64,
) -> Result<(Vec<OrgRow>, u64), AccessError> {
    super::require(actor, Permission::OrgManage)?;
    let mut query = organisation::Entity::find().order_by_desc(organisation::Column::Id);
    if let Some(k) = kind {
        query = query.filter(organisation::Column::Kind.eq(k));
    }
    let q = q.trim();
    if !q.is_empty() {
        query = query.filter(
            sea_orm::Condition::any()
                .add(organisation::Column::Name.contains(q))
                .add(organisation::Column::CreditCode.starts_with(q.to_ascii_uppercase())),
        );
    }
    let total = query.clone().count(&ctx.db).await?;
    let orgs = query.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?;
    let mut rows = Vec::with_capacity(orgs.len());
    for o in orgs {
        let users = user::Entity::find().filter(user::Column::OrgId.eq(o.id)).count(&ctx.db).await?;
        rows.push(OrgRow {
            id: o.id,
            kind: o.kind,
            name: o.name,
            credit_code: o.credit_code,
            status: o.status,
            channel: o.channel,
            users,
            created_at: o.created_at,
        });
    }
    Ok((rows, total))
}

/// Disables (or re-enables) an organisation; its users can no longer sign in.
pub async fn set_org_status(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, active: bool) -> Result<(), UserError> {
    super::require(actor, Permission::OrgManage)?;
    if id == actor.org_id {
        return Err(UserError::Invalid("不能停用自己所在的组织".to_owned()));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let o = organisation::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = o.status;
    let status = if active { AccountStatus::Active } else { AccountStatus::Disabled };
    let mut am: organisation::ActiveModel = o.into();
    am.status = Set(status);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    if !active {
        let uids: Vec<i64> =
            user::Entity::find().filter(user::Column::OrgId.eq(id)).all(&txn).await?.into_iter().map(|u| u.id).collect();
        for uid in uids {
            super::session::end_all_for_user(&txn, uid).await?;
        }
    }
    // What the portal shows of the organisation follows its status.
    for i in institution::Entity::find().filter(institution::Column::OrgId.eq(id)).all(&txn).await? {
        crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Institution, i.id).await?;
        for p in qifu_db::entity::product::Entity::find()
            .filter(qifu_db::entity::product::Column::InstitutionId.eq(i.id))
            .all(&txn)
            .await?
        {
            crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Product, p.id).await?;
        }
    }
    let action = if active { "org.enable" } else { "org.disable" };
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(action, "organisation", id, serde_json::json!({"before": {"status": before}, "after": {"status": status}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct NewInstitution {
    pub name: String,
    pub credit_code: String,
    pub kind: String,
    pub intro: String,
    pub admin_username: String,
    pub admin_name: String,
    pub admin_phone: String,
}

/// Registers an institution with its administrator; returns the organisation id,
/// the administrator's username and one-time password.
pub async fn create_institution(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    n: &NewInstitution,
) -> Result<(i64, String, String), UserError> {
    super::require(actor, Permission::OrgManage)?;
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = n.name.trim();
    if let Err(m) = check_org_name(name) {
        errors.push(("name", m.replace("企业", "机构")));
    }
    let code = match CreditCode::parse(&n.credit_code) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(("credit_code", e.to_string()));
            None
        }
    };
    let kind = InstitutionKind::parse(&n.kind);
    if kind.is_none() {
        errors.push(("kind", "请选择机构类型".to_owned()));
    }
    let intro = n.intro.trim();
    if intro.chars().count() > 2000 {
        errors.push(("intro", "机构简介不能超过2000字".to_owned()));
    }
    let username = n.admin_username.trim();
    if let Err(m) = check_username(username) {
        errors.push(("admin_username", m.to_owned()));
    }
    let admin_name = n.admin_name.trim();
    if let Err(m) = check_person_name(admin_name) {
        errors.push(("admin_name", m.replace("联系人", "")));
    }
    let phone = match Phone::parse(&n.admin_phone) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(("admin_phone", e.to_string()));
            None
        }
    };
    if let Some(c) = &code
        && organisation::Entity::find().filter(organisation::Column::CreditCode.eq(c.as_str())).one(&ctx.db).await?.is_some()
    {
        errors.push(("credit_code", "该统一社会信用代码已有组织使用".to_owned()));
    }
    let (Some(code), Some(kind), Some(phone)) = (code, kind, phone) else {
        return Err(UserError::Fields(errors));
    };
    if !errors.is_empty() {
        return Err(UserError::Fields(errors));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let org_id = insert_org(&txn, ctx, OrgKind::Institution, name, Some(code.to_string())).await?;
    let now = ctx.now();
    let inst = institution::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind),
        intro: Set(intro.to_owned()),
        contact_name: Set(Some(admin_name.to_owned())),
        address: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Institution, inst.id).await?;
    super::ensure_builtin_roles(&txn, ctx).await?;
    let role = role::Entity::find()
        .filter(role::Column::Code.eq(BuiltinRole::InstitutionAdmin.code()))
        .one(&txn)
        .await?
        .ok_or(AccessError::NotFound)?;
    let password = initial_password();
    insert_user(
        &txn,
        ctx,
        UserInsert {
            org_id,
            username,
            display_name: admin_name,
            password: &password,
            phone: Some(&phone),
            must_change_password: true,
            is_org_admin: true,
            role_ids: &[role.id],
        },
    )
    .await
    .map_err(|e| e.on_fields("admin_username", "admin_phone"))?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "org.create_institution",
            "organisation",
            org_id,
            serde_json::json!({"after": {"name": name, "credit_code": code.as_str(), "kind": kind.code(), "admin": username}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((org_id, username.to_owned(), password))
}
