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
        .col_expr(policy::Column::Status, sea_orm::sea_query::Expr::value("published"))
        .col_expr(policy::Column::ValidUntil, sea_orm::sea_query::Expr::value(Option::<chrono::NaiveDate>::None))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let published = policy::Entity::find().filter(policy::Column::Status.eq("published")).all(&app.ctx.db).await.unwrap();
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
