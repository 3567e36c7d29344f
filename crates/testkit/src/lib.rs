//! The test harness: starts the real qifu server on `127.0.0.1:0` with a fresh
//! database — a temporary SQLite file, or a fresh PostgreSQL database when
//! `QIFU_TEST_DATABASE_URL` is set — and gives tests a cookie-keeping HTTP
//! client with typed helpers and a clock they control.

use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, TimeZone, Utc};
use qifu_app::{Ctx, ManualClock, Settings};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use std::net::SocketAddr;
use std::sync::Arc;

pub mod fake_aliyun;
pub mod fake_registry;
pub mod fake_wechat;
pub mod faults;

pub use qifu_app;
pub use qifu_db;
pub use reqwest;

/// The demo password of every seeded login.
pub const PASSWORD: &str = qifu_app::demo::DEMO_PASSWORD;

/// Where the clock of every test starts: 2026-11-29 10:00 Beijing time.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).single().unwrap_or_else(Utc::now)
}

/// A fresh database for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Result<TestDb> {
        init();
        match std::env::var("QIFU_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin) => {
                let name = format!("qifu_t_{}", uuid::Uuid::new_v4().simple());
                let conn = sea_orm::Database::connect(&admin).await.context("connect QIFU_TEST_DATABASE_URL")?;
                use sea_orm::ConnectionTrait;
                conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
                conn.close().await?;
                let url = replace_db_name(&admin, &name)?;
                Ok(TestDb { url, _dir: None, pg: Some((admin, name)) })
            }
            None => {
                let dir = tempfile::tempdir()?;
                let url = qifu_db::sqlite_url_in(dir.path());
                Ok(TestDb { url, _dir: Some(dir), pg: None })
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop on a thread of its own: we may be inside a runtime that is shutting down.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    if let Ok(c) = sea_orm::Database::connect(&admin).await {
                        let _ = c.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                        let _ = c.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn replace_db_name(url: &str, name: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").ok_or_else(|| anyhow!("bad database URL"))? + 3;
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// A running server and a client that talks to it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub ctx: Ctx,
    pub clock: ManualClock,
    pub client: reqwest::Client,
    jar: Arc<Jar>,
    worker: qifu_worker::Worker,
    pub db: TestDb,
    _data: tempfile::TempDir,
}

impl TestApp {
    /// Starts the server with default settings.
    pub async fn spawn() -> Result<TestApp> {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the server after `tweak` adjusted the settings.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> Result<TestApp> {
        let db = TestDb::new().await?;
        let data = tempfile::tempdir()?;
        let mut settings = Settings { data_dir: data.path().to_path_buf(), ..Settings::default() };
        settings.database_url = qifu_app::config::Secret::new(db.url.clone());
        settings.database.max_connections = 5;
        // A loaded CI machine (two cores, other test binaries) can hold a pooled
        // connection for seconds; the production default (5 s, then 503) is for
        // servers, not for tests that assert every write succeeds. Tests of the
        // overload behaviour set their own.
        settings.database.acquire_timeout_secs = 30;
        tweak(&mut settings);
        let conn = qifu_db::open(&db.url, &settings.db_options()).await?;
        let clock = ManualClock::new(start_time());
        let ctx = Ctx::new(conn, Arc::new(settings), Arc::new(clock.clone())).await?;
        qifu_app::system::bootstrap(&ctx).await?;
        // The index is opened as `serve` does; tests bring it up to date with `sync_search`.
        qifu_app::search::open(&ctx)?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = qifu_web::AppState::new(ctx.clone());
        tokio::spawn(qifu_web::serve(listener, state, std::future::pending()));
        let worker = qifu_worker::Worker::new(ctx.clone(), qifu_worker::Registry::standard(), qifu_worker::default_schedules()?);
        let jar = Arc::new(Jar::default());
        let client = client_with(jar.clone())?;
        Ok(TestApp { addr, ctx, clock, client, jar, worker, db, _data: data })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A second, independent visitor (own cookies) of the same server.
    pub fn new_visitor(&self) -> Result<Visitor> {
        let jar = Arc::new(Jar::default());
        Ok(Visitor { base: format!("http://{}", self.addr), client: client_with(jar.clone())?, jar, ctx: self.ctx.clone() })
    }

    /// The latest verification code sent to `phone` (read from the SMS outbox).
    pub async fn last_sms_code(&self, phone: &str) -> Option<String> {
        last_sms_code(&self.ctx, phone).await
    }

    fn me(&self) -> Visitor {
        Visitor {
            base: format!("http://{}", self.addr),
            client: self.client.clone(),
            jar: self.jar.clone(),
            ctx: self.ctx.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> Result<Page> {
        self.me().get(path).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<Page> {
        self.me().post_form(path, fields).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Result<Page> {
        self.me().login(username, password).await
    }

    pub async fn logout(&self) -> Result<Page> {
        self.me().logout().await
    }

    pub async fn login_as_operator(&self) -> Result<()> {
        self.login_ok("operator").await
    }

    pub async fn login_as_enterprise(&self) -> Result<()> {
        self.login_ok("enterprise").await
    }

    pub async fn login_as_institution(&self) -> Result<()> {
        self.login_ok("institution").await
    }

    async fn login_ok(&self, username: &str) -> Result<()> {
        let p = self.login(username, PASSWORD).await?;
        anyhow::ensure!(p.status == StatusCode::SEE_OTHER, "login as {username} failed: {} {}", p.status, p.body);
        Ok(())
    }

    /// Fills the database with a small demo data set and its demo logins.
    pub async fn seed_demo(&self) -> Result<qifu_app::demo::DemoReport> {
        match qifu_app::demo::run(&self.ctx, &qifu_app::demo::DemoOptions { enterprises: 60, seed: 7, ..Default::default() })
            .await?
        {
            qifu_app::demo::DemoOutcome::Created(r) => Ok(r),
            qifu_app::demo::DemoOutcome::AlreadyHasData => Err(anyhow!("database was not empty")),
        }
    }

    /// One pass of the search index over the change log (a rebuild when asked for).
    pub async fn sync_search(&self) -> Result<qifu_app::search::SyncReport> {
        Ok(qifu_app::search::sync(&self.ctx).await?)
    }

    /// Runs every due job now, as the worker would.
    pub async fn drain_jobs(&self) -> Result<qifu_worker::Pass> {
        self.worker.drain().await
    }

    pub fn worker(&self) -> &qifu_worker::Worker {
        &self.worker
    }

    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }
}

/// Installs the TLS crypto provider the HTTP clients need (idempotent).
pub fn init() {
    qifu_app::integrations::aliyun::install_crypto_provider();
}

fn client_with(jar: Arc<Jar>) -> Result<reqwest::Client> {
    init();
    Ok(reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// A visitor with its own cookies.
#[derive(Clone)]
pub struct Visitor {
    base: String,
    pub client: reqwest::Client,
    jar: Arc<Jar>,
    ctx: Ctx,
}

/// The latest 6-digit code in the outbox for `phone`.
pub async fn last_sms_code(ctx: &Ctx, phone: &str) -> Option<String> {
    use qifu_db::entity::sms_outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let row = sms_outbox::Entity::find()
        .filter(sms_outbox::Column::PhoneHash.eq(ctx.crypto.blind_index(phone)))
        .order_by_desc(sms_outbox::Column::Id)
        .one(&ctx.db)
        .await
        .ok()??;
    let re = regex::Regex::new(r"(\d{6})").ok()?;
    re.captures(&row.content).map(|c| c[1].to_owned())
}

/// The answer of the captcha shown on `page` (read from the server's store).
pub async fn captcha_answer(ctx: &Ctx, page: &Page) -> Option<(String, String)> {
    use qifu_db::entity::captcha;
    use sea_orm::EntityTrait;
    let re = regex::Regex::new(r#"name="captcha_id" value="([0-9a-f]{64})""#).ok()?;
    let id = re.captures(&page.body)?[1].to_owned();
    let row = captcha::Entity::find_by_id(id.clone()).one(&ctx.db).await.ok()??;
    Some((id, row.answer))
}

/// A response read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf(&self) -> Option<String> {
        let re = regex::Regex::new(r#"name="_csrf" value="([0-9a-f]{64})""#).ok()?;
        re.captures(&self.body).map(|c| c[1].to_owned())
    }
}

impl Visitor {
    pub async fn get(&self, path: &str) -> Result<Page> {
        read(self.client.get(format!("{}{path}", self.base)).send().await?).await
    }

    /// Posts a form, adding the CSRF token this visitor's pages carry.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<Page> {
        let token = self.csrf_token().await?;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Result<Page> {
        read(self.client.post(format!("{}{path}", self.base)).form(fields).send().await?).await
    }

    /// The token the visitor's forms carry (from the login page or the home page).
    pub async fn csrf_token(&self) -> Result<String> {
        let page = self.get("/").await?;
        page.csrf().or_else(|| self.cookie("qifu_csrf")).ok_or_else(|| anyhow!("no CSRF token found"))
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The password step alone: captcha solved, credentials posted.
    pub async fn post_login(&self, account: &str, password: &str) -> Result<Page> {
        self.post_login_with(account, password, &[]).await
    }

    /// The password step with extra fields (e.g. `next`).
    pub async fn post_login_with(&self, account: &str, password: &str, extra: &[(&str, &str)]) -> Result<Page> {
        let page = self.get("/login").await?;
        let token = page.csrf().ok_or_else(|| anyhow!("no CSRF token on the login page"))?;
        let (cid, answer) = captcha_answer(&self.ctx, &page).await.ok_or_else(|| anyhow!("no captcha on the login page"))?;
        let mut fields: Vec<(&str, &str)> =
            vec![("_csrf", &token), ("account", account), ("password", password), ("captcha_id", &cid), ("captcha", &answer)];
        fields.extend_from_slice(extra);
        self.post_raw("/login", &fields).await
    }

    /// Signs in completely: the password step, then the SMS second factor when asked.
    pub async fn login(&self, account: &str, password: &str) -> Result<Page> {
        let p = self.post_login(account, password).await?;
        if !p.location().is_some_and(|l| l.starts_with("/login/verify")) {
            return Ok(p);
        }
        self.second_factor(account).await
    }

    /// Completes a pending login by SMS, reading the code from the outbox.
    pub async fn second_factor(&self, account: &str) -> Result<Page> {
        let page = self.get("/login/verify").await?;
        let token = page.csrf().ok_or_else(|| anyhow!("no CSRF token on the verify page"))?;
        let sent = self.post_raw("/login/verify", &[("_csrf", &token), ("action", "send")]).await?;
        anyhow::ensure!(sent.status == StatusCode::OK, "sending the code failed: {}", sent.body);
        let phone = phone_of(&self.ctx, account).await.ok_or_else(|| anyhow!("{account} has no phone"))?;
        let code = last_sms_code(&self.ctx, &phone).await.ok_or_else(|| anyhow!("no code in the outbox"))?;
        self.post_raw("/login/verify", &[("_csrf", &token), ("action", "verify"), ("code", &code)]).await
    }

    pub async fn logout(&self) -> Result<Page> {
        self.post_form("/logout", &[]).await
    }
}

async fn read(res: reqwest::Response) -> Result<Page> {
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.text().await?;
    Ok(Page { status, headers, body })
}

/// The decrypted phone of a user given by username or phone.
pub async fn phone_of(ctx: &Ctx, account: &str) -> Option<String> {
    use qifu_db::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if qifu_domain::accounts::Phone::parse(account).is_ok() {
        return Some(account.to_owned());
    }
    let u = user::Entity::find().filter(user::Column::Username.eq(account)).one(&ctx.db).await.ok()??;
    ctx.crypto.decrypt(u.phone_enc.as_deref()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_name_replacement() {
        assert_eq!(replace_db_name("postgres://postgres@127.0.0.1/postgres", "x").unwrap(), "postgres://postgres@127.0.0.1/x");
        assert_eq!(
            replace_db_name("postgres://u:p@h:5432/db?sslmode=disable", "x").unwrap(),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(replace_db_name("postgres://h", "x").unwrap(), "postgres://h/x");
    }
}
