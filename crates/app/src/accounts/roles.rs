//! Roles as named sets of permissions, each with a data scope. Separation of
//! duties is enforced whenever a role is saved.

use super::Actor;
use super::users::UserError;
use crate::actor::AccessError;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{role, role_permission};
use qifu_domain::accounts::{BuiltinRole, OrgKind, Permission, Scope, check_separation, duties};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

#[derive(Debug, Clone)]
pub struct RoleRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub org_kind: OrgKind,
    pub builtin: bool,
    pub grants: Vec<(Permission, Scope)>,
}

pub async fn list_roles(ctx: &Ctx, actor: &Actor) -> Result<Vec<RoleRow>, AccessError> {
    super::require(actor, Permission::RoleManage)?;
    let roles = role::Entity::find().order_by_asc(role::Column::Id).all(&ctx.db).await?;
    let perms = role_permission::Entity::find().all(&ctx.db).await?;
    Ok(roles
        .into_iter()
        .map(|r| RoleRow {
            grants: perms.iter().filter(|p| p.role_id == r.id).map(|p| (p.permission, p.scope)).collect(),
            id: r.id,
            code: r.code,
            name: r.name,
            org_kind: r.org_kind,
            builtin: r.builtin,
        })
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct RoleForm {
    pub code: String,
    pub name: String,
    pub org_kind: String,
    pub grants: Vec<(String, String)>,
}

/// Creates (id = None) or updates a role and its grants.
pub async fn save_role(ctx: &Ctx, actor: &Actor, meta: &Meta, id: Option<i64>, f: &RoleForm) -> Result<i64, UserError> {
    super::require(actor, Permission::RoleManage)?;
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        errors.push(("name", "角色名称不能为空且不超过32个字".to_owned()));
    }
    let code = f.code.trim();
    if id.is_none()
        && (code.len() < 3 || code.len() > 64 || !code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    {
        errors.push(("code", "角色编码为3到64位小写字母、数字或下划线".to_owned()));
    }
    let kind = OrgKind::parse(&f.org_kind);
    if id.is_none() && kind.is_none() {
        errors.push(("org_kind", "请选择角色适用的组织类型".to_owned()));
    }
    let mut grants = Vec::new();
    for (p, s) in &f.grants {
        match (Permission::parse(p), Scope::parse(s)) {
            // A flag permission reaches everything whatever scope was sent.
            (Some(p), Some(_)) if p.is_flag() => grants.push((p, Scope::All)),
            (Some(p), Some(s)) if p.scopes().contains(&s) => grants.push((p, s)),
            (Some(p), Some(s)) => errors.push(("grants", format!("“{}”没有“{}”这一数据范围", p.label(), s.label()))),
            _ => errors.push(("grants", "权限或数据范围不存在".to_owned())),
        }
    }
    if let Err(m) = check_separation(grants.iter().map(|(p, _)| *p)) {
        errors.push(("grants", m.to_owned()));
    }
    let existing = match id {
        Some(id) => Some(role::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?),
        None => None,
    };
    // A built-in role keeps its duty: it cannot gain another one.
    if let Some(builtin) = existing.as_ref().filter(|r| r.builtin).and_then(|r| BuiltinRole::parse(&r.code)) {
        let allowed = duties(builtin.grants().iter().map(|(p, _)| *p));
        if !duties(grants.iter().map(|(p, _)| *p)).is_subset(&allowed) {
            errors.push(("grants", "三权分立：内置角色不能增加其他职责类别的权限".to_owned()));
        }
    }
    // Enterprise and institution roles reach their own organisation at most.
    let role_kind = existing.as_ref().map(|r| r.org_kind).or(kind);
    if matches!(role_kind, Some(OrgKind::Enterprise | OrgKind::Institution)) {
        for (p, s) in &grants {
            let back_office = *p == Permission::BackOffice && role_kind == Some(OrgKind::Institution);
            if *s == Scope::All && !back_office {
                errors.push(("grants", format!("企业和机构的角色不能获得平台范围的权限：“{}”", p.label())));
            }
        }
    }
    if !errors.is_empty() {
        return Err(UserError::Fields(errors));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let (role_id, before) = match id {
        Some(id) => {
            let r = role::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
            let old: Vec<String> = role_permission::Entity::find()
                .filter(role_permission::Column::RoleId.eq(id))
                .all(&txn)
                .await?
                .into_iter()
                .map(|p| format!("{}:{}", p.permission.code(), p.scope.code()))
                .collect();
            let before = serde_json::json!({"name": r.name, "grants": old});
            let mut am: role::ActiveModel = r.into();
            am.name = Set(name.to_owned());
            am.update(&txn).await?;
            role_permission::Entity::delete_many().filter(role_permission::Column::RoleId.eq(id)).exec(&txn).await?;
            (id, Some(before))
        }
        None => {
            if role::Entity::find().filter(role::Column::Code.eq(code)).one(&txn).await?.is_some() {
                return Err(UserError::Fields(vec![("code", "角色编码已存在".to_owned())]));
            }
            let r = role::ActiveModel {
                code: Set(code.to_owned()),
                name: Set(name.to_owned()),
                org_kind: Set(kind.unwrap_or(OrgKind::Operator)),
                builtin: Set(false),
                created_at: Set(ctx.now()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            (r.id, None)
        }
    };
    for (p, s) in &grants {
        role_permission::ActiveModel { role_id: Set(role_id), permission: Set(*p), scope: Set(*s) }.insert(&txn).await?;
    }
    let after: Vec<String> = grants.iter().map(|(p, s)| format!("{}:{}", p.code(), s.code())).collect();
    let action = if id.is_some() { "role.update" } else { "role.create" };
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(action, "role", role_id, serde_json::json!({"before": before, "after": {"name": name, "grants": after}})),
    )
    .await?;
    txn.commit().await?;
    Ok(role_id)
}
