//! The background worker: claims due jobs from the queue table, runs their
//! handlers, records the outcome with retries and backoff, and runs the cron
//! scheduler, which only enqueues.

mod registry;
mod schedule;

pub use registry::Registry;
pub use schedule::{ScheduleEntry, default_schedules};

use chrono::{DateTime, Utc};
use qifu_app::Ctx;
use qifu_app::jobs::backoff;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub struct Worker {
    ctx: Ctx,
    registry: Arc<Registry>,
    schedules: Vec<ScheduleEntry>,
    id: String,
}

/// What one pass over the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub succeeded: usize,
    pub retried: usize,
    pub dead: usize,
}

impl Pass {
    pub fn total(&self) -> usize {
        self.succeeded + self.retried + self.dead
    }
}

impl Worker {
    pub fn new(ctx: Ctx, registry: Registry, schedules: Vec<ScheduleEntry>) -> Self {
        let id = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        Worker { ctx, registry: Arc::new(registry), schedules, id }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims one batch of due jobs and runs them.
    pub async fn run_once(&self) -> anyhow::Result<Pass> {
        let now = self.ctx.now();
        let lease = now + chrono::Duration::seconds(self.ctx.settings.worker.lease_secs);
        let jobs = qifu_db::jobs::claim(&self.ctx.db, &self.id, now, lease, self.ctx.settings.worker.batch_size).await?;
        let mut pass = Pass::default();
        for job in jobs {
            let started = Instant::now();
            let result = self.registry.run(self.ctx.clone(), &job.kind, job.payload.clone()).await;
            let secs = started.elapsed().as_secs_f64();
            metrics::histogram!("qifu_job_duration_seconds", "kind" => job.kind.clone()).record(secs);
            let now = self.ctx.now();
            match result {
                Ok(()) => {
                    qifu_db::jobs::complete(&self.ctx.db, job.id, &self.id, now).await?;
                    metrics::counter!("qifu_jobs_processed_total", "kind" => job.kind.clone(), "outcome" => "ok").increment(1);
                    pass.succeeded += 1;
                }
                Err(err) => {
                    let w = &self.ctx.settings.worker;
                    let retry_at = now + backoff(w.backoff_base_secs, w.backoff_max_secs, job.attempts);
                    let msg = format!("{err:#}");
                    let dead = qifu_db::jobs::fail(&self.ctx.db, &job, &self.id, now, &msg, retry_at).await?;
                    let outcome = if dead { "dead" } else { "retry" };
                    metrics::counter!("qifu_jobs_processed_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
                    if dead {
                        tracing::error!(job_id = job.id, kind = %job.kind, attempts = job.attempts, error = %msg, "job failed for good");
                        pass.dead += 1;
                    } else {
                        tracing::warn!(job_id = job.id, kind = %job.kind, attempts = job.attempts, error = %msg, "job failed; will retry");
                        pass.retried += 1;
                    }
                }
            }
        }
        Ok(pass)
    }

    /// Runs passes until nothing is due (bounded), for tests and `qifu worker --once`.
    pub async fn drain(&self) -> anyhow::Result<Pass> {
        let mut all = Pass::default();
        for _ in 0..1000 {
            let p = self.run_once().await?;
            if p.total() == 0 {
                break;
            }
            all.succeeded += p.succeeded;
            all.retried += p.retried;
            all.dead += p.dead;
        }
        Ok(all)
    }

    /// Enqueues every schedule that fired in `(since, now]`. Idempotent across
    /// nodes: each firing has a dedup key of its own.
    pub async fn tick_cron(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut n = 0;
        for s in &self.schedules {
            if let Some(at) = s.last_fire_between(since, now)
                && s.enqueue(&self.ctx, at).await?.is_some()
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Updates the queue-depth gauges.
    pub async fn report_depth(&self) -> anyhow::Result<()> {
        let s = qifu_db::jobs::stats(&self.ctx.db).await?;
        for (status, n) in [("queued", s.queued), ("running", s.running), ("done", s.done), ("dead", s.dead)] {
            metrics::gauge!("qifu_jobs", "status" => status).set(n as f64);
        }
        Ok(())
    }

    /// The loop: cron, a pass, gauges, sleep; until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.ctx.settings.worker.poll_interval_ms.max(50));
        let mut last_cron = self.ctx.now();
        tracing::info!(worker = %self.id, "worker started");
        loop {
            let now = self.ctx.now();
            if let Err(e) = self.tick_cron(last_cron, now).await {
                tracing::warn!(error = %format!("{e:#}"), "cron tick failed");
            } else {
                last_cron = now;
            }
            let busy = match self.run_once().await {
                Ok(p) => p.total() > 0,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "worker pass failed");
                    false
                }
            };
            if let Err(e) = self.report_depth().await {
                tracing::debug!(error = %format!("{e:#}"), "queue depth unavailable");
            }
            if busy {
                if *shutdown.borrow() {
                    break;
                }
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "qifu".to_owned())
}
