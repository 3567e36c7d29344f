//! Service products: institutions draft and submit them; the operator reviews;
//! approved products are listed and can go offline and online again. Editing a
//! listed product makes a revision that is reviewed while the approved version
//! stays listed.

use super::CatalogError;
use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::messages;
use qifu_db::entity::{category, institution, product};
use qifu_domain::accounts::{OrgKind, Permission};
use qifu_domain::catalog::{DeliveryMode, Pricing};
use qifu_domain::demands::{ProductEvent, ProductState, next_product};
use qifu_domain::messages::MessageCategory;
use qifu_domain::money::{FEN_PER_WAN, parse_amount, parse_percent_bp};
use qifu_domain::profiles::SizeClass;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    TryIntoModel,
};

/// The product form as typed.
#[derive(Debug, Clone, Default)]
pub struct ProductForm {
    pub category_id: String,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub pricing: String,
    pub price_yuan: String,
    pub delivery_mode: String,
    pub service_area: String,
    pub contact: String,
    pub industries: String,
    pub size_classes: Vec<String>,
    pub min_years: String,
    pub tongzhou_only: bool,
    pub certification_required: bool,
    pub amount_min_wan: String,
    pub amount_max_wan: String,
    pub term_min_months: String,
    pub term_max_months: String,
    pub rate_min: String,
    pub rate_max: String,
    pub guarantee_modes: String,
}

/// A validated form, ready to store.
struct Valid {
    category_id: i64,
    name: String,
    summary: String,
    description: String,
    pricing: Pricing,
    price_fen: Option<i64>,
    delivery_mode: DeliveryMode,
    service_area: String,
    contact: String,
    industries: String,
    size_classes: String,
    min_years: Option<i32>,
    tongzhou_only: bool,
    certification_required: bool,
    amount: (Option<i64>, Option<i64>),
    term: (Option<i32>, Option<i32>),
    rate: (Option<i32>, Option<i32>),
    guarantee_modes: String,
}

fn plain(
    s: &str,
    max: usize,
    field: &'static str,
    label: &str,
    required: bool,
    errors: &mut Vec<(&'static str, String)>,
) -> String {
    let v = s.trim().to_owned();
    if required && v.is_empty() {
        errors.push((field, format!("请填写{label}")));
    } else if v.chars().count() > max {
        errors.push((field, format!("{label}不能超过{max}个字")));
    } else if v.chars().any(|c| matches!(c, '<' | '>') || (c.is_control() && c != '\n')) {
        errors.push((field, format!("{label}包含不允许的字符")));
    }
    v
}

fn opt_int(s: &str, field: &'static str, label: &str, max: i32, errors: &mut Vec<(&'static str, String)>) -> Option<i32> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i32>() {
        Ok(n) if (0..=max).contains(&n) => Some(n),
        _ => {
            errors.push((field, format!("{label}应为0到{max}之间的整数")));
            None
        }
    }
}

fn range<T: PartialOrd + Copy>(
    min: Option<T>,
    max: Option<T>,
    field: &'static str,
    label: &str,
    errors: &mut Vec<(&'static str, String)>,
) {
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        errors.push((field, format!("{label}的最小值不能大于最大值")));
    }
}

