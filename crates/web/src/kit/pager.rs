//! Pagination: the `?page=N` query and the links under a list.

use serde::Deserialize;

/// `?page=N` on list pages; anything unparsable is page 1.
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub page: u64,
}

/// A page number from a query: anything unparsable or out of range is 1.
pub fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()).filter(|n| *n >= 1 && *n <= 100_000).unwrap_or(1))
}

/// Pagination links that keep the other query parameters.
#[derive(Clone, Debug)]
pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub base: String,
}

impl Pager {
    pub fn new(page: u64, per_page: u64, total: u64, base: String) -> Self {
        Pager { page, pages: total.div_ceil(per_page.max(1)).max(1), total, base }
    }
    pub fn href(&self, page: u64) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}page={page}", self.base)
    }
    pub fn has_prev(&self) -> bool {
        self.page > 1
    }
    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }
    pub fn prev(&self) -> u64 {
        self.page.saturating_sub(1).max(1)
    }
    pub fn next(&self) -> u64 {
        (self.page + 1).min(self.pages)
    }
}
