//! The context every use case receives: database, settings, clock, field
//! encryption and the SMS provider.

use crate::clock::Clock;
use crate::config::Settings;
use crate::crypto::Crypto;
use crate::integrations::registry::Registry;
use crate::integrations::sms::SmsProvider;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Ctx {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub crypto: Arc<Crypto>,
    pub sms: Arc<dyn SmsProvider>,
    pub email: Arc<dyn crate::integrations::email::EmailProvider>,
    pub wechat: Arc<dyn crate::integrations::wechat_api::WechatProvider>,
    pub registry: Arc<dyn Registry>,
    /// This node's search index (opened by `serve`; absent in other processes).
    pub search: Arc<crate::index::SearchService>,
}

impl Ctx {
    /// Builds the context from settings: loads the field key and the SMS provider.
    pub fn new(db: DatabaseConnection, settings: Arc<Settings>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let crypto = Crypto::load(settings.security.field_key.expose(), &settings.data_dir)?;
        let sms = crate::integrations::sms::from_settings(&settings)?;
        let crypto = Arc::new(crypto);
        let email = crate::integrations::email::from_settings(&settings.email)?;
        let wechat = crate::integrations::wechat_api::from_settings(&settings.wechat)?;
        let registry: Arc<dyn Registry> = match settings.registry.provider.as_str() {
            "http" => Arc::new(crate::integrations::registry_http::HttpRegistry::from_settings(&settings.registry)?),
            _ => Arc::new(crate::integrations::registry_local::LocalRegistry::new(db.clone(), crypto.clone())),
        };
        Ok(Ctx { db, settings, clock, crypto, sms, email, wechat, registry, search: Arc::default() })
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Where a request came from, for the audit trail and rate limits.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
}

impl Meta {
    /// For actions started from the command line or a job.
    pub fn system(what: &str) -> Self {
        Meta { ip: "127.0.0.1".to_owned(), user_agent: what.to_owned(), request_id: String::new() }
    }
}