async fn validate(ctx: &Ctx, f: &ProductForm) -> Result<Valid, CatalogError> {
    let mut e: Vec<(&'static str, String)> = Vec::new();
    let category_id = f.category_id.trim().parse::<i64>().ok();
    let cat = match category_id {
        Some(id) => category::Entity::find_by_id(id).one(&ctx.db).await?,
        None => None,
    };
    if cat.is_none() {
        e.push(("category_id", "请选择产品分类".to_owned()));
    }
    let name = plain(&f.name, 50, "name", "产品名称", true, &mut e);
    let summary = plain(&f.summary, 300, "summary", "产品简介", true, &mut e);
    if f.description.chars().count() > 20_000 {
        e.push(("description", "产品详情不能超过20000个字".to_owned()));
    }
    // Rich text is kept, but only safe markup: scripts, handlers and styles are removed.
    let description = crate::html::clean(&f.description, &ctx.settings.messages.public_url);
    let pricing = Pricing::parse(f.pricing.trim());
    if pricing.is_none() {
        e.push(("pricing", "请选择收费方式".to_owned()));
    }
    let price_fen = if pricing == Some(Pricing::Free) || f.price_yuan.trim().is_empty() && pricing == Some(Pricing::Subsidized) {
        None
    } else {
        match parse_amount(&f.price_yuan, 100, 100_000_000) {
            Ok(m) => Some(m.fen()),
            Err(m) => {
                e.push(("price_yuan", m.replace("金额", "价格")));
                None
            }
        }
    };
    let delivery_mode = DeliveryMode::parse(f.delivery_mode.trim());
    if delivery_mode.is_none() {
        e.push(("delivery_mode", "请选择服务方式".to_owned()));
    }
    let service_area = plain(&f.service_area, 100, "service_area", "服务区域", false, &mut e);
    let contact = plain(&f.contact, 100, "contact", "联系方式", false, &mut e);
    let industries: Vec<String> =
        f.industries.split([',', '，', ' ', '、']).map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()).collect();
    if industries.iter().any(|code| qifu_domain::reference::industry::find(code).is_none()) {
        e.push(("industries", "行业代码应为 GB/T 4754-2017 的门类字母或2到4位代码，多个用逗号分隔".to_owned()));
    }
    let sizes: Vec<&str> = f.size_classes.iter().map(String::as_str).filter(|s| SizeClass::parse(s).is_some()).collect();
    let min_years = opt_int(&f.min_years, "min_years", "成立年限", 100, &mut e);
    let wan = |s: &str, field: &'static str, e: &mut Vec<(&'static str, String)>| {
        if s.trim().is_empty() {
            return None;
        }
        parse_amount(s, FEN_PER_WAN, 10_000_000).map(|m| m.fen()).map_err(|m| e.push((field, m.to_owned()))).ok()
    };
    let amount = (wan(&f.amount_min_wan, "amount", &mut e), wan(&f.amount_max_wan, "amount", &mut e));
    range(amount.0, amount.1, "amount", "融资金额", &mut e);
    let term = (
        opt_int(&f.term_min_months, "term", "期限（月）", 600, &mut e),
        opt_int(&f.term_max_months, "term", "期限（月）", 600, &mut e),
    );
    range(term.0, term.1, "term", "融资期限", &mut e);
    let rate = |s: &str, e: &mut Vec<(&'static str, String)>| {
        if s.trim().is_empty() {
            return None;
        }
        parse_percent_bp(s).map_err(|m| e.push(("rate", m.to_owned()))).ok()
    };
    let rate = (rate(&f.rate_min, &mut e), rate(&f.rate_max, &mut e));
    range(rate.0, rate.1, "rate", "年利率", &mut e);
    let guarantee_modes = plain(&f.guarantee_modes, 100, "guarantee_modes", "担保方式", false, &mut e);
    match (cat, pricing, delivery_mode, e.is_empty()) {
        (Some(c), Some(pricing), Some(delivery_mode), true) => Ok(Valid {
            category_id: c.id,
            name,
            summary,
            description,
            pricing,
            price_fen,
            delivery_mode,
            service_area: if service_area.is_empty() { "通州区".to_owned() } else { service_area },
            contact,
            industries: industries.join(","),
            size_classes: sizes.join(","),
            min_years,
            tongzhou_only: f.tongzhou_only,
            certification_required: f.certification_required,
            amount,
            term,
            rate,
            guarantee_modes,
        }),
        _ => Err(CatalogError::Fields(e)),
    }
}

