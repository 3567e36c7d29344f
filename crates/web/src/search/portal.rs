//! The portal's search page: every public kind at once, or one kind paged,
//! falling back to title matches while the index is not ready.

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::kit::{self, PageChrome, Pager, lenient_u64};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use qifu_app::search::{self, Kind};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "search/search.html")]
pub struct SearchPage {
    pub chrome: PageChrome,
    pub notice: Option<String>,
    /// Title matches from the database while the index is being built.
    pub fallback: Option<qifu_db::read::SearchHits>,
    pub results: search::Results,
    /// The kind asked for ("" for all).
    pub kind: String,
    pub category: String,
    pub days: String,
    /// Categories offered for the kind asked for.
    pub categories: Vec<String>,
    pub pager: Pager,
}

impl SearchPage {
    /// The link of a search with this page's terms and `kind`.
    pub fn kind_url(&self, kind: &str) -> String {
        let mut q = vec![("q", self.chrome.q.as_str())];
        if !kind.is_empty() {
            q.push(("type", kind));
        }
        if !self.days.is_empty() {
            q.push(("days", self.days.as_str()));
        }
        format!("/search?{}", serde_urlencoded::to_string(q).unwrap_or_default())
    }

    pub fn kinds(&self) -> Vec<(&'static str, &'static str, usize)> {
        Kind::PUBLIC.iter().map(|k| (k.as_str(), k.label(), self.results.count(*k))).collect()
    }

    pub fn hits_of(&self, kind: &str) -> Vec<&search::Hit> {
        self.results.hits.iter().filter(|h| h.kind.as_str() == kind).collect()
    }
}

/// Where a search hit lives on the portal.
pub fn hit_url(h: &search::Hit) -> String {
    let base = match h.kind {
        Kind::Policy => "/policies",
        Kind::Product => "/products",
        Kind::Institution => "/institutions",
        Kind::News => "/news",
        Kind::Activity => "/activities",
        Kind::Enterprise => "/admin/enterprises",
    };
    format!("{base}/{}", h.id)
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    days: String,
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
}

/// Results per kind on the "all" view, and per page on a kind's own view.
const SEARCH_PREVIEW: usize = 5;
const SEARCH_PER_PAGE: u64 = 10;

pub async fn search(State(st): State<AppState>, v: Viewer, Query(sq): Query<SearchQuery>) -> Result<Html<String>, WebError> {
    let mut chrome = PageChrome::new(&st, &v, "搜索", "");
    chrome.q = sq.q.trim().chars().take(100).collect();
    let kind = Kind::parse(&sq.kind).filter(|k| Kind::PUBLIC.contains(k));
    let days = match sq.days.as_str() {
        d @ ("7" | "30" | "365") => d.to_owned(),
        _ => String::new(),
    };
    let categories: Vec<String> = match kind {
        Some(Kind::Product) => qifu_db::read::category_tree(&st.ctx.db)
            .await?
            .into_iter()
            .flat_map(|(t, c)| std::iter::once(t.name).chain(c.into_iter().map(|c| c.name)))
            .collect(),
        Some(Kind::Policy) => ["国家", "北京市", "通州区"].map(str::to_owned).to_vec(),
        Some(Kind::News) => ["新闻动态", "通知公告"].map(str::to_owned).to_vec(),
        Some(Kind::Activity) => ["活动", "培训"].map(str::to_owned).to_vec(),
        Some(Kind::Institution) => qifu_domain::accounts::InstitutionKind::ALL.iter().map(|k| k.label().to_owned()).collect(),
        _ => Vec::new(),
    };
    let category = if categories.contains(&sq.category) { sq.category.clone() } else { String::new() };
    let page = sq.page.max(1);
    let mut out = SearchPage {
        chrome,
        notice: None,
        fallback: None,
        results: Default::default(),
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        category,
        days,
        categories,
        pager: Pager::new(1, SEARCH_PER_PAGE, 0, String::new()),
    };
    let text = match search::check_query(&sq.q) {
        Ok(t) => t,
        Err(problem) => {
            out.notice = Some(problem.to_string());
            return kit::render(&out);
        }
    };
    let req = search::Request {
        text: text.clone(),
        kinds: Vec::new(),
        kind,
        category: (!out.category.is_empty()).then(|| out.category.clone()),
        since: out.days.parse::<i64>().ok().map(|d| st.ctx.now() - chrono::Duration::days(d)),
        public_only: true,
        offset: usize::try_from((page - 1) * SEARCH_PER_PAGE).unwrap_or(0),
        limit: if kind.is_some() { SEARCH_PER_PAGE as usize } else { SEARCH_PREVIEW },
    };
    match search::portal(&st.ctx, req).await {
        Ok(r) => {
            if let Some(k) = kind {
                let mut base = out.kind_url(k.as_str());
                if !out.category.is_empty() {
                    base.push_str(&format!(
                        "&{}",
                        serde_urlencoded::to_string([("category", out.category.as_str())]).unwrap_or_default()
                    ));
                }
                out.pager = Pager::new(page, SEARCH_PER_PAGE, r.count(k) as u64, base);
            }
            out.results = r;
        }
        // Not an error on the portal: the page says so and matches titles instead.
        Err(search::SearchFailure::NotReady) => {
            out.notice = Some(search::SearchFailure::NotReady.to_string());
            out.fallback = Some(qifu_db::read::search_titles(&st.ctx.db, &text).await?);
        }
        Err(e) => {
            tracing::error!(error = %e, "search failed");
            out.notice = Some("搜索暂时不可用，已改为按标题查找。".to_owned());
            out.fallback = Some(qifu_db::read::search_titles(&st.ctx.db, &text).await?);
        }
    }
    kit::render(&out)
}
