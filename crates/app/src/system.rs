//! System: readiness, job housekeeping.

use crate::context::Ctx;
use chrono::Duration;
use qifu_domain::system::JobStatus;
use sea_orm::DbErr;

/// Deletes finished jobs older than a week.
pub async fn prune_jobs(ctx: &Ctx) -> Result<u64, DbErr> {
    qifu_db::jobs::prune_done(&ctx.db, ctx.now() - Duration::days(7)).await
}

pub use crate::accounts::prune_sessions;

use crate::actor::AccessError;
use crate::actor::Actor;
use qifu_db::entity::job;
use qifu_db::jobs::QueueStats;
use qifu_domain::accounts::Permission;

/// The job queue as the back office shows it.
pub struct JobOverview {
    pub stats: QueueStats,
    pub jobs: Vec<job::Model>,
    pub total: u64,
}

pub async fn job_overview(ctx: &Ctx, actor: &Actor, status: Option<JobStatus>, page: u64) -> Result<JobOverview, AccessError> {
    crate::actor::require(actor, Permission::JobView)?;
    let stats = qifu_db::jobs::stats(&ctx.db).await?;
    let (jobs, total) = qifu_db::jobs::list(&ctx.db, status, page.max(1), 50).await?;
    Ok(JobOverview { stats, jobs, total })
}

/// Puts a dead job back on the queue.
pub async fn retry_job(ctx: &Ctx, actor: &Actor, meta: &crate::context::Meta, id: i64) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::JobView)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    if !qifu_db::jobs::retry_dead(&txn, id, ctx.now()).await? {
        return Err(AccessError::NotFound);
    }
    crate::audit::record(&txn, ctx, Some(actor), meta, crate::audit::Entry::ok("job.retry", "job", id, serde_json::json!({})))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Prepares a fresh or upgraded database: built-in roles with their grants, the
/// menu tree. Idempotent; run at every start.
pub async fn bootstrap(ctx: &Ctx) -> Result<(), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    crate::accounts::ensure_builtin_roles(&txn, ctx).await?;
    crate::accounts::ensure_menus(&txn).await?;
    crate::authorization::ensure_platform_key(&txn, ctx).await?;
    crate::messages::templates::ensure_templates(&txn, ctx.now()).await?;
    txn.commit().await
}

/// Housekeeping of short-lived security records: captchas, old SMS codes and
/// rate-limit events older than a day.
pub async fn prune_security_records(ctx: &Ctx) -> Result<u64, DbErr> {
    use qifu_db::entity::{rate_event, sms_code};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let day_ago = ctx.now() - Duration::days(1);
    let mut n = crate::accounts::prune_captchas(&ctx.db, ctx).await?;
    n += rate_event::Entity::delete_many().filter(rate_event::Column::At.lt(day_ago)).exec(&ctx.db).await?.rows_affected;
    n += sms_code::Entity::delete_many().filter(sms_code::Column::CreatedAt.lt(day_ago)).exec(&ctx.db).await?.rows_affected;
    n += crate::idempotency::prune(ctx).await?;
    Ok(n)
}

/// Removes finished jobs older than a week (dead jobs are kept for inspection).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PruneJobs;

impl crate::jobs::Job for PruneJobs {
    const KIND: &'static str = "system.prune_jobs";
}

/// Deletes expired sessions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PruneSessions;

impl crate::jobs::Job for PruneSessions {
    const KIND: &'static str = "system.prune_sessions";
}

/// The system area's jobs and schedules.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, _: PruneJobs| async move {
        let n = prune_jobs(&ctx).await?;
        tracing::info!(deleted = n, "pruned finished jobs");
        Ok(())
    });
    r.register(|ctx: Ctx, _: PruneSessions| async move {
        let n = prune_sessions(&ctx).await?;
        let m = prune_security_records(&ctx).await?;
        tracing::info!(sessions = n, records = m, "pruned expired sessions, captchas, codes, rate events and idempotency keys");
        Ok(())
    });
    r.schedule("prune_sessions", "0 */10 * * * *", &PruneSessions);
    r.schedule("prune_jobs", "0 30 3 * * *", &PruneJobs);
}

/// Below this much free space in the data directory, storage is reported as low.
pub const LOW_DISK_BYTES: u64 = 256 * 1024 * 1024;

/// Database writes refused by the disk or file system, and when the last one was.
static WRITE_FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static LAST_WRITE_FAILURE: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);

/// Records a database error if it is the storage refusing a write (disk full,
/// I/O error); returns whether it was.
pub fn note_storage_failure(err: &DbErr) -> bool {
    if !qifu_db::is_storage_failure(err) {
        return false;
    }
    WRITE_FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    qifu_db::note_storage_trouble();
    if let Ok(mut t) = LAST_WRITE_FAILURE.lock() {
        *t = Some(std::time::Instant::now());
    }
    metrics::counter!("qifu_storage_write_failures_total").increment(1);
    tracing::error!(error = %err, "the storage refused a database write");
    true
}

/// The data directory's storage, for `/readyz`, `/metrics` and the back office.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StorageStatus {
    /// `ok`, `low` (under [`LOW_DISK_BYTES`] free) or `failing` (a write refused in the last minute).
    pub state: &'static str,
    pub free_bytes: Option<u64>,
    pub write_failures: u64,
}

pub fn storage_status(ctx: &Ctx) -> StorageStatus {
    let free = fs4::available_space(&ctx.settings.data_dir).ok();
    let failures = WRITE_FAILURES.load(std::sync::atomic::Ordering::Relaxed);
    let recent =
        LAST_WRITE_FAILURE.lock().ok().and_then(|t| *t).is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(60));
    if let Some(f) = free {
        metrics::gauge!("qifu_disk_free_bytes").set(f as f64);
    }
    let state = if recent {
        "failing"
    } else if free.is_some_and(|f| f < LOW_DISK_BYTES) {
        "low"
    } else {
        "ok"
    };
    StorageStatus { state, free_bytes: free, write_failures: failures }
}
