//! The market-regulation registry over HTTP (JSON).
//!
//! The documented JSON interface the platform exchanges with the
//! market-regulation bureau (市场监管登记信息接口). One call:
//!
//! ```text
//! GET {http_url}enterprises/{credit_code}
//! Authorization: Bearer {token}
//! Accept: application/json
//! ```
//!
//! `http_url` is `registry.http_url`, always ending in `/`; `credit_code` is
//! the 18-character unified social credit code in its canonical form (digits
//! and upper-case letters).
//!
//! Answers:
//!
//! - **200**, the enterprise:
//!   ```json
//!   {"credit_code": "91110112MA01AB12C7",
//!    "name": "北京运河智造科技有限公司",
//!    "legal_representative": {"name": "张三", "id_number": "110112198001010011"},
//!    "status": "存续",
//!    "registered_on": "2015-06-01"}
//!   ```
//!   `legal_representative.id_number` may be `null` (or absent) where the
//!   registry does not disclose it; `registered_on` is informative and may be
//!   absent; unknown fields are ignored. `credit_code` must be the code asked
//!   for, and `name` and `legal_representative.name` must not be empty.
//! - **404** with `{"error": {"code": "NOT_FOUND", "message": "..."}}`: the
//!   registry has no such enterprise.
//! - Anything else is a failure of the service, not an answer about the
//!   enterprise: 401/403 (token refused), 429 (rate limited), 5xx, other
//!   statuses, redirects (not followed, so the token never leaves the
//!   configured host), timeouts, connection errors, a body that is not the
//!   JSON above or is larger than [`MAX_BODY_BYTES`], a 200 for another
//!   credit code, and a 404 without the `NOT_FOUND` error body (a wrong
//!   `http_url` must not make every enterprise look unregistered). Errors
//!   follow the same shape, `{"error": {"code": "...", "message": "..."}}`.
//!
//! The batch call, for the incremental sync (`qifu import registry`, the
//! back office's 数据导入 page and the nightly job):
//!
//! ```text
//! GET {http_url}changes?since=YYYY-MM-DD[&cursor=C]
//! ```
//!
//! answers **200** with `{"items": [ENTERPRISE + "changed_on": "YYYY-MM-DD",
//! …], "next_cursor": "C2" | null}`: every registration changed on or after
//! `since`, a page at a time; the client asks again with `cursor` until
//! `next_cursor` is null. Each item has the fields of the single answer
//! above. Any other status is a failure, as above.
//!
//! Failures become [`RegistryError::Unavailable`] with a Chinese message that
//! names the problem; the token never appears in a message or a log.

use crate::config::RegistrySettings;
use crate::integrations::registry::{Change, ChangePage, ChangesFuture, LookupFuture, Registry, RegistryError, RegistryRecord};
use anyhow::Context as _;
use qifu_domain::certification::CreditCode;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// The largest answer read; a registry record is well under a kilobyte.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The protocol's error code for "no such enterprise".
const NOT_FOUND_CODE: &str = "NOT_FOUND";

/// Looks enterprises up in the market-regulation registry's JSON interface.
pub struct HttpRegistry {
    base: reqwest::Url,
    authorization: HeaderValue,
    timeout: Duration,
    client: reqwest::Client,
}

