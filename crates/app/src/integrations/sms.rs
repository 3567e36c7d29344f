//! SMS providers. `log` delivers nowhere: the message is only recorded in the
//! outbox that the back office shows (the default, so a fresh install works
//! offline). `aliyun` calls Alibaba Cloud's SMS API.

use crate::config::Settings;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Our template of verification codes (parameter `code`).
pub const VERIFY_CODE_TEMPLATE: &str = "verify_code";
/// Our template of notices (parameter `title`): "{title}，请登录平台查看。"
pub const NOTICE_TEMPLATE: &str = "notice";

/// One message to send.
#[derive(Debug, Clone)]
pub struct SmsMessage {
    pub phone: String,
    /// Our template name, e.g. `verify_code`.
    pub template: String,
    /// Template parameters, e.g. `[("code", "123456")]`.
    pub params: Vec<(String, String)>,
    /// The rendered text, for the outbox.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("短信通道拒绝：{code} {message}")]
    Rejected { code: String, message: String },
    #[error("短信通道不可用：{0}")]
    Unavailable(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, SmsError>> + Send + 'a>>;

pub trait SmsProvider: Send + Sync + Debug {
    /// Stable name recorded in the outbox.
    fn name(&self) -> &'static str;
    /// Whether the outbox may keep the full text (codes included). Only for `log`,
    /// where the outbox is the delivery.
    fn outbox_is_delivery(&self) -> bool;
    /// Sends; returns the provider's message id if it gives one.
    fn send<'a>(&'a self, msg: &'a SmsMessage) -> SendFuture<'a>;
}

/// Records only.
#[derive(Debug, Default)]
pub struct LogProvider;

impl SmsProvider for LogProvider {
    fn name(&self) -> &'static str {
        "log"
    }
    fn outbox_is_delivery(&self) -> bool {
        true
    }
    fn send<'a>(&'a self, msg: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            // The log provider is for offline installs: the text (codes included) goes to
            // the outbox and the server log, where an administrator can read it.
            tracing::info!(template = %msg.template, text = %msg.text, "SMS not sent: recorded in the outbox (log provider)");
            Ok(None)
        })
    }
}

pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    match settings.sms.provider.as_str() {
        "aliyun" => Ok(Arc::new(super::aliyun::AliyunSms::from_settings(&settings.sms)?)),
        _ => Ok(Arc::new(LogProvider)),
    }
}
