use crate::{PASSWORD, TestApp};
use chrono::Duration;
use qifu_domain::system::JobStatus;
use qifu_testkit::qifu_app::jobs::{EnqueueOptions, Job, enqueue};
use qifu_testkit::qifu_db::entity::job;
use qifu_testkit::reqwest::StatusCode;
use qifu_worker::{Registry, Worker};
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Serialize, Deserialize)]
struct Count {
    n: u32,
}

impl Job for Count {
    const KIND: &'static str = "test.count";
    fn dedup_key(&self) -> Option<String> {
        Some(format!("count:{}", self.n))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct AlwaysFails;

impl Job for AlwaysFails {
    const KIND: &'static str = "test.always_fails";
}

#[derive(Debug, Serialize, Deserialize)]
struct Panics;

impl Job for Panics {
    const KIND: &'static str = "test.panics";
}

type Seen = Arc<Mutex<HashMap<u32, u32>>>;

fn registry(seen: Seen) -> Registry {
    let mut r = Registry::standard();
    r.register(move |_ctx, job: Count| {
        let seen = seen.clone();
        async move {
            *seen.lock().unwrap().entry(job.n).or_default() += 1;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            Ok(())
        }
    });
    r.register(|_ctx, _: AlwaysFails| async move { anyhow::bail!("外部服务不可用") });
    r.register(|_ctx, _: Panics| async move {
        let v: Vec<u8> = Vec::new();
        let _ = v[1];
        Ok(())
    });
    r
}

async fn count_jobs(app: &TestApp) -> u64 {
    job::Entity::find().count(&app.ctx.db).await.unwrap()
}

#[tokio::test]
async fn jobs_are_enqueued_in_the_callers_transaction() {
    let app = TestApp::spawn().await.unwrap();
    let txn = app.ctx.db.begin().await.unwrap();
    enqueue(&txn, &app.ctx, &Count { n: 1 }, EnqueueOptions::default()).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(count_jobs(&app).await, 0, "rolled back with the change");
    let txn = app.ctx.db.begin().await.unwrap();
    let id = enqueue(&txn, &app.ctx, &Count { n: 1 }, EnqueueOptions::default()).await.unwrap();
    assert!(id.is_some());
    txn.commit().await.unwrap();
    assert_eq!(count_jobs(&app).await, 1);
    // The same logical job is enqueued once.
    let again = enqueue(&app.ctx.db, &app.ctx, &Count { n: 1 }, EnqueueOptions::default()).await.unwrap();
    assert_eq!(again, None);
    assert_eq!(count_jobs(&app).await, 1);
}

#[tokio::test]
async fn a_job_runs_once_and_is_marked_done() {
    let app = TestApp::spawn().await.unwrap();
    let seen = Seen::default();
    let w = Worker::new(app.ctx.clone(), registry(seen.clone()), vec![]);
    enqueue(&app.ctx.db, &app.ctx, &Count { n: 7 }, EnqueueOptions::default()).await.unwrap();
    // Not yet due: nothing runs.
    enqueue(
        &app.ctx.db,
        &app.ctx,
        &Count { n: 8 },
        EnqueueOptions { run_at: Some(app.ctx.now() + Duration::hours(1)), ..Default::default() },
    )
    .await
    .unwrap();
    let pass = w.drain().await.unwrap();
    assert_eq!(pass.succeeded, 1);
    assert_eq!(seen.lock().unwrap().get(&7), Some(&1));
    assert_eq!(seen.lock().unwrap().get(&8), None);
    app.advance(Duration::hours(1));
    w.drain().await.unwrap();
    assert_eq!(seen.lock().unwrap().get(&8), Some(&1));
    let stats = qifu_testkit::qifu_db::jobs::stats(&app.ctx.db).await.unwrap();
    assert_eq!((stats.done, stats.queued), (2, 0));
}

#[tokio::test]
async fn failures_are_retried_with_backoff_then_kept_as_dead_with_the_error() {
    let app = TestApp::spawn_with(|s| {
        s.worker.max_attempts = 3;
        s.worker.backoff_base_secs = 10;
    })
    .await
    .unwrap();
    let w = Worker::new(app.ctx.clone(), registry(Seen::default()), vec![]);
    enqueue(&app.ctx.db, &app.ctx, &AlwaysFails, EnqueueOptions::default()).await.unwrap();
    assert_eq!(w.drain().await.unwrap().retried, 1);
    assert_eq!(w.drain().await.unwrap().total(), 0, "backing off: not due yet");
    app.advance(Duration::seconds(10));
    assert_eq!(w.drain().await.unwrap().retried, 1);
    app.advance(Duration::seconds(19));
    assert_eq!(w.drain().await.unwrap().total(), 0, "second backoff is 20 s");
    app.advance(Duration::seconds(1));
    assert_eq!(w.drain().await.unwrap().dead, 1);
    let jobs = job::Entity::find().all(&app.ctx.db).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, JobStatus::Dead);
    assert_eq!(jobs[0].attempts, 3);
    assert!(jobs[0].last_error.as_deref().unwrap().contains("外部服务不可用"));

    // The back office shows it and can put it back on the queue.
    app.seed_demo().await.unwrap();
    app.login_as_operator().await.unwrap();
    let p = app.get("/admin/jobs?status=dead").await.unwrap();
    assert!(p.body.contains("test.always_fails") && p.body.contains("外部服务不可用"));
    let p = app.post_form(&format!("/admin/jobs/{}/retry", jobs[0].id), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let j = job::Entity::find_by_id(jobs[0].id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0));
    let p = app.post_form("/admin/jobs/999999/retry", &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    // Metrics count the failures.
    let m = app.get("/metrics").await.unwrap();
    assert!(m.body.contains(r#"qifu_jobs{status="dead"}"#) || m.body.contains(r#"qifu_jobs{status="queued"}"#));
}

#[tokio::test]
async fn a_panicking_or_unknown_job_is_a_recorded_failure() {
    let app = TestApp::spawn_with(|s| s.worker.max_attempts = 1).await.unwrap();
    let w = Worker::new(app.ctx.clone(), registry(Seen::default()), vec![]);
    enqueue(&app.ctx.db, &app.ctx, &Panics, EnqueueOptions::default()).await.unwrap();
    qifu_testkit::qifu_db::jobs::enqueue(
        &app.ctx.db,
        qifu_testkit::qifu_db::jobs::NewJob {
            kind: "no.such.kind".into(),
            payload: "{}".into(),
            dedup_key: None,
            run_at: app.ctx.now(),
            max_attempts: 1,
        },
        app.ctx.now(),
    )
    .await
    .unwrap();
    let pass = w.drain().await.unwrap();
    assert_eq!(pass.dead, 2);
    let jobs = job::Entity::find().all(&app.ctx.db).await.unwrap();
    assert!(jobs.iter().any(|j| j.last_error.as_deref().unwrap_or("").contains("panic")));
    assert!(jobs.iter().any(|j| { j.last_error.as_deref().unwrap_or("").contains("no.such.kind") }));
}

#[tokio::test]
async fn two_workers_never_run_the_same_job_twice() {
    let app = TestApp::spawn_with(|s| s.worker.batch_size = 3).await.unwrap();
    let seen = Seen::default();
    for n in 0..60 {
        enqueue(&app.ctx.db, &app.ctx, &Count { n }, EnqueueOptions::default()).await.unwrap();
    }
    let a = Worker::new(app.ctx.clone(), registry(seen.clone()), vec![]);
    let b = Worker::new(app.ctx.clone(), registry(seen.clone()), vec![]);
    let (ra, rb) = tokio::join!(a.drain(), b.drain());
    let total = ra.unwrap().succeeded + rb.unwrap().succeeded;
    assert_eq!(total, 60);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 60);
    assert!(seen.values().all(|&c| c == 1), "{seen:?}");
}

#[tokio::test]
async fn an_abandoned_job_is_taken_over_after_its_lease() {
    let app = TestApp::spawn_with(|s| s.worker.lease_secs = 60).await.unwrap();
    enqueue(&app.ctx.db, &app.ctx, &Count { n: 1 }, EnqueueOptions::default()).await.unwrap();
    let now = app.ctx.now();
    // A worker that claims and then dies.
    let claimed =
        qifu_testkit::qifu_db::jobs::claim(&app.ctx.db, "dead-node", now, now + Duration::seconds(60), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let seen = Seen::default();
    let w = Worker::new(app.ctx.clone(), registry(seen.clone()), vec![]);
    assert_eq!(w.drain().await.unwrap().total(), 0, "lease still held");
    app.advance(Duration::seconds(61));
    assert_eq!(w.drain().await.unwrap().succeeded, 1);
    assert_eq!(seen.lock().unwrap().get(&1), Some(&1));
}

#[tokio::test]
async fn cron_enqueues_each_firing_once_across_nodes() {
    let app = TestApp::spawn().await.unwrap();
    let schedules = qifu_worker::default_schedules().unwrap();
    let a = Worker::new(app.ctx.clone(), Registry::standard(), schedules.clone());
    let b = Worker::new(app.ctx.clone(), Registry::standard(), schedules);
    let since = app.ctx.now();
    app.advance(Duration::minutes(25));
    let now = app.ctx.now();
    // Two nodes tick the same window: the 10-minute session pruning and the
    // 5-minute audit anchoring each fire (collapsed to their latest firing) once.
    let n_a = a.tick_cron(since, now).await.unwrap();
    let n_b = b.tick_cron(since, now).await.unwrap();
    assert_eq!(n_a + n_b, 2);
    let jobs = job::Entity::find().all(&app.ctx.db).await.unwrap();
    let mut kinds: Vec<&str> = jobs.iter().map(|j| j.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["audit.anchor", "system.prune_sessions"]);
    assert_eq!(a.drain().await.unwrap().succeeded, 2);
    // A later window fires again.
    let since = now;
    app.advance(Duration::minutes(10));
    assert_eq!(a.tick_cron(since, app.ctx.now()).await.unwrap(), 2);
}

#[tokio::test]
async fn pruning_removes_expired_sessions() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    use qifu_testkit::qifu_db::entity::session;
    assert_eq!(session::Entity::find().count(&app.ctx.db).await.unwrap(), 1);
    app.advance(Duration::hours(1));
    let n = qifu_testkit::qifu_app::system::prune_sessions(&app.ctx).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(session::Entity::find().count(&app.ctx.db).await.unwrap(), 0);
}
