//! Policies: the portal's policy list and pages with attachments, the policy
//! calculator (政策计算器) and its matching endpoint in the JSON API; the back
//! office's policies, rule editor, qualification list and crawl sources.

mod admin;
pub(crate) mod api;
mod calculator;
mod crawl;
mod portal;

use crate::AppState;
use crate::error::{FieldErrors, WebError};
use axum::Router;
use axum::routing::{get, post};
use qifu_app::crawl::CrawlError;
use qifu_app::policies::PolicyError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policies", get(portal::list_policies))
        .route("/policies/calculator", get(calculator::show_calculator))
        .route("/policies/calculator/profile", post(calculator::fill_profile))
        .route("/policies/calculator/push", post(calculator::set_push))
        .route("/policies/{id}", get(portal::show_policy))
        .route("/policies/{id}/files/{fid}", get(portal::show_attachment))
}

/// Mounted under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new().route("/policy-matches", post(api::create_policy_matches))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/policies", get(admin::list_policies).post(admin::create_policy))
        .route("/admin/policies/new", get(admin::show_new_policy))
        .route("/admin/qualifications", post(admin::add_qualification))
        .route("/admin/policies/{id}", get(admin::show_policy))
        .route("/admin/policies/{id}/rule", post(admin::save_rule))
        .route("/admin/policies/{id}/tags", post(admin::save_tags))
        .route("/admin/policies/{id}/edit", post(admin::update_policy))
        .route("/admin/policies/{id}/files", post(admin::add_attachment))
        .route("/admin/policies/{id}/files/{fid}/delete", post(admin::remove_attachment))
        .route("/admin/policies/{id}/{action}", post(admin::policy_action))
        .route("/admin/crawl-sources", get(crawl::list_sources).post(crawl::create_source))
        .route("/admin/crawl-sources/{id}", get(crawl::show_source))
        .route("/admin/crawl-sources/{id}/run", post(crawl::run_source))
}

impl From<PolicyError> for WebError {
    fn from(e: PolicyError) -> Self {
        match e {
            // One message per refused row of the rule editor.
            PolicyError::Rows(list) => {
                let mut f = FieldErrors::default();
                for (_, m) in list {
                    f.push("rule", m);
                }
                WebError::Invalid(f)
            }
            PolicyError::State(m) => WebError::Conflict(m.to_owned()),
            PolicyError::Access(a) => a.into(),
        }
    }
}

impl From<CrawlError> for WebError {
    fn from(e: CrawlError) -> Self {
        match e {
            CrawlError::Invalid(m) => WebError::invalid(m),
            CrawlError::Access(a) => a.into(),
        }
    }
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

pub fn verdict_class(v: &qifu_domain::policy::Verdict) -> &'static str {
    use qifu_domain::policy::Verdict;
    match v {
        Verdict::Eligible => "tag-ok",
        Verdict::Near => "tag-warn",
        Verdict::Incomplete => "",
        Verdict::Ineligible => "tag-red",
    }
}

pub fn check_label(c: &qifu_domain::policy::Check) -> String {
    use qifu_domain::policy::Check;
    match c {
        Check::Met => "满足".to_owned(),
        Check::Missing => "待完善".to_owned(),
        Check::NotMet { gap: Some(g), .. } => {
            let g = if (g - g.round()).abs() < 1e-9 { format!("{}", g.round() as i64) } else { format!("{g:.2}") };
            format!("不满足（差 {g}）")
        }
        Check::NotMet { .. } => "不满足".to_owned(),
    }
}
