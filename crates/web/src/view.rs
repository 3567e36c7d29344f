//! Template structs (one per page) and the layout data every page shares.

use crate::AppState;
use crate::extract::Viewer;
use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use qifu_app::Settings;
use qifu_app::accounts::MenuNode;
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
    pub unread: u64,
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
        c.csrf = v.form_token().to_owned();
        c.here = v.here.clone();
        c.unread = v.unread;
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
            unread: 0,
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
    pub menu: Vec<MenuNode>,
    pub active: &'static str,
}

/// Date in Beijing time, `2026-11-29`.
pub fn ymd(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string()
}

/// Date and time in Beijing time, `2026-11-29 09:30`.
pub fn ymd_hm(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()
}

/// A file size for people: `812 KB`, `3.4 MB`.
pub fn file_size(bytes: &i64) -> String {
    let b = (*bytes).max(0) as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{} KB", ((b / 1024.0).ceil() as i64).max(1))
    }
}

pub fn application_status_label(s: &str) -> &'static str {
    match s {
        "submitted" => "待审核",
        "approved" => "已通过",
        "rejected" => "未通过",
        _ => "—",
    }
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
        _ => p.product.price_fen.map(|f| format!("{}元起", f / 100)).unwrap_or_else(|| "面议".to_owned()),
    }
}

pub fn delivery_label(m: &str) -> &'static str {
    if m == "online" { "线上服务" } else { "线下服务" }
}

pub fn activity_kind_label(k: &str) -> &'static str {
    if k == "training" { "培训" } else { "活动" }
}

pub fn size_label(s: &Option<String>) -> &'static str {
    s.as_deref().and_then(qifu_domain::profiles::SizeClass::parse).map(|c| c.label()).unwrap_or("—")
}

pub fn street_name(code: &str) -> &'static str {
    qifu_domain::reference::division::street(code).map(|s| s.name).unwrap_or("—")
}

pub fn industry_name(code: &str) -> &'static str {
    qifu_domain::reference::industry::find(code).map(|i| i.name).unwrap_or("—")
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
    pub recommendations: Vec<qifu_app::catalog::Recommendation>,
}

