//! Correct under concurrency and faults: races on counters and codes, SQLite
//! writers under contention, a missing or wrong field key.

use crate::{PASSWORD, TestApp};
use qifu_testkit::qifu_app::config::Secret;
use qifu_testkit::qifu_app::{Ctx, ManualClock};
use std::sync::Arc;

/// A context for the test's database with other settings, as a second node would build it.
async fn second_node(app: &TestApp, tweak: impl FnOnce(&mut qifu_testkit::qifu_app::Settings)) -> anyhow::Result<Ctx> {
    let mut settings = (*app.ctx.settings).clone();
    tweak(&mut settings);
    let conn = qifu_testkit::qifu_db::open(&app.db.url, &settings.db_options()).await?;
    Ctx::new(conn, Arc::new(settings), Arc::new(ManualClock::new(qifu_testkit::start_time()))).await
}

#[tokio::test]
async fn a_node_with_another_or_no_field_key_refuses_to_start() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // The same key (the data directory's) starts.
    assert!(second_node(&app, |_| {}).await.is_ok());
    // Another key: refused, naming both fingerprints; nothing is generated.
    let other = second_node(&app, |s| s.security.field_key = Secret::new("00112233445566778899aabbccddeeff".to_owned()))
        .await
        .unwrap_err()
        .to_string();
    assert!(other.contains("字段密钥与数据不符"), "{other}");
    // No key at all (a new data directory, no configured key): refused, and no key file is written.
    let empty = tempfile::tempdir().unwrap();
    let none = second_node(&app, |s| s.data_dir = empty.path().to_path_buf()).await.unwrap_err().to_string();
    assert!(none.contains("没有配置 security.field_key"), "{none}");
    assert!(!qifu_testkit::qifu_app::crypto::key_file(empty.path()).exists(), "no new key generated");
    // The shared key configured explicitly on the second node works.
    let key = std::fs::read_to_string(qifu_testkit::qifu_app::crypto::key_file(&app.ctx.settings.data_dir)).unwrap();
    let ok = second_node(&app, |s| {
        s.data_dir = empty.path().to_path_buf();
        s.security.field_key = Secret::new(key.trim().to_owned());
    })
    .await;
    assert!(ok.is_ok(), "{:?}", ok.err());
    let _ = PASSWORD;
}

