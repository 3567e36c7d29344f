//! The background worker: claims due jobs from the queue table and runs them
//! with bounded concurrency (in all and per kind, so one slow kind cannot
//! starve the others), each cut off at its deadline; keeps the leases of the
//! jobs it runs alive with a heartbeat (a node that dies loses its jobs to
//! another within one short lease); ticks the cron scheduler on its own, so a
//! busy or hanging job never delays a firing; and stops within a bounded time,
//! giving back what it could not finish.
//!
//! Handlers and schedules are registered by each area in `qifu_app`
//! (`qifu_app::job_registry`).

use chrono::{DateTime, Utc};
use qifu_app::Ctx;
use qifu_app::jobs::backoff;
use qifu_db::entity::job;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use qifu_app::jobs::{JobRegistry as Registry, Schedule as ScheduleEntry};

/// The schedules qifu runs (every area's).
pub fn default_schedules() -> anyhow::Result<Vec<ScheduleEntry>> {
    Ok(qifu_app::job_registry().schedules().to_vec())
}

/// The handlers of every job kind qifu defines.
pub fn standard_registry() -> Registry {
    qifu_app::job_registry()
}

pub struct Worker {
    ctx: Ctx,
    registry: Arc<Registry>,
    schedules: Vec<ScheduleEntry>,
    id: String,
    /// Jobs this worker is running, whose leases the heartbeat renews.
    held: Arc<Mutex<HashSet<i64>>>,
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