fn apply(am: &mut product::ActiveModel, v: Valid) {
    am.category_id = Set(v.category_id);
    am.name = Set(v.name);
    am.summary = Set(v.summary);
    am.description = Set(v.description);
    am.pricing = Set(v.pricing);
    am.price_fen = Set(v.price_fen);
    am.delivery_mode = Set(v.delivery_mode);
    am.service_area = Set(v.service_area);
    am.contact = Set(v.contact);
    am.industries = Set(v.industries);
    am.size_classes = Set(v.size_classes);
    am.min_years = Set(v.min_years);
    am.tongzhou_only = Set(v.tongzhou_only);
    am.certification_required = Set(v.certification_required);
    am.amount_min_fen = Set(v.amount.0);
    am.amount_max_fen = Set(v.amount.1);
    am.term_min_months = Set(v.term.0);
    am.term_max_months = Set(v.term.1);
    am.rate_min_bp = Set(v.rate.0);
    am.rate_max_bp = Set(v.rate.1);
    am.guarantee_modes = Set(v.guarantee_modes);
}

/// The organisation of an institution (whose files a product's attachments are).
pub(crate) async fn institution_org<C: sea_orm::ConnectionTrait>(conn: &C, institution_id: i64) -> Result<i64, CatalogError> {
    Ok(institution::Entity::find_by_id(institution_id).one(conn).await?.ok_or(AccessError::NotFound)?.org_id)
}

/// The institution an actor works for.
async fn own_institution(ctx: &Ctx, actor: &Actor) -> Result<institution::Model, CatalogError> {
    if actor.org_kind != OrgKind::Institution {
        return Err(AccessError::Forbidden.into());
    }
    Ok(institution::Entity::find()
        .filter(institution::Column::OrgId.eq(actor.org_id))
        .one(&ctx.db)
        .await?
        .ok_or(AccessError::Forbidden)?)
}

/// A product the actor may see: any for catalogue managers; otherwise within
/// the ProductManage scope (本组织: its institution's; 全部: any).
pub async fn product_for(ctx: &Ctx, actor: &Actor, id: i64) -> Result<product::Model, CatalogError> {
    let p = product::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    if actor.can(Permission::CatalogManage) {
        return Ok(p);
    }
    let grant = crate::actor::require(actor, Permission::ProductManage)?;
    if !grant.covers(institution_org(&ctx.db, p.institution_id).await?, None) {
        return Err(AccessError::NotFound.into());
    }
    Ok(p)
}

/// Products for the back office: an institution's own, or all for the operator.
pub async fn list_for_admin(
    ctx: &Ctx,
    actor: &Actor,
    status: Option<ProductState>,
    page: u64,
) -> Result<(Vec<product::Model>, u64), CatalogError> {
    let mut q = product::Entity::find().order_by_desc(product::Column::UpdatedAt).order_by_desc(product::Column::Id);
    if !actor.can(Permission::CatalogManage) {
        let grant = crate::actor::require(actor, Permission::ProductManage)?;
        if !grant.is_all() {
            let inst = own_institution(ctx, actor).await?;
            q = q.filter(product::Column::InstitutionId.eq(inst.id));
        }
    }
    if let Some(s) = status {
        q = q.filter(product::Column::Status.eq(s));
    }
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?, total))
}

/// Creates a draft for the actor's institution.
pub async fn create_product(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &ProductForm) -> Result<i64, CatalogError> {
    crate::actor::require(actor, Permission::ProductManage)?;
    let inst = own_institution(ctx, actor).await?;
    let v = validate(ctx, f).await?;
    let now = ctx.now();
    let name = v.name.clone();
    let mut am = product::ActiveModel {
        institution_id: Set(inst.id),
        status: Set(ProductState::Draft),
        applied_count: Set(0),
        published_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        revision_of: Set(None),
        reject_reason: Set(None),
        submitted_by: Set(None),
        ..Default::default()
    };
    apply(&mut am, v);
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = am.insert(&txn).await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Product, p.id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("product.create", "product", p.id, serde_json::json!({"after": {"name": name}})),
    )
    .await?;
    txn.commit().await?;
    Ok(p.id)
}

