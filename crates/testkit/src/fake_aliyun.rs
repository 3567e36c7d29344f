//! A local fake of Alibaba Cloud SMS that speaks its protocol, for tests.
//!
//! It serves `GET /` like `dysmsapi.aliyuncs.com`: the RPC-style `SendSms`
//! call of API version 2017-05-25 with signature version 1.0 (HMAC-SHA1), and
//! checks a request the way the real service does — required parameters,
//! action and version, signature method and version, a known AccessKey id, a
//! timestamp within 15 minutes, an unused nonce, the signature recomputed from
//! the raw query, and the phone numbers. Gateway errors come back as HTTP 4xx,
//! business errors as HTTP 200, both as JSON with `Code` and `Message`, as the
//! real service answers with `Format=JSON`.
//!
//! The signature check is written here independently of the client in
//! `qifu_app::integrations::aliyun`, so a mistake in one is not hidden by the
//! same mistake in the other.

use anyhow::{Context, Result};
use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use chrono::{NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde_json::{Value, json};
use sha1::Sha1;
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// RFC 3986 unreserved characters stay; everything else is `%XY`.
const ALIYUN_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

const API_VERSION: &str = "2017-05-25";
const HOST_ID: &str = "dysmsapi.aliyuncs.com";
const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// One message the fake accepted (one per phone number of a call).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSms {
    pub phone: String,
    pub sign_name: String,
    pub template_code: String,
    /// `TemplateParam` parsed as JSON; `Null` when the call had none.
    pub template_param: Value,
    /// The `BizId` the fake answered with.
    pub biz_id: String,
}

/// A running fake Alibaba Cloud SMS endpoint on `127.0.0.1`; stops when dropped.
pub struct FakeAliyun {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    access_key_id: String,
    access_key_secret: String,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    received: Vec<ReceivedSms>,
    nonces: HashSet<String>,
    fail_next: Option<(String, String)>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take the fake down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FakeAliyun {
    /// Starts the fake on `127.0.0.1:0`, knowing one AccessKey pair.
    pub async fn start(access_key_id: &str, access_key_secret: &str) -> Result<FakeAliyun> {
        let shared = Arc::new(Shared {
            access_key_id: access_key_id.to_owned(),
            access_key_secret: access_key_secret.to_owned(),
            inner: Mutex::new(Inner::default()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("bind the fake Alibaba Cloud SMS endpoint")?;
        let addr = listener.local_addr()?;
        let app = Router::new().route("/", get(handle)).with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake Alibaba Cloud SMS endpoint stopped");
            }
        });
        Ok(FakeAliyun { addr, shared, server })
    }

    /// `http://127.0.0.1:PORT/`, to use as `sms.aliyun_endpoint`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedSms> {
        self.shared.lock().received.clone()
    }

    /// The next call that passes authentication gets this business error
    /// (HTTP 200 with that `Code`, as the real service answers e.g.
    /// `isv.BUSINESS_LIMIT_CONTROL`), and nothing is recorded.
    pub fn fail_next_with(&self, code: &str, message: &str) {
        self.shared.lock().fail_next = Some((code.to_owned(), message.to_owned()));
    }
}

impl Drop for FakeAliyun {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Reply = (StatusCode, Json<Value>);

fn request_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase()
}

/// A gateway error: HTTP 4xx with the shape the real gateway uses.
fn gateway_error(status: StatusCode, code: &str, message: &str) -> Reply {
    (
        status,
        Json(json!({
            "RequestId": request_id(),
            "HostId": HOST_ID,
            "Code": code,
            "Message": message,
        })),
    )
}

/// A business error: HTTP 200 with a `Code` other than `OK`.
fn business_error(code: &str, message: &str) -> Reply {
    (
        StatusCode::OK,
        Json(json!({
            "RequestId": request_id(),
            "Code": code,
            "Message": message,
        })),
    )
}

