//! Kernel: typed jobs on top of the queue table, and the registry of their
//! handlers and cron schedules. A job is enqueued in the caller's transaction,
//! so it exists if and only if the change that caused it committed. Each area
//! registers its own jobs (`<area>::register_jobs`), one line per area in
//! [`crate::job_registry`].

use crate::context::Ctx;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use qifu_db::jobs::NewJob;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

/// A kind of background work. Handlers must be idempotent: a job may run more
/// than once if a worker dies after doing the work but before recording it.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored in the table.
    const KIND: &'static str;

    /// The longest one run may take. A run past it is cut off (every outside
    /// call inside it with it) and counts as a failure to retry.
    const DEADLINE_SECS: u64 = 300;

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

type BoxFut = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(Ctx, String) -> BoxFut + Send + Sync>;

/// How one kind of job runs.
#[derive(Clone)]
struct Entry {
    handler: Handler,
    deadline: std::time::Duration,
}

/// Handlers by job kind, and the cron schedules that enqueue jobs.
#[derive(Clone, Default)]
pub struct JobRegistry {
    handlers: HashMap<&'static str, Entry>,
    schedules: Vec<Schedule>,
}

impl JobRegistry {
    /// Every area's jobs and schedules ([`crate::job_registry`]).
    pub fn standard() -> Self {
        crate::job_registry()
    }

    /// Registers the handler of job type `J`, replacing any earlier one.
    pub fn register<J, F, Fut>(&mut self, f: F)
    where
        J: Job,
        F: Fn(Ctx, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let f = Arc::new(f);
        let handler: Handler = Arc::new(move |ctx, payload| {
            let f = f.clone();
            Box::pin(async move {
                let job: J = serde_json::from_str(&payload).with_context(|| format!("任务参数无法解析 ({})", J::KIND))?;
                f(ctx, job).await
            })
        });
        self.handlers.insert(J::KIND, Entry { handler, deadline: std::time::Duration::from_secs(J::DEADLINE_SECS) });
    }

    /// Adds a cron schedule (six fields, seconds first) that enqueues `job`.
    pub fn schedule<J: Job>(&mut self, name: &'static str, expression: &'static str, job: &J) {
        match Schedule::new(name, expression, job) {
            Ok(s) => self.schedules.push(s),
            // Expressions are constants of the code: a bad one is a bug caught by the tests.
            Err(e) => tracing::error!(error = %e, name, "invalid schedule ignored"),
        }
    }

    pub fn schedules(&self) -> &[Schedule] {
        &self.schedules
    }

    pub fn kinds(&self) -> Vec<&'static str> {
        let mut k: Vec<_> = self.handlers.keys().copied().collect();
        k.sort_unstable();
        k
    }

    /// The deadline of a kind (the default for unknown kinds).
    pub fn deadline(&self, kind: &str) -> std::time::Duration {
        self.handlers.get(kind).map_or(std::time::Duration::from_secs(300), |e| e.deadline)
    }

    /// Runs a job in its own task, cut off at its deadline, so that neither a
    /// panic nor a hang becomes anything but an ordinary failure.
    pub async fn run(&self, ctx: Ctx, kind: &str, payload: String) -> anyhow::Result<()> {
        let Some(e) = self.handlers.get(kind).cloned() else {
            anyhow::bail!("没有处理此类任务的程序：{kind}");
        };
        let h = e.handler;
        let mut task = tokio::spawn(async move { h(ctx, payload).await });
        match tokio::time::timeout(e.deadline, &mut task).await {
            Ok(Ok(r)) => r,
            Ok(Err(err)) if err.is_panic() => anyhow::bail!("任务处理程序崩溃 (panic)"),
            Ok(Err(err)) => Err(anyhow::anyhow!("任务被取消：{err}")),
            Err(_) => {
                task.abort();
                anyhow::bail!("任务超过时限 {} 秒，已中止", e.deadline.as_secs())
            }
        }
    }
}

/// A cron schedule. A schedule only enqueues; the job does the work.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: &'static str,
    pub expression: &'static str,
    schedule: cron::Schedule,
    kind: &'static str,
    payload: String,
}

impl Schedule {
    /// A schedule for job `job` with a 6-field cron expression (seconds first).
    pub fn new<J: Job>(name: &'static str, expression: &'static str, job: &J) -> anyhow::Result<Self> {
        let schedule = cron::Schedule::from_str(expression).map_err(|e| anyhow::anyhow!("cron 表达式 {expression} 无效：{e}"))?;
        Ok(Schedule { name, expression, schedule, kind: J::KIND, payload: serde_json::to_string(job)? })
    }

    /// The latest firing in `(since, now]`, if any. Older missed firings are
    /// collapsed into this one.
    pub fn last_fire_between(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&since).take_while(|t| *t <= now).last()
    }

    /// Enqueues this firing; idempotent across nodes (the firing is the dedup key).
    pub async fn enqueue(&self, ctx: &Ctx, at: DateTime<Utc>) -> anyhow::Result<Option<i64>> {
        let job = NewJob {
            kind: self.kind.to_owned(),
            payload: self.payload.clone(),
            dedup_key: Some(format!("cron:{}:{}", self.name, at.timestamp())),
            run_at: at,
            max_attempts: ctx.settings.worker.max_attempts,
        };
        Ok(qifu_db::jobs::enqueue(&ctx.db, job, ctx.now()).await?)
    }
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