#[derive(Template)]
#[template(path = "portal/policies.html")]
pub struct PoliciesPage {
    pub chrome: PageChrome,
    pub items: Vec<policy::Model>,
    pub pager: Pager,
    pub filter: qifu_db::read::PolicyFilter,
    pub issuers: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal/policy.html")]
pub struct PolicyPage {
    pub chrome: PageChrome,
    pub policy: policy::Model,
    /// The current rule's conditions, described.
    pub conditions: Vec<String>,
    pub expired: bool,
    /// Listed products that mention the policy's tags.
    pub related: Vec<ProductCard>,
    pub attachments: Vec<qifu_app::attachments::Attachment>,
}

#[derive(Template)]
#[template(path = "portal/products.html")]
pub struct ProductsPage {
    pub chrome: PageChrome,
    pub items: Vec<ProductCard>,
    pub pager: Pager,
    pub tree: Vec<(qifu_db::entity::category::Model, Vec<qifu_db::entity::category::Model>)>,
    pub institutions: Vec<qifu_db::read::InstitutionView>,
    pub f: ProductFilterView,
}

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
#[template(path = "portal/institution.html")]
pub struct InstitutionPage {
    pub chrome: PageChrome,
    pub inst: qifu_db::read::InstitutionView,
    pub products: Vec<ProductCard>,
    pub ratings: Vec<qifu_db::read::RatingRow>,
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

#[derive(Template)]
#[template(path = "portal/institution_apply.html")]
pub struct InstitutionApplyPage {
    pub chrome: PageChrome,
    pub f: InstitutionApplyView,
    pub errors: FieldErrors,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub captcha: qifu_app::accounts::Captcha,
    /// The application number once submitted.
    pub submitted: Option<i64>,
}

/// The text fields of the application form kept across a failed submission (never the password).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InstitutionApplyView {
    pub name: String,
    pub credit_code: String,
    pub kind: String,
    pub intro: String,
    pub qualifications: String,
    pub contact_name: String,
    pub phone: String,
}

#[derive(Template)]
#[template(path = "admin/crawl_sources.html")]
pub struct CrawlSourcesPage {
    pub admin: AdminChrome,
    pub sources: Vec<qifu_db::entity::crawl_source::Model>,
    pub f: qifu_app::crawl::SourceForm,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/crawl_source.html")]
pub struct CrawlSourcePage {
    pub admin: AdminChrome,
    pub s: qifu_db::entity::crawl_source::Model,
    pub logs: Vec<qifu_db::entity::crawl_log::Model>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/policies.html")]
pub struct PoliciesAdminPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::policy::Model>,
    pub notice: Option<String>,
    /// The qualification list (资质名录).
    pub quals: Vec<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/policy_new.html")]
pub struct PolicyNewPage {
    pub admin: AdminChrome,
    pub f: qifu_app::policies::PolicyForm,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/policy.html")]
pub struct PolicyAdminPage {
    pub admin: AdminChrome,
    pub p: qifu_db::entity::policy::Model,
    pub rows: Vec<qifu_app::policies::RuleRow>,
    pub pushes: u64,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    /// Conditions proposed from the policy's text.
    pub suggested: Vec<qifu_domain::policy::parse::Suggestion>,
    /// Keywords proposed as tags.
    pub keywords: Vec<String>,
    /// The suggestions were added to the editor's rows.
    pub adopt: bool,
    /// The record's form (edited in place).
    pub f: qifu_app::policies::PolicyForm,
    pub attachments: Vec<qifu_app::attachments::Attachment>,
}

/// Attributes offered in the rule editor: (code, label with unit).
pub fn rule_attributes() -> Vec<(String, String)> {
    qifu_domain::policy::Attribute::BUILT_IN
        .iter()
        .map(|a| (a.code(), if a.unit().is_empty() { a.label() } else { format!("{}（{}）", a.label(), a.unit()) }))
        .chain(std::iter::once(("custom".to_owned(), "自定义属性（取值写“属性名:数值”）".to_owned())))
        .collect()
}

pub fn rule_ops() -> Vec<(&'static str, &'static str)> {
    qifu_domain::policy::Op::ALL.iter().map(|o| (o.code(), o.label())).collect()
}

pub fn policy_status_label(s: &str) -> &'static str {
    match s {
        "draft" => "草稿",
        "published" => "已发布",
        "expired" => "已过期",
        "withdrawn" => "已撤回",
        _ => "—",
    }
}

/// The visitor calculator's fields as typed.
#[derive(Debug, Clone, Default)]
pub struct CalcForm {
    pub division: String,
    pub industry: String,
    pub size_class: String,
    pub above: String,
    pub years: String,
    pub employees: String,
    pub revenue: String,
    pub assets: String,
    pub rd: String,
    pub credit: String,
    pub quals: Vec<String>,
}

impl CalcForm {
    pub fn has(&self, q: &str) -> bool {
        self.quals.iter().any(|x| x == q)
    }
}

#[derive(Template)]
#[template(path = "portal/calculator.html")]
pub struct CalculatorPage {
    pub chrome: PageChrome,
    /// The signed-in enterprise's registry row, when there is one.
    pub enterprise: Option<qifu_db::entity::enterprise::Model>,
    pub rows: Vec<qifu_app::policies::MatchRow>,
    /// A visitor's form was submitted.
    pub ran: bool,
    pub form: CalcForm,
    pub streets: &'static [qifu_domain::reference::division::Street],
    pub quals: Vec<String>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    /// The enterprise turned policy pushes off.
    pub opted_out: bool,
}

impl CalculatorPage {
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| r.outcome.trace.iter())
            .filter(|t| t.check == qifu_domain::policy::Check::Missing)
            .map(|t| t.attr.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }
    pub fn count(&self, v: &str) -> usize {
        self.rows.iter().filter(|r| r.outcome.verdict.code() == v).count()
    }
}

pub fn verdict_class(v: &qifu_domain::policy::Verdict) -> &'static str {
    match v {
        qifu_domain::policy::Verdict::Eligible => "tag-ok",
        qifu_domain::policy::Verdict::Near => "tag-warn",
        qifu_domain::policy::Verdict::Incomplete => "",
        qifu_domain::policy::Verdict::Ineligible => "tag-red",
    }
}

pub fn check_label(c: &qifu_domain::policy::Check) -> String {
    match c {
        qifu_domain::policy::Check::Met => "满足".to_owned(),
        qifu_domain::policy::Check::Missing => "待完善".to_owned(),
        qifu_domain::policy::Check::NotMet { gap: Some(g), .. } => {
            let g = if (g - g.round()).abs() < 1e-9 { format!("{}", g.round() as i64) } else { format!("{g:.2}") };
            format!("不满足（差 {g}）")
        }
        qifu_domain::policy::Check::NotMet { .. } => "不满足".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "admin/search.html")]
pub struct SearchAdminPage {
    pub admin: AdminChrome,
    pub status: qifu_app::search::IndexStatus,
    pub synonyms: Vec<qifu_db::entity::search_synonym::Model>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub words: String,
}

#[derive(Template)]
#[template(path = "admin/institution_applications.html")]
pub struct InstitutionApplicationsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::institution_application::Model>,
    pub status: String,
    pub pager: Pager,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/institution_application.html")]
pub struct InstitutionApplicationPage {
    pub admin: AdminChrome,
    pub a: qifu_db::entity::institution_application::Model,
    pub licence: Option<qifu_db::entity::file::Model>,
    pub errors: FieldErrors,
}

pub fn institution_kind_label(k: &str) -> &'static str {
    qifu_domain::accounts::InstitutionKind::parse(k).map(|k| k.label()).unwrap_or("服务机构")
}

