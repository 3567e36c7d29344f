//! The back-office menu tree (菜单管理): stored in the database, editable, and
//! shown per permission.

use super::Actor;
use crate::actor::AccessError;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::menu;
use qifu_domain::accounts::Permission;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryOrder};

/// (code, parent code, label, href, permission)
#[allow(clippy::type_complexity)] // a data table: one tuple per row reads best
const SEED: &[(&str, Option<&str>, &str, Option<&str>, Option<Permission>)] = &[
    ("dashboard", None, "工作台", Some("/admin"), Some(Permission::BackOffice)),
    ("enterprise", None, "企业服务", None, None),
    ("enterprises", Some("enterprise"), "企业管理", Some("/admin/enterprises"), Some(Permission::EnterpriseView)),
    ("certifications", Some("enterprise"), "实名认证审核", Some("/admin/certifications"), Some(Permission::CertificationReview)),
    ("data", None, "数据治理", None, None),
    ("imports", Some("data"), "数据导入", Some("/admin/imports"), Some(Permission::EnterpriseManage)),
    ("data_reviews", Some("data"), "数据核对", Some("/admin/data-reviews"), Some(Permission::EnterpriseManage)),
    ("quality", Some("data"), "数据质量", Some("/admin/quality"), Some(Permission::EnterpriseView)),
    ("data_catalog", Some("data"), "数据目录", Some("/admin/data-catalog"), Some(Permission::EnterpriseView)),
    ("policy", None, "政策服务", None, None),
    ("policies", Some("policy"), "政策管理", Some("/admin/policies"), Some(Permission::PolicyManage)),
    ("crawl", Some("policy"), "政策归集", Some("/admin/crawl-sources"), Some(Permission::PolicyManage)),
    ("market", None, "服务市场", None, None),
    ("demands", Some("market"), "需求受理", Some("/admin/demands"), Some(Permission::ProductManage)),
    ("demands_all", Some("market"), "服务需求", Some("/admin/demands?scope=all"), Some(Permission::DemandOversee)),
    ("products", Some("market"), "服务产品", Some("/admin/products"), Some(Permission::ProductManage)),
    ("product_review", Some("market"), "产品审核", Some("/admin/products?status=submitted"), Some(Permission::CatalogManage)),
    ("categories", Some("market"), "产品分类", Some("/admin/categories"), Some(Permission::CatalogManage)),
    ("search", Some("market"), "搜索设置", Some("/admin/search"), Some(Permission::CatalogManage)),
    ("accounts", None, "组织与账号", None, None),
    ("users", Some("accounts"), "用户管理", Some("/admin/users"), Some(Permission::UserManage)),
    ("orgs", Some("accounts"), "组织管理", Some("/admin/orgs"), Some(Permission::OrgManage)),
    (
        "institution_applications",
        Some("accounts"),
        "机构入驻审核",
        Some("/admin/institution-applications"),
        Some(Permission::OrgManage),
    ),
    ("roles", Some("accounts"), "角色管理", Some("/admin/roles"), Some(Permission::RoleManage)),
    ("menus", Some("accounts"), "菜单管理", Some("/admin/menus"), Some(Permission::MenuManage)),
    ("security", None, "安全与审计", None, None),
    ("online", Some("security"), "在线用户", Some("/admin/online"), Some(Permission::SessionOnline)),
    ("login_log", Some("security"), "登录日志", Some("/admin/login-log"), Some(Permission::LoginLogView)),
    ("operation_log", Some("security"), "操作日志", Some("/admin/operation-log"), Some(Permission::OperationLogView)),
    ("audit", Some("security"), "审计日志", Some("/admin/audit"), Some(Permission::AuditView)),
    ("messages_group", None, "消息中心", None, None),
    ("inbox", Some("messages_group"), "我的站内信", Some("/admin/messages"), Some(Permission::BackOffice)),
    ("broadcasts", Some("messages_group"), "群发消息", Some("/admin/broadcasts"), Some(Permission::MessageManage)),
    ("message_templates", Some("messages_group"), "消息模板", Some("/admin/message-templates"), Some(Permission::MessageManage)),
    ("deliveries", Some("messages_group"), "发送记录", Some("/admin/deliveries"), Some(Permission::MessageManage)),
    ("wechat", Some("messages_group"), "微信公众号", Some("/admin/wechat"), Some(Permission::MessageManage)),
    ("system", None, "系统", None, None),
    ("sms", Some("system"), "短信发件箱", Some("/admin/sms"), Some(Permission::SmsOutboxView)),
    ("jobs", Some("system"), "任务队列", Some("/admin/jobs"), Some(Permission::JobView)),
    ("account", None, "我的账号", Some("/account"), Some(Permission::BackOffice)),
];

