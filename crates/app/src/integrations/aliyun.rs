//! Alibaba Cloud SMS (Dysmsapi SendSms) provider.
//!
//! Speaks the RPC-style API version 2017-05-25 with signature version 1.0
//! (HMAC-SHA1), as Alibaba Cloud documents it: every parameter goes in the
//! query string of a GET, sorted by name and percent-encoded with Alibaba's
//! rules; the string to sign is `GET&%2F&` plus the encoded canonical query;
//! the key is the AccessKey secret followed by `&`.

use crate::config::SmsSettings;
use crate::integrations::sms::{NOTICE_TEMPLATE, SendFuture, SmsError, SmsMessage, SmsProvider};
use anyhow::Context as _;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::fmt;
use std::time::Duration;

const ACTION: &str = "SendSms";
const API_VERSION: &str = "2017-05-25";
const REGION_ID: &str = "cn-hangzhou";
const SIGNATURE_METHOD: &str = "HMAC-SHA1";
const SIGNATURE_VERSION: &str = "1.0";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Installs rustls's `ring` provider as the process default. reqwest is built
/// without a provider of its own (the default one needs aws-lc-sys), so this
/// must run before any `reqwest::Client` is built. Safe to call many times.
pub fn install_crypto_provider() {
    // An error means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Sends through Alibaba Cloud SMS.
pub struct AliyunSms {
    endpoint: reqwest::Url,
    access_key_id: String,
    access_key_secret: String,
    sign_name: String,
    template_code: String,
    notice_template_code: String,
    client: reqwest::Client,
}

impl fmt::Debug for AliyunSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AliyunSms")
            .field("endpoint", &self.endpoint.as_str())
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .field("sign_name", &self.sign_name)
            .field("template_code", &self.template_code)
            .field("notice_template_code", &self.notice_template_code)
            .finish()
    }
}

impl AliyunSms {
    pub fn new(
        endpoint: &str,
        access_key_id: &str,
        access_key_secret: &str,
        sign_name: &str,
        template_code: &str,
    ) -> anyhow::Result<Self> {
        let endpoint = reqwest::Url::parse(endpoint.trim()).with_context(|| format!("阿里云短信接口地址无效：{endpoint}"))?;
        anyhow::ensure!(
            matches!(endpoint.scheme(), "http" | "https"),
            "阿里云短信接口地址必须以 http:// 或 https:// 开头：{endpoint}"
        );
        // reqwest panics when it builds a client with no rustls provider installed.
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("创建阿里云短信 HTTP 客户端失败")?;
        Ok(AliyunSms {
            endpoint,
            access_key_id: access_key_id.to_owned(),
            access_key_secret: access_key_secret.to_owned(),
            sign_name: sign_name.to_owned(),
            template_code: template_code.to_owned(),
            notice_template_code: String::new(),
            client,
        })
    }

    /// The template of notices (`notice` messages, parameter `title`).
    #[must_use]
    pub fn with_notice_template(mut self, code: &str) -> Self {
        code.trim().clone_into(&mut self.notice_template_code);
        self
    }

    /// Our template name → Alibaba Cloud's template code.
    fn template_code_for<'a>(&'a self, template: &'a str) -> Result<&'a str, SmsError> {
        if let Some(code) = template.strip_prefix("code:").filter(|c| !c.is_empty()) {
            // A message-center template that names its own Alibaba Cloud template.
            return Ok(code);
        }
        match template {
            NOTICE_TEMPLATE if self.notice_template_code.is_empty() => Err(SmsError::Rejected {
                code: "TEMPLATE_NOT_CONFIGURED".to_owned(),
                message: "未配置通知短信模板（sms.aliyun_notice_template_code）".to_owned(),
            }),
            NOTICE_TEMPLATE => Ok(&self.notice_template_code),
            _ => Ok(&self.template_code),
        }
    }