#[derive(Template)]
#[template(path = "portal/product.html")]
pub struct ProductPage {
    pub chrome: PageChrome,
    pub card: ProductCard,
    pub category: String,
    pub attachments: Vec<qifu_app::catalog::attachments::Attachment>,
    pub ratings: Vec<qifu_db::read::RatingRow>,
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
    /// Title matches from the database while the index is being built.
    pub fallback: Option<qifu_db::read::SearchHits>,
    pub results: qifu_app::search::Results,
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
        qifu_app::search::Kind::PUBLIC.iter().map(|k| (k.as_str(), k.label(), self.results.count(*k))).collect()
    }

    pub fn hits_of(&self, kind: &str) -> Vec<&qifu_app::search::Hit> {
        self.results.hits.iter().filter(|h| h.kind.as_str() == kind).collect()
    }
}

/// Where a search hit lives on the portal.
pub fn hit_url(h: &qifu_app::search::Hit) -> String {
    use qifu_app::search::Kind;
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

/// Field-level messages of a form, shown under each field.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, msg: String) {
        if self.get(field).is_none() {
            self.0.push((field, msg));
        }
    }
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<(&'static str, String)>> for FieldErrors {
    fn from(v: Vec<(&'static str, String)>) -> Self {
        let mut e = FieldErrors::default();
        for (f, m) in v {
            e.add(f, m);
        }
        e
    }
}

#[derive(Template)]
#[template(path = "portal/login.html")]
pub struct LoginPage {
    pub chrome: PageChrome,
    pub account: String,
    pub next: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub captcha: qifu_app::accounts::Captcha,
}

#[derive(Template)]
#[template(path = "portal/verify.html")]
pub struct VerifyPage {
    pub chrome: PageChrome,
    pub next: String,
    pub sent_to: Option<String>,
    pub error: Option<String>,
    /// The user has enrolled an authenticator app.
    pub totp: bool,
}

#[derive(Template)]
#[template(path = "portal/totp.html")]
pub struct TotpPage {
    pub chrome: PageChrome,
    pub enrolled: bool,
    pub enrolment: Option<qifu_app::accounts::totp::Enrolment>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/register.html")]
pub struct RegisterPage {
    pub chrome: PageChrome,
    pub phone: String,
    pub enterprise_name: String,
    pub contact_name: String,
    pub ch: String,
    pub sms_code: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub captcha: qifu_app::accounts::Captcha,
}

#[derive(Template)]
#[template(path = "portal/reset.html")]
pub struct ResetPage {
    pub chrome: PageChrome,
    pub phone: String,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub captcha: qifu_app::accounts::Captcha,
}

#[derive(Template)]
#[template(path = "portal/account.html")]
pub struct AccountPage {
    pub chrome: PageChrome,
    pub username: String,
    pub display_name: String,
    pub org_name: String,
    pub roles: String,
    pub phone: String,
    pub is_org_admin: bool,
    pub is_enterprise: bool,
    pub is_staff: bool,
    pub sessions: Vec<qifu_app::accounts::SessionRow>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/password.html")]
pub struct PasswordPage {
    pub chrome: PageChrome,
    pub forced: bool,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "portal/subaccounts.html")]
pub struct SubAccountsPage {
    pub chrome: PageChrome,
    pub users: Vec<qifu_app::accounts::UserRow>,
    pub form: NewUserForm,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

/// What a create-user form keeps after an error.
#[derive(Clone, Debug, Default)]
pub struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub org_id: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub admin: AdminChrome,
    pub users: Vec<qifu_app::accounts::UserRow>,
    pub pager: Pager,
    pub q: String,
    pub status: String,
    pub org_kind: String,
    pub form: NewUserForm,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub all_orgs: bool,
}

#[derive(Template)]
#[template(path = "admin/orgs.html")]
pub struct OrgsPage {
    pub admin: AdminChrome,
    pub orgs: Vec<qifu_app::accounts::OrgRow>,
    pub pager: Pager,
    pub q: String,
    pub kind: String,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/institution_new.html")]
pub struct InstitutionNewPage {
    pub admin: AdminChrome,
    pub f: InstitutionForm,
    pub errors: FieldErrors,
    pub kinds: Vec<(&'static str, &'static str)>,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct InstitutionForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub admin_username: String,
    #[serde(default)]
    pub admin_name: String,
    #[serde(default)]
    pub admin_phone: String,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
pub struct RolesPage {
    pub admin: AdminChrome,
    pub roles: Vec<qifu_app::accounts::RoleRow>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/role_edit.html")]
pub struct RoleEditPage {
    pub admin: AdminChrome,
    pub id: Option<i64>,
    pub code: String,
    pub name: String,
    pub org_kind: String,
    pub builtin: bool,
    /// (permission code, label, current scope code or "")
    pub perms: Vec<(&'static str, &'static str, String)>,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "admin/menus.html")]
pub struct MenusPage {
    pub admin: AdminChrome,
    pub menus: Vec<qifu_db::entity::menu::Model>,
    pub perms: Vec<(&'static str, &'static str)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/online.html")]
pub struct OnlinePage {
    pub admin: AdminChrome,
    pub sessions: Vec<qifu_app::accounts::SessionRow>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/login_log.html")]
pub struct LoginLogPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::login_log::Model>,
    pub pager: Pager,
    pub f: LogQueryView,
    pub export_href: String,
}

#[derive(Template)]
#[template(path = "admin/operation_log.html")]
pub struct OperationLogPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::audit::Model>,
    pub pager: Pager,
    pub f: LogQueryView,
    pub export_href: String,
    /// The auditor's full view with hashes and the chain check.
    pub audit: bool,
    pub verification: Option<qifu_app::audit::Verification>,
}

/// Filter values as the log pages show them again.
#[derive(Clone, Debug, Default)]
pub struct LogQueryView {
    pub who: String,
    pub action: String,
    pub result: String,
    pub from: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "admin/sms.html")]
pub struct SmsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::sms_outbox::Model>,
    pub pager: Pager,
}

pub fn action_label(a: &str) -> &'static str {
    qifu_app::audit::action_label(a)
}

pub fn org_kind_label(k: &str) -> &'static str {
    qifu_domain::accounts::OrgKind::parse(k).map(|k| k.label()).unwrap_or("—")
}

