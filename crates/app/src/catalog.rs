//! The service catalogue: the category tree (产品分类), edited in the back office,
//! and the products institutions publish.

pub mod attachments;
pub mod products;

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{category, product};
use qifu_domain::accounts::Permission;
use qifu_domain::catalog::CategoryKind;
use qifu_domain::demands::{DemandState, ProductState};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("表单有误")]
    Fields(Vec<(&'static str, String)>),
    #[error("{0}")]
    State(&'static str),
    #[error("{0}")]
    StateOwned(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for CatalogError {
    fn from(e: DbErr) -> Self {
        CatalogError::Access(AccessError::Db(e))
    }
}

/// A category as typed in the form.
#[derive(Debug, Clone)]
pub struct CategoryForm {
    pub name: String,
    pub parent_id: Option<i64>,
    pub sort: i32,
    /// Chosen for a top-level category (`None`: unchanged, or 服务类 for a
    /// new one); a child takes its parent's.
    pub kind: Option<CategoryKind>,
}

/// The kind of a category: its top-level category's (children inherit it).
pub async fn category_kind<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<CategoryKind>, DbErr> {
    let Some(c) = category::Entity::find_by_id(id).one(conn).await? else { return Ok(None) };
    Ok(Some(match c.parent_id {
        Some(pid) => category::Entity::find_by_id(pid).one(conn).await?.map_or(c.kind, |top| top.kind),
        None => c.kind,
    }))
}

/// The kind a category saved from `f` gets: its parent's, or the one chosen,
/// or the one it had (`before`), or 服务类.
async fn kind_for<C: ConnectionTrait>(conn: &C, f: &CategoryForm, before: Option<CategoryKind>) -> Result<CategoryKind, DbErr> {
    let own = f.kind.or(before).unwrap_or(CategoryKind::Service);
    Ok(match f.parent_id {
        Some(pid) => category::Entity::find_by_id(pid).one(conn).await?.map_or(own, |p| p.kind),
        None => own,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 {
        return Err("请填写分类名称".to_owned());
    }
    if n > 16 {
        return Err("分类名称不能超过16个字".to_owned());
    }
    if name.chars().any(|c| matches!(c, '<' | '>' | '"' | '\'' | '\\' | '`') || c.is_control()) {
        return Err("分类名称包含不允许的字符".to_owned());
    }
    Ok(())
}

/// Validates a form against the tree: two levels at most, names unique among siblings.
async fn validate(ctx: &Ctx, f: &CategoryForm, editing: Option<i64>) -> Result<String, CatalogError> {
    let name = f.name.trim().to_owned();
    let mut errors = Vec::new();
    if let Err(m) = check_name(&name) {
        errors.push(("name", m));
    }
    if let Some(pid) = f.parent_id {
        match category::Entity::find_by_id(pid).one(&ctx.db).await? {
            None => errors.push(("parent_id", "上级分类不存在".to_owned())),
            Some(p) if p.parent_id.is_some() => errors.push(("parent_id", "分类最多两级，只能选择一级分类作为上级".to_owned())),
            Some(_) if editing == Some(pid) => errors.push(("parent_id", "不能选择自己作为上级".to_owned())),
            Some(_) => {}
        }
        if let Some(id) = editing
            && category::Entity::find().filter(category::Column::ParentId.eq(id)).count(&ctx.db).await? > 0
        {
            errors.push(("parent_id", "该分类下还有子分类，不能再设为子分类".to_owned()));
        }
    }
    let mut siblings = category::Entity::find().filter(category::Column::Name.eq(name.as_str()));
    siblings = match f.parent_id {
        Some(p) => siblings.filter(category::Column::ParentId.eq(p)),
        None => siblings.filter(category::Column::ParentId.is_null()),
    };
    if siblings.all(&ctx.db).await?.iter().any(|c| Some(c.id) != editing) {
        errors.push(("name", "同一级下已有同名分类".to_owned()));
    }
    if errors.is_empty() { Ok(name) } else { Err(CatalogError::Fields(errors)) }
}

pub async fn create_category(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &CategoryForm) -> Result<i64, CatalogError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let name = validate(ctx, f, None).await?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let kind = kind_for(&txn, f, None).await?;
    let c = category::ActiveModel {
        parent_id: Set(f.parent_id),
        name: Set(name.clone()),
        sort: Set(f.sort),
        kind: Set(kind),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "category.create",
            "category",
            c.id,
            serde_json::json!({"after": {"name": name, "parent_id": f.parent_id, "sort": f.sort, "kind": kind.code()}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(c.id)
}

pub async fn update_category(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, f: &CategoryForm) -> Result<(), CatalogError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let existing = category::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let name = validate(ctx, f, Some(id)).await?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let kind = kind_for(&txn, f, Some(existing.kind)).await?;
    let before = serde_json::json!({
        "name": existing.name, "parent_id": existing.parent_id, "sort": existing.sort, "kind": existing.kind.code()
    });
    let mut am: category::ActiveModel = existing.into();
    am.name = Set(name.clone());
    am.parent_id = Set(f.parent_id);
    am.sort = Set(f.sort);
    am.kind = Set(kind);
    am.update(&txn).await?;
    // Children inherit the kind.
    category::Entity::update_many()
        .col_expr(category::Column::Kind, sea_orm::sea_query::Expr::value(kind))
        .filter(category::Column::ParentId.eq(id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "category.update",
            "category",
            id,
            serde_json::json!({
                "before": before,
                "after": {"name": name, "parent_id": f.parent_id, "sort": f.sort, "kind": kind.code()}
            }),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes an empty category (no products, no sub-categories).
pub async fn delete_category(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), CatalogError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let c = category::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if category::Entity::find().filter(category::Column::ParentId.eq(id)).count(&txn).await? > 0 {
        return Err(CatalogError::State("该分类下还有子分类，请先删除或移走子分类"));
    }
    if product::Entity::find().filter(product::Column::CategoryId.eq(id)).count(&txn).await? > 0 {
        return Err(CatalogError::State("该分类下还有服务产品，不能删除"));
    }
    category::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("category.delete", "category", id, serde_json::json!({"before": {"name": c.name}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The tree with product counts, for the back office.
pub async fn tree_for_admin(
    ctx: &Ctx,
    actor: &Actor,
) -> Result<Vec<(category::Model, u64, Vec<(category::Model, u64)>)>, AccessError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let tree = qifu_db::read::category_tree(&ctx.db).await?;
    let mut out = Vec::new();
    for (top, children) in tree {
        let n = product::Entity::find().filter(product::Column::CategoryId.eq(top.id)).count(&ctx.db).await?;
        let mut kids = Vec::new();
        for c in children {
            let k = product::Entity::find().filter(product::Column::CategoryId.eq(c.id)).count(&ctx.db).await?;
            kids.push((c, k));
        }
        out.push((top, n, kids));
    }
    Ok(out)
}

/// A recommended product with the reason it fits.
#[derive(Debug, Clone)]
pub struct Recommendation {
    pub card: qifu_db::read::ProductCard,
    pub reason: String,
    /// Share of decided demands the institution accepted, in percent, if any were decided.
    pub acceptance: Option<u32>,
}

/// Recommendations v1 (智能产品匹配): online products whose criteria the
/// enterprise meets, ranked by how specifically they fit and by acceptance rate.
pub async fn recommend(ctx: &Ctx, actor: &Actor, limit: usize) -> Result<Vec<Recommendation>, DbErr> {
    use qifu_db::entity::{demand, enterprise, organisation};
    use qifu_domain::catalog::{Criteria, fit};
    use qifu_domain::profiles::Profile;
    if actor.org_kind != qifu_domain::accounts::OrgKind::Enterprise {
        return Ok(Vec::new());
    }
    let org = organisation::Entity::find_by_id(actor.org_id).one(&ctx.db).await?;
    let ent = enterprise::Entity::find().filter(enterprise::Column::OrgId.eq(actor.org_id)).one(&ctx.db).await?;
    let today = ctx.now().date_naive();
    let certified = org.as_ref().map(|o| o.certified_at.is_some());
    let profile = match &ent {
        Some(e) => crate::profiles::profile_of(e, certified, today),
        None => Profile { certified, ..Default::default() },
    };
    let products = product::Entity::find().filter(product::Column::Status.eq(ProductState::Online)).all(&ctx.db).await?;
    let decided = demand::Entity::find()
        .filter(
            demand::Column::Status
                .is_in(DemandState::ALL.into_iter().filter(|s| !matches!(s, DemandState::Submitted | DemandState::Withdrawn))),
        )
        .all(&ctx.db)
        .await?;
    let mut scored: Vec<(u32, u32, product::Model, String, Option<u32>)> = Vec::new();
    for p in products {
        let c = Criteria::from_columns(&p.industries, &p.size_classes, p.min_years, p.tongzhou_only, p.certification_required);
        let Some(f) = fit(&c, &profile) else { continue };
        let mine: Vec<&demand::Model> = decided.iter().filter(|d| d.product_id == p.id).collect();
        let acceptance = if mine.is_empty() {
            None
        } else {
            let ok = mine.iter().filter(|d| d.status != DemandState::Declined).count();
            u32::try_from(ok * 100 / mine.len()).ok()
        };
        scored.push((f.matched, acceptance.unwrap_or(50), p, f.reason, acceptance));
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.applied_count.cmp(&a.2.applied_count)));
    scored.truncate(limit);
    let cards = qifu_db::read::cards(&ctx.db, scored.iter().map(|s| s.2.clone()).collect()).await?;
    Ok(cards.into_iter().zip(scored).map(|(card, s)| Recommendation { card, reason: s.3, acceptance: s.4 }).collect())
}
