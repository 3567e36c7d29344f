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
