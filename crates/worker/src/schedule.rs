//! Cron schedules. A schedule only enqueues; the job does the work.

use chrono::{DateTime, Utc};
use qifu_app::Ctx;
use qifu_app::jobs::{CheckOverdueDemands, Job, PruneJobs, PruneSessions};
use qifu_db::jobs::NewJob;
use std::str::FromStr;

#[derive(Debug, Clone)]
pub struct ScheduleEntry {
    pub name: &'static str,
    pub expression: &'static str,
    schedule: cron::Schedule,
    kind: &'static str,
    payload: String,
}

impl ScheduleEntry {
    /// A schedule for job `job` with a 6-field cron expression (seconds first).
    pub fn new<J: Job>(name: &'static str, expression: &'static str, job: &J) -> anyhow::Result<Self> {
        let schedule = cron::Schedule::from_str(expression).map_err(|e| anyhow::anyhow!("cron 表达式 {expression} 无效：{e}"))?;
        Ok(ScheduleEntry { name, expression, schedule, kind: J::KIND, payload: serde_json::to_string(job)? })
    }

    /// The latest firing in `(since, now]`, if any. Older missed firings are
    /// collapsed into this one.
    pub fn last_fire_between(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&since).take_while(|t| *t <= now).last()
    }

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

/// The schedules qifu runs.
pub fn default_schedules() -> anyhow::Result<Vec<ScheduleEntry>> {
    Ok(vec![
        ScheduleEntry::new("prune_sessions", "0 */10 * * * *", &PruneSessions)?,
        ScheduleEntry::new("prune_jobs", "0 30 3 * * *", &PruneJobs)?,
        ScheduleEntry::new("overdue_demands", "0 0 * * * *", &CheckOverdueDemands)?,
        ScheduleEntry::new("crawl_policies", "0 0 6 * * *", &qifu_app::crawl::CrawlAll)?,
    ])
}
