//! The `qifu` binary as an operator runs it.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn qifu() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qifu"));
    for (k, _) in std::env::vars() {
        if k.starts_with("QIFU_") {
            c.env_remove(k);
        }
    }
    c.env("QIFU_LOG_LEVEL", "warn");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out: Output = c.stdin(Stdio::null()).output().expect("run qifu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A failure: non-zero exit, one line on stderr naming the problem, no panic.
fn assert_one_line_error(code: i32, stderr: &str, needle: &str) {
    assert_ne!(code, 0);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("qifu: 错误:"), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn help_explains_every_subcommand() {
    let (code, out, _) = run(qifu().arg("--help"));
    assert_eq!(code, 0);
    for sub in ["serve", "worker", "migrate", "demo", "admin", "config"] {
        assert!(out.contains(sub), "{sub} in help");
    }
    assert!(out.contains("--data-dir"));
    for sub in [&["serve"][..], &["worker"], &["migrate"], &["demo"], &["admin", "create-user"], &["config", "defaults"]] {
        let (code, out, _) = run(qifu().args(sub).arg("--help"));
        assert_eq!(code, 0, "{sub:?}");
        assert!(out.contains("--data-dir"), "{sub:?} honours --data-dir");
    }
    let (_, out, _) = run(qifu().args(["serve", "--help"]));
    assert!(out.contains("--listen") && out.contains("QIFU_LISTEN"));
}

#[test]
fn config_defaults_lists_every_key() {
    let (code, out, _) = run(qifu().args(["config", "defaults"]));
    assert_eq!(code, 0);
    for (key, _) in qifu_testkit::qifu_app::config::KEYS {
        assert!(out.lines().any(|l| l.starts_with(&format!("{key}\t"))), "{key}");
    }
    assert!(out.contains("listen\t\"127.0.0.1:8080\""));
    assert!(out.contains("data_dir\t\"./data\""));
}

#[test]
fn malformed_config_values_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(qifu().args(["migrate", "--data-dir"]).arg(dir.path()).env("QIFU_LISTEN", "not-an-address"));
    assert_one_line_error(code, &err, "listen");
    let (code, _, err) =
        run(qifu().args(["migrate", "--data-dir"]).arg(dir.path()).env("QIFU_WEB__SESSION_IDLE_MINUTES", "soon"));
    assert_one_line_error(code, &err, "session_idle_minutes");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen = [1,2\n").unwrap();
    let (code, _, err) = run(qifu().args(["migrate", "--config"]).arg(&bad));
    assert_one_line_error(code, &err, "配置错误");
    let (code, _, err) = run(qifu().args(["migrate", "--config", "/nonexistent/qifu.toml"]));
    assert_one_line_error(code, &err, "不存在");
}

#[test]
fn unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) =
        run(qifu().args(["migrate", "--data-dir"]).arg(dir.path()).env("QIFU_DATABASE_URL", "mysql://root@127.0.0.1/test"));
    assert_one_line_error(code, &err, "mysql");
    assert!(err.contains("不支持"));
}

#[test]
fn unreachable_database_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, _, err) = run(qifu()
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("QIFU_DATABASE_URL", "postgres://qifu:secret-pw@127.0.0.1:1/qifu")
        .env("QIFU_DATABASE__ACQUIRE_TIMEOUT_SECS", "2"));
    assert_one_line_error(code, &err, "无法连接数据库");
    assert!(!err.contains("secret-pw"), "passwords are never printed: {err}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_port_in_use_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let (code, _, err) = run(qifu().args(["serve", "--listen", &addr, "--data-dir"]).arg(dir.path()));
    assert_one_line_error(code, &err, "无法监听");
}

