//! Typed jobs on top of the queue table. A job is enqueued in the caller's
//! transaction, so it exists if and only if the change that caused it committed.

use crate::context::Ctx;
use chrono::{DateTime, Duration, Utc};
use qifu_db::jobs::NewJob;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of background work. Handlers must be idempotent: a job may run more
/// than once if a worker dies after doing the work but before recording it.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored in the table.
    const KIND: &'static str;

    /// Same key = same logical job, enqueued once. `None` = always a new job.
    fn dedup_key(&self) -> Option<String> {
        None
    }
}

/// Options for one enqueue.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnqueueOptions {
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: Option<i32>,
}

/// Enqueues `job` on `conn` (a connection or an open transaction).
/// Returns the id, or `None` if the same logical job was already enqueued.
pub async fn enqueue<C: ConnectionTrait, J: Job>(
    conn: &C,
    ctx: &Ctx,
    job: &J,
    opts: EnqueueOptions,
) -> Result<Option<i64>, DbErr> {
    let now = ctx.now();
    let payload = serde_json::to_string(job).map_err(|e| DbErr::Custom(format!("job payload: {e}")))?;
    qifu_db::jobs::enqueue(
        conn,
        NewJob {
            kind: J::KIND.to_owned(),
            payload,
            dedup_key: job.dedup_key(),
            run_at: opts.run_at.unwrap_or(now),
            max_attempts: opts.max_attempts.unwrap_or(ctx.settings.worker.max_attempts),
        },
        now,
    )
    .await
}

/// Exponential backoff after the `attempt`-th failure, capped.
pub fn backoff(base_secs: i64, max_secs: i64, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(0);
    let secs = base_secs.saturating_mul(2_i64.saturating_pow(exp)).min(max_secs);
    Duration::seconds(secs)
}

/// Removes finished jobs older than a week (dead jobs are kept for inspection).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PruneJobs;

impl Job for PruneJobs {
    const KIND: &'static str = "system.prune_jobs";
}

/// Reminds and escalates demands not accepted in time.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CheckOverdueDemands;

impl Job for CheckOverdueDemands {
    const KIND: &'static str = "demands.check_overdue";
}

/// Sends one SMS notice to a user (the text is "{title}，请登录平台查看。").
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SendSmsNotice {
    pub user_id: i64,
    pub title: String,
    /// Texts this (encrypted) number instead of the user's, for people without
    /// an account yet, such as an institution whose application was reviewed.
    #[serde(default)]
    pub to_phone_enc: Option<String>,
}

impl Job for SendSmsNotice {
    const KIND: &'static str = "messages.sms_notice";
}

/// Deletes expired sessions.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PruneSessions;

impl Job for PruneSessions {
    const KIND: &'static str = "system.prune_sessions";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(10, 3600, 1), Duration::seconds(10));
        assert_eq!(backoff(10, 3600, 2), Duration::seconds(20));
        assert_eq!(backoff(10, 3600, 4), Duration::seconds(80));
        assert_eq!(backoff(10, 3600, 30), Duration::seconds(3600));
    }
}