/// Inserts the seeded entries that are missing. Idempotent; edits are kept.
pub async fn ensure_menus<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let existing = menu::Entity::find().all(conn).await?;
    for (i, (code, parent, label, href, perm)) in SEED.iter().enumerate() {
        if existing.iter().any(|m| m.code == *code) {
            continue;
        }
        let parent_id = match parent {
            Some(pc) => menu::Entity::find().all(conn).await?.into_iter().find(|m| m.code == *pc).map(|m| m.id),
            None => None,
        };
        menu::ActiveModel {
            parent_id: Set(parent_id),
            code: Set((*code).to_owned()),
            label: Set((*label).to_owned()),
            href: Set(href.map(str::to_owned)),
            permission: Set(*perm),
            sort: Set(i as i32 * 10),
            visible: Set(true),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// One entry of the side menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuNode {
    pub code: String,
    pub label: String,
    pub href: Option<String>,
    pub children: Vec<MenuNode>,
}

/// The menu this actor sees: visible entries whose permission it holds; groups
/// only when they keep at least one child.
pub async fn back_office_menu(ctx: &Ctx, actor: &Actor) -> Result<Vec<MenuNode>, DbErr> {
    let all = menu::Entity::find().order_by_asc(menu::Column::Sort).order_by_asc(menu::Column::Id).all(&ctx.db).await?;
    let allowed = |m: &menu::Model| m.visible && m.permission.is_none_or(|p| actor.can(p));
    let mut out = Vec::new();
    for top in all.iter().filter(|m| m.parent_id.is_none() && allowed(m)) {
        let children: Vec<MenuNode> = all
            .iter()
            .filter(|c| c.parent_id == Some(top.id) && allowed(c) && c.href.is_some())
            .map(|c| MenuNode { code: c.code.clone(), label: c.label.clone(), href: c.href.clone(), children: vec![] })
            .collect();
        if top.href.is_none() && children.is_empty() {
            continue;
        }
        out.push(MenuNode { code: top.code.clone(), label: top.label.clone(), href: top.href.clone(), children });
    }
    Ok(out)
}

/// Every menu entry, for the menu management page.
pub async fn list_menus(ctx: &Ctx, actor: &Actor) -> Result<Vec<menu::Model>, AccessError> {
    super::require(actor, Permission::MenuManage)?;
    Ok(menu::Entity::find().order_by_asc(menu::Column::Sort).order_by_asc(menu::Column::Id).all(&ctx.db).await?)
}

#[derive(Debug, Clone)]
pub struct MenuUpdate {
    pub label: String,
    pub sort: i32,
    pub visible: bool,
    /// A permission code, or empty for none.
    pub permission: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for MenuError {
    fn from(e: DbErr) -> Self {
        MenuError::Access(AccessError::Db(e))
    }
}

pub async fn update_menu(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, f: MenuUpdate) -> Result<(), MenuError> {
    super::require(actor, Permission::MenuManage)?;
    let label = f.label.trim();
    if label.is_empty() || label.chars().count() > 16 {
        return Err(MenuError::Invalid("菜单名称不能为空且不超过16个字"));
    }
    let perm = match f.permission.trim() {
        "" => None,
        code => Some(Permission::parse(code).ok_or(MenuError::Invalid("权限不存在"))?),
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let m = menu::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = serde_json::json!({"label": m.label, "sort": m.sort, "visible": m.visible, "permission": m.permission});
    let mut am: menu::ActiveModel = m.into();
    am.label = Set(label.to_owned());
    am.sort = Set(f.sort);
    am.visible = Set(f.visible);
    am.permission = Set(perm);
    am.update(&txn).await?;
    let after = serde_json::json!({"label": label, "sort": f.sort, "visible": f.visible, "permission": perm});
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("menu.update", "menu", id, serde_json::json!({"before": before, "after": after})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
