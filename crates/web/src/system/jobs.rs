//! The back office's dashboard and the job queue.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_domain::accounts::Permission;
use qifu_domain::system::JobStatus;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "system/admin_dashboard.html")]
pub struct DashboardPage {
    pub admin: AdminChrome,
    pub counts: qifu_db::read::Counts,
    pub jobs: Option<qifu_db::jobs::QueueStats>,
}

#[derive(Template)]
#[template(path = "system/admin_jobs.html")]
pub struct JobsPage {
    pub admin: AdminChrome,
    pub overview: qifu_app::system::JobOverview,
    pub status: Option<JobStatus>,
    pub pager: Pager,
}

pub async fn show_dashboard(State(st): State<AppState>, staff: Staff) -> Result<Html<String>, WebError> {
    let home = qifu_db::read::home(&st.ctx.db, st.ctx.now()).await?;
    let jobs = if staff.actor.can(Permission::JobView) { Some(qifu_db::jobs::stats(&st.ctx.db).await?) } else { None };
    kit::render(&DashboardPage { admin: staff.chrome(&st, "工作台", "dashboard").await?, counts: home.counts, jobs })
}

#[derive(Debug, Deserialize)]
pub struct JobQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
}

pub async fn list_jobs(
    State(st): State<AppState>,
    staff: Staff<perm::JobView>,
    Query(q): Query<JobQuery>,
) -> Result<Html<String>, WebError> {
    let status = JobStatus::parse(&q.status);
    let overview = qifu_app::system::job_overview(&st.ctx, &staff.actor, status, q.page).await?;
    let base = match status {
        None => "/admin/jobs".to_owned(),
        Some(s) => format!("/admin/jobs?status={}", s.code()),
    };
    let pager = Pager::new(q.page, 50, overview.total, base);
    kit::render(&JobsPage { admin: staff.chrome(&st, "任务队列", "jobs").await?, overview, status, pager })
}

pub async fn retry_job(
    State(st): State<AppState>,
    staff: Staff<perm::JobView>,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    qifu_app::system::retry_job(&st.ctx, &staff.actor, &staff.viewer.meta, id).await?;
    Ok(Redirect::to("/admin/jobs?status=queued").into_response())
}
