//! Issue 26 (等保 2.0 level 3), the audit, files and network part: the keyed
//! and anchored audit chain, audit events for refusals, exports and reads of
//! personal data, SSRF through crawl sources, X-Forwarded-For, residual files,
//! and the low items (error-page encoding, /metrics, demand threads, file
//! reads, modes, WeChat replays).

use crate::security::user_id;
use crate::{PASSWORD, TestApp};
use axum::Router;
use axum::routing::get;
use qifu_testkit::qifu_app::accounts::open_session_for_tools;
use qifu_testkit::qifu_app::audit::{self, Entry};
use qifu_testkit::qifu_app::crawl::{self, SourceForm};
use qifu_testkit::qifu_app::{Meta, actor::load_actor};
use qifu_testkit::qifu_db::entity::{audit as audit_log, crawl_log, file, login_log, message};
use qifu_testkit::reqwest::{self, StatusCode, header};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// What the database owner could do: drop the append-only triggers.
pub async fn lift_append_only(app: &TestApp) {
    let db = &app.ctx.db;
    if app.db.is_postgres() {
        for t in ["audit_log", "login_log"] {
            db.execute_unprepared(&format!("DROP TRIGGER {t}_append_only ON {t}")).await.unwrap();
        }
    } else {
        for t in ["audit_log", "login_log"] {
            db.execute_unprepared(&format!("DROP TRIGGER {t}_no_update")).await.unwrap();
            db.execute_unprepared(&format!("DROP TRIGGER {t}_no_delete")).await.unwrap();
        }
    }
}

