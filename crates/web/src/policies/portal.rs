//! The portal's policies: the list with its filters, a policy with its
//! conditions and related products, and its attachments.

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::kit::files::file_response;
use crate::kit::{self, PageChrome, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use qifu_db::entity::policy;
use qifu_db::read::ProductCard;
use qifu_domain::policy::{PolicyLevel, PolicyState};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "policies/policies.html")]
pub struct PoliciesPage {
    pub chrome: PageChrome,
    pub items: Vec<policy::Model>,
    pub pager: Pager,
    pub filter: qifu_db::read::PolicyFilter,
    pub issuers: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "policies/policy.html")]
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

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PolicyQuery {
    #[serde(deserialize_with = "lenient_u64")]
    page: u64,
    level: String,
    support: String,
    issuer: String,
    tag: String,
    open: String,
}

pub async fn list_policies(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<PolicyQuery>,
) -> Result<Html<String>, WebError> {
    let (issuers, tags) = st.policy_facets().await?;
    // Unknown filter values are ignored, never errors.
    let filter = qifu_db::read::PolicyFilter {
        level: PolicyLevel::parse(&q.level),
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
            ("level", filter.level.map_or("", PolicyLevel::code)),
            ("support", filter.support_type.as_str()),
            ("issuer", filter.issuer.as_str()),
            ("tag", filter.tag.as_str()),
            ("open", if filter.open_on.is_some() { "1" } else { "" }),
        ])
        .unwrap_or_default()
    );
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    let chrome = PageChrome::new(&st, &v, "政策", "policies");
    kit::render(&PoliciesPage { chrome, items: page.items, pager, filter, issuers: issuers.to_vec(), tags: tags.to_vec() })
}

pub async fn show_policy(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let policy = qifu_db::read::public_policy(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let conditions: Vec<String> = qifu_app::policies::current_rule(&st.ctx.db, &policy)
        .await?
        .map(|(_, r)| qifu_domain::policy::conditions(&r).iter().map(|c| c.describe()).collect())
        .unwrap_or_default();
    let expired = policy.status == PolicyState::Expired || policy.valid_until.is_some_and(|d| d < st.ctx.now().date_naive());
    let tags: Vec<String> = policy.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect();
    let related = qifu_db::read::related_products(&st.ctx.db, &tags, 4).await?;
    let attachments = qifu_app::policies::attachments(&st.ctx.db, id).await?;
    let chrome = PageChrome::new(&st, &v, &policy.title, "policies");
    kit::render(&PolicyPage { chrome, policy, conditions, expired, related, attachments })
}

/// A policy's attachment: public for published policies, for managers otherwise.
pub async fn show_attachment(
    State(st): State<AppState>,
    v: Viewer,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (f, bytes) = qifu_app::policies::attachment_file(&st.ctx, v.actor(), parse_id(&id)?, parse_id(&fid)?).await?;
    Ok(file_response(&f, bytes))
}