pub fn login_reason_label(r: &str) -> &'static str {
    match r {
        "ok" => "登录成功",
        "password_ok_second_factor_pending" => "密码正确，待第二因素验证",
        "bad_password" => "密码错误",
        "unknown_user" => "用户不存在",
        "locked" => "账号已锁定",
        "captcha" => "图形验证码错误",
        "ip_throttled" => "IP 失败次数过多",
        "disabled" => "账号或组织已停用",
        "client_cert" => "缺少客户端证书",
        "second_factor" => "短信验证码错误",
        _ => "其他",
    }
}

pub fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
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

#[derive(Template)]
#[template(path = "portal/certification.html")]
pub struct CertificationPage {
    pub chrome: PageChrome,
    pub latest: Option<qifu_db::entity::certification::Model>,
    pub certified: bool,
    pub org_name: String,
    pub form: CertFormView,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub can_submit: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CertFormView {
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
}

#[derive(Template)]
#[template(path = "portal/messages.html")]
pub struct MessagesPage {
    pub chrome: PageChrome,
    pub items: Vec<qifu_db::entity::message::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "admin/certifications.html")]
pub struct CertificationsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_app::certification::ReviewRow>,
    pub pager: Pager,
    pub status: String,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/certification.html")]
pub struct CertificationDetailPage {
    pub admin: AdminChrome,
    pub row: qifu_app::certification::ReviewRow,
    pub errors: FieldErrors,
}

