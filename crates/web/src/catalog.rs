//! The service catalogue: the portal's product list, product and institution
//! pages; the back office's products (institutions draft, the operator reviews),
//! their attachments, and the categories.

mod categories;
mod portal;
mod products;

use crate::AppState;
use crate::error::WebError;
use axum::Router;
use axum::routing::{get, post};
use qifu_app::catalog::CatalogError;
use qifu_db::entity::product;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(portal::list_products))
        .route("/products/{id}", get(portal::show_product))
        .route("/products/{id}/files/{fid}", get(portal::product_file))
        .route("/institutions/{id}", get(portal::show_institution))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/products", get(products::list_products).post(products::create_product))
        .route("/admin/products/new", get(products::show_new_product))
        .route("/admin/products/{id}", get(products::show_product).post(products::update_product))
        .route("/admin/products/{id}/files", post(products::add_product_file))
        .route("/admin/products/{id}/files/{fid}", get(products::product_file))
        .route("/admin/products/{id}/files/{fid}/delete", post(products::remove_product_file))
        .route("/admin/products/{id}/{action}", post(products::product_action))
        .route("/admin/categories", get(categories::list_categories).post(categories::create_category))
        .route("/admin/categories/{id}", post(categories::update_category))
        .route("/admin/categories/{id}/delete", post(categories::delete_category))
}

impl From<CatalogError> for WebError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Fields(list) => WebError::Invalid(list.into()),
            CatalogError::State(m) => WebError::Conflict(m.to_owned()),
            CatalogError::StateOwned(m) => WebError::Conflict(m),
            CatalogError::Access(a) => a.into(),
        }
    }
}

/// A product's rating for people: "4.5分（2条评价）" or "暂无评价".
pub fn rating_label(p: &product::Model) -> String {
    if p.rating_count == 0 {
        "暂无评价".to_owned()
    } else {
        let avg = p.rating_avg_x100();
        format!("{}.{}分（{}条评价）", avg / 100, (avg % 100) / 10, p.rating_count)
    }
}

/// An amount in fen (or basis points) in units of `per`, without trailing zeros: 1050 / 100 → "10.50".
fn fen_to(v: Option<i64>, per: i64) -> String {
    match v {
        None => String::new(),
        Some(f) if f % per == 0 => (f / per).to_string(),
        Some(f) => format!("{}.{:02}", f / per, (f % per) * 100 / per),
    }
}

/// A range for people: "10–500万元", "不低于 10万元", "不超过 36个月".
fn range(lo: &str, hi: &str, unit: &str) -> Option<String> {
    match (lo.is_empty(), hi.is_empty()) {
        (true, true) => None,
        (false, true) => Some(format!("不低于{lo}{unit}")),
        (true, false) => Some(format!("不超过{hi}{unit}")),
        (false, false) if lo == hi => Some(format!("{lo}{unit}")),
        (false, false) => Some(format!("{lo}–{hi}{unit}")),
    }
}

/// The facts of a product the detail page lists: service terms, financing
/// ranges and who may apply.
pub fn product_facts(p: &product::Model) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !p.service_area.trim().is_empty() {
        out.push(("服务区域", p.service_area.clone()));
    }
    let wan = qifu_domain::money::FEN_PER_WAN;
    if let Some(r) = range(&fen_to(p.amount_min_fen, wan), &fen_to(p.amount_max_fen, wan), "万元") {
        out.push(("额度", r));
    }
    let months = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    if let Some(r) = range(&months(p.term_min_months), &months(p.term_max_months), "个月") {
        out.push(("期限", r));
    }
    let pct = |v: Option<i32>| fen_to(v.map(i64::from), 100);
    if let Some(r) = range(&pct(p.rate_min_bp), &pct(p.rate_max_bp), "%") {
        out.push(("年化利率", r));
    }
    if !p.guarantee_modes.trim().is_empty() {
        out.push(("担保方式", p.guarantee_modes.replace(',', "、")));
    }
    let mut who = Vec::new();
    if !p.industries.trim().is_empty() {
        who.push(format!("行业代码 {}", p.industries.replace(',', "、")));
    }
    let sizes: Vec<&str> =
        p.size_classes.split(',').filter_map(qifu_domain::profiles::SizeClass::parse).map(|s| s.label()).collect();
    if !sizes.is_empty() {
        who.push(format!("{}企业", sizes.join("、")));
    }
    if let Some(y) = p.min_years.filter(|y| *y > 0) {
        who.push(format!("成立满{y}年"));
    }
    if p.tongzhou_only {
        who.push("注册地在通州区".to_owned());
    }
    if p.certification_required {
        who.push("已完成企业实名认证".to_owned());
    }
    out.push(("申请条件", if who.is_empty() { "不限".to_owned() } else { who.join("；") }));
    if !p.contact.trim().is_empty() {
        out.push(("联系方式", p.contact.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_ranges() {
        assert_eq!(fen_to(Some(1050), 100), "10.50");
        assert_eq!(fen_to(Some(500), 100), "5");
        assert_eq!(fen_to(None, 100), "");
        assert_eq!(range("10", "500", "万元").as_deref(), Some("10–500万元"));
        assert_eq!(range("", "36", "个月").as_deref(), Some("不超过36个月"));
        assert_eq!(range("", "", "%"), None);
    }
}
