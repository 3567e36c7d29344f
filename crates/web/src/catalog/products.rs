//! The back office's products: an institution drafts, edits and submits its
//! products with attachments; the operator reviews, takes them offline and
//! back online. Who may do which is decided in `app`.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm};
use crate::guard::{Needs, Staff, perm};
use crate::kit::files::file_response;
use crate::kit::review::Decision;
use crate::kit::{self, AdminChrome, Empty, FieldErrors, Pager, form, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::catalog::attachments;
use qifu_app::catalog::products as prod;
use qifu_db::entity::{category, product};
use qifu_domain::accounts::Permission;
use qifu_domain::catalog::{DeliveryMode, Pricing};
use qifu_domain::demands::ProductEvent;
use qifu_domain::demands::ProductState;
use qifu_domain::profiles::SizeClass;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "catalog/admin_products.html")]
pub struct AdminProductsPage {
    pub admin: AdminChrome,
    pub rows: Vec<product::Model>,
    pub pager: Pager,
    pub status: Option<ProductState>,
    pub can_create: bool,
    pub reviewer: bool,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "catalog/admin_product_form.html")]
pub struct ProductFormPage {
    pub admin: AdminChrome,
    pub id: Option<i64>,
    pub product: Option<product::Model>,
    pub related: Option<product::Model>,
    pub f: ProductFormView,
    pub tree: Vec<(category::Model, Vec<category::Model>)>,
    pub errors: FieldErrors,
    pub can_edit: bool,
    pub reviewer: bool,
    pub notice: Option<String>,
    pub attachments: Vec<attachments::Attachment>,
}

/// Form values shown again.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProductFormView {
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
    pub size_large: String,
    pub size_medium: String,
    pub size_small: String,
    pub size_micro: String,
    pub min_years: String,
    pub tongzhou_only: String,
    pub certification_required: String,
    pub amount_min_wan: String,
    pub amount_max_wan: String,
    pub term_min_months: String,
    pub term_max_months: String,
    pub rate_min: String,
    pub rate_max: String,
    pub guarantee_modes: String,
}

impl ProductFormView {
    pub fn from_model(p: &product::Model) -> Self {
        let has = |c: &str| if p.size_classes.split(',').any(|s| s == c) { "1".to_owned() } else { String::new() };
        let fen_to = super::fen_to;
        ProductFormView {
            category_id: p.category_id.to_string(),
            name: p.name.clone(),
            summary: p.summary.clone(),
            description: p.description.clone(),
            pricing: p.pricing.code().to_owned(),
            price_yuan: fen_to(p.price_fen, 100),
            delivery_mode: p.delivery_mode.code().to_owned(),
            service_area: p.service_area.clone(),
            contact: p.contact.clone(),
            industries: p.industries.clone(),
            size_large: has(SizeClass::Large.code()),
            size_medium: has(SizeClass::Medium.code()),
            size_small: has(SizeClass::Small.code()),
            size_micro: has(SizeClass::Micro.code()),
            min_years: p.min_years.map(|n| n.to_string()).unwrap_or_default(),
            tongzhou_only: if p.tongzhou_only { "1".into() } else { String::new() },
            certification_required: if p.certification_required { "1".into() } else { String::new() },
            amount_min_wan: fen_to(p.amount_min_fen, qifu_domain::money::FEN_PER_WAN),
            amount_max_wan: fen_to(p.amount_max_fen, qifu_domain::money::FEN_PER_WAN),
            term_min_months: p.term_min_months.map(|n| n.to_string()).unwrap_or_default(),
            term_max_months: p.term_max_months.map(|n| n.to_string()).unwrap_or_default(),
            rate_min: fen_to(p.rate_min_bp.map(i64::from), 100),
            rate_max: fen_to(p.rate_max_bp.map(i64::from), 100),
            guarantee_modes: p.guarantee_modes.clone(),
        }
    }

