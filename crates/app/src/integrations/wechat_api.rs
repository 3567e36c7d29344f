//! The WeChat official-account API (api.weixin.qq.com), as the platform calls
//! it: access tokens (cached, refreshed five minutes before they expire and
//! again when WeChat says one is invalid), template messages with subscription
//! messages as the fallback, the custom menu, and web OAuth. `log` records only.

use crate::config::WechatSettings;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::Mutex;

/// A message to one follower: a template message (`template_id`), or, where
/// the account has no template for it, a subscription message.
#[derive(Debug, Clone)]
pub struct WechatMessage {
    pub openid: String,
    pub template_id: String,
    pub subscribe_template_id: String,
    /// Where tapping the message leads (absolute URL).
    pub url: String,
    /// Template fields: key → value.
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("微信拒绝：{code} {message}")]
    Rejected { code: i64, message: String },
    #[error("微信接口暂不可用：{0}")]
    Unavailable(String),
    #[error("未配置微信公众号接口（wechat.provider = api）")]
    NotConfigured,
}

type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, WechatError>> + Send + 'a>>;

pub trait WechatProvider: Send + Sync + Debug {
    fn name(&self) -> &'static str;
    /// Only records what it would send (no account configured).
    fn records_only(&self) -> bool {
        false
    }
    /// Sends a message; returns WeChat's message id.
    fn send<'a>(&'a self, msg: &'a WechatMessage, now: DateTime<Utc>) -> Fut<'a, Option<String>>;
    /// Publishes the custom menu (the JSON WeChat's menu/create takes).
    fn create_menu<'a>(&'a self, menu: &'a Value, now: DateTime<Utc>) -> Fut<'a, ()>;
    /// Exchanges a web OAuth code for the user's openid.
    fn oauth_openid<'a>(&'a self, code: &'a str) -> Fut<'a, String>;
    /// The page to send a visitor to for web OAuth (snsapi_base).
    fn oauth_url(&self, redirect: &str, state: &str) -> Option<String>;
}

/// Records only.
#[derive(Debug, Default)]
pub struct LogWechat;

impl WechatProvider for LogWechat {
    fn name(&self) -> &'static str {
        "log"
    }
    fn records_only(&self) -> bool {
        true
    }
    fn send<'a>(&'a self, msg: &'a WechatMessage, _: DateTime<Utc>) -> Fut<'a, Option<String>> {
        Box::pin(async move {
            tracing::info!(template = %msg.template_id, "WeChat message not sent: recorded in the delivery log (log provider)");
            Ok(None)
        })
    }
    fn create_menu<'a>(&'a self, _: &'a Value, _: DateTime<Utc>) -> Fut<'a, ()> {
        Box::pin(async { Err(WechatError::NotConfigured) })
    }
    fn oauth_openid<'a>(&'a self, _: &'a str) -> Fut<'a, String> {
        Box::pin(async { Err(WechatError::NotConfigured) })
    }
    fn oauth_url(&self, _: &str, _: &str) -> Option<String> {
        None
    }
}

/// Errors that mean "this access token is no longer good": fetch a new one.
const TOKEN_ERRORS: [i64; 3] = [40001, 40014, 42001];
/// Template id not valid / not a template of this account: fall back to a
/// subscription message.
const NO_TEMPLATE_ERRORS: [i64; 2] = [40037, 40036];

/// Calls the real API (or a server speaking it).
pub struct WechatApi {
    http: reqwest::Client,
    api_base: String,
    oauth_base: String,
    app_id: String,
    secret: String,
    token: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl Debug for WechatApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatApi").field("api_base", &self.api_base).field("app_id", &self.app_id).finish_non_exhaustive()
    }
}