    /// From `[sms]` settings; every credential and the sign name and template
    /// code must be set.
    pub fn from_settings(s: &SmsSettings) -> anyhow::Result<Self> {
        let missing: Vec<&str> = [
            ("sms.aliyun_endpoint", s.aliyun_endpoint.trim().is_empty()),
            ("sms.aliyun_access_key_id", s.aliyun_access_key_id.trim().is_empty()),
            ("sms.aliyun_access_key_secret", s.aliyun_access_key_secret.expose().trim().is_empty()),
            ("sms.aliyun_sign_name", s.aliyun_sign_name.trim().is_empty()),
            ("sms.aliyun_template_code", s.aliyun_template_code.trim().is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, empty)| empty.then_some(name))
        .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "短信通道设为阿里云（sms.provider = aliyun），但以下配置项为空：{}",
            missing.join("、")
        );
        Self::new(
            &s.aliyun_endpoint,
            s.aliyun_access_key_id.trim(),
            s.aliyun_access_key_secret.expose().trim(),
            s.aliyun_sign_name.trim(),
            s.aliyun_template_code.trim(),
        )
        .map(|c| c.with_notice_template(&s.aliyun_notice_template_code))
    }

    /// Every parameter of one SendSms call except `Signature`.
    fn params(&self, msg: &SmsMessage, timestamp: &str, nonce: &str) -> Result<Vec<(String, String)>, SmsError> {
        let template_code = self.template_code_for(&msg.template)?;
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", ACTION),
            ("Format", "JSON"),
            ("PhoneNumbers", msg.phone.as_str()),
            ("RegionId", REGION_ID),
            ("SignName", self.sign_name.as_str()),
            ("SignatureMethod", SIGNATURE_METHOD),
            ("SignatureNonce", nonce),
            ("SignatureVersion", SIGNATURE_VERSION),
            ("TemplateCode", template_code),
            ("Timestamp", timestamp),
            ("Version", API_VERSION),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if !msg.params.is_empty() {
            params.push(("TemplateParam".to_owned(), template_param(&msg.params)));
        }
        Ok(params)
    }

    /// The full query string, `Signature` included.
    fn signed_query(&self, msg: &SmsMessage, timestamp: &str, nonce: &str) -> Result<String, SmsError> {
        let params = self.params(msg, timestamp, nonce)?;
        let canonical = canonical_query(&params);
        let signature = sign(&self.access_key_secret, &string_to_sign(&canonical))?;
        Ok(format!("{canonical}&Signature={}", percent_encode(&signature)))
    }

    async fn send_now(&self, msg: &SmsMessage) -> Result<Option<String>, SmsError> {
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let mut url = self.endpoint.clone();
        url.set_query(Some(&self.signed_query(msg, &timestamp, &nonce)?));
        // Errors drop the URL: it carries the AccessKey id and the signature.
        let res = self.client.get(url).send().await.map_err(|e| SmsError::Unavailable(describe(e)))?;
        let status = res.status();
        let body = res.text().await.map_err(|e| SmsError::Unavailable(describe(e)))?;
        interpret(status, &body)
    }
}

impl SmsProvider for AliyunSms {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn outbox_is_delivery(&self) -> bool {
        false
    }

    fn send<'a>(&'a self, msg: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            let result = self.send_now(msg).await;
            match &result {
                Ok(biz_id) => tracing::info!(biz_id = ?biz_id, "SMS accepted by Alibaba Cloud"),
                Err(e) => tracing::warn!(error = %e, "SMS not sent through Alibaba Cloud"),
            }
            result
        })
    }
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "请求阿里云短信接口超时".to_owned()
    } else if e.is_connect() {
        format!("无法连接阿里云短信接口：{}", e.without_url())
    } else {
        format!("请求阿里云短信接口失败：{}", e.without_url())
    }
}

#[derive(Debug, serde::Deserialize)]
struct SendSmsResponse {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "BizId")]
    biz_id: Option<String>,
}

/// Reads the answer. Alibaba Cloud answers gateway errors (signature, key,
/// timestamp) with HTTP 4xx and business errors with HTTP 200, both as JSON
/// with a `Code`; only `OK` means accepted.
fn interpret(status: reqwest::StatusCode, body: &str) -> Result<Option<String>, SmsError> {
    let parsed: SendSmsResponse = serde_json::from_str(body)
        .map_err(|_| SmsError::Unavailable(format!("阿里云短信接口返回了无法识别的内容（HTTP {status}）")))?;
    let Some(code) = parsed.code.filter(|c| !c.is_empty()) else {
        return Err(SmsError::Unavailable(format!("阿里云短信接口的响应缺少 Code（HTTP {status}）")));
    };
    let message = parsed.message.unwrap_or_default();
    if status.is_server_error() {
        return Err(SmsError::Unavailable(format!("阿里云短信接口出错（HTTP {status}）：{code} {message}")));
    }
    if code == "OK" { Ok(parsed.biz_id.filter(|id| !id.is_empty())) } else { Err(SmsError::Rejected { code, message }) }
}

