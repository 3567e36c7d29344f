//! Email providers. `log` delivers nowhere (the delivery log keeps the text; the
//! default, so a fresh install works offline); `smtp` sends through an SMTP
//! server with lettre (STARTTLS, implicit TLS or plain on a trusted network).

use crate::config::EmailSettings;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One email to send, plain text.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// A stable key of this message (the delivery), used as its Message-ID.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    /// Permanent: bad address, refused by the server. Not retried.
    #[error("邮件被拒收：{0}")]
    Rejected(String),
    /// Temporary: server down, timeout. Retried.
    #[error("邮件服务器暂不可用：{0}")]
    Unavailable(String),
}

pub type EmailFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, EmailError>> + Send + 'a>>;

pub trait EmailProvider: Send + Sync + Debug {
    fn name(&self) -> &'static str;
    /// Sends; returns the message id it was sent with.
    fn send<'a>(&'a self, email: &'a Email) -> EmailFuture<'a>;
}

/// Records only.
#[derive(Debug, Default)]
pub struct LogEmail;

impl EmailProvider for LogEmail {
    fn name(&self) -> &'static str {
        "log"
    }
    fn send<'a>(&'a self, email: &'a Email) -> EmailFuture<'a> {
        Box::pin(async move {
            tracing::info!(subject = %email.subject, "email not sent: recorded in the delivery log (log provider)");
            Ok(None)
        })
    }
}

/// Sends through SMTP.
pub struct SmtpEmail {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    /// A hard deadline around the whole exchange (connect, greeting, every
    /// command, the data): a server that accepts and never answers is cut off.
    deadline: Duration,
}

impl Debug for SmtpEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpEmail").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpEmail {
    pub fn from_settings(s: &EmailSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(!s.smtp_host.trim().is_empty(), "邮件通道设为 smtp，但 email.smtp_host 为空");
        let from: Mailbox = s.from.parse().map_err(|e| anyhow::anyhow!("email.from 不是有效的发件人地址：{e}"))?;
        let host = s.smtp_host.trim();
        let builder = match s.smtp_security.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
        };
        let mut builder = builder.port(s.smtp_port).timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
        if !s.smtp_username.is_empty() {
            builder = builder.credentials(Credentials::new(s.smtp_username.clone(), s.smtp_password.expose().to_owned()));
        }
        let domain = from.email.domain().to_owned();
        let deadline = Duration::from_secs(s.timeout_secs.max(1));
        Ok(SmtpEmail { transport: builder.build(), from, domain, deadline })
    }
}

impl EmailProvider for SmtpEmail {
    fn name(&self) -> &'static str {
        "smtp"
    }
    fn send<'a>(&'a self, email: &'a Email) -> EmailFuture<'a> {
        Box::pin(async move {
            let to: Mailbox = email.to.parse().map_err(|e| EmailError::Rejected(format!("收件人地址无效：{e}")))?;
            // The delivery's own key as the Message-ID, so a resend after a cut-off
            // exchange is recognisable as the same message.
            let id = match &email.idempotency_key {
                Some(k) => format!("<{k}@{}>", self.domain),
                None => format!("<{}@{}>", uuid::Uuid::new_v4().simple(), self.domain),
            };
            let msg = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(email.subject.clone())
                .message_id(Some(id.clone()))
                .header(ContentType::TEXT_PLAIN)
                .body(email.body.clone())
                .map_err(|e| EmailError::Rejected(e.to_string()))?;
            match tokio::time::timeout(self.deadline, self.transport.send(msg)).await {
                Ok(Ok(_)) => Ok(Some(id)),
                Ok(Err(e)) if e.is_permanent() => Err(EmailError::Rejected(e.to_string())),
                Ok(Err(e)) => Err(EmailError::Unavailable(e.to_string())),
                Err(_) => Err(EmailError::Unavailable(format!("邮件服务器在 {} 秒内没有完成发送", self.deadline.as_secs()))),
            }
        })
    }
}

pub fn from_settings(s: &EmailSettings) -> anyhow::Result<Arc<dyn EmailProvider>> {
    match s.provider.as_str() {
        "smtp" => Ok(Arc::new(SmtpEmail::from_settings(s)?)),
        _ => Ok(Arc::new(LogEmail)),
    }
}
