//! The portal's catalogue: the product list with its filters, a product, an
//! institution, and a listed product's attachments.

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::kit::files::file_response;
use crate::kit::{self, PageChrome, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use qifu_db::entity::category;
use qifu_db::read::{InstitutionView, ProductCard, RatingRow};
use qifu_domain::catalog::{DeliveryMode, Pricing};
use serde::Deserialize;

type Page = Result<Html<String>, WebError>;

#[derive(Template)]
#[template(path = "catalog/products.html")]
pub struct ProductsPage {
    pub chrome: PageChrome,
    pub items: Vec<ProductCard>,
    pub pager: Pager,
    pub tree: Vec<(category::Model, Vec<category::Model>)>,
    pub institutions: Vec<InstitutionView>,
    pub f: ProductFilterView,
}

/// The prices the list filters by (a priced product's amount varies).
pub const PRICE_FILTERS: [Pricing; 2] = [Pricing::Free, Pricing::Subsidized];

/// The product filters as the form shows them again.
#[derive(Clone, Debug, Default)]
pub struct ProductFilterView {
    pub category: String,
    pub institution: String,
    pub mode: String,
    pub price: String,
    pub kw: String,
    pub sort: String,
}

impl ProductFilterView {
    /// A link to the list with one filter changed and the page reset.
    pub fn with(&self, key: &str, value: &str) -> String {
        let mut pairs = vec![
            ("category", self.category.as_str()),
            ("institution", self.institution.as_str()),
            ("mode", self.mode.as_str()),
            ("price", self.price.as_str()),
            ("kw", self.kw.as_str()),
            ("sort", self.sort.as_str()),
        ];
        for p in pairs.iter_mut() {
            if p.0 == key {
                p.1 = value;
            }
        }
        let kept: Vec<(&str, &str)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let qs = serde_urlencoded::to_string(kept).unwrap_or_default();
        if qs.is_empty() { "/products".to_owned() } else { format!("/products?{qs}") }
    }

    pub fn is(&self, key: &str, value: &str) -> bool {
        let v = match key {
            "mode" => &self.mode,
            "price" => &self.price,
            "sort" => &self.sort,
            _ => return false,
        };
        v == value
    }
}

#[derive(Template)]
#[template(path = "catalog/product.html")]
pub struct ProductPage {
    pub chrome: PageChrome,
    pub card: ProductCard,
    pub category: String,
    pub attachments: Vec<qifu_app::catalog::attachments::Attachment>,
    pub ratings: Vec<RatingRow>,
}

#[derive(Template)]
#[template(path = "catalog/institution.html")]
pub struct InstitutionPage {
    pub chrome: PageChrome,
    pub inst: InstitutionView,
    pub products: Vec<ProductCard>,
    pub ratings: Vec<RatingRow>,
}

impl InstitutionPage {
    /// The institution's rating over its listed products: "4.6分（12条评价）" or "暂无评价".
    pub fn rating(&self) -> String {
        let (n, sum) = self
            .products
            .iter()
            .fold((0i64, 0i64), |(n, s), c| (n + i64::from(c.product.rating_count), s + i64::from(c.product.rating_sum)));
        if n == 0 {
            return "暂无评价".to_owned();
        }
        let avg = sum * 100 / n;
        format!("{}.{}分（{}条评价）", avg / 100, (avg % 100) / 10, n)
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ProductQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    category: String,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    kw: String,
    #[serde(default)]
    sort: String,
}

pub async fn list_products(State(st): State<AppState>, v: Viewer, Query(q): Query<ProductQuery>) -> Page {
    let id = |s: &str| s.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let pick = |s: &str, allowed: &[&str]| if allowed.contains(&s) { s.to_owned() } else { String::new() };
    let f = ProductFilterView {
        category: id(&q.category).map(|n| n.to_string()).unwrap_or_default(),
        institution: id(&q.institution).map(|n| n.to_string()).unwrap_or_default(),
        mode: DeliveryMode::parse(&q.mode).map_or("", DeliveryMode::code).to_owned(),
        price: Pricing::parse(&q.price).filter(|p| PRICE_FILTERS.contains(p)).map_or("", Pricing::code).to_owned(),
        kw: q.kw.trim().chars().take(50).collect(),
        sort: pick(&q.sort, &["newest", "popular", "rated"]),
    };
    let filter = qifu_db::read::ProductFilter {
        category_id: id(&f.category),
        institution_id: id(&f.institution),
        delivery_mode: DeliveryMode::parse(&f.mode),
        pricing: Pricing::parse(&f.price),
        keyword: f.kw.clone(),
        sort: f.sort.clone(),
    };
    let page = qifu_db::read::product_list(&st.ctx.db, &filter, q.page).await?;
    let base = f.with("", "");
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    let tree = qifu_db::read::category_tree(&st.ctx.db).await?;
    let institutions = qifu_db::read::active_institutions(&st.ctx.db).await?;
    kit::render(&ProductsPage {
        chrome: PageChrome::new(&st, &v, "服务产品", "products"),
        items: page.items,
        pager,
        tree,
        institutions,
        f,
    })
}

pub async fn show_product(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let card = qifu_db::read::public_product(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let tree = qifu_db::read::category_tree(&st.ctx.db).await?;
    let category = tree
        .iter()
        .find_map(|(top, children)| {
            if top.id == card.product.category_id {
                Some(top.name.clone())
            } else {
                children.iter().find(|c| c.id == card.product.category_id).map(|c| format!("{} / {}", top.name, c.name))
            }
        })
        .unwrap_or_default();
    let attachments = qifu_app::catalog::attachments::list(&st.ctx.db, id).await?;
    let ratings = qifu_db::read::recent_ratings(&st.ctx.db, None, Some(id), 10).await?;
    let chrome = PageChrome::new(&st, &v, &card.product.name, "products");
    kit::render(&ProductPage { chrome, card, category, attachments, ratings })
}

/// An attachment of a listed product.
pub async fn product_file(State(st): State<AppState>, Path((id, fid)): Path<(String, String)>) -> Result<Response, WebError> {
    let (f, bytes) = qifu_app::catalog::attachments::public_file(&st.ctx, parse_id(&id)?, parse_id(&fid)?).await?;
    Ok(file_response(&f, bytes))
}

pub async fn show_institution(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let inst = qifu_db::read::public_institution(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let filter = qifu_db::read::ProductFilter { institution_id: Some(id), ..Default::default() };
    let products = qifu_db::read::product_list(&st.ctx.db, &filter, 1).await?.items;
    let ratings = qifu_db::read::recent_ratings(&st.ctx.db, Some(id), None, 10).await?;
    let chrome = PageChrome::new(&st, &v, &inst.name, "products");
    kit::render(&InstitutionPage { chrome, inst, products, ratings })
}