#[test]
fn migrate_demo_and_demo_again() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(qifu().args(["migrate", "--data-dir"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("m20261129_000001_foundation"));
    let (code, out, err) = run(qifu().args(["demo", "--enterprises", "300", "--data-dir"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("企业 300 家"), "{out}");
    for login in ["operator", "gov", "institution", "enterprise", "auditor", "sysadmin", "secadmin"] {
        assert!(out.contains(login), "{login} printed");
    }
    assert!(out.contains(qifu_testkit::PASSWORD));
    let (code, out, _) = run(qifu().args(["demo", "--data-dir"]).arg(dir.path()));
    assert_eq!(code, 0);
    assert!(out.contains("未做任何修改"), "{out}");
    let (code, _, err) = run(qifu().args(["demo", "--enterprises", "0", "--data-dir"]).arg(dir.path()));
    assert_one_line_error(code, &err, "企业数量");
    assert!(dir.path().join("qifu.db").exists());
}

#[test]
fn admin_create_user() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "admin",
        "create-user",
        "--username",
        "clerk01",
        "--display-name",
        "数据专员",
        "--role",
        "operator_admin",
        "--org-name",
        "运营中心",
    ];
    let (code, out, err) = run(qifu().args(args).arg("--data-dir").arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("初始密码"));
    let (code, _, err) = run(qifu().args(args).arg("--data-dir").arg(dir.path()));
    assert_one_line_error(code, &err, "已被使用");
    let (code, _, err) = run(qifu()
        .args(["admin", "create-user", "--username", "x1y", "--display-name", "某", "--role", "king", "--org-name", "o"])
        .arg("--data-dir")
        .arg(dir.path()));
    assert_one_line_error(code, &err, "未知角色");
    let (code, _, err) = run(qifu()
        .args(["admin", "create-user", "--username", "<b>", "--display-name", "某", "--role", "auditor", "--org-name", "o"])
        .arg("--data-dir")
        .arg(dir.path()));
    assert_one_line_error(code, &err, "用户名");
}

/// Runs `qifu serve` against `db_url` (or SQLite) and checks it serves the portal.
#[allow(clippy::zombie_processes)] // reaped by `try_wait` after SIGTERM, or killed and waited for
fn serve_and_fetch(db_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = qifu();
    cmd.args(["serve", "--demo", "--listen", &addr, "--data-dir"]).arg(dir.path()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(u) = db_url {
        cmd.env("QIFU_DATABASE_URL", u);
    }
    let mut child = cmd.spawn().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    qifu_testkit::qifu_app::integrations::aliyun::install_crypto_provider();
    let result = rt.block_on(async {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("http://{addr}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                return Err("server did not become ready".to_owned());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let home = client.get(format!("http://{addr}/")).send().await.map_err(|e| e.to_string())?;
        let status = home.status();
        let body = home.text().await.map_err(|e| e.to_string())?;
        let health = client.get(format!("http://{addr}/healthz")).send().await.map_err(|e| e.to_string())?.status();
        let metrics = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        Ok((status, body, health, metrics))
    });
    // SIGTERM: the node stops on its own, promptly and cleanly.
    let asked = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let mut exited = None;
    while asked.elapsed() < Duration::from_secs(15) {
        if let Ok(Some(st)) = child.try_wait() {
            exited = Some(st);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopped_in = asked.elapsed();
    if exited.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (status, body, health, metrics) = result.unwrap();
    let exited = exited.expect("qifu serve stopped on SIGTERM");
    assert!(exited.success(), "a clean exit: {exited:?}");
    assert!(stopped_in < Duration::from_secs(10), "stopped in {stopped_in:?}");
    assert_eq!(status.as_u16(), 200);
    assert!(body.contains("<title>首页 - 通州区中小微企业智慧服务平台</title>"));
    assert!(body.contains("通州区中小微企业首贷贴息实施细则"), "demo data served");
    assert_eq!(health.as_u16(), 200);
    assert!(metrics.contains("qifu_http_requests_total"));
}

#[test]
fn the_binary_serves_the_portal_on_sqlite() {
    serve_and_fetch(None);
}

#[tokio::test]
async fn the_binary_migrates_an_empty_postgres_database_and_serves() {
    let db = qifu_testkit::TestDb::new().await.unwrap();
    if !db.is_postgres() {
        eprintln!("QIFU_TEST_DATABASE_URL is not set: the PostgreSQL run of this test happens in the PostgreSQL pass");
        return;
    }
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || serve_and_fetch(Some(&url))).await.unwrap();
}

#[test]
fn logs_are_json_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) =
        run(qifu().args(["migrate", "--data-dir"]).arg(dir.path()).env("QIFU_LOG_FORMAT", "json").env("QIFU_LOG_LEVEL", "info"));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "migrations log at info");
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v.get("level").is_some() && v.get("timestamp").is_some(), "{l}");
    }
}

#[test]
fn reindex_rebuilds_the_search_index_and_after_its_folder_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(qifu().arg("--data-dir").arg(dir.path()).args(["demo", "--enterprises", "30"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(qifu().arg("--data-dir").arg(dir.path()).arg("reindex"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("搜索索引已重建"), "{out}");
    let docs = |out: &str| -> u64 {
        let i = out.find("已重建：").unwrap() + "已重建：".len();
        out[i..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
    };
    let first = docs(&out);
    assert!(first > 30, "{out}");
    assert!(dir.path().join("search").join("meta.json").exists());
    std::fs::remove_dir_all(dir.path().join("search")).unwrap();
    let (code, out, _) = run(qifu().arg("--data-dir").arg(dir.path()).arg("reindex"));
    assert_eq!(code, 0);
    assert_eq!(docs(&out), first, "the same documents again");
}
