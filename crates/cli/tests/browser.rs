//! Browser journeys: the release or debug `qifu` binary driven in headless
//! Chromium through Debian's chromedriver. Without Chromium these tests skip
//! with a visible message, unless `CI` is set, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const TITLE: &str = "通州区中小微企业智慧服务平台";

/// Kills a child process when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // Chromedriver runs in its own process group: end the whole group, so the
        // Chromium it started does not outlive the test.
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", self.0.id())]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether the browser can run here; skips (or fails under CI) otherwise.
fn browser_available() -> bool {
    qifu_testkit::init();
    let ok = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but {CHROMIUM} or {CHROMEDRIVER} is missing: install the chromium and chromium-driver packages");
        }
        eprintln!("SKIPPED: browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
    }
    ok
}

async fn wait_http(url: &str) {
    qifu_testkit::qifu_app::integrations::aliyun::install_crypto_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    panic!("{url} did not come up");
}

/// The platform served by the built binary, with demo data.
struct Platform {
    base: String,
    db_url: String,
    _server: Guard,
    dir: tempfile::TempDir,
    _db: Option<qifu_testkit::TestDb>,
}

impl Platform {
    async fn db(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(&self.db_url).await.unwrap()
    }

    /// The answer of the captcha currently shown (read from the server's store).
    async fn captcha_answer(&self, c: &Client) -> String {
        use qifu_testkit::qifu_db::entity::captcha;
        use sea_orm::EntityTrait;
        let id = c.find(Locator::Css("input[name=captcha_id]")).await.unwrap().attr("value").await.unwrap().unwrap();
        let db = self.db().await;
        let answer = captcha::Entity::find_by_id(id).one(&db).await.unwrap().unwrap().answer;
        db.close().await.unwrap();
        answer
    }

    /// The latest code sent to `phone`, from the SMS outbox (the `log` provider).
    async fn sms_code(&self, phone: &str) -> String {
        use qifu_testkit::qifu_db::entity::sms_outbox;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let crypto = qifu_testkit::qifu_app::crypto::Crypto::load("", self.dir.path()).unwrap();
        let db = self.db().await;
        let row = sms_outbox::Entity::find()
            .filter(sms_outbox::Column::PhoneHash.eq(crypto.blind_index(phone)))
            .order_by_desc(sms_outbox::Column::Id)
            .one(&db)
            .await
            .unwrap()
            .expect("a message in the outbox");
        db.close().await.unwrap();
        regex::Regex::new(r"(\d{6})").unwrap().captures(&row.content).unwrap()[1].to_owned()
    }
}

async fn start_platform() -> Platform {
    start_platform_with(true, &[]).await
}

/// The platform as a district's IT staff start it: `qifu migrate`, then each
/// `qifu admin create-user` in `users` (username, display name, role, phone,
/// password given on standard input), then `qifu serve` without demo data.
async fn start_empty_platform(users: &[(&str, &str, &str, &str, &str)]) -> Platform {
    start_platform_with(false, users).await
}

