//! Public portal pages.

use super::PageQuery;
use crate::AppState;
use crate::error::{WebError, safe_next};
use crate::extract::{A11Y_COOKIE, Viewer};
use crate::view::*;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

type Page = Result<Html<String>, WebError>;

pub async fn show_home(State(st): State<AppState>, v: Viewer) -> Page {
    let counts = st.home_counts().await?;
    let home = qifu_db::read::home_with(&st.ctx.db, st.ctx.now(), counts).await?;
    let recommendations = match v.actor() {
        Some(a) => qifu_app::catalog::recommend(&st.ctx, a, 6).await?,
        None => Vec::new(),
    };
    let chrome = PageChrome::new(&st, &v, "首页", "home");
    Ok(Html(HomePage { chrome, home, recommendations }.render()?))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PolicyQuery {
    #[serde(deserialize_with = "super::lenient_u64")]
    page: u64,
    level: String,
    support: String,
    issuer: String,
    tag: String,
    open: String,
}

pub async fn list_policies(State(st): State<AppState>, v: Viewer, Query(q): Query<PolicyQuery>) -> Page {
    let (issuers, tags) = st.policy_facets().await?;
    // Unknown filter values are ignored, never errors.
    let filter = qifu_db::read::PolicyFilter {
        level: if ["national", "city", "district"].contains(&q.level.as_str()) { q.level.clone() } else { String::new() },
        support_type: if qifu_app::policies::SUPPORT_TYPES.contains(&q.support.as_str()) {
            q.support.clone()
        } else {
            String::new()
        },
        issuer: if issuers.contains(&q.issuer) { q.issuer.clone() } else { String::new() },
        tag: if tags.contains(&q.tag) { q.tag.clone() } else { String::new() },
        open_on: (q.open == "1").then(|| st.ctx.now().date_naive()),
    };
    let page = qifu_db::read::published_policies(&st.ctx.db, &filter, q.page).await?;
    let base = format!(
        "/policies?{}",
        serde_urlencoded::to_string([
            ("level", filter.level.as_str()),
            ("support", filter.support_type.as_str()),
            ("issuer", filter.issuer.as_str()),
            ("tag", filter.tag.as_str()),
            ("open", if filter.open_on.is_some() { "1" } else { "" }),
        ])
        .unwrap_or_default()
    );
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    let chrome = PageChrome::new(&st, &v, "政策", "policies");
    Ok(Html(PoliciesPage { chrome, items: page.items, pager, filter, issuers: issuers.to_vec(), tags: tags.to_vec() }.render()?))
}

pub async fn show_policy(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let policy = qifu_db::read::public_policy(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let conditions: Vec<String> = qifu_app::policies::current_rule(&st.ctx.db, &policy)
        .await?
        .map(|(_, r)| qifu_domain::policy::conditions(&r).iter().map(|c| c.describe()).collect())
        .unwrap_or_default();
    let expired = policy.status == "expired" || policy.valid_until.is_some_and(|d| d < st.ctx.now().date_naive());
    let tags: Vec<String> = policy.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect();
    let related = qifu_db::read::related_products(&st.ctx.db, &tags, 4).await?;
    let attachments = qifu_app::policies::attachments(&st.ctx.db, id).await?;
    let chrome = PageChrome::new(&st, &v, &policy.title, "policies");
    Ok(Html(PolicyPage { chrome, policy, conditions, expired, related, attachments }.render()?))
}

#[derive(Debug, Deserialize, Default)]
pub struct ProductQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
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
        mode: pick(&q.mode, &["online", "offline"]),
        price: pick(&q.price, &["free", "subsidized"]),
        kw: q.kw.trim().chars().take(50).collect(),
        sort: pick(&q.sort, &["newest", "popular", "rated"]),
    };
    let filter = qifu_db::read::ProductFilter {
        category_id: id(&f.category),
        institution_id: id(&f.institution),
        delivery_mode: Some(f.mode.clone()).filter(|s| !s.is_empty()),
        pricing: Some(f.price.clone()).filter(|s| !s.is_empty()),
        keyword: f.kw.clone(),
        sort: f.sort.clone(),
    };
    let page = qifu_db::read::product_list(&st.ctx.db, &filter, q.page).await?;
    let base = f.with("", "");
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    let tree = qifu_db::read::category_tree(&st.ctx.db).await?;
    let institutions = qifu_db::read::active_institutions(&st.ctx.db).await?;
    Ok(Html(
        ProductsPage {
            chrome: PageChrome::new(&st, &v, "服务产品", "products"),
            items: page.items,
            pager,
            tree,
            institutions,
            f,
        }
        .render()?,
    ))
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
    Ok(Html(ProductPage { chrome, card, category, attachments, ratings }.render()?))
}

