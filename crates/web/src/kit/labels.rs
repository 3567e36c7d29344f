//! Labels for values that pages of several areas show (the portal home lists
//! policies, products and activities; the policy page lists related products).

use qifu_db::read::ProductCard;
use qifu_domain::catalog::Pricing;

/// A product's price as a card shows it.
pub fn pricing_label(p: &ProductCard) -> String {
    match p.product.pricing {
        Pricing::Free | Pricing::Subsidized => p.product.pricing.label().to_owned(),
        Pricing::Price => p.product.price_fen.map(|f| format!("{}元起", f / 100)).unwrap_or_else(|| "面议".to_owned()),
    }
}