async fn start_platform_with(demo: bool, users: &[(&str, &str, &str, &str, &str)]) -> Platform {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = qifu_testkit::TestDb::new().await.unwrap();
    let cli = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_qifu"));
        c.args(args).arg("--data-dir").arg(dir.path()).env("QIFU_LOG_LEVEL", "warn");
        if db.is_postgres() {
            c.env("QIFU_DATABASE_URL", &db.url);
        }
        c
    };
    if !demo {
        let out = cli(&["migrate"]).output().unwrap();
        assert!(out.status.success(), "qifu migrate: {}", String::from_utf8_lossy(&out.stderr));
        for (username, display, role, phone, password) in users {
            let mut child = cli(&[
                "admin",
                "create-user",
                "--username",
                username,
                "--display-name",
                display,
                "--role",
                role,
                "--org-name",
                "通州区中小微企业服务中心",
                "--phone",
                phone,
                "--password-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
            writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "qifu admin create-user: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qifu"));
    cmd.arg("serve");
    if demo {
        cmd.arg("--demo");
    }
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path())
        .env("QIFU_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let (db, db_url) = if db.is_postgres() {
        cmd.env("QIFU_DATABASE_URL", &db.url);
        let url = db.url.clone();
        (Some(db), url)
    } else {
        (None, qifu_testkit::qifu_db::sqlite_url_in(dir.path()))
    };
    let server = Guard(cmd.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{base}/readyz")).await;
    Platform { base, db_url, _server: server, dir, _db: db }
}

/// Waits for navigation to reach `path` (a click returns before the next page loads).
async fn wait_path(c: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = c.current_url().await.unwrap();
        if now.path() == path {
            // And for the document to be ready.
            let _ = c.find(Locator::Css("body")).await;
            return;
        }
        assert!(Instant::now() < deadline, "expected to reach {path}, still at {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Browser {
    client: Client,
    driver_url: String,
    _driver: Guard,
}

async fn start_browser() -> Browser {
    let port = free_port();
    let driver = Guard({
        use std::os::unix::process::CommandExt;
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    });
    let driver_url = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{driver_url}/status")).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1366,900"]
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .unwrap();
    Browser { client, driver_url, _driver: driver }
}

impl Browser {
    /// Console messages at SEVERE level since the last call (chromedriver's log endpoint).
    async fn console_errors(&self) -> Vec<String> {
        let id = self.client.session_id().await.unwrap().unwrap();
        let res: Value = reqwest::Client::new()
            .post(format!("{}/session/{id}/se/log", self.driver_url))
            .json(&json!({"type": "browser"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        res["value"]
            .as_array()
            .map(|a| {
                a.iter().filter(|e| e["level"] == "SEVERE").map(|e| e["message"].as_str().unwrap_or("").to_owned()).collect()
            })
            .unwrap_or_default()
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test]
async fn visitor_opens_home_and_follows_the_navigation() {
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let b = start_browser().await;
    let c = &b.client;
    c.goto(&format!("{}/", platform.base)).await.unwrap();
    assert!(c.title().await.unwrap().contains(TITLE));
    let h1 = c.find(Locator::Css(".hero h1")).await.unwrap().text().await.unwrap();
    assert_eq!(h1, TITLE);
    b.screenshot("home-1366").await;
    for (link, heading, path) in [
        ("政策", "惠企政策", "/policies"),
        ("服务产品", "服务产品", "/products"),
        ("资讯", "资讯公告", "/news"),
        ("活动", "活动培训", "/activities"),
        ("关于我们", "关于我们", "/about"),
    ] {
        c.find(Locator::Css(&format!(".mainnav a[href='{path}']"))).await.unwrap().click().await.unwrap();
        wait_path(c, path).await;
        let h1 = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert_eq!(h1, heading, "{link}");
        assert!(c.title().await.unwrap().contains(TITLE));
        let current = c.find(Locator::Css(".mainnav a[aria-current='page']")).await.unwrap().text().await.unwrap();
        assert_eq!(current, link);
    }
    // Into a detail page and back home by the brand link.
    c.goto(&format!("{}/policies", platform.base)).await.unwrap();
    let first = c.find(Locator::Css(".rows .row-title")).await.unwrap();
    let href = first.attr("href").await.unwrap().unwrap();
    first.click().await.unwrap();
    wait_path(c, &href).await;
    assert!(c.find(Locator::Css(".docmeta")).await.is_ok());
    c.find(Locator::Css("a.brand")).await.unwrap().click().await.unwrap();
    wait_path(c, "/").await;
    // The search box in the header works.
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys("贷款").await.unwrap();
    c.find(Locator::Css("form.search button")).await.unwrap().click().await.unwrap();
    wait_path(c, "/search").await;
    let body = c.source().await.unwrap();
    assert!(body.contains("共找到"));
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // On a phone: no horizontal scrolling.
    c.set_window_size(375, 812).await.unwrap();
    c.goto(&format!("{}/", platform.base)).await.unwrap();
    let widths = c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
    let (sw, iw) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(sw <= iw, "page is {sw}px wide in a {iw}px window");
    b.screenshot("home-375").await;
    assert!(b.console_errors().await.is_empty());
    b.client.clone().close().await.unwrap();
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn operator_signs_in_with_the_second_factor() {
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let b = start_browser().await;
    let c = &b.client;
    c.goto(&format!("{}/admin", platform.base)).await.unwrap();
    wait_path(c, "/login").await;
    fill(c, "account", "operator").await;
    fill(c, "password", qifu_testkit::PASSWORD).await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    b.screenshot("login").await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/login/verify").await;
    click(c, "button[value=send]").await;
    let code = loop {
        if c.source().await.unwrap().contains("验证码已发送") {
            break platform.sms_code("13900000001").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    fill(c, "code", &code).await;
    click(c, "button[value=verify]").await;
    wait_path(c, "/admin").await;
    assert_eq!(c.find(Locator::Css(".page-title")).await.unwrap().text().await.unwrap(), "工作台");
    b.screenshot("admin-dashboard").await;
    c.find(Locator::LinkText("企业管理")).await.unwrap().click().await.unwrap();
    wait_path(c, "/admin/enterprises").await;
    assert!(c.find(Locator::Css("table.table tbody tr")).await.is_ok());
    b.screenshot("admin-enterprises").await;
    c.find(Locator::LinkText("用户管理")).await.unwrap().click().await.unwrap();
    wait_path(c, "/admin/users").await;
    b.screenshot("admin-users").await;
    click(c, ".admin-user button").await;
    wait_path(c, "/").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn an_enterprise_registers_with_the_sms_code_then_signs_in_and_out() {
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let b = start_browser().await;
    let c = &b.client;
    c.set_window_size(375, 812).await.unwrap();
    c.goto(&format!("{}/register?ch=poster-2026", platform.base)).await.unwrap();
    let phone = "13766668888";
    fill(c, "phone", phone).await;
    fill(c, "enterprise_name", "北京运河数字印刷有限公司").await;
    fill(c, "contact_name", "刘晓东").await;
    fill(c, "password", "Print-Shop-2026").await;
    fill(c, "confirm", "Print-Shop-2026").await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "button[value=send_code]").await;
    loop {
        if c.source().await.unwrap().contains("验证码已发送") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What was typed is still there (passwords excepted), on a 375-px phone.
    assert_eq!(
        c.find(Locator::Id("enterprise_name")).await.unwrap().prop("value").await.unwrap().unwrap(),
        "北京运河数字印刷有限公司"
    );
    let widths = c.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
    assert!(widths[0].as_i64().unwrap() <= widths[1].as_i64().unwrap(), "no horizontal scrolling");
    b.screenshot("register-375").await;
    let code = platform.sms_code(phone).await;
    fill(c, "password", "Print-Shop-2026").await;
    fill(c, "confirm", "Print-Shop-2026").await;
    fill(c, "sms_code", &code).await;
    click(c, "button[value=register]").await;
    wait_path(c, "/login").await;
    assert!(c.source().await.unwrap().contains("注册成功"));
    fill(c, "account", phone).await;
    fill(c, "password", "Print-Shop-2026").await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/").await;
    assert!(c.source().await.unwrap().contains("刘晓东"), "signed in: the header shows the user");
    b.screenshot("enterprise-home-375").await;
    click(c, ".topbar form button").await;
    wait_path(c, "/").await;
    assert!(c.find(Locator::LinkText("登录")).await.is_ok(), "signed out");
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.client.clone().close().await.unwrap();
}

/// A minimal valid PNG (1×1); uploads are decoded and re-encoded, so it must really be one.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Registers an enterprise account in the browser and signs it in.
async fn register_and_sign_in(platform: &Platform, c: &Client, phone: &str, name: &str) {
    c.goto(&format!("{}/register", platform.base)).await.unwrap();
    fill(c, "phone", phone).await;
    fill(c, "enterprise_name", name).await;
    fill(c, "contact_name", "赵经理").await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "button[value=send_code]").await;
    while !c.source().await.unwrap().contains("验证码已发送") {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let code = platform.sms_code(phone).await;
    fill(c, "password", "Cert-Journey-26").await;
    fill(c, "confirm", "Cert-Journey-26").await;
    fill(c, "sms_code", &code).await;
    click(c, "button[value=register]").await;
    wait_path(c, "/login").await;
    fill(c, "account", phone).await;
    fill(c, "password", "Cert-Journey-26").await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/").await;
}

/// An unclaimed registry record and its legal representative's ID number.
async fn registry_record(platform: &Platform, skip: u64) -> (String, String, String, String) {
    use qifu_testkit::qifu_db::entity::registry_entry;
    use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
    let db = platform.db().await;
    let r =
        registry_entry::Entity::find().order_by_desc(registry_entry::Column::Id).offset(skip).one(&db).await.unwrap().unwrap();
    db.close().await.unwrap();
    let crypto = qifu_testkit::qifu_app::crypto::Crypto::load("", platform.dir.path()).unwrap();
    let id = crypto.decrypt(r.legal_rep_id_enc.as_deref().unwrap()).unwrap();
    (r.name, r.credit_code, r.legal_rep_name, id)
}

async fn submit_certification(c: &Client, name: &str, code: &str, rep: &str, id: &str, png: &std::path::Path) {
    fill(c, "name", name).await;
    fill(c, "credit_code", code).await;
    fill(c, "legal_rep_name", rep).await;
    fill(c, "legal_rep_id", id).await;
    c.find(Locator::Id("licence")).await.unwrap().send_keys(&png.display().to_string()).await.unwrap();
    click(c, "form[enctype] button[type=submit]").await;
}

#[tokio::test]
async fn enterprises_certify_and_an_operator_approves_a_mismatch() {
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let png = platform.dir.path().join("licence.png");
    std::fs::write(&png, PNG).unwrap();
    let b = start_browser().await;
    let c = &b.client;

    // 1. A matching registry record certifies at once.
    let (name, code, rep, id) = registry_record(&platform, 0).await;
    register_and_sign_in(&platform, c, "13711112222", &name).await;
    c.goto(&format!("{}/account/certification", platform.base)).await.unwrap();
    submit_certification(c, &name, &code, &rep, &id, &png).await;
    wait_path(c, "/account/certification").await;
    let body = c.source().await.unwrap();
    assert!(body.contains("认证已通过") && body.contains("已认证"), "instant certification");
    b.screenshot("certified").await;
    click(c, ".topbar form button").await;
    wait_path(c, "/").await;

    // 2. A mismatch goes to review.
    let (name2, code2, _, id2) = registry_record(&platform, 1).await;
    register_and_sign_in(&platform, c, "13711113333", &name2).await;
    c.goto(&format!("{}/account/certification", platform.base)).await.unwrap();
    submit_certification(c, &name2, &code2, "另一个人", &id2, &png).await;
    wait_path(c, "/account/certification").await;
    assert!(c.source().await.unwrap().contains("已转人工审核"));
    click(c, ".topbar form button").await;
    wait_path(c, "/").await;

    // 3. The operator approves it.
    c.goto(&format!("{}/login", platform.base)).await.unwrap();
    fill(c, "account", "operator").await;
    fill(c, "password", qifu_testkit::PASSWORD).await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/login/verify").await;
    click(c, "button[value=send]").await;
    while !c.source().await.unwrap().contains("验证码已发送") {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fill(c, "code", &platform.sms_code("13900000001").await).await;
    click(c, "button[value=verify]").await;
    wait_path(c, "/admin").await;
    c.find(Locator::LinkText("实名认证审核")).await.unwrap().click().await.unwrap();
    wait_path(c, "/admin/certifications").await;
    c.find(Locator::LinkText("审核")).await.unwrap().click().await.unwrap();
    let detail = c.source().await.unwrap();
    assert!(detail.contains("另一个人") && detail.contains("class=\"diff\""), "the difference is highlighted");
    b.screenshot("admin-certification-review").await;
    fill(c, "reason", "已电话核实法定代表人变更").await;
    click(c, "button[value=approve]").await;
    wait_path(c, "/admin/certifications").await;
    assert!(c.source().await.unwrap().contains("已通过"));
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.client.clone().close().await.unwrap();
}

/// Signs `account` in through the login page (and the SMS second factor for staff).
async fn sign_in(platform: &Platform, c: &Client, account: &str, staff_phone: Option<&str>) {
    c.goto(&format!("{}/login", platform.base)).await.unwrap();
    fill(c, "account", account).await;
    fill(c, "password", qifu_testkit::PASSWORD).await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    if let Some(phone) = staff_phone {
        wait_path(c, "/login/verify").await;
        click(c, "button[value=send]").await;
        while !c.source().await.unwrap().contains("验证码已发送") {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        fill(c, "code", &platform.sms_code(phone).await).await;
        click(c, "button[value=verify]").await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while c.current_url().await.unwrap().path().starts_with("/login") {
        assert!(Instant::now() < deadline, "still on the login page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sign_out(c: &Client) {
    // The back office has its own header; the portal's sign-out sits in the top bar.
    let button = match c.find(Locator::Css(".admin-user button")).await {
        Ok(b) => b,
        Err(_) => c.find(Locator::Css(".topbar form button")).await.unwrap(),
    };
    button.click().await.unwrap();
    wait_path(c, "/").await;
}

/// Waits until the page shows `text`.
async fn wait_text(c: &Client, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !c.source().await.unwrap().contains(text) {
        assert!(Instant::now() < deadline, "expected {text:?} on {}", c.current_url().await.unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_product_is_published_applied_for_delivered_and_confirmed() {
    use qifu_testkit::qifu_db::entity::{demand, product};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let b = start_browser().await;
    let c = &b.client;
    const NAME: &str = "运河小微企业合同审查包";

    // 1. The institution drafts and submits a product.
    sign_in(&platform, c, "institution", None).await;
    c.goto(&format!("{}/admin/products/new", platform.base)).await.unwrap();
    c.find(Locator::Css("#category_id option:nth-child(2)")).await.unwrap().click().await.unwrap();
    fill(c, "name", NAME).await;
    fill(c, "summary", "三份以内合同的合规审查，五个工作日内出具意见。").await;
    fill(c, "description", "<p>适用于采购、销售和劳动合同。</p><script>alert(1)</script>").await;
    c.find(Locator::Css("#pricing option[value=free]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#delivery_mode option[value=online]")).await.unwrap().click().await.unwrap();
    b.screenshot("product-form").await;
    click(c, "form.form button[type=submit]").await;
    wait_text(c, "提交审核").await;
    click(c, "form[action$='/submit'] button").await;
    wait_text(c, "待审核").await;
    sign_out(c).await;

    // 2. The operator approves it.
    sign_in(&platform, c, "operator", Some("13900000001")).await;
    let db = platform.db().await;
    let pid = product::Entity::find().filter(product::Column::Name.eq(NAME)).one(&db).await.unwrap().unwrap().id;
    c.goto(&format!("{}/admin/products/{pid}", platform.base)).await.unwrap();
    click(c, "button[value=approve]").await;
    wait_text(c, "已上架").await;
    sign_out(c).await;

    // 3. The enterprise finds it in the catalogue and applies.
    sign_in(&platform, c, "enterprise", None).await;
    c.goto(&format!("{}/products?q={NAME}", platform.base)).await.unwrap();
    c.find(Locator::LinkText(NAME)).await.unwrap().click().await.unwrap();
    wait_path(c, &format!("/products/{pid}")).await;
    assert!(!c.source().await.unwrap().contains("alert(1)"), "the script was removed");
    c.find(Locator::LinkText("申请服务")).await.unwrap().click().await.unwrap();
    wait_path(c, &format!("/products/{pid}/apply")).await;
    fill(c, "needs", "审查两份采购合同和一份劳动合同").await;
    fill(c, "contact_name", "王建国").await;
    fill(c, "contact_phone", "13812345678").await;
    b.screenshot("apply").await;
    click(c, "form.form button[type=submit]").await;
    wait_text(c, "已提交").await;
    let did = demand::Entity::find().order_by_desc(demand::Column::Id).one(&db).await.unwrap().unwrap().id;
    sign_out(c).await;

    // 4. The institution accepts, starts and delivers.
    sign_in(&platform, c, "institution", None).await;
    c.goto(&format!("{}/admin/demands", platform.base)).await.unwrap();
    c.find(Locator::Css(&format!("a[href='/admin/demands/{did}']"))).await.unwrap().click().await.unwrap();
    wait_path(c, &format!("/admin/demands/{did}")).await;
    click(c, "form[action$='/accept'] button").await;
    wait_text(c, "开始服务").await;
    click(c, "form[action$='/start'] button").await;
    wait_text(c, "服务成果说明").await;
    fill(c, "deliver-note", "已出具三份合同审查意见书").await;
    click(c, "form[action$='/deliver'] button").await;
    wait_text(c, "已交付").await;
    b.screenshot("admin-demand").await;
    sign_out(c).await;

    // 5. The enterprise confirms; the timeline shows every step.
    sign_in(&platform, c, "enterprise", None).await;
    c.goto(&format!("{}/account/demands/{did}", platform.base)).await.unwrap();
    click(c, "form[action$='/confirm'] button").await;
    wait_text(c, "企业确认").await;
    let page = c.source().await.unwrap();
    for step in ["提交需求", "受理", "开始服务", "交付", "已出具三份合同审查意见书"] {
        assert!(page.contains(step), "{step} on the timeline");
    }
    b.screenshot("demand-confirmed").await;
    // 6. And rates the service.
    click(c, "input[name=rating][value='4']").await;
    fill(c, "comment", "响应及时，意见书很专业").await;
    click(c, "form[action$='/rate'] button").await;
    wait_text(c, "感谢您的评价").await;
    assert!(c.source().await.unwrap().contains("★★★★☆"));
    b.screenshot("demand-rated").await;
    let d = demand::Entity::find_by_id(did).one(&db).await.unwrap().unwrap();
    assert_eq!(d.status, qifu_domain::demands::DemandState::Confirmed);
    db.close().await.unwrap();
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn an_operator_publishes_a_policy_with_conditions_and_enterprises_see_their_result() {
    use qifu_testkit::qifu_db::entity::{enterprise, policy, policy_push};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    if !browser_available() {
        return;
    }
    let platform = start_platform().await;
    let b = start_browser().await;
    let c = &b.client;
    const TITLE: &str = "通州区小微企业发展专项资金（浏览器测试）";
    let db = platform.db().await;
    // The demo enterprise's registered street decides the rule, so it is eligible.
    let mine = enterprise::Entity::find().filter(enterprise::Column::OrgId.is_not_null()).one(&db).await.unwrap().unwrap();
    let streets = qifu_domain::reference::division::tongzhou_streets();
    let home = streets.iter().find(|s| s.code == mine.division_code).unwrap();
    let other = streets.iter().find(|s| s.code != mine.division_code).unwrap();

    // 1. The operator creates the policy, sets its condition and publishes it.
    sign_in(&platform, c, "operator", Some("13900000001")).await;
    c.goto(&format!("{}/admin/policies/new", platform.base)).await.unwrap();
    fill(c, "title", TITLE).await;
    fill(c, "issuer", "通州区经济和信息化局").await;
    c.find(Locator::Css("#level option[value=district]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#support_type option[value='资金补贴']")).await.unwrap().click().await.unwrap();
    fill(c, "amount_max_wan", "30").await;
    fill(c, "summary", "对注册在本区的小微企业给予最高30万元的一次性补贴。").await;
    click(c, "form.form button[type=submit]").await;
    wait_text(c, "请设置申报条件后发布").await;
    c.find(Locator::Css("#attr_0 option[value=division]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#op_0 option[value=in]")).await.unwrap().click().await.unwrap();
    fill(c, "value_0", home.name).await;
    b.screenshot("policy-rule").await;
    click(c, "form[action$='/rule'] button[type=submit]").await;
    wait_text(c, "申报条件已保存为新版本").await;
    click(c, "form[action$='/publish'] button").await;
    wait_text(c, "已发布，正在后台匹配").await;
    let pid = policy::Entity::find().filter(policy::Column::Title.eq(TITLE)).one(&db).await.unwrap().unwrap().id;
    sign_out(c).await;

    // 2. The in-process worker matches every enterprise and pushes the eligible one.
    let deadline = Instant::now() + Duration::from_secs(20);
    while policy_push::Entity::find().filter(policy_push::Column::PolicyId.eq(pid)).count(&db).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "no push within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // 3. The eligible enterprise sees the push and 符合 with its trace.
    sign_in(&platform, c, "enterprise", None).await;
    c.goto(&format!("{}/account/messages", platform.base)).await.unwrap();
    wait_text(c, &format!("您的企业符合政策：{TITLE}")).await;
    c.goto(&format!("{}/policies/calculator", platform.base)).await.unwrap();
    wait_text(c, TITLE).await;
    let src = c.source().await.unwrap();
    let at = src.find(TITLE).unwrap();
    let block = &src[src[..at].rfind("class=\"match\"").unwrap()..];
    let block = &block[..block.find("</table>").unwrap()];
    assert!(block.contains(">符合<") && block.contains(&format!("注册地 属于 {}", home.name)), "{block}");
    b.screenshot("policy-calculator").await;
    sign_out(c).await;

    // 4. An enterprise registered elsewhere sees which condition failed.
    c.goto(&format!("{}/policies/calculator", platform.base)).await.unwrap();
    c.find(Locator::Css(&format!("#c-division option[value='{}']", other.code))).await.unwrap().click().await.unwrap();
    click(c, "form.calc-form button[type=submit]").await;
    wait_text(c, "测算结果").await;
    let src = c.source().await.unwrap();
    let at = src.find(TITLE).unwrap();
    let block = &src[src[..at].rfind("class=\"match\"").unwrap()..];
    let block = &block[..block.find("</table>").unwrap()];
    assert!(block.contains(">不符合<") && block.contains(other.name) && block.contains("不满足"), "{block}");
}

/// A valid resident ID number (check character computed) for a birth date.
fn resident_id(area_and_birth_and_seq: &str) -> String {
    // GB 11643: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 written X.
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = area_and_birth_and_seq.chars().zip(W).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    let check = (12 - sum % 11) % 11;
    let id = format!("{area_and_birth_and_seq}{}", if check == 10 { 'X' } else { char::from_digit(check, 10).unwrap() });
    assert!(qifu_domain::certification::ResidentId::parse(&id).is_ok(), "{id}");
    id
}

#[tokio::test]
async fn on_an_empty_install_an_enterprise_is_certified_listed_completes_its_profile_and_gets_a_push() {
    use qifu_testkit::qifu_db::entity::{enterprise, policy, policy_push};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    if !browser_available() {
        return;
    }
    const ADMIN_PHONE: &str = "13900002222";
    const ADMIN_PASSWORD: &str = "Canal-Office-2026";
    let platform = start_empty_platform(&[("wangke", "王科长", "operator_admin", ADMIN_PHONE, ADMIN_PASSWORD)]).await;
    let db = platform.db().await;
    assert_eq!(enterprise::Entity::find().count(&db).await.unwrap(), 0, "an empty install");
    let png = platform.dir.path().join("licence.png");
    std::fs::write(&png, PNG).unwrap();
    let b = start_browser().await;
    let c = &b.client;
    let name = "北京运河新设智能科技有限公司";
    let code = qifu_testkit::qifu_app::demo::credit_code(424_242, "110112").to_string();
    let id = resident_id("11011219850312003");
    let street = &qifu_domain::reference::division::tongzhou_streets()[0];

    // 1. The enterprise registers and asks for certification: the registry knows nothing yet, so it goes to review.
    register_and_sign_in(&platform, c, "13722223333", name).await;
    c.goto(&format!("{}/account/certification", platform.base)).await.unwrap();
    submit_certification(c, name, &code, "李新", &id, &png).await;
    wait_path(c, "/account/certification").await;
    wait_text(c, "已转人工审核").await;
    sign_out(c).await;

    // 2. The administrator created on the command line signs in (SMS second factor) and approves,
    //    completing the base fields from the licence.
    c.goto(&format!("{}/login", platform.base)).await.unwrap();
    fill(c, "account", "wangke").await;
    fill(c, "password", ADMIN_PASSWORD).await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/login/verify").await;
    click(c, "button[value=send]").await;
    wait_text(c, "验证码已发送").await;
    fill(c, "code", &platform.sms_code(ADMIN_PHONE).await).await;
    click(c, "button[value=verify]").await;
    wait_path(c, "/admin").await;
    c.goto(&format!("{}/admin/certifications", platform.base)).await.unwrap();
    c.find(Locator::LinkText("审核")).await.unwrap().click().await.unwrap();
    wait_text(c, "国民经济行业代码").await;
    // A date input takes keys in the browser's locale order; set its value as a user's picker would.
    c.execute("document.getElementById('founded_on').value = '2021-06-18';", vec![]).await.unwrap();
    fill(c, "industry_code", "6513").await;
    c.find(Locator::Css(&format!("#division_code option[value='{}']", street.code))).await.unwrap().click().await.unwrap();
    fill(c, "address", "北京市通州区新华大街1号").await;
    b.screenshot("empty-install-review").await;
    click(c, "button[value=approve]").await;
    wait_path(c, "/admin/certifications").await;

    // 3. The enterprise is in the back-office list with its base fields and their source.
    c.goto(&format!("{}/admin/enterprises", platform.base)).await.unwrap();
    wait_text(c, name).await;
    c.find(Locator::LinkText(name)).await.unwrap().click().await.unwrap();
    wait_text(c, "基础信息及来源").await;
    let dossier = c.source().await.unwrap();
    assert!(dossier.contains(&code) && dossier.contains("6513") && dossier.contains(street.name), "the record's base fields");
    let unsourced: Vec<&str> = dossier.split("<tr>").filter(|r| r.contains("建档前已有")).collect();
    assert!(unsourced.is_empty(), "every base field has its source (the certification): {unsourced:?}");
    b.screenshot("empty-install-dossier").await;

    // 4. A policy for enterprises with at least 10 employees, published.
    const TITLE: &str = "通州区小微企业稳岗补贴（空库测试）";
    c.goto(&format!("{}/admin/policies/new", platform.base)).await.unwrap();
    fill(c, "title", TITLE).await;
    fill(c, "issuer", "通州区人力资源和社会保障局").await;
    c.find(Locator::Css("#level option[value=district]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#support_type option[value='资金补贴']")).await.unwrap().click().await.unwrap();
    fill(c, "amount_max_wan", "5").await;
    fill(c, "summary", "对从业人员10人以上、稳定就业的小微企业给予补贴。").await;
    click(c, "form.form button[type=submit]").await;
    wait_text(c, "请设置申报条件后发布").await;
    c.find(Locator::Css("#attr_0 option[value=employees]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#op_0 option[value=ge]")).await.unwrap().click().await.unwrap();
    fill(c, "value_0", "10").await;
    click(c, "form[action$='/rule'] button[type=submit]").await;
    wait_text(c, "申报条件已保存为新版本").await;
    click(c, "form[action$='/publish'] button").await;
    wait_text(c, "已发布，正在后台匹配").await;
    let pid = policy::Entity::find().filter(policy::Column::Title.eq(TITLE)).one(&db).await.unwrap().unwrap().id;
    sign_out(c).await;

    // 5. The enterprise completes its profile; the rematch pushes the policy.
    c.goto(&format!("{}/login", platform.base)).await.unwrap();
    fill(c, "account", "13722223333").await;
    fill(c, "password", "Cert-Journey-26").await;
    let answer = platform.captcha_answer(c).await;
    fill(c, "captcha", &answer).await;
    click(c, "form.form button[type=submit]").await;
    wait_path(c, "/").await;
    c.goto(&format!("{}/policies/calculator", platform.base)).await.unwrap();
    wait_text(c, "完善企业信息").await;
    fill(c, "f-emp", "25").await;
    click(c, "form[action='/policies/calculator/profile'] button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while policy_push::Entity::find().filter(policy_push::Column::PolicyId.eq(pid)).count(&db).await.unwrap() == 0 {
        assert!(Instant::now() < deadline, "no push within 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.goto(&format!("{}/account/messages", platform.base)).await.unwrap();
    wait_text(c, &format!("您的企业符合政策：{TITLE}")).await;
    c.goto(&format!("{}/account/portrait", platform.base)).await.unwrap();
    wait_text(c, "企业画像").await;
    assert!(c.source().await.unwrap().contains("从业人员 25 人"), "the portrait reads the completed profile");
    b.screenshot("empty-install-portrait").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    b.client.clone().close().await.unwrap();
}