/// `TemplateParam`: a JSON object of the template's string parameters.
fn template_param(params: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_json::Value::Object(map).to_string()
}

/// Percent-encoding as Alibaba Cloud specifies it (RFC 3986): `A-Z a-z 0-9 - _ . ~`
/// stay, every other byte of the UTF-8 form becomes `%XY` (upper-case hex), so a
/// space is `%20` (never `+`) and `*` is `%2A`.
fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
    out
}

/// Sorted by name, each name and value encoded, `name=value` joined with `&`.
fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

fn string_to_sign(canonical_query: &str) -> String {
    format!("GET&{}&{}", percent_encode("/"), percent_encode(canonical_query))
}

/// Base64 of HMAC-SHA1 keyed with the AccessKey secret plus `&`.
fn sign(access_key_secret: &str, string_to_sign: &str) -> Result<String, SmsError> {
    let mut mac = Hmac::<Sha1>::new_from_slice(format!("{access_key_secret}&").as_bytes())
        .map_err(|_| SmsError::Unavailable("短信签名密钥无效".to_owned()))?;
    mac.update(string_to_sign.as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn percent_encoding_follows_alibaba_rules() {
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("a b"), "a%20b");
        assert_eq!(percent_encode("*"), "%2A");
        assert_eq!(percent_encode("~"), "~");
        assert_eq!(percent_encode("+"), "%2B");
        assert_eq!(percent_encode("/"), "%2F");
        assert_eq!(percent_encode("="), "%3D");
        assert_eq!(percent_encode("&"), "%26");
        assert_eq!(percent_encode(":"), "%3A");
        assert_eq!(percent_encode(r#"{"code":"1"}"#), "%7B%22code%22%3A%221%22%7D");
        assert_eq!(percent_encode("%"), "%25");
        // UTF-8 bytes, upper-case hex.
        assert_eq!(percent_encode("阿里"), "%E9%98%BF%E9%87%8C");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn canonical_query_sorts_by_name_and_encodes() {
        let q = canonical_query(&pairs(&[("b", "x y"), ("a", "1*2"), ("C", "~")]));
        assert_eq!(q, "C=~&a=1%2A2&b=x%20y");
    }

    /// The worked example of Alibaba Cloud's "API 签名机制" (signature version
    /// 1.0) documentation: ECS `DescribeRegions` with AccessKey id `testid` and
    /// secret `testsecret`, published with the signature
    /// `CT9X0VtwR86fNWSnsc6v8YGOjuE=`. The example spells the timestamp
    /// parameter `TimeStamp`, so it is kept that way here. (The published string
    /// to sign shows the `&` between parameters unencoded, a typo: the published
    /// signature is that of the string with `%26`, asserted below.)
    #[test]
    fn signature_matches_alibaba_describe_regions_example() {
        let params = pairs(&[
            ("TimeStamp", "2016-02-23T12:46:24Z"),
            ("Format", "XML"),
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("Version", "2014-05-26"),
            ("SignatureVersion", "1.0"),
        ]);
        let sts = string_to_sign(&canonical_query(&params));
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z\
             %26Version%3D2014-05-26"
        );
        assert_eq!(sign("testsecret", &sts).unwrap(), "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
    }

    /// The SendSms example of Alibaba Cloud SMS's "HTTP协议及签名" documentation:
    /// AccessKey id `testId`, secret `testSecret`, published request
    /// `GET /?Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&AccessKeyId=testId&Action=SendSms&...`.
    /// It covers a UTF-8 sign name and a JSON template parameter.
    #[test]
    fn signature_matches_alibaba_send_sms_example() {
        let params = pairs(&[
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", r#"{"customer":"test"}"#),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]);
        let canonical = canonical_query(&params);
        assert_eq!(
            canonical,
            "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001\
             &RegionId=cn-hangzhou\
             &SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466\
             &SignatureVersion=1.0&TemplateCode=SMS_71390007\
             &TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z\
             &Version=2017-05-25"
        );
        assert_eq!(sign("testSecret", &string_to_sign(&canonical)).unwrap(), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    fn provider() -> AliyunSms {
        AliyunSms::new("https://dysmsapi.aliyuncs.com/", "testId", "testSecret", "阿里云短信测试专用", "SMS_71390007").unwrap()
    }

    fn message() -> SmsMessage {
        SmsMessage {
            phone: "15300000001".to_owned(),
            template: "verify_code".to_owned(),
            params: vec![("code".to_owned(), "123456".to_owned())],
            text: "验证码 123456".to_owned(),
        }
    }

    #[test]
    fn send_sms_request_carries_every_documented_parameter() {
        let p = provider();
        let query = p.signed_query(&message(), "2026-11-29T02:00:00Z", "nonce-1").unwrap();
        let (unsigned, signature) = query.split_once("&Signature=").unwrap();
        assert_eq!(
            unsigned,
            "AccessKeyId=testId&Action=SendSms&Format=JSON&PhoneNumbers=15300000001\
             &RegionId=cn-hangzhou\
             &SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8\
             &SignatureMethod=HMAC-SHA1&SignatureNonce=nonce-1&SignatureVersion=1.0\
             &TemplateCode=SMS_71390007&TemplateParam=%7B%22code%22%3A%22123456%22%7D\
             &Timestamp=2026-11-29T02%3A00%3A00Z&Version=2017-05-25"
        );
        let expected = sign("testSecret", &string_to_sign(unsigned)).unwrap();
        assert_eq!(signature, percent_encode(&expected));
    }

    #[test]
    fn template_param_is_a_json_object_of_strings() {
        let json = template_param(&pairs(&[("code", "123456"), ("name", "张 \"三\"")]));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v, serde_json::json!({"code": "123456", "name": "张 \"三\""}));
    }

    #[test]
    fn responses_are_interpreted() {
        use reqwest::StatusCode;
        let ok =
            r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}"#;
        assert_eq!(interpret(StatusCode::OK, ok).unwrap(), Some("900619746936498440^0".to_owned()));
        let limit = r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控Permits:1","RequestId":"x"}"#;
        match interpret(StatusCode::OK, limit) {
            Err(SmsError::Rejected { code, message }) => {
                assert_eq!(code, "isv.BUSINESS_LIMIT_CONTROL");
                assert_eq!(message, "触发分钟级流控Permits:1");
            }
            other => panic!("unexpected {other:?}"),
        }
        let bad_sig = r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation.","RequestId":"x"}"#;
        assert!(matches!(
            interpret(StatusCode::BAD_REQUEST, bad_sig),
            Err(SmsError::Rejected { code, .. }) if code == "SignatureDoesNotMatch"
        ));
        assert!(matches!(interpret(StatusCode::BAD_GATEWAY, "<html>502</html>"), Err(SmsError::Unavailable(_))));
        assert!(matches!(
            interpret(StatusCode::SERVICE_UNAVAILABLE, r#"{"Code":"ServiceUnavailable","Message":"busy"}"#),
            Err(SmsError::Unavailable(_))
        ));
        assert!(matches!(interpret(StatusCode::OK, "{}"), Err(SmsError::Unavailable(_))));
    }

    #[test]
    fn settings_must_be_complete() {
        let s = SmsSettings { provider: "aliyun".to_owned(), ..SmsSettings::default() };
        let err = AliyunSms::from_settings(&s).unwrap_err().to_string();
        assert!(err.contains("sms.aliyun_access_key_id"), "{err}");
        assert!(err.contains("sms.aliyun_access_key_secret"), "{err}");
        assert!(err.contains("sms.aliyun_sign_name"), "{err}");
        assert!(err.contains("sms.aliyun_template_code"), "{err}");

        let s = SmsSettings {
            provider: "aliyun".to_owned(),
            aliyun_access_key_id: "id".to_owned(),
            aliyun_access_key_secret: crate::config::Secret::new("secret"),
            aliyun_sign_name: "通州企服".to_owned(),
            aliyun_template_code: "SMS_1".to_owned(),
            ..SmsSettings::default()
        };
        let p = AliyunSms::from_settings(&s).unwrap();
        assert_eq!(p.name(), "aliyun");
        assert!(!p.outbox_is_delivery());
        assert!(!format!("{p:?}").contains("\"secret\""));
    }

    #[test]
    fn endpoint_must_be_http() {
        assert!(AliyunSms::new("ftp://x/", "a", "b", "c", "d").is_err());
        assert!(AliyunSms::new("not a url", "a", "b", "c", "d").is_err());
    }
}