/// 50 enterprises register through the API while 35 policy actions (publish,
/// withdraw) run at the same moment: on SQLite every write waits its turn
/// (BEGIN IMMEDIATE and the busy timeout) instead of failing with "database is
/// locked"; on PostgreSQL the same holds.
#[tokio::test]
async fn fifty_concurrent_writers_all_succeed() {
    use qifu_domain::accounts::Phone;
    use qifu_testkit::qifu_app::{Meta, accounts, policies};
    use qifu_testkit::qifu_db::entity::policy;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn().await.unwrap();
    let opts = qifu_testkit::qifu_app::demo::DemoOptions { enterprises: 60, seed: 7, policies: 60, ..Default::default() };
    qifu_testkit::qifu_app::demo::run(&app.ctx, &opts).await.unwrap();
    let mut phones = Vec::new();
    for i in 0..50u32 {
        let phone = format!("1772468{i:04}");
        let meta = Meta { ip: format!("10.1.{}.{}", i / 100, i % 100 + 1), ..Default::default() };
        accounts::send_code(&app.ctx, &meta, &Phone::parse(&phone).unwrap(), accounts::SmsPurpose::Register).await.unwrap();
        let code = app.last_sms_code(&phone).await.unwrap();
        phones.push((phone, code));
    }
    let operator = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "operator").await)
        .await
        .unwrap()
        .unwrap();
    // Every policy published and current, so each action below is legal.
    policy::Entity::update_many()
        .col_expr(policy::Column::Status, sea_orm::sea_query::Expr::value(qifu_domain::policy::PolicyState::Published))
        .col_expr(policy::Column::ValidUntil, sea_orm::sea_query::Expr::value(Option::<chrono::NaiveDate>::None))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let published = policy::Entity::find()
        .filter(policy::Column::Status.eq(qifu_domain::policy::PolicyState::Published))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(published.len() >= 35, "the demo has enough policies");
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (phone, code)) in phones.into_iter().enumerate() {
        let client = app.client.clone();
        let url = app.url("/api/v1/registrations");
        tasks.spawn(async move {
            let r = client
                .post(url)
                .json(&serde_json::json!({"phone": phone, "enterprise_name": format!("北京并发测试{i}号科技有限公司"),
                    "contact_name": "王强", "password": "Canal-Bridge-7", "sms_code": code}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status() == qifu_testkit::reqwest::StatusCode::CREATED {
                Ok(())
            } else {
                Err(format!("registration {i}: {} {}", r.status(), r.text().await.unwrap_or_default()))
            }
        });
    }
    for (i, p) in published.into_iter().take(35).enumerate() {
        let ctx = app.ctx.clone();
        let op = operator.clone();
        tasks.spawn(async move {
            let meta = Meta::system("test");
            let r = if i % 2 == 0 {
                policies::withdraw(&ctx, &op, &meta, p.id).await
            } else {
                match policies::withdraw(&ctx, &op, &meta, p.id).await {
                    Ok(()) => policies::publish(&ctx, &op, &meta, p.id).await,
                    Err(e) => Err(e),
                }
            };
            r.map_err(|e| format!("policy {}: {e:?}", p.id))
        });
    }
    let mut failures = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r.unwrap() {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{} of 85 writes failed: {failures:?}", failures.len());
    let _ = PASSWORD;
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Tick;

impl qifu_testkit::qifu_app::jobs::Job for Tick {
    const KIND: &'static str = "test.tick";
}

/// An SMTP server that accepts and never answers holds back email only: SMS
/// deliveries go out at once, the cron keeps firing, and the worker stops within
/// seconds of being told to, giving the hanging jobs back to the queue.
#[tokio::test]
async fn a_hanging_smtp_server_stalls_neither_sms_nor_cron_and_shutdown_is_prompt() {
    use qifu_testkit::qifu_app::messages;
    use qifu_testkit::qifu_db::entity::{delivery, job, message_setting};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hang = qifu_testkit::faults::HangingServer::start().await.unwrap();
    let app = TestApp::spawn_with(|s| {
        s.email.provider = "smtp".into();
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = hang.port();
        s.email.smtp_security = "none".into();
        s.email.timeout_secs = 120; // longer than the test: the sends hang throughout
        s.worker.poll_interval_ms = 50;
        s.worker.shutdown_grace_secs = 2;
    })
    .await
    .unwrap();
    app.seed_demo().await.unwrap();
    let mut users = Vec::new();
    for i in 0..6 {
        let id = qifu_testkit::qifu_app::accounts::create_user(
            &app.ctx,
            qifu_testkit::qifu_app::accounts::NewUser {
                username: format!("hang{i}"),
                display_name: "测试用户".into(),
                password: "Canal-Bridge-7x".into(),
                role: qifu_domain::accounts::BuiltinRole::EnterpriseAdmin,
                org_name: format!("北京挂起测试{i}号科技有限公司"),
                must_change_password: false,
                phone: Some(format!("1867700{i:04}")),
            },
        )
        .await
        .unwrap();
        users.push(id);
    }
    assert_eq!(users.len(), 6);
    for uid in &users {
        message_setting::ActiveModel {
            user_id: Set(*uid),
            quiet_start: Set(22 * 60),
            quiet_end: Set(8 * 60),
            marketing_opt_out: Set(false),
            email_enc: Set(Some(app.ctx.crypto.encrypt("someone@example.cn"))),
            email_masked: Set(Some("s***@example.cn".into())),
            updated_at: Set(app.ctx.now()),
            ..Default::default()
        }
        .insert(&app.ctx.db)
        .await
        .unwrap();
        messages::notify_with_sms(
            &app.ctx.db,
            &app.ctx,
            *uid,
            qifu_domain::messages::MessageCategory::Demand,
            "需求已受理",
            "正文",
            Some("/account"),
        )
        .await
        .unwrap();
    }
    use qifu_domain::messages::{Channel, DeliveryStatus};
    let by_channel =
        |ds: &[delivery::Model], ch: Channel, st: DeliveryStatus| ds.iter().filter(|d| d.channel == ch && d.status == st).count();
    let ds = delivery::Entity::find().all(&app.ctx.db).await.unwrap();
    let sms_total = ds.iter().filter(|d| d.channel == Channel::Sms).count();
    assert!(sms_total >= 6 && ds.iter().filter(|d| d.channel == Channel::Email).count() == 6, "{ds:?}");

    let ticks = Arc::new(AtomicUsize::new(0));
    let mut registry = qifu_worker::Registry::standard();
    let t = ticks.clone();
    registry.register(move |_ctx, _: Tick| {
        let t = t.clone();
        async move {
            t.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let every_second = qifu_testkit::qifu_app::jobs::Schedule::new("tick", "* * * * * *", &Tick).unwrap();
    let worker = qifu_worker::Worker::new(app.ctx.clone(), registry, vec![every_second]);
    let (tx, rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(rx));

    // Within a few seconds: every SMS sent, the cron fired, the email sends hang.
    let started = std::time::Instant::now();
    loop {
        app.advance(chrono::Duration::milliseconds(500));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let ds = delivery::Entity::find().all(&app.ctx.db).await.unwrap();
        if by_channel(&ds, Channel::Sms, DeliveryStatus::Sent) == sms_total && ticks.load(Ordering::SeqCst) >= 3 {
            assert!(hang.accepted() >= 1, "the email sends are under way");
            assert_eq!(by_channel(&ds, Channel::Email, DeliveryStatus::Sent), 0);
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "SMS or cron held back: {ds:?}");
    }
    // Stop: within 10 s, the hanging email jobs given back to the queue.
    let asked = std::time::Instant::now();
    tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), running).await.expect("the worker stopped within 10 s").unwrap();
    assert!(asked.elapsed() < std::time::Duration::from_secs(10));
    let stuck = job::Entity::find()
        .filter(job::Column::Status.eq(qifu_domain::system::JobStatus::Running))
        .filter(job::Column::Kind.eq("messages.deliver.email"))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(stuck.is_empty(), "released, not left running: {stuck:?}");
}

/// A tmpfs of `mb` megabytes mounted on a new folder, unmounted on drop; `None`
/// (with a visible message) where this machine does not let the test mount one.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mb: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root); the disk-full test did not run");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        let p = self.path().join("filler");
        self.fill_more(&p);
        p
    }

    /// Appends to the filler until the disk is full (again).
    fn fill_more(&self, p: &std::path::Path) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.flush();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).output();
    }
}