/// Edits a product. A draft or rejected product changes in place; a listed one
/// gets a revision (created or updated) that must be reviewed. Returns the id edited.
pub async fn update_product(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, f: &ProductForm) -> Result<i64, CatalogError> {
    let p = product_for(ctx, actor, id).await?;
    if actor.can(Permission::CatalogManage) && !actor.can(Permission::ProductManage) {
        return Err(AccessError::Forbidden.into());
    }
    let v = validate(ctx, f).await?;
    let state = p.status;
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let edited = match state {
        ProductState::Draft | ProductState::Rejected => {
            let mut am: product::ActiveModel = p.into();
            apply(&mut am, v);
            am.updated_at = Set(now);
            am.update(&txn).await?.id
        }
        ProductState::Submitted => return Err(CatalogError::State("产品正在审核中，审核完成后才能修改")),
        ProductState::Online | ProductState::Offline => {
            let existing = product::Entity::find().filter(product::Column::RevisionOf.eq(id)).one(&txn).await?;
            if existing.as_ref().is_some_and(|r| r.status == ProductState::Submitted) {
                return Err(CatalogError::State("该产品的修改正在审核中，审核完成后才能再次修改"));
            }
            let fresh = existing.is_none();
            let mut am: product::ActiveModel = match existing {
                Some(r) => r.into(),
                None => product::ActiveModel {
                    institution_id: Set(p.institution_id),
                    applied_count: Set(0),
                    published_at: Set(None),
                    created_at: Set(now),
                    revision_of: Set(Some(id)),
                    submitted_by: Set(None),
                    ..Default::default()
                },
            };
            apply(&mut am, v);
            am.status = Set(ProductState::Draft);
            am.reject_reason = Set(None);
            am.updated_at = Set(now);
            let rev = am.save(&txn).await?.try_into_model()?.id;
            if fresh {
                super::attachments::copy_to(&txn, ctx, id, rev).await?;
            }
            rev
        }
    };
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("product.update", "product", edited, serde_json::json!({"product": id})),
    )
    .await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Product, edited).await?;
    txn.commit().await?;
    Ok(edited)
}

