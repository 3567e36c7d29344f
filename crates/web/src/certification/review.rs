//! The operator's certification review queue and decision.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::review::{Decision, QueueQuery};
use crate::kit::{self, AdminChrome, FieldErrors, Pager, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::certification::{self, ReviewRow};
use qifu_domain::certification::{CertificationStatus, MatchResult};

type Reviewer = Staff<perm::CertificationReview>;

#[derive(Template)]
#[template(path = "certification/admin_certifications.html")]
pub struct CertificationsPage {
    pub admin: AdminChrome,
    pub rows: Vec<ReviewRow>,
    pub pager: Pager,
    /// The tab: one state, or `None` for 全部.
    pub status: Option<CertificationStatus>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "certification/admin_certification.html")]
pub struct CertificationDetailPage {
    pub admin: AdminChrome,
    pub row: ReviewRow,
    pub errors: FieldErrors,
    pub streets: &'static [qifu_domain::reference::division::Street],
}

impl CertificationDetailPage {
    /// A base field as the registry gave it, for the form's starting value.
    pub fn base_date(&self) -> String {
        self.row.snapshot.base.founded_on.map(|d| d.to_string()).unwrap_or_default()
    }

    pub fn base_capital(&self) -> String {
        self.row
            .snapshot
            .base
            .registered_capital_fen
            .map(|f| (f as f64 / qifu_domain::money::FEN_PER_WAN as f64).to_string())
            .unwrap_or_default()
    }

    pub fn industry_label(code: &Option<String>) -> String {
        code.as_deref()
            .and_then(qifu_domain::reference::industry::find)
            .map(|i| format!("{} {}", i.code, i.name))
            .unwrap_or_else(|| "（未提供）".to_owned())
    }

    pub fn street_label(code: &Option<String>) -> String {
        code.as_deref()
            .and_then(qifu_domain::reference::division::street)
            .map(|s| s.name.to_owned())
            .unwrap_or_else(|| "（未提供）".to_owned())
    }
}

/// The tabs of the review queue (a submission is decided at once or waits in review).
pub const TABS: [CertificationStatus; 3] =
    [CertificationStatus::Review, CertificationStatus::Certified, CertificationStatus::Rejected];

pub async fn list_certifications(
    State(st): State<AppState>,
    staff: Reviewer,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let status = q.status_or(CertificationStatus::Review, CertificationStatus::parse);
    let (rows, total) = certification::list_reviews(&st.ctx, &staff.actor, status, q.page).await?;
    let notice = kit::notice(
        &q.done,
        &[("approved", "已通过，企业已收到站内信。"), ("rejected", "已驳回，企业已收到站内信，可修改后重新提交。")],
    );
    kit::render(&CertificationsPage {
        admin: staff.chrome(&st, "实名认证审核", "certifications").await?,
        rows,
        pager: Pager::new(
            q.page,
            20,
            total,
            format!("/admin/certifications?status={}", kit::review::tab_code(status.map(CertificationStatus::code))),
        ),
        status,
        notice,
    })
}

async fn detail(st: &AppState, staff: &Reviewer, id: i64, errors: FieldErrors) -> Result<CertificationDetailPage, WebError> {
    let row = certification::review_detail(&st.ctx, &staff.actor, id).await?;
    Ok(CertificationDetailPage {
        admin: staff.chrome(st, "认证审核", "certifications").await?,
        row,
        errors,
        streets: qifu_domain::reference::division::tongzhou_streets(),
    })
}

pub async fn show_certification(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    kit::render(&detail(&st, &staff, parse_id(&id)?, FieldErrors::default()).await?)
}

/// The decision, with the base fields the reviewer completes from the licence.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CertDecision {
    decision: String,
    reason: String,
    founded_on: String,
    industry_code: String,
    division_code: String,
    entity_type: String,
    registered_capital_wan: String,
    address: String,
}

pub async fn decide_certification(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<CertDecision>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let approve = Decision { decision: form.decision.clone(), reason: form.reason.clone() }.approve("驳回")?;
    let review = certification::ReviewInput {
        founded_on: form.founded_on,
        industry_code: form.industry_code,
        division_code: form.division_code,
        entity_type: form.entity_type,
        registered_capital_wan: form.registered_capital_wan,
        address: form.address,
    };
    match certification::decide(&st.ctx, &staff.actor, &staff.viewer.meta, id, approve, &form.reason, &review).await {
        Ok(()) => {
            Ok(Redirect::to(if approve { "/admin/certifications?done=approved" } else { "/admin/certifications?done=rejected" })
                .into_response())
        }
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&detail(&st, &staff, id, errors).await?)
        }
    }
}