    fn add(&mut self, o: Outcome) {
        match o {
            Outcome::Ok => self.succeeded += 1,
            Outcome::Retry => self.retried += 1,
            Outcome::Dead => self.dead += 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok,
    Retry,
    Dead,
}

impl Worker {
    pub fn new(ctx: Ctx, registry: Registry, schedules: Vec<ScheduleEntry>) -> Self {
        let id = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        Worker { ctx, registry: Arc::new(registry), schedules, id, held: Arc::default() }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.ctx.settings.worker.lease_secs.max(3))
    }

    fn per_kind(&self) -> usize {
        usize::try_from(self.ctx.settings.worker.per_kind_concurrency.max(1)).unwrap_or(1)
    }

    fn concurrency(&self) -> usize {
        usize::try_from(self.ctx.settings.worker.concurrency.max(1)).unwrap_or(1)
    }

    /// Claims up to `free` due jobs, at most `per_kind - running[kind]` of each kind.
    async fn claim(&self, free: usize, running: &HashMap<String, usize>) -> anyhow::Result<Vec<job::Model>> {
        if free == 0 {
            return Ok(Vec::new());
        }
        let now = self.ctx.now();
        let lease_until = now + self.lease();
        let mut out = Vec::new();
        for kind in qifu_db::jobs::due_kinds(&self.ctx.db, now).await? {
            let room = self.per_kind().saturating_sub(running.get(&kind).copied().unwrap_or(0)).min(free - out.len());
            if room == 0 {
                continue;
            }
            let got = qifu_db::jobs::claim_of(&self.ctx.db, &self.id, now, lease_until, room as u64, Some(kind.as_str())).await?;
            out.extend(got);
            if out.len() >= free {
                break;
            }
        }
        if let Ok(mut h) = self.held.lock() {
            h.extend(out.iter().map(|j| j.id));
        }
        Ok(out)
    }

    /// Runs one claimed job to its end (or its deadline) and records the outcome.
    async fn execute(ctx: Ctx, registry: Arc<Registry>, worker: String, job: job::Model) -> (i64, anyhow::Result<Outcome>) {
        let started = Instant::now();
        let result = registry.run(ctx.clone(), &job.kind, job.payload.clone()).await;
        metrics::histogram!("qifu_job_duration_seconds", "kind" => job.kind.clone()).record(started.elapsed().as_secs_f64());
        let now = ctx.now();
        let recorded = match result {
            Ok(()) => qifu_db::jobs::complete(&ctx.db, job.id, &worker, now).await.map(|_| Outcome::Ok),
            Err(err) => {
                let w = &ctx.settings.worker;
                let retry_at = now + backoff(w.backoff_base_secs, w.backoff_max_secs, job.attempts);
                let msg = format!("{err:#}");
                match qifu_db::jobs::fail(&ctx.db, &job, &worker, now, &msg, retry_at).await {
                    Ok(true) => {
                        tracing::error!(job_id = job.id, kind = %job.kind, attempts = job.attempts, error = %msg, "job failed for good");
                        Ok(Outcome::Dead)
                    }
                    Ok(false) => {
                        tracing::warn!(job_id = job.id, kind = %job.kind, attempts = job.attempts, error = %msg, "job failed; will retry");
                        Ok(Outcome::Retry)
                    }
                    Err(e) => Err(e),
                }
            }
        };
        let outcome = match &recorded {
            Ok(Outcome::Ok) => "ok",
            Ok(Outcome::Retry) => "retry",
            Ok(Outcome::Dead) => "dead",
            Err(_) => "unrecorded",
        };
        metrics::counter!("qifu_jobs_processed_total", "kind" => job.kind.clone(), "outcome" => outcome).increment(1);
        (job.id, recorded.map_err(anyhow::Error::from))
    }

    fn spawn(&self, set: &mut JoinSet<(i64, anyhow::Result<Outcome>)>, job: job::Model) -> tokio::task::Id {
        let (ctx, registry, worker) = (self.ctx.clone(), self.registry.clone(), self.id.clone());
        set.spawn(Self::execute(ctx, registry, worker, job)).id()
    }

    fn forget(&self, id: i64) {
        if let Ok(mut h) = self.held.lock() {
            h.remove(&id);
        }
    }

    /// Claims one batch of due jobs (bounded per kind) and runs them concurrently to the end.
    pub async fn run_once(&self) -> anyhow::Result<Pass> {
        let free = usize::try_from(self.ctx.settings.worker.batch_size.max(1)).unwrap_or(1).min(self.concurrency().max(1) * 4);
        let jobs = self.claim(free, &HashMap::new()).await?;
        let mut set = JoinSet::new();
        for j in jobs {
            self.spawn(&mut set, j);
        }
        let mut pass = Pass::default();
        let mut first_err = None;
        while let Some(r) = set.join_next().await {
            let (id, outcome) = r.map_err(|e| anyhow::anyhow!("任务执行中断：{e}"))?;
            self.forget(id);
            match outcome {
                Ok(o) => pass.add(o),
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(pass),
        }
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

    /// Renews the leases of every job this worker holds.
    pub async fn heartbeat(&self) -> anyhow::Result<u64> {
        let ids: Vec<i64> = self.held.lock().map(|h| h.iter().copied().collect()).unwrap_or_default();
        Ok(qifu_db::jobs::renew(&self.ctx.db, &self.id, &ids, self.ctx.now() + self.lease()).await?)
    }

    /// Updates the queue-depth gauges.
    pub async fn report_depth(&self) -> anyhow::Result<()> {
        let s = qifu_db::jobs::stats(&self.ctx.db).await?;
        for (status, n) in [("queued", s.queued), ("running", s.running), ("done", s.done), ("dead", s.dead)] {
            metrics::gauge!("qifu_jobs", "status" => status).set(n as f64);
        }
        Ok(())
    }

    /// The loop until `shutdown` turns true: cron and the lease heartbeat on
    /// their own tasks; jobs dispatched as slots free up. On shutdown, running
    /// jobs get `worker.shutdown_grace_secs` to finish; the rest are cut off and
    /// given back to the queue.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let me = Arc::new(self);
        let poll = Duration::from_millis(me.ctx.settings.worker.poll_interval_ms.max(50));
        tracing::info!(worker = %me.id, "worker started");
        let cron = tokio::spawn({
            let me = me.clone();
            let mut stop = shutdown.clone();
            async move {
                let mut last = me.ctx.now();
                loop {
                    let now = me.ctx.now();
                    match me.tick_cron(last, now).await {
                        Ok(_) => last = now,
                        Err(e) => tracing::warn!(error = %format!("{e:#}"), "cron tick failed"),
                    }
                    if let Err(e) = me.report_depth().await {
                        tracing::debug!(error = %format!("{e:#}"), "queue depth unavailable");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1).min(poll)) => {}
                        _ = stop.changed() => {}
                    }
                    if *stop.borrow() {
                        break;
                    }
                }
            }
        });
        let heartbeat = tokio::spawn({
            let me = me.clone();
            let every = Duration::from_secs(u64::try_from(me.ctx.settings.worker.lease_secs.max(3) / 3).unwrap_or(1).max(1));
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    if let Err(e) = me.heartbeat().await {
                        tracing::warn!(error = %format!("{e:#}"), "job lease heartbeat failed");
                    }
                }
            }
        });
        // Cron and heartbeat end with this loop, whether it returns or is dropped.
        let _helpers = AbortOnDrop(vec![cron.abort_handle(), heartbeat.abort_handle()]);
        let mut set: JoinSet<(i64, anyhow::Result<Outcome>)> = JoinSet::new();
        let mut running: HashMap<String, usize> = HashMap::new();
        let mut tasks: HashMap<tokio::task::Id, (i64, String)> = HashMap::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = me.concurrency().saturating_sub(set.len());
            let claimed = match me.claim(free, &running).await {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "claiming jobs failed");
                    Vec::new()
                }
            };
            let idle = claimed.is_empty();
            for j in claimed {
                *running.entry(j.kind.clone()).or_default() += 1;
                let (id, kind) = (j.id, j.kind.clone());
                let task = me.spawn(&mut set, j);
                tasks.insert(task, (id, kind));
            }
            // Wait for a slot, new work, or the stop signal.
            tokio::select! {
                done = set.join_next_with_id(), if !set.is_empty() => {
                    me.finished(done, &mut running, &mut tasks);
                }
                _ = tokio::time::sleep(poll), if idle || set.len() >= me.concurrency() => {}
                _ = std::future::ready(()), if !idle && set.len() < me.concurrency() => {}
                _ = shutdown.changed() => {}
            }
        }
        // Shutdown: a bounded wait, then cut off and give back.
        let grace = Duration::from_secs(me.ctx.settings.worker.shutdown_grace_secs);
        let deadline = tokio::time::Instant::now() + grace;
        while !set.is_empty() {
            match tokio::time::timeout_at(deadline, set.join_next_with_id()).await {
                Ok(done) => me.finished(done, &mut running, &mut tasks),
                Err(_) => break,
            }
        }
        set.abort_all();
        let left: Vec<i64> = me.held.lock().map(|h| h.iter().copied().collect()).unwrap_or_default();
        if !left.is_empty() {
            match qifu_db::jobs::release(&me.ctx.db, &me.id, &left, me.ctx.now()).await {
                Ok(n) => tracing::info!(released = n, "unfinished jobs given back to the queue"),
                Err(e) => tracing::warn!(error = %e, "could not give back unfinished jobs; their leases will expire"),
            }
        }
        heartbeat.abort();
        let _ = tokio::time::timeout(Duration::from_secs(2), cron).await;
        tracing::info!(worker = %me.id, "worker stopped");
    }

    /// Bookkeeping when a job task ends (or was aborted).
    #[allow(clippy::type_complexity)] // the JoinSet's own result type
    fn finished(
        &self,
        done: Option<Result<(tokio::task::Id, (i64, anyhow::Result<Outcome>)), tokio::task::JoinError>>,
        running: &mut HashMap<String, usize>,
        tasks: &mut HashMap<tokio::task::Id, (i64, String)>,
    ) {
        let Some(done) = done else { return };
        let (task, outcome) = match done {
            Ok((task, (_, outcome))) => (task, Some(outcome)),
            Err(e) => (e.id(), None),
        };
        if let Some((id, kind)) = tasks.remove(&task) {
            self.forget(id);
            if let Some(n) = running.get_mut(&kind) {
                *n = n.saturating_sub(1);
            }
        }
        if let Some(Err(e)) = outcome {
            tracing::warn!(error = %format!("{e:#}"), "job outcome not recorded; its lease will expire and it runs again");
        }
    }
}

/// Aborts tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "qifu".to_owned())
}
