//! Template structs (one per page) and the layout data every page shares.

use crate::AppState;
use crate::extract::Viewer;
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use qifu_app::Settings;
use qifu_app::accounts::MenuEntry;
use qifu_db::entity::{activity, article, enterprise, policy};
use qifu_db::read::ProductCard;
use std::sync::Arc;

/// The signed-in user as the header shows them.
#[derive(Clone, Debug)]
pub struct UserBadge {
    pub display_name: String,
    pub org_name: String,
    pub roles: String,
    pub back_office: bool,
}

/// Layout data shared by every page.
#[derive(Clone, Debug)]
pub struct PageChrome {
    pub settings: Arc<Settings>,
    pub title: String,
    pub nav: &'static str,
    pub css: String,
    pub js: String,
    pub emblem: String,
    pub user: Option<UserBadge>,
    pub csrf: String,
    pub a11y: bool,
    pub here: String,
    pub q: String,
}

impl PageChrome {
    pub fn new(st: &AppState, v: &Viewer, title: &str, nav: &'static str) -> Self {
        let mut c = Self::bare(st, v.a11y, title);
        c.nav = nav;
        c.user = v.actor().map(|a| UserBadge {
            display_name: a.display_name.clone(),
            org_name: a.org_name.clone(),
            roles: a.role_labels(),
            back_office: a.can_use_back_office(),
        });
        c.csrf = v.csrf().to_owned();
        c.here = v.here.clone();
        c
    }

    /// For pages rendered without a visitor (error pages).
    pub fn bare(st: &AppState, a11y: bool, title: &str) -> Self {
        PageChrome {
            settings: st.ctx.settings.clone(),
            title: title.to_owned(),
            nav: "",
            css: st.assets.url("app.css").to_owned(),
            js: st.assets.url("app.js").to_owned(),
            emblem: st.assets.url("emblem.svg").to_owned(),
            user: None,
            csrf: String::new(),
            a11y,
            here: "/".to_owned(),
            q: String::new(),
        }
    }

    pub fn is(&self, nav: &str) -> bool {
        self.nav == nav
    }

    /// Link that toggles the large-text mode and returns here.
    pub fn a11y_href(&self) -> String {
        let to = if self.a11y { "0" } else { "1" };
        format!("/a11y?on={to}&back={}", crate::error::urlencode(&self.here))
    }
}

/// Back-office layout data: the portal chrome plus the side menu.
#[derive(Clone, Debug)]
pub struct AdminChrome {
    pub base: PageChrome,
    pub menu: Vec<MenuEntry>,
    pub active: &'static str,
}

/// Date in Beijing time, `2026-11-29`.
pub fn ymd(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

/// Date and time in Beijing time, `2026-11-29 09:30`.
pub fn ymd_hm(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn level_label(level: &str) -> &'static str {
    match level {
        "national" => "国家",
        "city" => "北京市",
        "district" => "通州区",
        _ => "其他",
    }
}

pub fn pricing_label(p: &ProductCard) -> String {
    match p.product.pricing.as_str() {
        "free" => "免费".to_owned(),
        "subsidized" => "政府补贴".to_owned(),
        _ => p
            .product
            .price_fen
            .map(|f| format!("{}元起", f / 100))
            .unwrap_or_else(|| "面议".to_owned()),
    }
}

pub fn delivery_label(m: &str) -> &'static str {
    if m == "online" {
        "线上服务"
    } else {
        "线下服务"
    }
}

pub fn activity_kind_label(k: &str) -> &'static str {
    if k == "training" { "培训" } else { "活动" }
}

pub fn size_label(s: &Option<String>) -> &'static str {
    s.as_deref()
        .and_then(qifu_domain::profiles::SizeClass::parse)
        .map(|c| c.label())
        .unwrap_or("—")
}

pub fn street_name(code: &str) -> &'static str {
    qifu_domain::reference::division::street(code)
        .map(|s| s.name)
        .unwrap_or("—")
}

pub fn industry_name(code: &str) -> &'static str {
    qifu_domain::reference::industry::find(code)
        .map(|i| i.name)
        .unwrap_or("—")
}

pub fn job_status_label(s: &str) -> &'static str {
    match s {
        "queued" => "排队中",
        "running" => "执行中",
        "done" => "已完成",
        "dead" => "已失败",
        _ => "未知",
    }
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
        Pager {
            page,
            pages: total.div_ceil(per_page.max(1)).max(1),
            total,
            base,
        }
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

#[derive(Template)]
#[template(path = "portal/error.html")]
pub struct ErrorPage {
    pub chrome: PageChrome,
    pub status: u16,
    pub message: String,
    pub request_id: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
pub struct HomePage {
    pub chrome: PageChrome,
    pub home: qifu_db::read::Home,
}

#[derive(Template)]
#[template(path = "portal/policies.html")]
pub struct PoliciesPage {
    pub chrome: PageChrome,
    pub items: Vec<policy::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/policy.html")]
pub struct PolicyPage {
    pub chrome: PageChrome,
    pub policy: policy::Model,
}

#[derive(Template)]
#[template(path = "portal/products.html")]
pub struct ProductsPage {
    pub chrome: PageChrome,
    pub items: Vec<ProductCard>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/product.html")]
pub struct ProductPage {
    pub chrome: PageChrome,
    pub card: ProductCard,
}

#[derive(Template)]
#[template(path = "portal/articles.html")]
pub struct ArticlesPage {
    pub chrome: PageChrome,
    pub items: Vec<article::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/article.html")]
pub struct ArticlePage {
    pub chrome: PageChrome,
    pub article: article::Model,
}

#[derive(Template)]
#[template(path = "portal/activities.html")]
pub struct ActivitiesPage {
    pub chrome: PageChrome,
    pub items: Vec<activity::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/activity.html")]
pub struct ActivityPage {
    pub chrome: PageChrome,
    pub activity: activity::Model,
}

#[derive(Template)]
#[template(path = "portal/about.html")]
pub struct AboutPage {
    pub chrome: PageChrome,
}

#[derive(Template)]
#[template(path = "portal/search.html")]
pub struct SearchPage {
    pub chrome: PageChrome,
    pub notice: Option<String>,
    pub hits: qifu_db::read::SearchHits,
}

#[derive(Template)]
#[template(path = "portal/login.html")]
pub struct LoginPage {
    pub chrome: PageChrome,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
pub struct DashboardPage {
    pub admin: AdminChrome,
    pub counts: qifu_db::read::Counts,
    pub jobs: Option<qifu_db::jobs::QueueStats>,
}

#[derive(Template)]
#[template(path = "admin/enterprises.html")]
pub struct EnterprisesPage {
    pub admin: AdminChrome,
    pub items: Vec<enterprise::Model>,
    pub pager: Pager,
    pub q: String,
    pub size: String,
    pub street: String,
    pub streets: &'static [qifu_domain::reference::division::Street],
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
pub struct JobsPage {
    pub admin: AdminChrome,
    pub overview: qifu_app::system::JobOverview,
    pub status: String,
    pub pager: Pager,
}