async fn some_records(app: &TestApp, n: usize) {
    let meta = Meta::system("test");
    for i in 0..n {
        let txn = app.ctx.db.begin().await.unwrap();
        audit::record(&txn, &app.ctx, None, &meta, Entry::ok("test.event", "test", i, serde_json::json!({"i": i})))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
}

async fn max_seq(app: &TestApp) -> i64 {
    audit_log::Entity::find().order_by_desc(audit_log::Column::Seq).one(&app.ctx.db).await.unwrap().map(|m| m.seq).unwrap_or(0)
}

use sea_orm::TransactionTrait;

#[tokio::test]
async fn audit_and_login_logs_are_append_only_on_both_databases() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    some_records(&app, 3).await;
    let v = app.new_visitor().unwrap();
    v.post_login("operator", "wrong password").await.unwrap();
    let db = &app.ctx.db;
    for sql in [
        "UPDATE audit_log SET detail = '{}'",
        "DELETE FROM audit_log",
        "UPDATE login_log SET reason = 'x'",
        "DELETE FROM login_log",
    ] {
        let err = db.execute_unprepared(sql).await.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert!(audit_log::Entity::find().count(db).await.unwrap() >= 3);
    let l = login_log::Entity::find().order_by_desc(login_log::Column::Id).one(db).await.unwrap().unwrap();
    assert!(l.seq.is_some() && l.hash.as_ref().is_some_and(|h| h.len() == 64), "the login log is chained: {l:?}");
    let v = audit::verify(&app.ctx).await.unwrap();
    assert_eq!(v.broken, None, "{v:?}");
    assert!(v.checked >= 3 && v.login_checked >= 1, "{v:?}");
}

#[tokio::test]
async fn cutting_the_tail_and_moving_the_head_back_is_caught_by_the_anchor() {
    let app = TestApp::spawn().await.unwrap();
    some_records(&app, 5).await;
    let anchors = audit::anchor(&app.ctx).await.unwrap();
    assert_eq!(anchors.len(), 2, "both chains anchored");
    // The anchor file is outside the database, append-only and private.
    let dir = audit::anchor_dir(&app.ctx);
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let v = audit::verify(&app.ctx).await.unwrap();
    assert_eq!((v.broken.clone(), v.anchors), (None, 2), "{v:?}");

    // The owner deletes the last two records and moves the head back onto the
    // new last one: the chain in the database is consistent again…
    lift_append_only(&app).await;
    let last = max_seq(&app).await;
    let db = &app.ctx.db;
    db.execute_unprepared(&format!("DELETE FROM audit_log WHERE seq > {}", last - 2)).await.unwrap();
    let new_last = audit_log::Entity::find().filter(audit_log::Column::Seq.eq(last - 2)).one(db).await.unwrap().unwrap();
    db.execute_unprepared(&format!("UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1", new_last.seq, new_last.hash))
        .await
        .unwrap();
    // …but the signed anchor outside it names a record that is gone.
    let v = audit::verify(&app.ctx).await.unwrap();
    let (seq, why) = v.broken.clone().expect("truncation detected");
    assert_eq!(seq, last, "{v:?}");
    assert!(why.contains("截断"), "{why}");
    assert_eq!(v.chain, "审计日志");

    // The command says so too, and exits non-zero.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&app.ctx.settings.data_dir)
        .env("QIFU_DATABASE_URL", &app.db.url)
        .env("QIFU_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("截断"), "{text}");
}

/// The canonical content of a record, as `audit.rs` hashes it (field order matters).
#[derive(serde::Serialize)]
struct Canonical<'a> {
    seq: i64,
    at_us: i64,
    actor_user_id: Option<i64>,
    actor_org_id: Option<i64>,
    actor_name: &'a str,
    action: &'a str,
    target_type: &'a str,
    target_id: Option<&'a str>,
    detail: &'a str,
    ip: &'a str,
    user_agent: &'a str,
    request_id: &'a str,
    result: &'a str,
}

#[tokio::test]
async fn a_chain_recomputed_without_the_key_does_not_verify() {
    let app = TestApp::spawn().await.unwrap();
    some_records(&app, 4).await;
    assert_eq!(audit::verify(&app.ctx).await.unwrap().broken, None);
    // Someone with the database but not the key edits record 2 and recomputes
    // every hash after it with plain SM3 (what the old chain used).
    lift_append_only(&app).await;
    let db = &app.ctx.db;
    db.execute_unprepared("UPDATE audit_log SET detail = '{\"i\":99}' WHERE seq = 2").await.unwrap();
    let rows = audit_log::Entity::find().order_by_asc(audit_log::Column::Seq).all(db).await.unwrap();
    let mut prev = "0".repeat(64);
    for m in rows {
        let body = serde_json::to_string(&Canonical {
            seq: m.seq,
            at_us: m.at.timestamp_micros(),
            actor_user_id: m.actor_user_id,
            actor_org_id: m.actor_org_id,
            actor_name: &m.actor_name,
            action: &m.action,
            target_type: &m.target_type,
            target_id: m.target_id.as_deref(),
            detail: &m.detail,
            ip: &m.ip,
            user_agent: &m.user_agent,
            request_id: &m.request_id,
            result: m.result.code(),
        })
        .unwrap();
        let hash = qifu_testkit::qifu_app::crypto::sm3_hex(format!("{prev}\n{body}").as_bytes());
        db.execute_unprepared(&format!("UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}", m.seq))
            .await
            .unwrap();
        prev = hash;
    }
    db.execute_unprepared(&format!("UPDATE audit_head SET hash = '{prev}' WHERE id = 1")).await.unwrap();
    let v = audit::verify(&app.ctx).await.unwrap();
    let (seq, why) = v.broken.expect("the unkeyed chain is refused");
    assert_eq!(seq, 1, "{why}");
    assert!(why.contains("哈希"), "{why}");
}

#[tokio::test]
async fn refusals_are_audited_counted_and_alerted_and_exports_and_reads_audited() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", PASSWORD).await.unwrap();
    let eid = user_id(&app, "enterprise").await;
    for _ in 0..21 {
        assert_eq!(ent.get("/admin/jobs").await.unwrap().status, StatusCode::FORBIDDEN);
    }
    let db = &app.ctx.db;
    let denied = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("access.denied"))
        .filter(audit_log::Column::ActorUserId.eq(eid))
        .all(db)
        .await
        .unwrap();
    assert_eq!(denied.len(), 21);
    assert!(denied[0].detail.contains("/admin/jobs") && denied[0].detail.contains("back_office"), "{}", denied[0].detail);
    assert_eq!(denied[0].result.code(), "denied");
    // The security administrator is told once.
    let sec = user_id(&app, "secadmin").await;
    let alerts = message::Entity::find()
        .filter(message::Column::UserId.eq(sec))
        .filter(message::Column::Title.contains("安全告警"))
        .all(db);
    let alerts = alerts.await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].body.contains("enterprise"));
    // A staff member without the page's permission: the permission is named.
    let gov = app.new_visitor().unwrap();
    gov.login("gov", PASSWORD).await.unwrap();
    assert_eq!(gov.get("/admin/jobs").await.unwrap().status, StatusCode::FORBIDDEN);
    let last = audit_log::Entity::find().order_by_desc(audit_log::Column::Seq).one(db).await.unwrap().unwrap();
    assert_eq!(last.action, "access.denied");
    assert!(last.detail.contains("job.view") || last.detail.contains("\"permission\":\""), "{}", last.detail);

    // Exports are audited and never cached.
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let x = op.get("/admin/demands?export=xlsx").await.unwrap();
    assert_eq!(x.status, StatusCode::OK);
    assert_eq!(x.header("cache-control"), Some("no-store"));
    let sec_v = app.new_visitor().unwrap();
    sec_v.login("secadmin", PASSWORD).await.unwrap();
    assert_eq!(sec_v.get("/admin/login-log?export=xlsx").await.unwrap().status, StatusCode::OK);
    let exports: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("data.export"))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.target_id.unwrap_or_default())
        .collect();
    assert!(exports.contains(&"demands".to_owned()) && exports.contains(&"login_log".to_owned()), "{exports:?}");
    // Reading the SMS outbox (phone numbers) is audited.
    let sys = app.new_visitor().unwrap();
    sys.login("sysadmin", PASSWORD).await.unwrap();
    let outbox = sys.get("/admin/sms").await.unwrap();
    assert_eq!(outbox.status, StatusCode::OK);
    assert_eq!(outbox.header("cache-control"), Some("no-store"), "signed-in pages are not cached");
    let reads = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("data.read"))
        .filter(audit_log::Column::TargetType.eq("sms_outbox"))
        .count(db)
        .await
        .unwrap();
    assert_eq!(reads, 1);
    // Anonymous pages keep their caching.
    let anon = app.new_visitor().unwrap();
    assert_ne!(anon.get("/").await.unwrap().header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy_and_from_the_right() {
    for (trusted, expected) in [(vec!["127.0.0.1/32".to_owned()], "203.0.113.5"), (vec!["10.0.0.0/8".to_owned()], "127.0.0.1")] {
        let app = TestApp::spawn_with(move |s| {
            s.security.trust_forwarded_for = true;
            s.security.trusted_proxies = trusted;
        })
        .await
        .unwrap();
        app.seed_demo().await.unwrap();
        let v = app.new_visitor().unwrap();
        let page = v.get("/login").await.unwrap();
        let token = page.csrf().unwrap();
        let (cid, answer) = qifu_testkit::captcha_answer(&app.ctx, &page).await.unwrap();
        // The client puts a fresh address on the left each time (the old bypass of
        // the IP throttle); the proxy appends the address it saw.
        let res = v
            .client
            .post(app.url("/login"))
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.5")
            .form(&[
                ("_csrf", token.as_str()),
                ("account", "operator"),
                ("password", "wrong"),
                ("captcha_id", cid.as_str()),
                ("captcha", answer.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_client_error(), "{}", res.status());
        let l = login_log::Entity::find().order_by_desc(login_log::Column::Id).one(&app.ctx.db).await.unwrap().unwrap();
        assert_eq!(l.ip, expected);
    }
}

fn source(base: &str) -> SourceForm {
    SourceForm {
        name: "内网测试来源".into(),
        list_url: format!("{base}/list"),
        item_selector: "ul.list a".into(),
        title_selector: "h1".into(),
        body_selector: "div.content".into(),
        issuer: "通州区经济和信息化局".into(),
        level: "district".into(),
        delay_ms: "0".into(),
        max_pages: "1".into(),
        ..Default::default()
    }
}

async fn internal_site() -> String {
    let app = Router::new()
        .route("/list", get(|| async { axum::response::Html("<html><body><ul class=\"list\"></ul></body></html>") }))
        .route("/redirect", get(|| async { axum::response::Redirect::temporary("http://169.254.169.254/latest/meta-data/") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn last_log(app: &TestApp, id: i64) -> String {
    crawl_log::Entity::find()
        .filter(crawl_log::Column::SourceId.eq(id))
        .order_by_asc(crawl_log::Column::Id)
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.message)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn crawl_sources_cannot_reach_internal_addresses_unless_listed() {
    let base = internal_site().await;
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = load_actor(&app.ctx.db, user_id(&app, "operator").await).await.unwrap().unwrap();
    let meta = Meta::system("test");
    // Refused by default: loopback.
    let id = crawl::create_source(&app.ctx, &op, &meta, &source(&base)).await.unwrap();
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!(r.pages, 0, "{r:?}");
    assert!(last_log(&app, id).await.contains("回环地址"), "{}", last_log(&app, id).await);
    // Odd forms and user info are refused when the source is saved.
    for bad in ["http://2130706433/list", "http://0x7f000001/list", "http://user@127.0.0.1/list"] {
        let mut f = source(&base);
        f.list_url = bad.into();
        let err = crawl::create_source(&app.ctx, &op, &meta, &f).await.unwrap_err().to_string();
        assert!(err.contains("列表页地址不可用"), "{bad}: {err}");
    }

    // Listed: the internal host is reached; a redirect from it to an internal
    // address that is not listed is still refused, before connecting.
    let app = TestApp::spawn_with(|s| s.crawl.allow_hosts = vec!["127.0.0.1".into()]).await.unwrap();
    app.seed_demo().await.unwrap();
    let op = load_actor(&app.ctx.db, user_id(&app, "operator").await).await.unwrap().unwrap();
    let id = crawl::create_source(&app.ctx, &op, &meta, &source(&base)).await.unwrap();
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!(r.pages, 1, "{r:?} {}", last_log(&app, id).await);
    let mut f = source(&base);
    f.list_url = format!("{base}/redirect");
    let id = crawl::create_source(&app.ctx, &op, &meta, &f).await.unwrap();
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!(r.pages, 0, "{r:?}");
    assert!(last_log(&app, id).await.contains("链路本地地址"), "{}", last_log(&app, id).await);
}

#[tokio::test]
async fn removed_files_are_deleted_unreferenced_ones_not_served_and_uploads_sealed_and_private() {
    use qifu_testkit::qifu_app::attachments::{self, Owner};
    use qifu_testkit::qifu_app::files::Upload;
    use qifu_testkit::qifu_db::entity::policy;
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let pid = policy::Entity::find().one(&app.ctx.db).await.unwrap().unwrap().id;
    let op_id = user_id(&app, "operator").await;
    let op = load_actor(&app.ctx.db, op_id).await.unwrap().unwrap();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nprivate-marker-31415\n%%EOF".to_vec();
    let txn = app.ctx.db.begin().await.unwrap();
    let upload = Upload { file_name: "申报表.pdf".into(), bytes: pdf.clone() };
    let stored = attachments::add(&txn, &app.ctx, Owner::Policy(pid), op.org_id, &upload).await.unwrap().unwrap();
    txn.commit().await.unwrap();
    let path = app.ctx.settings.data_dir.join("uploads").join(&stored.storage_key);
    // Encrypted at rest, readable by the owner only.
    let raw = std::fs::read(&path).unwrap();
    assert!(!raw.windows(20).any(|w| w == b"private-marker-31415"), "not stored in clear");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    let link = attachments::list(&app.ctx.db, Owner::Policy(pid)).await.unwrap().pop().unwrap();
    let (_, bytes) = attachments::bytes(&app.ctx, Owner::Policy(pid), link.id).await.unwrap();
    assert_eq!(bytes, pdf, "served decrypted");

    // An org member cannot read the operator organisation's file through the
    // licence route, and neither can a reviewer: only certification licences.
    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    assert_eq!(v.get(&format!("/account/files/{}", stored.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(v.get(&format!("/admin/files/{}", stored.id)).await.unwrap().status, StatusCode::NOT_FOUND);

    // Removed: the link goes at once, the file with the job; nothing is served.
    let txn = app.ctx.db.begin().await.unwrap();
    attachments::remove(&txn, &app.ctx, Owner::Policy(pid), link.id).await.unwrap();
    txn.commit().await.unwrap();
    app.drain_jobs().await.unwrap();
    assert!(!path.exists(), "the bytes are deleted");
    assert!(file::Entity::find_by_id(stored.id).one(&app.ctx.db).await.unwrap().is_none(), "the row too");

    // A file nothing points at is not served even while it exists.
    let txn = app.ctx.db.begin().await.unwrap();
    let orphan = qifu_testkit::qifu_app::files::store(
        &txn,
        &app.ctx,
        op.org_id,
        qifu_domain::files::FilePurpose::Licence,
        "x.pdf",
        qifu_testkit::qifu_app::files::Kind::Pdf,
        &pdf,
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(v.get(&format!("/account/files/{}", orphan.id)).await.unwrap().status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn data_files_are_created_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"))
        .args(["migrate", "--data-dir"])
        .arg(&data)
        .env_remove("QIFU_DATABASE_URL")
        .env("QIFU_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("qifu.db")), 0o600, "qifu.db");
    assert_eq!(mode(&data.join("keys").join("field.key")), 0o600, "field.key");
    assert_eq!(mode(&data.join("keys")), 0o700);
    assert_eq!(mode(&data), 0o700);
}

/// Serves qifu with an extra back-office route whose error carries a text body
/// (as a framework rejection does) that the compression layer gzips.
async fn serve_with_failing_route(app: &TestApp) -> String {
    let state = qifu_web::AppState::new(app.ctx.clone());
    let extra = Router::new().route(
        "/admin/failing-test",
        get(|| async {
            (
                StatusCode::BAD_REQUEST,
                "Failed to deserialize query string: a long plain-text rejection message from the framework",
            )
        }),
    );
    let router = qifu_web::router_with(state, extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn replaced_error_bodies_drop_the_stale_gzip_encoding() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let base = serve_with_failing_route(&app).await;
    let (token, _) = open_session_for_tools(&app.ctx, user_id(&app, "operator").await).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (path, status) in [("/admin/failing-test", 400), ("/no-such-page", 404)] {
        let res = client
            .get(format!("{base}{path}"))
            .header(header::ACCEPT_ENCODING, "gzip")
            .header(header::COOKIE, format!("qifu_session={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status);
        let encoding = res.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap().to_owned());
        let body = res.bytes().await.unwrap();
        match encoding.as_deref() {
            // Compressed by the outer layer: it must really be gzip.
            Some("gzip") => assert_eq!(&body[..2], &[0x1f, 0x8b], "{path}: labelled gzip but is not"),
            None => assert!(String::from_utf8_lossy(&body).contains("出错了") || !body.is_empty(), "{path}"),
            Some(other) => panic!("{path}: {other}"),
        }
        if encoding.is_none() {
            assert!(String::from_utf8_lossy(&body).contains("<html"), "{path}: the error page in clear");
        }
    }
}

#[tokio::test]
async fn metrics_are_for_loopback_or_the_token() {
    let app = TestApp::spawn().await.unwrap();
    assert_eq!(app.get("/metrics").await.unwrap().status, StatusCode::OK, "loopback");
    let relayed = app.client.get(app.url("/metrics")).header("x-forwarded-for", "198.51.100.1").send().await.unwrap();
    assert_eq!(relayed.status(), StatusCode::UNAUTHORIZED, "through a proxy on this host");
    let app =
        TestApp::spawn_with(|s| s.web.metrics_token = qifu_testkit::qifu_app::config::Secret::new("m-token-1")).await.unwrap();
    let with =
        |t: &'static str| app.client.get(app.url("/metrics")).header("x-forwarded-for", "198.51.100.1").bearer_auth(t).send();
    assert_eq!(with("m-token-1").await.unwrap().status(), StatusCode::OK);
    assert_eq!(with("wrong").await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn overseers_read_demand_threads_but_do_not_post() {
    use qifu_testkit::qifu_db::entity::{demand, demand_message};
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    use qifu_testkit::qifu_db::entity::product;
    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", PASSWORD).await.unwrap();
    let pid =
        product::Entity::find().filter(product::Column::Name.eq("副中心小微信用贷")).one(&app.ctx.db).await.unwrap().unwrap().id;
    let apply = [
        ("needs", "需要年度法律顾问服务，重点是劳动合同审查"),
        ("contact_name", "王建国"),
        ("contact_phone", "13812345678"),
        ("amount_wan", "50"),
        ("term_months", "12"),
        ("purpose", "流动资金"),
        ("guarantee_mode", "信用"),
        ("financial_summary", "营收稳定"),
    ];
    assert_eq!(ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap().status, StatusCode::SEE_OTHER);
    let d = demand::Entity::find().order_by_desc(demand::Column::Id).one(&app.ctx.db).await.unwrap().unwrap();
    let before =
        demand_message::Entity::find().filter(demand_message::Column::DemandId.eq(d.id)).count(&app.ctx.db).await.unwrap();
    let gov = app.new_visitor().unwrap();
    gov.login("gov", PASSWORD).await.unwrap();
    let page = gov.get(&format!("/admin/demands/{}", d.id)).await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("沟通记录") && !page.body.contains("发送留言"), "read-only thread");
    let p = gov.post_form(&format!("/admin/demands/{}/message", d.id), &[("body", "监管人员留言")]).await.unwrap();
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let after =
        demand_message::Entity::find().filter(demand_message::Column::DemandId.eq(d.id)).count(&app.ctx.db).await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_replayed_wechat_message_is_not_acted_on_twice() {
    use qifu_testkit::qifu_db::entity::wechat_log;
    let app = TestApp::spawn_with(|s| {
        s.wechat.token = qifu_testkit::qifu_app::config::Secret::new("replay-token");
        s.wechat.max_clock_skew_secs = 300;
    })
    .await
    .unwrap();
    let ts = app.ctx.now().timestamp().to_string();
    let sig = qifu_wechat::signature("replay-token", &ts, "n1");
    let xml = format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>7700000001</MsgId></xml>"
    );
    let post = || app.client.post(app.url(&format!("/wechat?signature={sig}&timestamp={ts}&nonce=n1"))).body(xml.clone()).send();
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    let texts = || wechat_log::Entity::find().filter(wechat_log::Column::Kind.eq("text")).count(&app.ctx.db);
    assert_eq!(texts().await.unwrap(), 1);
    let again = post().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.text().await.unwrap(), "success");
    assert_eq!(texts().await.unwrap(), 1, "the replay was not handled again");
    // Events without MsgId are told apart by sender and time.
    let ev = format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>"
    );
    let post_ev =
        || app.client.post(app.url(&format!("/wechat?signature={sig}&timestamp={ts}&nonce=n1"))).body(ev.clone()).send();
    post_ev().await.unwrap();
    post_ev().await.unwrap();
    let subs = wechat_log::Entity::find().filter(wechat_log::Column::Kind.eq("subscribe")).count(&app.ctx.db).await.unwrap();
    assert_eq!(subs, 1);
}
