//! System: readiness, job housekeeping.

use crate::context::Ctx;
use chrono::Duration;
use sea_orm::DbErr;

/// Deletes finished jobs older than a week.
pub async fn prune_jobs(ctx: &Ctx) -> Result<u64, DbErr> {
    qifu_db::jobs::prune_done(&ctx.db, ctx.now() - Duration::days(7)).await
}

pub use crate::accounts::prune_sessions;

use crate::access::AccessError;
use crate::accounts::{Actor, can_view_jobs};
use qifu_db::entity::job;
use qifu_db::jobs::QueueStats;

/// The job queue as the back office shows it.
pub struct JobOverview {
    pub stats: QueueStats,
    pub jobs: Vec<job::Model>,
    pub total: u64,
}

pub async fn job_overview(
    ctx: &Ctx,
    actor: &Actor,
    status: Option<&str>,
    page: u64,
) -> Result<JobOverview, AccessError> {
    if !can_view_jobs(actor) {
        return Err(AccessError::Forbidden);
    }
    let status = status.filter(|s| ["queued", "running", "done", "dead"].contains(s));
    let stats = qifu_db::jobs::stats(&ctx.db).await?;
    let (jobs, total) = qifu_db::jobs::list(&ctx.db, status, page.max(1), 50).await?;
    Ok(JobOverview { stats, jobs, total })
}

/// Puts a dead job back on the queue.
pub async fn retry_job(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(), AccessError> {
    if !can_view_jobs(actor) {
        return Err(AccessError::Forbidden);
    }
    if qifu_db::jobs::retry_dead(&ctx.db, id, ctx.now()).await? {
        Ok(())
    } else {
        Err(AccessError::NotFound)
    }
}