/// SQLite on a disk that fills up: writes are refused with a clear 503 (not a
/// 500), `/readyz` and `/metrics` say so, and once space is freed writes succeed
/// again within seconds, without a restart.
#[tokio::test]
async fn a_full_disk_is_reported_and_recovered_from_without_restart() {
    if std::env::var("QIFU_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        eprintln!("disk-full applies to SQLite's own file; covered in the SQLite pass");
        return;
    }
    qifu_testkit::init();
    let Some(disk) = SmallDisk::mount(24) else { return };
    let mut settings = qifu_testkit::qifu_app::Settings { data_dir: disk.path().to_path_buf(), ..Default::default() };
    settings.database.max_connections = 5;
    let url = qifu_testkit::qifu_db::sqlite_url_in(disk.path());
    settings.database_url = Secret::new(url.clone());
    let conn = qifu_testkit::qifu_db::open(&url, &settings.db_options()).await.unwrap();
    let ctx = Ctx::new(conn, Arc::new(settings), Arc::new(ManualClock::new(qifu_testkit::start_time()))).await.unwrap();
    qifu_testkit::qifu_app::system::bootstrap(&ctx).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(qifu_web::serve(listener, qifu_web::AppState::new(ctx.clone()), std::future::pending()));
    let client = qifu_testkit::reqwest::Client::new();
    let write = || async { client.get(format!("{base}/api/v1/captcha")).send().await.unwrap().status().as_u16() };
    assert_eq!(write().await, 200, "writes work on a disk with room");

    use sea_orm::ConnectionTrait;
    let filler = disk.fill();
    // The WAL is reused from its start after a checkpoint, so small writes could
    // still fit into it: empty it, and fill the space it gave back.
    ctx.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
    disk.fill_more(&filler);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(write().await);
    }
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "refused as 503, never 500: {statuses:?}");
    assert!(statuses.contains(&503), "the full disk refused writes: {} writes, none refused", statuses.len());
    let ready: serde_json::Value = client.get(format!("{base}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["storage"], "failing", "{ready}");
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("qifu_storage_write_failures_total"), "counted in /metrics");

    std::fs::remove_file(filler).unwrap();
    let freed = std::time::Instant::now();
    let mut ok_in_a_row = 0;
    while ok_in_a_row < 20 {
        if freed.elapsed() > std::time::Duration::from_secs(10) {
            let r = qifu_testkit::qifu_app::accounts::new_captcha(&ctx.db, &ctx).await;
            panic!("writes still failing 10 s after space was freed: {:?}", r.map(|_| ()));
        }
        if write().await == 200 {
            ok_in_a_row += 1;
        } else {
            ok_in_a_row = 0;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Hangs;

impl qifu_testkit::qifu_app::jobs::Job for Hangs {
    const KIND: &'static str = "test.hangs";
}

/// A node dies while running a job: with its heartbeat gone, the job's short
/// lease runs out and another node takes the job over within the lease (30 s),
/// not the old five minutes.
#[tokio::test]
async fn a_dead_nodes_job_is_taken_over_within_its_lease() {
    use qifu_testkit::qifu_db::entity::job;
    use sea_orm::EntityTrait;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::spawn_with(|s| s.worker.poll_interval_ms = 50).await.unwrap();
    let lease = app.ctx.settings.worker.lease_secs;
    assert_eq!(lease, 30);
    let id = qifu_testkit::qifu_app::jobs::enqueue(&app.ctx.db, &app.ctx, &Hangs, Default::default()).await.unwrap().unwrap();
    // Node A runs it and hangs.
    let mut reg_a = qifu_worker::Registry::standard();
    reg_a.register(|_ctx, _: Hangs| async move {
        std::future::pending::<()>().await;
        Ok(())
    });
    let a = qifu_worker::Worker::new(app.ctx.clone(), reg_a, vec![]);
    let a_id = a.id().to_owned();
    let (_tx_a, rx_a) = tokio::sync::watch::channel(false);
    let node_a = tokio::spawn(a.run(rx_a));
    let started = std::time::Instant::now();
    loop {
        let j = job::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
        if j.locked_by.as_deref() == Some(a_id.as_str()) {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "node A claimed the job");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // While A lives, its heartbeat keeps the lease ahead of the clock.
    app.advance(chrono::Duration::seconds(25));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.advance(chrono::Duration::seconds(25));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Node A dies (no graceful stop, nothing released).
    node_a.abort();
    let _ = node_a.await;
    let died_at = app.ctx.now();
    // Node B picks it up once the lease has run out.
    let done = Arc::new(AtomicUsize::new(0));
    let mut reg_b = qifu_worker::Registry::standard();
    let d = done.clone();
    reg_b.register(move |_ctx, _: Hangs| {
        let d = d.clone();
        async move {
            d.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    });
    let b = qifu_worker::Worker::new(app.ctx.clone(), reg_b, vec![]);
    let (tx_b, rx_b) = tokio::sync::watch::channel(false);
    let node_b = tokio::spawn(b.run(rx_b));
    // Before the lease runs out, B leaves the job alone (A might still be running it)…
    app.advance(chrono::Duration::seconds(lease - 5));
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(done.load(Ordering::SeqCst), 0, "taken while the lease was still valid");
    // …and takes it over as soon as the lease has run out.
    app.advance(chrono::Duration::seconds(6));
    let waiting = std::time::Instant::now();
    while done.load(Ordering::SeqCst) == 0 {
        assert!(waiting.elapsed() < std::time::Duration::from_secs(15), "not taken over after the lease ran out");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let took = app.ctx.now() - died_at;
    assert!(took <= chrono::Duration::seconds(lease + 1), "taken over {took} after the death");
    tx_b.send(true).unwrap();
    node_b.await.unwrap();
    let j = job::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(j.status, qifu_domain::system::JobStatus::Done);
}

/// 1,000 applications for one product, 64 at a time: the product's application count
/// is exact (it was read before the transaction and written back, losing most).
#[tokio::test]
async fn the_application_count_is_exact_under_concurrency() {
    use qifu_testkit::qifu_app::demands;
    use qifu_testkit::qifu_db::entity::{demand, product};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "enterprise").await)
        .await
        .unwrap()
        .unwrap();
    let mut p = None;
    for candidate in product::Entity::find()
        .filter(product::Column::Status.eq(qifu_domain::demands::ProductState::Online))
        .all(&app.ctx.db)
        .await
        .unwrap()
    {
        if !demands::is_financing(&app.ctx.db, &candidate).await.unwrap() {
            p = Some(candidate);
            break;
        }
    }
    let p = p.unwrap();
    let before = p.applied_count;
    let mut tasks = tokio::task::JoinSet::new();
    // 64 in flight at a time: enough to race on the count, and no request waits
    // longer for a pooled connection than the pool's acquire timeout, however
    // loaded the machine running the tests.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    for i in 0..1000 {
        let (ctx, actor) = (app.ctx.clone(), ent.clone());
        let pid = p.id;
        let gate = gate.clone();
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let form = demands::ApplyForm {
                needs: format!("并发申请第{i}号"),
                contact_name: "王强".into(),
                contact_phone: "13800138000".into(),
                ..Default::default()
            };
            demands::apply(&ctx, &actor, &qifu_testkit::qifu_app::Meta::system("test"), pid, &form)
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}"))
        });
    }
    let mut failed = Vec::new();
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r.unwrap() {
            failed.push(e);
        }
    }
    assert!(failed.is_empty(), "{} failed: {:?}", failed.len(), failed.first());
    let after = product::Entity::find_by_id(p.id).one(&app.ctx.db).await.unwrap().unwrap().applied_count;
    let made = demand::Entity::find()
        .filter(demand::Column::ProductId.eq(p.id))
        .filter(demand::Column::Needs.starts_with("并发申请"))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(made, 1000);
    assert_eq!(after - before, 1000, "every application counted once");
}