impl WechatApi {
    pub fn from_settings(s: &WechatSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !s.app_id.trim().is_empty() && !s.app_secret.expose().trim().is_empty(),
            "微信公众号接口设为 api，但 wechat.app_id 或 wechat.app_secret 为空"
        );
        super::aliyun::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("创建微信接口 HTTP 客户端失败")?;
        Ok(WechatApi {
            http,
            api_base: s.api_base.trim_end_matches('/').to_owned(),
            oauth_base: s.oauth_base.trim_end_matches('/').to_owned(),
            app_id: s.app_id.trim().to_owned(),
            secret: s.app_secret.expose().trim().to_owned(),
            token: Mutex::new(None),
        })
    }

    async fn get_json(&self, url: &str, query: &[(&str, &str)]) -> Result<Value, WechatError> {
        let res =
            self.http.get(url).query(query).send().await.map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
        Self::body(res).await
    }

    async fn body(res: reqwest::Response) -> Result<Value, WechatError> {
        if res.status().is_server_error() {
            return Err(WechatError::Unavailable(format!("HTTP {}", res.status())));
        }
        let v: Value = res.json().await.map_err(|e| WechatError::Unavailable(format!("应答无法解析：{}", e.without_url())))?;
        match v.get("errcode").and_then(Value::as_i64) {
            None | Some(0) => Ok(v),
            // -1: 系统繁忙 — try again later.
            Some(-1) => Err(WechatError::Unavailable("系统繁忙 (-1)".to_owned())),
            Some(code) => Err(WechatError::Rejected {
                code,
                message: v.get("errmsg").and_then(Value::as_str).unwrap_or_default().chars().take(200).collect(),
            }),
        }
    }

    /// The cached token, or a new one when there is none or it expires within five minutes.
    async fn access_token(&self, now: DateTime<Utc>) -> Result<String, WechatError> {
        let mut slot = self.token.lock().await;
        if let Some((t, until)) = slot.as_ref()
            && now + Duration::minutes(5) < *until
        {
            return Ok(t.clone());
        }
        let url = format!("{}/cgi-bin/token", self.api_base);
        let v = self
            .get_json(&url, &[("grant_type", "client_credential"), ("appid", &self.app_id), ("secret", &self.secret)])
            .await?;
        let token = v.get("access_token").and_then(Value::as_str).unwrap_or_default().to_owned();
        if token.is_empty() {
            return Err(WechatError::Unavailable("应答中没有 access_token".to_owned()));
        }
        let secs = v.get("expires_in").and_then(Value::as_i64).unwrap_or(7200);
        *slot = Some((token.clone(), now + Duration::seconds(secs)));
        Ok(token)
    }

    /// POSTs `body` to `path` with the access token; on a token error, fetches a
    /// new token and tries once more.
    async fn post(&self, path: &str, body: &Value, now: DateTime<Utc>) -> Result<Value, WechatError> {
        for round in 0..2 {
            let token = self.access_token(now).await?;
            let url = format!("{}{path}", self.api_base);
            let res = self
                .http
                .post(&url)
                .query(&[("access_token", token.as_str())])
                .json(body)
                .send()
                .await
                // Without the URL: it carries the access token (or the app secret).
                .map_err(|e| WechatError::Unavailable(e.without_url().to_string()))?;
            match Self::body(res).await {
                Err(WechatError::Rejected { code, .. }) if round == 0 && TOKEN_ERRORS.contains(&code) => {
                    *self.token.lock().await = None;
                }
                other => return other,
            }
        }
        Err(WechatError::Unavailable("access_token 连续无效".to_owned()))
    }
}

fn data(fields: &[(String, String)]) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in fields {
        m.insert(k.clone(), json!({ "value": v }));
    }
    Value::Object(m)
}

impl WechatProvider for WechatApi {
    fn name(&self) -> &'static str {
        "wechat"
    }

    fn send<'a>(&'a self, msg: &'a WechatMessage, now: DateTime<Utc>) -> Fut<'a, Option<String>> {
        Box::pin(async move {
            if !msg.template_id.is_empty() {
                let body =
                    json!({ "touser": msg.openid, "template_id": msg.template_id, "url": msg.url, "data": data(&msg.fields) });
                match self.post("/cgi-bin/message/template/send", &body, now).await {
                    Ok(v) => return Ok(v.get("msgid").map(|id| id.to_string().trim_matches('"').to_owned())),
                    Err(WechatError::Rejected { code, .. })
                        if NO_TEMPLATE_ERRORS.contains(&code) && !msg.subscribe_template_id.is_empty() => {}
                    Err(e) => return Err(e),
                }
            }
            if msg.subscribe_template_id.is_empty() {
                return Err(WechatError::Rejected {
                    code: 0, message: "模板未设置微信模板消息或订阅消息编号".to_owned()
                });
            }
            let body = json!({ "touser": msg.openid, "template_id": msg.subscribe_template_id, "page": msg.url, "data": data(&msg.fields) });
            self.post("/cgi-bin/message/subscribe/bizsend", &body, now).await?;
            Ok(None)
        })
    }

    fn create_menu<'a>(&'a self, menu: &'a Value, now: DateTime<Utc>) -> Fut<'a, ()> {
        Box::pin(async move {
            self.post("/cgi-bin/menu/create", menu, now).await?;
            Ok(())
        })
    }

    fn oauth_openid<'a>(&'a self, code: &'a str) -> Fut<'a, String> {
        Box::pin(async move {
            let url = format!("{}/sns/oauth2/access_token", self.api_base);
            let v = self
                .get_json(
                    &url,
                    &[("appid", &self.app_id), ("secret", &self.secret), ("code", code), ("grant_type", "authorization_code")],
                )
                .await?;
            v.get("openid")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| WechatError::Unavailable("应答中没有 openid".to_owned()))
        })
    }

    fn oauth_url(&self, redirect: &str, state: &str) -> Option<String> {
        let q = serde_urlencoded::to_string([
            ("appid", self.app_id.as_str()),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", "snsapi_base"),
            ("state", state),
        ])
        .ok()?;
        Some(format!("{}/connect/oauth2/authorize?{q}#wechat_redirect", self.oauth_base))
    }
}

pub fn from_settings(s: &WechatSettings) -> anyhow::Result<Arc<dyn WechatProvider>> {
    match s.provider.as_str() {
        "api" => Ok(Arc::new(WechatApi::from_settings(s)?)),
        _ => Ok(Arc::new(LogWechat)),
    }
}