async fn transition(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    p: product::Model,
    ev: ProductEvent,
    reason: Option<&str>,
) -> Result<(), CatalogError> {
    let from = p.status;
    let to = next_product(from, ev).map_err(|e| CatalogError::StateOwned(e.to_string()))?;
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let id = p.id;
    let submitter = p.submitted_by;
    let name = p.name.clone();
    match (ev, p.revision_of) {
        // An approved revision replaces the listed version's content; the revision row goes away.
        (ProductEvent::Approve, Some(orig_id)) => {
            let orig = product::Entity::find_by_id(orig_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
            let mut am: product::ActiveModel = orig.into();
            am.category_id = Set(p.category_id);
            am.name = Set(p.name.clone());
            am.summary = Set(p.summary.clone());
            am.description = Set(p.description.clone());
            am.pricing = Set(p.pricing);
            am.price_fen = Set(p.price_fen);
            am.delivery_mode = Set(p.delivery_mode);
            am.service_area = Set(p.service_area.clone());
            am.contact = Set(p.contact.clone());
            am.industries = Set(p.industries.clone());
            am.size_classes = Set(p.size_classes.clone());
            am.min_years = Set(p.min_years);
            am.tongzhou_only = Set(p.tongzhou_only);
            am.certification_required = Set(p.certification_required);
            am.amount_min_fen = Set(p.amount_min_fen);
            am.amount_max_fen = Set(p.amount_max_fen);
            am.term_min_months = Set(p.term_min_months);
            am.term_max_months = Set(p.term_max_months);
            am.rate_min_bp = Set(p.rate_min_bp);
            am.rate_max_bp = Set(p.rate_max_bp);
            am.guarantee_modes = Set(p.guarantee_modes.clone());
            am.updated_at = Set(now);
            am.update(&txn).await?;
            super::attachments::replace(&txn, ctx, id, orig_id).await?;
            product::Entity::delete_by_id(id).exec(&txn).await?;
            crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Product, orig_id).await?;
        }
        _ => {
            let mut am: product::ActiveModel = p.into();
            am.status = Set(to);
            am.updated_at = Set(now);
            match ev {
                ProductEvent::Submit => {
                    am.submitted_by = Set(Some(actor.user_id));
                    am.reject_reason = Set(None);
                }
                ProductEvent::Reject => am.reject_reason = Set(reason.map(str::to_owned)),
                ProductEvent::Approve => am.published_at = Set(Some(now)),
                _ => {}
            }
            am.update(&txn).await?;
        }
    }
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Product, id).await?;
    let action = match ev {
        ProductEvent::Submit => "product.submit",
        ProductEvent::Approve => "product.approve",
        ProductEvent::Reject => "product.reject",
        ProductEvent::TakeOffline => "product.offline",
        ProductEvent::PutOnline => "product.online",
    };
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            action,
            "product",
            id,
            serde_json::json!({"before": {"status": from.code()}, "after": {"status": to.code(), "reason": reason}}),
        ),
    )
    .await?;
    if let (Some(uid), ProductEvent::Approve | ProductEvent::Reject) = (submitter, ev) {
        let (title, body) = if ev == ProductEvent::Approve {
            (format!("服务产品“{name}”已通过审核"), "产品已上架，企业可在门户查看和申请。".to_owned())
        } else {
            (format!("服务产品“{name}”未通过审核"), format!("驳回原因：{}。请修改后重新提交。", reason.unwrap_or("")))
        };
        messages::notify(&txn, ctx, uid, MessageCategory::Product, &title, &body, Some("/admin/products")).await?;
    }
    if ev == ProductEvent::Submit {
        for op in crate::actor::operator_users(&txn).await? {
            if !crate::actor::load_actor(&txn, op.id).await?.is_some_and(|a| a.can(Permission::CatalogManage)) {
                continue;
            }
            let title = format!("服务产品“{name}”待审核");
            messages::notify(
                &txn,
                ctx,
                op.id,
                MessageCategory::Product,
                &title,
                "请在后台“产品审核”中审核。",
                Some(&format!("/admin/products/{id}")),
            )
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Institution actions on its own product: submit, take offline, put online.
pub async fn act(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, ev: ProductEvent) -> Result<(), CatalogError> {
    let p = product_for(ctx, actor, id).await?;
    if matches!(ev, ProductEvent::Approve | ProductEvent::Reject) {
        return Err(AccessError::Forbidden.into());
    }
    if ev == ProductEvent::Submit {
        crate::actor::require(actor, Permission::ProductManage)?;
    }
    transition(ctx, actor, meta, p, ev, None).await
}

/// The operator's review decision.
pub async fn review(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, approve: bool, reason: &str) -> Result<(), CatalogError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let reason = reason.trim();
    if !approve && reason.chars().count() < 2 {
        return Err(CatalogError::Fields(vec![("reason", "驳回时请填写原因".to_owned())]));
    }
    let p = product::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let ev = if approve { ProductEvent::Approve } else { ProductEvent::Reject };
    transition(ctx, actor, meta, p, ev, if reason.is_empty() { None } else { Some(reason) }).await
}

/// The listed original of a revision, or the revision pending for a listed product.
pub async fn related(ctx: &Ctx, p: &product::Model) -> Result<Option<product::Model>, DbErr> {
    match p.revision_of {
        Some(orig) => product::Entity::find_by_id(orig).one(&ctx.db).await,
        None => product::Entity::find().filter(product::Column::RevisionOf.eq(p.id)).one(&ctx.db).await,
    }
}