/// A client that lost the answer to a registration retries with the same
/// `Idempotency-Key`: it gets the first answer again and no second account;
/// the same key for another request is refused; concurrent retries make one write.
#[tokio::test]
async fn an_idempotency_key_makes_a_retried_post_write_once() {
    use qifu_testkit::qifu_app::{Meta, accounts};
    use qifu_testkit::qifu_db::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = TestApp::spawn().await.unwrap();
    let phone = "13911112222";
    let meta = Meta { ip: "10.9.9.9".into(), ..Default::default() };
    accounts::send_code(&app.ctx, &meta, &qifu_domain::accounts::Phone::parse(phone).unwrap(), accounts::SmsPurpose::Register)
        .await
        .unwrap();
    let code = app.last_sms_code(phone).await.unwrap();
    let body = serde_json::json!({"phone": phone, "enterprise_name": "北京幂等测试科技有限公司", "contact_name": "李明",
        "password": "Canal-Bridge-7", "sms_code": code});
    let post = |key: &'static str, body: serde_json::Value| {
        let (client, url) = (app.client.clone(), app.url("/api/v1/registrations"));
        async move { client.post(url).header("Idempotency-Key", key).json(&body).send().await.unwrap() }
    };
    // Three retries at once and one after: one account, the same answer each time.
    let (a, b, c) = tokio::join!(post("reg-7f3a", body.clone()), post("reg-7f3a", body.clone()), post("reg-7f3a", body.clone()));
    let statuses: Vec<u16> = [&a, &b, &c].iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count() + statuses.iter().filter(|s| **s == 409).count(),
        3,
        "{statuses:?}"
    );
    let first: serde_json::Value = [a, b, c].into_iter().find(|r| r.status().as_u16() == 201).unwrap().json().await.unwrap();
    let again = post("reg-7f3a", body.clone()).await;
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers().get("idempotency-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer again");
    let n = user::Entity::find()
        .filter(user::Column::Username.eq(first["username"].as_str().unwrap()))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let registered = user::Entity::find().count(&app.ctx.db).await.unwrap();
    assert_eq!(registered, 1, "one account, not four");
    // The same key for a different request.
    let mut other = body.clone();
    other["contact_name"] = serde_json::json!("王强");
    let r = post("reg-7f3a", other).await;
    assert_eq!(r.status().as_u16(), 422);
    let e: serde_json::Value = r.json().await.unwrap();
    assert!(e["error"]["message"].as_str().unwrap().contains("Idempotency-Key"), "{e}");
    // A malformed key is refused before anything runs.
    let r = post("not a key!", body).await;
    assert_eq!(r.status().as_u16(), 422);
}