fn missing(name: &str) -> Reply {
    gateway_error(StatusCode::BAD_REQUEST, &format!("Missing{name}"), &format!("{name} is mandatory for this action."))
}

/// Splits and decodes a raw query. `None` when a part is not valid UTF-8
/// after decoding, or a name repeats.
fn parse_query(raw: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
        if out.insert(decode(k)?, decode(v)?).is_some() {
            return None;
        }
    }
    Some(out)
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ALIYUN_ENCODE).to_string()
}

/// The string to sign for these parameters (`Signature` left out).
fn string_to_sign(params: &BTreeMap<String, String>) -> String {
    let canonical = params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("GET&{}&{}", encode("/"), encode(&canonical))
}

fn signature(secret: &str, string_to_sign: &str) -> Option<String> {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{secret}&").as_bytes()).ok()?;
    mac.update(string_to_sign.as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// A mainland mobile number, bare or with `+86`, `0086` or `86` in front.
fn valid_phone(p: &str) -> bool {
    let bare = p
        .strip_prefix("+86")
        .or_else(|| p.strip_prefix("0086"))
        .or_else(|| if p.len() == 13 { p.strip_prefix("86") } else { None })
        .unwrap_or(p);
    let b = bare.as_bytes();
    b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
}

fn biz_id() -> String {
    let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000_000_000;
    format!("{n:018}^0")
}

async fn handle(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Reply {
    let raw = raw.unwrap_or_default();
    let Some(params) = parse_query(&raw) else {
        return gateway_error(StatusCode::BAD_REQUEST, "InvalidParameter", "The query string is not well formed.");
    };
    let get = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());

    for name in
        ["AccessKeyId", "Action", "Signature", "SignatureMethod", "SignatureNonce", "SignatureVersion", "Timestamp", "Version"]
    {
        if get(name).is_none() {
            return missing(name);
        }
    }
    if get("Action") != Some("SendSms") {
        return gateway_error(
            StatusCode::NOT_FOUND,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        );
    }
    if get("Version") != Some(API_VERSION) {
        return gateway_error(StatusCode::BAD_REQUEST, "InvalidVersion", "Specified parameter Version is not valid.");
    }
    if get("SignatureMethod") != Some("HMAC-SHA1") {
        return gateway_error(StatusCode::BAD_REQUEST, "InvalidSignatureMethod", "Specified signature method is not valid.");
    }
    if get("SignatureVersion") != Some("1.0") {
        return gateway_error(StatusCode::BAD_REQUEST, "InvalidSignatureVersion", "Specified signature version is not valid.");
    }
    if let Some(format) = get("Format")
        && format != "JSON"
    {
        return gateway_error(StatusCode::BAD_REQUEST, "InvalidParameter.Format", "This fake answers only Format=JSON.");
    }
    if get("AccessKeyId") != Some(shared.access_key_id.as_str()) {
        return gateway_error(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    }
    let timestamp = get("Timestamp").unwrap_or_default();
    let Ok(at) = NaiveDateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%SZ") else {
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        );
    };
    if (Utc::now() - at.and_utc()).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        );
    }
    let to_sign = string_to_sign(&params);
    if signature(&shared.access_key_secret, &to_sign).as_deref() != get("Signature") {
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            &format!("Specified signature is not matched with our calculation. server string to sign is:{to_sign}"),
        );
    }

    let mut inner = shared.lock();
    if !inner.nonces.insert(get("SignatureNonce").unwrap_or_default().to_owned()) {
        return gateway_error(StatusCode::BAD_REQUEST, "SignatureNonceUsed", "Specified signature nonce was used already.");
    }
    if let Some((code, message)) = inner.fail_next.take() {
        return business_error(&code, &message);
    }

    for name in ["PhoneNumbers", "SignName", "TemplateCode"] {
        if get(name).is_none() {
            return missing(name);
        }
    }
    let phones: Vec<&str> = get("PhoneNumbers").unwrap_or_default().split(',').collect();
    if phones.len() > 1000 || !phones.iter().all(|p| valid_phone(p)) {
        return business_error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    }
    let template_param = match get("TemplateParam") {
        None => Value::Null,
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) if map.values().all(Value::is_string) => Value::Object(map),
            _ => return business_error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"),
        },
    };

    let biz_id = biz_id();
    for phone in phones {
        inner.received.push(ReceivedSms {
            phone: phone.to_owned(),
            sign_name: get("SignName").unwrap_or_default().to_owned(),
            template_code: get("TemplateCode").unwrap_or_default().to_owned(),
            template_param: template_param.clone(),
            biz_id: biz_id.clone(),
        });
    }
    (
        StatusCode::OK,
        Json(json!({
            "Code": "OK",
            "Message": "OK",
            "BizId": biz_id,
            "RequestId": request_id(),
        })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alibaba Cloud SMS's published SendSms example (AccessKey secret
    /// `testSecret`): its raw query must verify against its signature.
    #[test]
    fn verifies_the_published_send_sms_example() {
        let raw = "Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&AccessKeyId=testId&Action=SendSms\
            &Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou\
            &SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8\
            &SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466\
            &SignatureVersion=1.0&TemplateCode=SMS_71390007\
            &TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z\
            &Version=2017-05-25";
        let params = parse_query(raw).unwrap();
        assert_eq!(params["SignName"], "阿里云短信测试专用");
        assert_eq!(signature("testSecret", &string_to_sign(&params)).as_deref(), Some(params["Signature"].as_str()));
    }

    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            access_key_id: "id".to_owned(),
            access_key_secret: "secret".to_owned(),
            inner: Mutex::new(Inner::default()),
        })
    }

    /// A query signed for the fake's key, with the given timestamp and nonce.
    fn signed(timestamp: &str, nonce: &str) -> String {
        let mut params: BTreeMap<String, String> = [
            ("AccessKeyId", "id"),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", "13800138000"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "通州企服"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_1"),
            ("TemplateParam", r#"{"code":"1234"}"#),
            ("Timestamp", timestamp),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let sig = signature("secret", &string_to_sign(&params)).unwrap();
        params.insert("Signature".to_owned(), sig);
        params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
    }

    async fn call(shared: &Arc<Shared>, query: String) -> (StatusCode, Value) {
        let (status, Json(body)) = handle(State(shared.clone()), RawQuery(Some(query))).await;
        (status, body)
    }

    #[tokio::test]
    async fn nonce_cannot_be_used_twice() {
        let shared = shared();
        let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let query = signed(&now, "n-1");
        let (status, body) = call(&shared, query.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["Code"], "OK");
        let (status, body) = call(&shared, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["Code"], "SignatureNonceUsed");
        assert_eq!(shared.lock().received.len(), 1);
    }

    #[tokio::test]
    async fn stale_timestamps_and_tampered_queries_are_refused() {
        let shared = shared();
        let old = (Utc::now() - chrono::Duration::minutes(16)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let (status, body) = call(&shared, signed(&old, "n-2")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["Code"], "InvalidTimeStamp.Expired");

        let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let tampered = signed(&now, "n-3").replace("13800138000", "13900139000");
        let (status, body) = call(&shared, tampered).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["Code"], "SignatureDoesNotMatch");

        let (status, body) = call(&shared, "Action=SendSms".to_owned()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["Code"], "MissingAccessKeyId");
        assert!(shared.lock().received.is_empty());
    }

    #[test]
    fn phone_numbers() {
        for ok in ["13800138000", "+8613800138000", "008613800138000", "8613800138000"] {
            assert!(valid_phone(ok), "{ok}");
        }
        for bad in ["", "1380013800", "23800138000", "12800138000", "1380013800a", "+85213800138000"] {
            assert!(!valid_phone(bad), "{bad}");
        }
    }

    #[test]
    fn biz_ids_look_like_the_real_ones() {
        let id = biz_id();
        assert_eq!(id.len(), 20);
        assert!(id.ends_with("^0"));
    }
}