pub fn cert_status_label(s: &str) -> &'static str {
    match s {
        "certified" => "已认证",
        "review" => "审核中",
        "rejected" => "未通过",
        _ => "已提交",
    }
}

pub fn match_label(s: &str) -> &'static str {
    match s {
        "match" => "与登记信息一致",
        "mismatch" => "与登记信息不一致",
        "not_found" => "登记信息中未找到",
        "conflict" => "代码已被其他企业认证",
        "unavailable" => "登记信息查询失败",
        _ => "—",
    }
}

#[derive(Template)]
#[template(path = "portal/authorization.html")]
pub struct AuthorizationPage {
    pub chrome: PageChrome,
    pub certified: bool,
    pub text: &'static str,
    pub text_version: &'static str,
    pub current: Option<qifu_db::entity::authorization::Model>,
    pub latest: Option<qifu_db::entity::authorization::Model>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub is_admin: bool,
}

#[derive(Template)]
#[template(path = "portal/verify_authorization.html")]
pub struct VerifyAuthorizationPage {
    pub chrome: PageChrome,
    pub input: String,
    pub verdict: Option<qifu_app::authorization::Verdict>,
    pub key_id: i64,
}

/// (category, product count, children with counts)
pub type AdminTree = Vec<(qifu_db::entity::category::Model, u64, Vec<(qifu_db::entity::category::Model, u64)>)>;

#[derive(Template)]
#[template(path = "admin/categories.html")]
pub struct CategoriesPage {
    pub admin: AdminChrome,
    pub tree: AdminTree,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub name: String,
    pub parent: String,
    pub sort: String,
}

#[derive(Template)]
#[template(path = "admin/products.html")]
pub struct AdminProductsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::product::Model>,
    pub pager: Pager,
    pub status: String,
    pub can_create: bool,
    pub reviewer: bool,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/product_form.html")]
pub struct ProductFormPage {
    pub admin: AdminChrome,
    pub id: Option<i64>,
    pub product: Option<qifu_db::entity::product::Model>,
    pub related: Option<qifu_db::entity::product::Model>,
    pub f: ProductFormView,
    pub tree: Vec<(qifu_db::entity::category::Model, Vec<qifu_db::entity::category::Model>)>,
    pub errors: FieldErrors,
    pub can_edit: bool,
    pub reviewer: bool,
    pub notice: Option<String>,
    pub attachments: Vec<qifu_app::catalog::attachments::Attachment>,
}

/// Form values shown again.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ProductFormView {
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub pricing: String,
    #[serde(default)]
    pub price_yuan: String,
    #[serde(default)]
    pub delivery_mode: String,
    #[serde(default)]
    pub service_area: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub industries: String,
    #[serde(default)]
    pub size_large: String,
    #[serde(default)]
    pub size_medium: String,
    #[serde(default)]
    pub size_small: String,
    #[serde(default)]
    pub size_micro: String,
    #[serde(default)]
    pub min_years: String,
    #[serde(default)]
    pub tongzhou_only: String,
    #[serde(default)]
    pub certification_required: String,
    #[serde(default)]
    pub amount_min_wan: String,
    #[serde(default)]
    pub amount_max_wan: String,
    #[serde(default)]
    pub term_min_months: String,
    #[serde(default)]
    pub term_max_months: String,
    #[serde(default)]
    pub rate_min: String,
    #[serde(default)]
    pub rate_max: String,
    #[serde(default)]
    pub guarantee_modes: String,
}

pub fn product_status_label(s: &str) -> &'static str {
    qifu_domain::demands::ProductState::parse(s).map(|p| p.label()).unwrap_or("—")
}

