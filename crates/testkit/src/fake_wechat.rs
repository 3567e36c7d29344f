//! A local fake of the WeChat official-account API (`api.weixin.qq.com`) that
//! speaks its protocol, for tests: `GET /cgi-bin/token` (client_credential,
//! checks app id and secret), `POST /cgi-bin/message/template/send`,
//! `POST /cgi-bin/message/subscribe/bizsend`, `POST /cgi-bin/menu/create` and
//! `GET /sns/oauth2/access_token`. Errors come back as WeChat sends them:
//! HTTP 200 with `errcode` and `errmsg` (40001 invalid credential, 40037
//! invalid template_id, 40029 invalid code, 40125 invalid appsecret, …).

use anyhow::Result;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// One message the fake accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct SentWechat {
    /// `template` or `subscribe`.
    pub kind: String,
    pub openid: String,
    pub template_id: String,
    pub data: Value,
}

#[derive(Default)]
struct Inner {
    app_id: String,
    secret: String,
    tokens: Vec<String>,
    token_requests: usize,
    templates: Vec<String>,
    sent: Vec<SentWechat>,
    menus: Vec<Value>,
    codes: HashMap<String, String>,
    /// Answer the next sends with this errcode.
    fail_next: Vec<i64>,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake on `127.0.0.1`; stops when dropped.
pub struct FakeWechat {
    addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWechat {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn err(code: i64, msg: &str) -> Json<Value> {
    Json(json!({ "errcode": code, "errmsg": msg }))
}

impl FakeWechat {
    /// Starts the fake for one account; `templates` are the template ids it has.
    pub async fn start(app_id: &str, secret: &str, templates: &[&str]) -> Result<FakeWechat> {
        let shared = Shared(Arc::new(Mutex::new(Inner {
            app_id: app_id.to_owned(),
            secret: secret.to_owned(),
            templates: templates.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        })));
        let app = Router::new()
            .route("/cgi-bin/token", get(token))
            .route("/cgi-bin/message/template/send", post(template_send))
            .route("/cgi-bin/message/subscribe/bizsend", post(subscribe_send))
            .route("/cgi-bin/menu/create", post(menu_create))
            .route("/sns/oauth2/access_token", get(oauth))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeWechat { addr, shared, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sent(&self) -> Vec<SentWechat> {
        self.shared.lock().sent.clone()
    }

    pub fn menus(&self) -> Vec<Value> {
        self.shared.lock().menus.clone()
    }

    /// How many access tokens were handed out.
    pub fn token_requests(&self) -> usize {
        self.shared.lock().token_requests
    }

    /// Invalidates every token handed out so far (as when another server
    /// fetched a new one): the next call gets 40001.
    pub fn revoke_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// The next send answers with `errcode` (e.g. -1 system busy).
    pub fn fail_next_with(&self, errcode: i64) {
        self.shared.lock().fail_next.push(errcode);
    }

    /// Makes an OAuth `code` that exchanges for `openid`.
    pub fn oauth_code(&self, code: &str, openid: &str) {
        self.shared.lock().codes.insert(code.to_owned(), openid.to_owned());
    }
}

async fn token(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let mut g = s.lock();
    if q.get("grant_type").map(String::as_str) != Some("client_credential") {
        return err(40002, "invalid grant_type");
    }
    if q.get("appid") != Some(&g.app_id) {
        return err(40013, "invalid appid");
    }
    if q.get("secret") != Some(&g.secret) {
        return err(40125, "invalid appsecret");
    }
    g.token_requests += 1;
    let t = format!("ACCESS_TOKEN_{}_{}", g.token_requests, uuid::Uuid::new_v4().simple());
    g.tokens.push(t.clone());
    Json(json!({ "access_token": t, "expires_in": 7200 }))
}

fn check_token(g: &Inner, q: &HashMap<String, String>) -> Option<Json<Value>> {
    match q.get("access_token") {
        Some(t) if g.tokens.contains(t) => None,
        _ => Some(err(40001, "invalid credential, access_token is invalid or not latest")),
    }
}

fn check_data(body: &Value) -> Option<Json<Value>> {
    let ok = body.get("touser").and_then(Value::as_str).is_some_and(|s| !s.is_empty())
        && body
            .get("data")
            .and_then(Value::as_object)
            .is_some_and(|d| d.values().all(|v| v.get("value").is_some_and(Value::is_string)));
    (!ok).then(|| err(47001, "data format error"))
}

async fn template_send(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = s.lock();
    if let Some(e) = check_token(&g, &q) {
        return e;
    }
    if let Some(code) = g.fail_next.pop() {
        return err(code, "injected failure");
    }
    if let Some(e) = check_data(&body) {
        return e;
    }
    let tid = body.get("template_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    if !g.templates.contains(&tid) {
        return err(40037, "invalid template_id");
    }
    g.sent.push(SentWechat {
        kind: "template".to_owned(),
        openid: body["touser"].as_str().unwrap_or_default().to_owned(),
        template_id: tid,
        data: body["data"].clone(),
    });
    let msgid = 200_000 + g.sent.len() as i64;
    Json(json!({ "errcode": 0, "errmsg": "ok", "msgid": msgid }))
}

async fn subscribe_send(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut g = s.lock();
    if let Some(e) = check_token(&g, &q) {
        return e;
    }
    if let Some(e) = check_data(&body) {
        return e;
    }
    let tid = body.get("template_id").and_then(Value::as_str).unwrap_or_default().to_owned();
    if tid.is_empty() {
        return err(40037, "invalid template_id");
    }
    g.sent.push(SentWechat {
        kind: "subscribe".to_owned(),
        openid: body["touser"].as_str().unwrap_or_default().to_owned(),
        template_id: tid,
        data: body["data"].clone(),
    });
    Json(json!({ "errcode": 0, "errmsg": "ok" }))
}

async fn menu_create(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>, Json(body): Json<Value>) -> Json<Value> {
    let mut g = s.lock();
    if let Some(e) = check_token(&g, &q) {
        return e;
    }
    let Some(buttons) = body.get("button").and_then(Value::as_array) else { return err(40016, "invalid button size") };
    if buttons.is_empty() || buttons.len() > 3 {
        return err(40016, "invalid button size");
    }
    for b in buttons {
        let subs = b.get("sub_button").and_then(Value::as_array);
        if subs.is_some_and(|s| s.len() > 5) {
            return err(40017, "invalid sub button size");
        }
        let leaves: Vec<&Value> = match subs {
            Some(s) if !s.is_empty() => s.iter().collect(),
            _ => vec![b],
        };
        for l in leaves {
            match l.get("type").and_then(Value::as_str) {
                Some("click") if l.get("key").is_some() => {}
                Some("view") if l.get("url").and_then(Value::as_str).is_some_and(|u| u.starts_with("http")) => {}
                _ => return err(40019, "invalid button key / url"),
            }
        }
    }
    g.menus.push(body);
    Json(json!({ "errcode": 0, "errmsg": "ok" }))
}

async fn oauth(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    let g = s.lock();
    if q.get("appid") != Some(&g.app_id) || q.get("secret") != Some(&g.secret) {
        return err(40125, "invalid appsecret");
    }
    if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return err(40002, "invalid grant_type");
    }
    match q.get("code").and_then(|c| g.codes.get(c)) {
        Some(openid) => Json(json!({
            "access_token": "OAUTH_TOKEN", "expires_in": 7200, "refresh_token": "REFRESH",
            "openid": openid, "scope": "snsapi_base"
        })),
        None => err(40029, "invalid code"),
    }
}
