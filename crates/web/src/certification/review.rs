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
    Ok(CertificationDetailPage { admin: staff.chrome(st, "认证审核", "certifications").await?, row, errors })
}

pub async fn show_certification(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    kit::render(&detail(&st, &staff, parse_id(&id)?, FieldErrors::default()).await?)
}

pub async fn decide_certification(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<Decision>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let approve = form.approve("驳回")?;
    match certification::decide(&st.ctx, &staff.actor, &staff.viewer.meta, id, approve, &form.reason).await {
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