    pub fn to_form(&self) -> prod::ProductForm {
        let sizes = [
            ("large", &self.size_large),
            ("medium", &self.size_medium),
            ("small", &self.size_small),
            ("micro", &self.size_micro),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k.to_owned())
        .collect();
        prod::ProductForm {
            category_id: self.category_id.clone(),
            name: self.name.clone(),
            summary: self.summary.clone(),
            description: self.description.clone(),
            pricing: self.pricing.clone(),
            price_yuan: self.price_yuan.clone(),
            delivery_mode: self.delivery_mode.clone(),
            service_area: self.service_area.clone(),
            contact: self.contact.clone(),
            industries: self.industries.clone(),
            size_classes: sizes,
            min_years: self.min_years.clone(),
            tongzhou_only: !self.tongzhou_only.is_empty(),
            certification_required: !self.certification_required.is_empty(),
            amount_min_wan: self.amount_min_wan.clone(),
            amount_max_wan: self.amount_max_wan.clone(),
            term_min_months: self.term_min_months.clone(),
            term_max_months: self.term_max_months.clone(),
            rate_min: self.rate_min.clone(),
            rate_max: self.rate_max.clone(),
            guarantee_modes: self.guarantee_modes.clone(),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ProductsQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    done: String,
}

#[derive(Debug, Deserialize)]
pub struct DoneOnly {
    #[serde(default)]
    done: String,
}

fn product_notice(code: &str) -> Option<String> {
    kit::notice(
        code,
        &[
            ("saved", "已保存。"),
            ("submitted", "已提交审核，运营人员审核通过后上架。"),
            ("approved", "已审核通过并上架。"),
            ("rejected", "已驳回，机构已收到站内信。"),
            ("offline", "已下架。"),
            ("online", "已重新上架。"),
            ("attachment_added", "附件已上传。"),
            ("attachment_removed", "附件已删除。"),
        ],
    )
}

/// Institutions see their own products, catalogue managers every one (the app decides).
pub async fn list_products(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<ProductsQuery>,
) -> Result<Html<String>, WebError> {
    let actor = &staff.actor;
    let status = ProductState::parse(&q.status);
    let (rows, total) = prod::list_for_admin(&st.ctx, actor, status, q.page).await?;
    // The review queue is its own menu entry for catalogue managers.
    let review = status == Some(ProductState::Submitted) && actor.can(Permission::CatalogManage);
    let (title, active) = if review { ("产品审核", "product_review") } else { ("服务产品", "products") };
    kit::render(&AdminProductsPage {
        admin: staff.chrome(&st, title, active).await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/products?status={}", status.map_or("", ProductState::code))),
        status,
        can_create: actor.can(Permission::ProductManage),
        reviewer: actor.can(Permission::CatalogManage),
        notice: product_notice(&q.done),
    })
}

/// A product's page (or, without `id`, the new-product form: its callers hold
/// 发布和管理本机构产品).
async fn product_page<P: Needs>(
    st: &AppState,
    staff: &Staff<P>,
    id: Option<i64>,
    form: Option<ProductFormView>,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<ProductFormPage, WebError> {
    let actor = &staff.actor;
    let (product, related) = match id {
        Some(id) => {
            let p = prod::product_for(&st.ctx, actor, id).await?;
            let r = prod::related(&st.ctx, &p).await?;
            (Some(p), r)
        }
        None => (None, None),
    };
    let f = form.unwrap_or_else(|| {
        product.as_ref().map(ProductFormView::from_model).unwrap_or(ProductFormView {
            certification_required: "1".into(),
            service_area: "通州区".into(),
            ..Default::default()
        })
    });
    let can_edit = actor.can(Permission::ProductManage) && product.as_ref().is_none_or(|p| p.status != ProductState::Submitted);
    let attachments = match id {
        Some(id) => attachments::list(&st.ctx.db, id).await?,
        None => Vec::new(),
    };
    Ok(ProductFormPage {
        admin: staff.chrome(st, if id.is_some() { "服务产品详情" } else { "发布新产品" }, "products").await?,
        id,
        product,
        related,
        f,
        tree: qifu_db::read::category_tree(&st.ctx.db).await?,
        errors,
        can_edit,
        reviewer: actor.can(Permission::CatalogManage),
        attachments,
        notice,
    })
}

pub async fn show_new_product(State(st): State<AppState>, staff: Staff<perm::ProductManage>) -> Result<Html<String>, WebError> {
    kit::render(&product_page(&st, &staff, None, None, FieldErrors::default(), None).await?)
}

pub async fn create_product(
    State(st): State<AppState>,
    staff: Staff<perm::ProductManage>,
    CsrfForm { form, .. }: CsrfForm<ProductFormView>,
) -> Result<Response, WebError> {
    match prod::create_product(&st.ctx, &staff.actor, &staff.viewer.meta, &form.to_form()).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/products/{id}?done=saved")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&product_page(&st, &staff, None, Some(form), errors, None).await?)
        }
    }
}

pub async fn show_product(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneOnly>,
) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    kit::render(&product_page(&st, &staff, Some(id), None, FieldErrors::default(), product_notice(&q.done)).await?)
}