impl fmt::Debug for HttpRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRegistry")
            .field("base", &self.base.as_str())
            .field("token", &"***")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpRegistry {
    /// A client for the interface at `base_url` (http or https; a missing
    /// trailing `/` is added), sending `token` as a bearer token and giving up
    /// on a call after `timeout`.
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> anyhow::Result<Self> {
        let base = base_url_from(base_url)?;
        let token = token.trim();
        anyhow::ensure!(!token.is_empty(), "登记信息接口的访问令牌为空");
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow::anyhow!("登记信息接口的访问令牌含有不能放入 HTTP 头的字符"))?;
        authorization.set_sensitive(true);
        anyhow::ensure!(!timeout.is_zero(), "登记信息接口超时时间必须大于 0");
        // reqwest panics when it builds a client with no rustls provider installed.
        super::aliyun::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("创建登记信息接口 HTTP 客户端失败")?;
        Ok(HttpRegistry { base, authorization, timeout, client })
    }

    /// From `[registry]` settings; `http_url` and `http_token` must be set and
    /// `timeout_secs` must be positive.
    pub fn from_settings(s: &RegistrySettings) -> anyhow::Result<Self> {
        let missing: Vec<&str> = [
            ("registry.http_url", s.http_url.trim().is_empty()),
            ("registry.http_token", s.http_token.expose().trim().is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, empty)| empty.then_some(name))
        .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "登记信息来源设为 HTTP 接口（registry.provider = http），但以下配置项为空：{}",
            missing.join("、")
        );
        anyhow::ensure!(s.timeout_secs > 0, "registry.timeout_secs 必须大于 0");
        Self::new(&s.http_url, s.http_token.expose(), Duration::from_secs(s.timeout_secs))
    }

    /// `{base}enterprises/{credit_code}`.
    fn enterprise_url(&self, code: &CreditCode) -> Result<reqwest::Url, RegistryError> {
        self.base
            .join(&format!("enterprises/{}", code.as_str()))
            .map_err(|_| RegistryError::Unavailable("无法拼出登记信息接口的请求地址".to_owned()))
    }

    async fn lookup_now(&self, code: &CreditCode) -> Result<Option<RegistryRecord>, RegistryError> {
        let url = self.enterprise_url(code)?;
        let (status, body) = self.get_capped(url, MAX_BODY_BYTES, "登记信息接口的响应").await?;
        interpret(code, status, &body)
    }

    /// `{base}changes?since=YYYY-MM-DD[&cursor=C]`.
    async fn changes_now(&self, since: chrono::NaiveDate, cursor: Option<&str>) -> Result<ChangePage, RegistryError> {
        let mut url =
            self.base.join("changes").map_err(|_| RegistryError::Unavailable("无法拼出登记信息接口的请求地址".to_owned()))?;
        url.query_pairs_mut().append_pair("since", &since.format("%Y-%m-%d").to_string());
        if let Some(c) = cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let (status, body) = self.get_capped(url, MAX_CHANGES_BYTES, "登记信息接口的变更数据一页").await?;
        interpret_changes(status, &body)
    }

    /// GETs `url` with the token and reads at most `max` bytes of the answer;
    /// `what` names the answer in the message when it is larger.
    async fn get_capped(&self, url: reqwest::Url, max: usize, what: &str) -> Result<(StatusCode, Vec<u8>), RegistryError> {
        let mut res = self
            .client
            .get(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| RegistryError::Unavailable(self.describe(e)))?;
        let status = res.status();
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| RegistryError::Unavailable(self.describe(e)))? {
            if body.len() + chunk.len() > max {
                let size = if max >= 1024 * 1024 { format!("{} MB", max / 1024 / 1024) } else { format!("{} KB", max / 1024) };
                return Err(RegistryError::Unavailable(format!("{what}超过 {size}（HTTP {status}）")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// A transport error in words. The URL is dropped: it is not secret, but
    /// it is noise in a message about the service.
    fn describe(&self, e: reqwest::Error) -> String {
        if e.is_timeout() {
            format!("请求登记信息接口超时（超过 {} 秒）", self.timeout.as_secs_f64())
        } else if e.is_connect() {
            format!("无法连接登记信息接口：{}", cause_chain(&e.without_url()))
        } else {
            format!("请求登记信息接口失败：{}", cause_chain(&e.without_url()))
        }
    }
}

impl Registry for HttpRegistry {
    fn name(&self) -> &'static str {
        "http"
    }

    fn changes<'a>(&'a self, since: chrono::NaiveDate, cursor: Option<&'a str>) -> ChangesFuture<'a> {
        Box::pin(async move {
            let result = self.changes_now(since, cursor).await;
            if let Err(e) = &result {
                tracing::warn!(%since, error = %e, "registry changes failed");
            }
            result
        })
    }

    fn lookup<'a>(&'a self, code: &'a CreditCode) -> LookupFuture<'a> {
        Box::pin(async move {
            let result = self.lookup_now(code).await;
            match &result {
                Ok(found) => tracing::debug!(credit_code = code.as_str(), found = found.is_some(), "registry looked up"),
                Err(e) => tracing::warn!(credit_code = code.as_str(), error = %e, "registry lookup failed"),
            }
            result
        })
    }
}

/// Parses and checks the configured base URL, adding a trailing `/`.
fn base_url_from(input: &str) -> anyhow::Result<reqwest::Url> {
    let input = input.trim();
    anyhow::ensure!(!input.is_empty(), "登记信息接口地址为空");
    let mut url = reqwest::Url::parse(input).with_context(|| format!("登记信息接口地址无效：{input}"))?;
    anyhow::ensure!(matches!(url.scheme(), "http" | "https"), "登记信息接口地址必须以 http:// 或 https:// 开头：{input}");
    anyhow::ensure!(url.host_str().is_some_and(|h| !h.is_empty()), "登记信息接口地址缺少主机名：{input}");
    anyhow::ensure!(url.query().is_none() && url.fragment().is_none(), "登记信息接口地址不能带查询参数或“#”片段：{input}");
    anyhow::ensure!(
        url.username().is_empty() && url.password().is_none(),
        "登记信息接口地址不能包含用户名或密码，访问令牌请填在 registry.http_token：{input}"
    );
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The error followed by its sources (reqwest's own message alone says
/// little more than "error sending request").
fn cause_chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push('：');
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

#[derive(Debug, Deserialize)]
struct EnterpriseResponse {
    credit_code: String,
    name: String,
    legal_representative: LegalRepresentative,
    status: String,
    /// Optional base fields (营业执照上的信息).
    #[serde(default)]
    entity_type: Option<String>,
    /// `YYYY-MM-DD`
    #[serde(default)]
    registered_on: Option<String>,
    /// 万元
    #[serde(default)]
    registered_capital_wan: Option<f64>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    division_code: Option<String>,
    #[serde(default)]
    industry_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LegalRepresentative {
    name: String,
    #[serde(default)]
    id_number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorResponse {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: String,
}

/// The protocol's error code in `body`, if it is a protocol error body.
fn error_code(body: &[u8]) -> Option<String> {
    let parsed: ErrorResponse = serde_json::from_slice(body).ok()?;
    // Shown in messages: keep it short and printable.
    let code: String = parsed.error.code.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
    (!code.is_empty()).then_some(code)
}

/// `HTTP 500`, or `HTTP 500，CODE` when the body is a protocol error.
fn status_text(status: StatusCode, body: &[u8]) -> String {
    match error_code(body) {
        Some(code) => format!("HTTP {}，{code}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// A status other than 200 (and the protocol's 404) as a failure of the service.
fn refused(status: StatusCode, body: &[u8]) -> RegistryError {
    RegistryError::Unavailable(match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            format!("登记信息接口拒绝了访问令牌（{}），请检查 registry.http_token", status_text(status, body))
        }
        StatusCode::TOO_MANY_REQUESTS => format!("登记信息接口请求过于频繁，已被限流（{}）", status_text(status, body)),
        s if s.is_server_error() => format!("登记信息接口出错（{}）", status_text(s, body)),
        s if s.is_redirection() => format!("登记信息接口要求重定向（HTTP {}），请检查 registry.http_url", s.as_u16()),
        s => format!("登记信息接口返回了意外的状态（{}）", status_text(s, body)),
    })
}

/// Reads one answer for `code` as the protocol defines it.
fn interpret(code: &CreditCode, status: StatusCode, body: &[u8]) -> Result<Option<RegistryRecord>, RegistryError> {
    let unavailable = |m: String| Err(RegistryError::Unavailable(m));
    match status {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => {
            return match error_code(body) {
                Some(c) if c == NOT_FOUND_CODE => Ok(None),
                _ => unavailable(format!(
                    "登记信息接口返回 HTTP 404，但不是约定的 {NOT_FOUND_CODE} 应答，请检查 registry.http_url 是否正确"
                )),
            };
        }
        s => return Err(refused(s, body)),
    }
    let Ok(parsed) = serde_json::from_slice::<EnterpriseResponse>(body) else {
        return unavailable("登记信息接口返回了无法识别的内容（HTTP 200）".to_owned());
    };
    if parsed.credit_code.trim() != code.as_str() {
        return unavailable(format!("登记信息接口返回的统一社会信用代码与查询的 {} 不一致", code.as_str()));
    }
    let name = parsed.name.trim();
    let legal_rep_name = parsed.legal_representative.name.trim();
    if name.is_empty() || legal_rep_name.is_empty() {
        return unavailable("登记信息接口返回的企业名称或法定代表人姓名为空".to_owned());
    }
    Ok(Some(record_of(parsed)))
}

/// The record of an answer, its base fields kept only when they pass the same checks as an import.
fn record_of(parsed: EnterpriseResponse) -> RegistryRecord {
    let name = parsed.name.trim();
    let legal_rep_name = parsed.legal_representative.name.trim();
    RegistryRecord {
        credit_code: parsed.credit_code.trim().to_owned(),
        name: name.to_owned(),
        legal_rep_name: legal_rep_name.to_owned(),
        legal_rep_id: parsed.legal_representative.id_number.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        status: parsed.status.trim().to_owned(),
        // Base fields are kept only when they pass the same checks as an import.
        base: super::registry::RegistryBase {
            entity_type: parsed.entity_type.map(|s| qifu_domain::governance::clean_text(&s)).filter(|s| !s.is_empty()),
            founded_on: parsed.registered_on.as_deref().and_then(qifu_domain::governance::parse_date),
            registered_capital_fen: parsed
                .registered_capital_wan
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(qifu_domain::governance::wan_to_fen),
            address: parsed.address.map(|s| qifu_domain::governance::clean_text(&s)).filter(|s| !s.is_empty()),
            division_code: parsed.division_code.as_deref().and_then(qifu_domain::governance::clean_division),
            industry_code: parsed.industry_code.as_deref().and_then(qifu_domain::governance::clean_industry),
        },
    }
}

/// The largest page of changes read.
pub const MAX_CHANGES_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct ChangesResponse {
    items: Vec<ChangedEnterprise>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChangedEnterprise {
    #[serde(flatten)]
    enterprise: EnterpriseResponse,
    /// `YYYY-MM-DD`
    changed_on: String,
}

/// Reads one page of changes as the protocol defines it.
fn interpret_changes(status: StatusCode, body: &[u8]) -> Result<ChangePage, RegistryError> {
    if status != StatusCode::OK {
        return Err(refused(status, body));
    }
    let parsed: ChangesResponse = serde_json::from_slice(body)
        .map_err(|_| RegistryError::Unavailable("登记信息接口的变更数据无法识别（HTTP 200）".to_owned()))?;
    let mut changes = Vec::with_capacity(parsed.items.len());
    for (i, item) in parsed.items.into_iter().enumerate() {
        let changed_on = chrono::NaiveDate::parse_from_str(item.changed_on.trim(), "%Y-%m-%d").map_err(|_| {
            RegistryError::Unavailable(format!("登记信息接口的变更数据第 {} 条变更日期无效：{}", i + 1, item.changed_on))
        })?;
        changes.push(Change { record: record_of(item.enterprise), changed_on });
    }
    let next_cursor = parsed.next_cursor.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    Ok(ChangePage { changes, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> CreditCode {
        CreditCode::from_body("91110112MA01AB12C").unwrap()
    }

    fn other_code() -> CreditCode {
        CreditCode::from_body("91110112MA01AB12D").unwrap()
    }

    fn enterprise_json(credit_code: &str) -> String {
        serde_json::json!({
            "credit_code": credit_code,
            "name": "北京运河智造科技有限公司",
            "legal_representative": {"name": "张三", "id_number": "110112198001010011"},
            "status": "存续",
            "registered_on": "2015-06-01",
        })
        .to_string()
    }

    fn unavailable(r: Result<Option<RegistryRecord>, RegistryError>) -> String {
        match r {
            Err(RegistryError::Unavailable(m)) => m,
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn base_url_gets_a_trailing_slash() {
        let url = base_url_from("https://registry.example.gov.cn/api/v1").unwrap();
        assert_eq!(url.as_str(), "https://registry.example.gov.cn/api/v1/");
        let url = base_url_from(" https://registry.example.gov.cn/api/v1/ ").unwrap();
        assert_eq!(url.as_str(), "https://registry.example.gov.cn/api/v1/");
        let url = base_url_from("http://127.0.0.1:8081").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8081/");
    }

    #[test]
    fn base_url_must_be_http_or_https_without_query_or_credentials() {
        for bad in [
            "",
            "   ",
            "registry.example.gov.cn/api",
            "ftp://registry.example.gov.cn/",
            "file:///etc/passwd",
            "https://registry.example.gov.cn/api?x=1",
            "https://registry.example.gov.cn/api#top",
            "https://user:pass@registry.example.gov.cn/api/",
        ] {
            let err = base_url_from(bad).unwrap_err().to_string();
            assert!(err.contains("登记信息接口地址"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn enterprise_url_is_relative_to_the_base_path() {
        let reg = HttpRegistry::new("https://registry.example.gov.cn/api/v1", "t", Duration::from_secs(5)).unwrap();
        assert_eq!(
            reg.enterprise_url(&code()).unwrap().as_str(),
            format!("https://registry.example.gov.cn/api/v1/enterprises/{}", code().as_str())
        );
        assert_eq!(reg.name(), "http");
    }

    #[test]
    fn new_refuses_empty_or_unusable_tokens_and_zero_timeouts() {
        let url = "https://registry.example.gov.cn/";
        assert!(HttpRegistry::new(url, "", Duration::from_secs(5)).unwrap_err().to_string().contains("令牌为空"));
        assert!(HttpRegistry::new(url, "a\nb", Duration::from_secs(5)).unwrap_err().to_string().contains("HTTP 头"));
        assert!(HttpRegistry::new(url, "t", Duration::ZERO).unwrap_err().to_string().contains("超时"));
    }

    #[test]
    fn debug_hides_the_token() {
        let reg = HttpRegistry::new("https://registry.example.gov.cn/", "very-secret-token", Duration::from_secs(5)).unwrap();
        let shown = format!("{reg:?}");
        assert!(!shown.contains("very-secret-token"), "{shown}");
        assert!(shown.contains("registry.example.gov.cn"), "{shown}");
    }

    #[test]
    fn from_settings_names_what_is_missing() {
        let mut s = RegistrySettings { provider: "http".to_owned(), ..RegistrySettings::default() };
        let err = HttpRegistry::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("registry.http_url"), "{err}");
        assert!(err.contains("registry.http_token"), "{err}");

        s.http_token = crate::config::Secret::new("token");
        let err = HttpRegistry::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("registry.http_url") && !err.contains("registry.http_token"), "{err}");

        s.http_url = "https://registry.example.gov.cn/api".to_owned();
        s.timeout_secs = 0;
        assert!(HttpRegistry::from_settings(&s).unwrap_err().to_string().contains("registry.timeout_secs"));

        s.timeout_secs = 3;
        let reg = HttpRegistry::from_settings(&s).unwrap();
        assert_eq!(reg.base.as_str(), "https://registry.example.gov.cn/api/");
        assert_eq!(reg.timeout, Duration::from_secs(3));
    }

    #[test]
    fn a_found_enterprise_is_read_field_by_field() {
        let got = interpret(&code(), StatusCode::OK, enterprise_json(code().as_str()).as_bytes()).unwrap();
        assert_eq!(
            got,
            Some(RegistryRecord {
                credit_code: code().as_str().to_owned(),
                name: "北京运河智造科技有限公司".to_owned(),
                legal_rep_name: "张三".to_owned(),
                legal_rep_id: Some("110112198001010011".to_owned()),
                status: "存续".to_owned(),
                base: got.as_ref().map(|g| g.base.clone()).unwrap_or_default(),
            })
        );
    }

    #[test]
    fn id_number_may_be_null_or_absent_and_extra_fields_are_ignored() {
        let c = code();
        for body in [
            serde_json::json!({"credit_code": c.as_str(), "name": "甲公司", "legal_representative": {"name": "李四", "id_number": null}, "status": "在业"}),
            serde_json::json!({"credit_code": c.as_str(), "name": "甲公司", "legal_representative": {"name": "李四"}, "status": "在业", "capital": 100}),
            serde_json::json!({"credit_code": c.as_str(), "name": "甲公司", "legal_representative": {"name": "李四", "id_number": ""}, "status": "在业"}),
        ] {
            let got = interpret(&c, StatusCode::OK, body.to_string().as_bytes()).unwrap().unwrap();
            assert_eq!(got.legal_rep_id, None, "{body}");
            assert_eq!(got.legal_rep_name, "李四");
            assert_eq!(got.status, "在业");
        }
    }

    #[test]
    fn not_found_needs_the_protocol_error_body() {
        let body = r#"{"error": {"code": "NOT_FOUND", "message": "未找到该企业"}}"#.as_bytes();
        assert_eq!(interpret(&code(), StatusCode::NOT_FOUND, body).unwrap(), None);
        // A 404 from some other server (wrong base URL) is not "unregistered".
        let m = unavailable(interpret(&code(), StatusCode::NOT_FOUND, b"<html>404 Not Found</html>"));
        assert!(m.contains("registry.http_url"), "{m}");
        let m = unavailable(interpret(&code(), StatusCode::NOT_FOUND, br#"{"error": {"code": "ROUTE_NOT_FOUND"}}"#));
        assert!(m.contains("404"), "{m}");
    }

    #[test]
    fn service_failures_are_unavailable_with_a_message_naming_them() {
        let err = r#"{"error": {"code": "UNAUTHORIZED", "message": "令牌无效"}}"#.as_bytes();
        let m = unavailable(interpret(&code(), StatusCode::UNAUTHORIZED, err));
        assert!(m.contains("令牌") && m.contains("401") && m.contains("UNAUTHORIZED"), "{m}");
        let m = unavailable(interpret(&code(), StatusCode::FORBIDDEN, b""));
        assert!(m.contains("令牌") && m.contains("403"), "{m}");
        let m = unavailable(interpret(&code(), StatusCode::TOO_MANY_REQUESTS, b""));
        assert!(m.contains("限流"), "{m}");
        for s in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY, StatusCode::SERVICE_UNAVAILABLE] {
            let m = unavailable(interpret(&code(), s, b"<html>oops</html>"));
            assert!(m.contains(&s.as_u16().to_string()), "{m}");
        }
        let m = unavailable(interpret(&code(), StatusCode::FOUND, b""));
        assert!(m.contains("重定向"), "{m}");
        let m = unavailable(interpret(&code(), StatusCode::BAD_REQUEST, br#"{"error": {"code": "INVALID_CREDIT_CODE"}}"#));
        assert!(m.contains("400") && m.contains("INVALID_CREDIT_CODE"), "{m}");
    }

    #[test]
    fn malformed_bodies_are_unavailable() {
        let c = code();
        for body in [
            "".to_owned(),
            "not json".to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            serde_json::json!({"credit_code": c.as_str(), "name": "甲公司", "status": "存续"}).to_string(),
            serde_json::json!({"credit_code": c.as_str(), "name": 1, "legal_representative": {"name": "李四"}, "status": "存续"}).to_string(),
            serde_json::json!({"credit_code": c.as_str(), "name": "", "legal_representative": {"name": "李四"}, "status": "存续"}).to_string(),
            serde_json::json!({"credit_code": c.as_str(), "name": "甲公司", "legal_representative": {"name": " "}, "status": "存续"}).to_string(),
        ] {
            let m = unavailable(interpret(&c, StatusCode::OK, body.as_bytes()));
            assert!(!m.is_empty(), "{body}");
        }
    }

    #[test]
    fn an_answer_for_another_credit_code_is_unavailable() {
        let m = unavailable(interpret(&code(), StatusCode::OK, enterprise_json(other_code().as_str()).as_bytes()));
        assert!(m.contains("不一致") && m.contains(code().as_str()), "{m}");
    }

    #[test]
    fn error_codes_in_messages_are_short_and_printable() {
        let long = "X".repeat(500);
        let body = serde_json::json!({"error": {"code": format!("A\nB{long}")}}).to_string();
        let code = error_code(body.as_bytes()).unwrap();
        assert_eq!(code.len(), 64);
        assert!(code.starts_with("AB"));
    }
}