fn fen_to(v: Option<i64>, per: i64) -> String {
    match v {
        None => String::new(),
        Some(f) if f % per == 0 => (f / per).to_string(),
        Some(f) => format!("{}.{:02}", f / per, (f % per) * 100 / per),
    }
}

impl ProductFormView {
    pub fn from_model(p: &qifu_db::entity::product::Model) -> Self {
        let has = |c: &str| if p.size_classes.split(',').any(|s| s == c) { "1".to_owned() } else { String::new() };
        ProductFormView {
            category_id: p.category_id.to_string(),
            name: p.name.clone(),
            summary: p.summary.clone(),
            description: p.description.clone(),
            pricing: p.pricing.clone(),
            price_yuan: fen_to(p.price_fen, 100),
            delivery_mode: p.delivery_mode.clone(),
            service_area: p.service_area.clone(),
            contact: p.contact.clone(),
            industries: p.industries.clone(),
            size_large: has("large"),
            size_medium: has("medium"),
            size_small: has("small"),
            size_micro: has("micro"),
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

    pub fn to_form(&self) -> qifu_app::catalog::products::ProductForm {
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
        qifu_app::catalog::products::ProductForm {
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

#[derive(Template)]
#[template(path = "portal/apply.html")]
pub struct ApplyPage {
    pub chrome: PageChrome,
    pub card: ProductCard,
    pub financing: bool,
    pub f: ApplyFormView,
    pub errors: FieldErrors,
    pub blocked: Option<String>,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ApplyFormView {
    #[serde(default)]
    pub needs: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub expected_date: String,
    #[serde(default)]
    pub amount_wan: String,
    #[serde(default)]
    pub term_months: String,
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub guarantee_mode: String,
    #[serde(default)]
    pub financial_summary: String,
}

#[derive(Template)]
#[template(path = "portal/demands.html")]
pub struct MyDemandsPage {
    pub chrome: PageChrome,
    pub rows: Vec<qifu_db::entity::demand::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "portal/demand.html")]
pub struct MyDemandPage {
    pub chrome: PageChrome,
    pub d: qifu_app::demands::DemandView,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/demands.html")]
pub struct AdminDemandsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::demand::Model>,
    pub pager: Pager,
    pub status: String,
    pub overdue: bool,
    pub from: String,
    pub to: String,
    pub export_href: String,
}

#[derive(Template)]
#[template(path = "admin/demand.html")]
pub struct AdminDemandPage {
    pub admin: AdminChrome,
    pub d: qifu_app::demands::DemandView,
    pub staff: Vec<(i64, String)>,
    pub institutions: Vec<qifu_db::read::InstitutionView>,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

pub fn demand_status_label(s: &str) -> &'static str {
    qifu_domain::demands::DemandState::parse(s).map(|d| d.label()).unwrap_or("—")
}

pub fn wan(fen: &Option<i64>) -> String {
    fen.map(|f| qifu_domain::money::Money::from_fen(f).display_wan()).unwrap_or_else(|| "—".to_owned())
}

pub fn event_label(e: &str) -> &'static str {
    match e {
        "submit" => "提交需求",
        "accept" => "受理",
        "decline" => "不予受理",
        "start" => "开始服务",
        "deliver" => "交付",
        "confirm" => "企业确认",
        "close" => "办结",
        "withdraw" => "撤回",
        "reassign" => "改派",
        "remind" => "超时催办",
        "escalate" => "超时升级",
        "rate" => "评价",
        _ => "其他",
    }
}

/// Stars as text, e.g. 4 → "★★★★☆".
pub fn stars(n: &i32) -> String {
    let n = usize::try_from((*n).clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
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
pub fn product_facts(p: &qifu_db::entity::product::Model) -> Vec<(&'static str, String)> {
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

/// A product's rating for people: "4.5分（2条评价）" or "暂无评价".
pub fn rating_label(p: &qifu_db::entity::product::Model) -> String {
    if p.rating_count == 0 {
        "暂无评价".to_owned()
    } else {
        let avg = p.rating_avg_x100();
        format!("{}.{}分（{}条评价）", avg / 100, (avg % 100) / 10, p.rating_count)
    }
}