/// A page form sent twice with the same `_once` (a double click, the back
/// button, a retry after a dropped connection) is carried out once: the second
/// gets the first answer; concurrent duplicates write once too; another
/// visitor's form with the same value is its own request.
#[tokio::test]
async fn a_page_form_sent_twice_is_carried_out_once() {
    use qifu_testkit::qifu_db::entity::{demand, product};
    use qifu_testkit::reqwest::StatusCode;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", crate::PASSWORD).await.unwrap();
    let pid = product::Entity::find()
        .filter(product::Column::Name.eq("中小企业常年法律顾问"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    let page = ent.get(&format!("/products/{pid}/apply")).await.unwrap();
    let once = regex::Regex::new(r#"name="_once" value="([0-9a-f]{32})""#).unwrap().captures(&page.body).unwrap()[1].to_owned();
    let csrf = page.csrf().unwrap();
    let count = || async { demand::Entity::find().filter(demand::Column::ProductId.eq(pid)).count(&app.ctx.db).await.unwrap() };
    let before = count().await;
    let form = [
        ("_csrf", csrf.as_str()),
        ("_once", once.as_str()),
        ("needs", "需要年度法律顾问服务，重点是劳动合同审查"),
        ("contact_name", "王建国"),
        ("contact_phone", "13812345678"),
    ];
    let path = format!("/products/{pid}/apply");
    let first = ent.post_raw(&path, &form).await.unwrap();
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = ent.post_raw(&path, &form).await.unwrap();
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), first.location(), "the same answer");
    assert_eq!(again.headers.get("idempotency-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(count().await, before + 1, "one demand");

    // A double click: both at once, still one.
    let page = ent.get(&path).await.unwrap();
    let once2 = regex::Regex::new(r#"name="_once" value="([0-9a-f]{32})""#).unwrap().captures(&page.body).unwrap()[1].to_owned();
    assert_ne!(once2, once, "every page has its own value");
    let mut form2 = form;
    form2[1] = ("_once", once2.as_str());
    form2[2] = ("needs", "需要劳动合同审查，第二次申请");
    let (a, b) = tokio::join!(ent.post_raw(&path, &form2), ent.post_raw(&path, &form2));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status, b.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER), "{} / {}", a.body, b.body);
    assert_eq!(a.location(), b.location());
    assert_eq!(count().await, before + 2, "one more demand, not two");

    // A form without the value (a script) is not affected; a bad value is ignored.
    let p = ent
        .post_form(&path, &[("needs", "脚本提交的申请一"), ("contact_name", "王建国"), ("contact_phone", "13812345678")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let p = ent
        .post_form(
            &path,
            &[("_once", "<script>"), ("needs", "脚本提交的申请二"), ("contact_name", "王建国"), ("contact_phone", "13812345678")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(count().await, before + 4);

    // The browser's form is multipart (it may carry an attachment): the same holds.
    let page = ent.get(&path).await.unwrap();
    let once3 = regex::Regex::new(r#"name="_once" value="([0-9a-f]{32})""#).unwrap().captures(&page.body).unwrap()[1].to_owned();
    let multipart = || {
        reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("_once", once3.clone())
            .text("needs", "需要知识产权咨询（多部分表单）")
            .text("contact_name", "王建国")
            .text("contact_phone", "13812345678")
    };
    let m1 = ent.client.post(app.url(&path)).multipart(multipart()).send().await.unwrap();
    let m2 = ent.client.post(app.url(&path)).multipart(multipart()).send().await.unwrap();
    assert_eq!((m1.status(), m2.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(m2.headers().get("idempotency-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(count().await, before + 5);
}