pub async fn update_product(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<ProductFormView>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match prod::update_product(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form.to_form()).await {
        Ok(edited) => Ok(Redirect::to(&format!("/admin/products/{edited}?done=saved")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&product_page(&st, &staff, Some(id), Some(form), errors, None).await?)
        }
    }
}

/// submit, offline, online (the institution or the operator) and review (the operator).
pub async fn product_action(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<Decision>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (ctx, actor, meta) = (&st.ctx, &staff.actor, &staff.viewer.meta);
    let (result, done) = match action.as_str() {
        "submit" => (prod::act(ctx, actor, meta, id, ProductEvent::Submit).await, "submitted"),
        "offline" => (prod::act(ctx, actor, meta, id, ProductEvent::TakeOffline).await, "offline"),
        "online" => (prod::act(ctx, actor, meta, id, ProductEvent::PutOnline).await, "online"),
        "review" => {
            let approve = form.approve("驳回")?;
            (prod::review(ctx, actor, meta, id, approve, &form.reason).await, if approve { "approved" } else { "rejected" })
        }
        _ => return Err(WebError::NotFound),
    };
    match result {
        Ok(()) if action == "review" => {
            Ok(Redirect::to(&format!("/admin/products?status=submitted&done={done}")).into_response())
        }
        Ok(()) => Ok(Redirect::to(&format!("/admin/products/{id}?done={done}")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            if prod::product_for(ctx, actor, id).await.is_err() {
                return Err(WebError::NotFound);
            }
            form::invalid(&product_page(&st, &staff, Some(id), None, errors, None).await?)
        }
    }
}

pub async fn add_product_file(
    State(st): State<AppState>,
    staff: Staff<perm::ProductManage>,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = MultipartForm::read_for(&staff.viewer, mp, "attachment", attachments::ATTACHMENT_MAX_BYTES).await?;
    match attachments::add(&st.ctx, &staff.actor, &staff.viewer.meta, id, &mp.file).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/products/{id}?done=attachment_added")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&product_page(&st, &staff, Some(id), None, errors, None).await?)
        }
    }
}

pub async fn remove_product_file(
    State(st): State<AppState>,
    staff: Staff<perm::ProductManage>,
    Path((id, fid)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let (id, fid) = (parse_id(&id)?, parse_id(&fid)?);
    match attachments::remove(&st.ctx, &staff.actor, &staff.viewer.meta, id, fid).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/products/{id}?done=attachment_removed")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&product_page(&st, &staff, Some(id), None, errors, None).await?)
        }
    }
}

/// An attachment of a product the staff member manages or reviews.
pub async fn product_file(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (f, bytes) = attachments::admin_file(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?, parse_id(&fid)?).await?;
    Ok(file_response(&f, bytes))
}
