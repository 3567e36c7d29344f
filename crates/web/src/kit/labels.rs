//! Labels for values that pages of several areas show (the portal home lists
//! policies, products and activities; the policy page lists related products).

use qifu_db::read::ProductCard;

/// A policy's level: 国家 / 北京市 / 通州区.
pub fn level_label(level: &str) -> &'static str {
    match level {
        "national" => "国家",
        "city" => "北京市",
        "district" => "通州区",
        _ => "其他",
    }
}

/// A product's price as a card shows it.
pub fn pricing_label(p: &ProductCard) -> String {
    match p.product.pricing.as_str() {
        "free" => "免费".to_owned(),
        "subsidized" => "政府补贴".to_owned(),
        _ => p.product.price_fen.map(|f| format!("{}元起", f / 100)).unwrap_or_else(|| "面议".to_owned()),
    }
}

pub fn activity_kind_label(k: &str) -> &'static str {
    if k == "training" { "培训" } else { "活动" }
}

pub fn institution_kind_label(k: &str) -> &'static str {
    qifu_domain::accounts::InstitutionKind::parse(k).map(|k| k.label()).unwrap_or("服务机构")
}