/// An attachment of a listed product.
pub async fn product_file(State(st): State<AppState>, Path((id, fid)): Path<(String, String)>) -> Result<Response, WebError> {
    let (f, bytes) = qifu_app::catalog::attachments::public_file(&st.ctx, parse_id(&id)?, parse_id(&fid)?).await?;
    Ok(super::file_response(&f, bytes))
}

pub async fn show_institution(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let inst = qifu_db::read::public_institution(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let filter = qifu_db::read::ProductFilter { institution_id: Some(id), ..Default::default() };
    let products = qifu_db::read::product_list(&st.ctx.db, &filter, 1).await?.items;
    let ratings = qifu_db::read::recent_ratings(&st.ctx.db, Some(id), None, 10).await?;
    let chrome = PageChrome::new(&st, &v, &inst.name, "products");
    Ok(Html(InstitutionPage { chrome, inst, products, ratings }.render()?))
}

#[derive(Debug, Deserialize)]
pub struct NewsQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    kind: Option<String>,
}

pub async fn list_news(State(st): State<AppState>, v: Viewer, Query(q): Query<NewsQuery>) -> Page {
    let kind = q.kind.as_deref().filter(|k| *k == "news" || *k == "announcement");
    let page = qifu_db::read::published_articles(&st.ctx.db, kind, q.page).await?;
    let base = match kind {
        Some(k) => format!("/news?kind={k}"),
        None => "/news".to_owned(),
    };
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    Ok(Html(ArticlesPage { chrome: PageChrome::new(&st, &v, "资讯", "news"), items: page.items, pager }.render()?))
}

pub async fn show_news(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let article = qifu_db::read::public_article(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let chrome = PageChrome::new(&st, &v, &article.title, "news");
    Ok(Html(ArticlePage { chrome, article }.render()?))
}

pub async fn list_activities(State(st): State<AppState>, v: Viewer, Query(q): Query<PageQuery>) -> Page {
    let page = qifu_db::read::published_activities(&st.ctx.db, q.page).await?;
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, "/activities".to_owned());
    Ok(Html(ActivitiesPage { chrome: PageChrome::new(&st, &v, "活动", "activities"), items: page.items, pager }.render()?))
}

pub async fn show_activity(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let activity = qifu_db::read::public_activity(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let chrome = PageChrome::new(&st, &v, &activity.title, "activities");
    Ok(Html(ActivityPage { chrome, activity }.render()?))
}

pub async fn show_about(State(st): State<AppState>, v: Viewer) -> Page {
    Ok(Html(AboutPage { chrome: PageChrome::new(&st, &v, "关于我们", "about") }.render()?))
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
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
}

/// Results per kind on the "all" view, and per page on a kind's own view.
const SEARCH_PREVIEW: usize = 5;
const SEARCH_PER_PAGE: u64 = 10;

pub async fn search(State(st): State<AppState>, v: Viewer, Query(sq): Query<SearchQuery>) -> Page {
    use qifu_app::search::{self, Kind};
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
            return Ok(Html(out.render()?));
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
    Ok(Html(out.render()?))
}

#[derive(Debug, Deserialize)]
pub struct A11yQuery {
    on: Option<String>,
    back: Option<String>,
}

/// Switches the large-text, high-contrast mode for this browser.
pub async fn toggle_a11y(State(st): State<AppState>, Query(q): Query<A11yQuery>) -> Response {
    let on = q.on.as_deref() == Some("1");
    let back = safe_next(q.back.as_deref()).unwrap_or_else(|| "/".to_owned());
    let secure = if st.ctx.settings.web.secure_cookies { "; Secure" } else { "" };
    let cookie = if on {
        format!("{A11Y_COOKIE}=1; Path=/; Max-Age=31536000; SameSite=Lax{secure}")
    } else {
        format!("{A11Y_COOKIE}=0; Path=/; Max-Age=0; SameSite=Lax{secure}")
    };
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Ids in URLs are positive integers; anything else is simply not found.
pub fn parse_id(s: &str) -> Result<i64, WebError> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or(WebError::NotFound)
}

pub async fn not_found() -> WebError {
    WebError::NotFound
}
