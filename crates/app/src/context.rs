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
    /// The composition root: builds the context from settings — the field key
    /// (checked against the data, see [`field_key`]), and the providers
    /// (SMS, email, WeChat, registry) chosen by configuration.
    pub async fn new(db: DatabaseConnection, settings: Arc<Settings>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let crypto = field_key(&db, &settings, clock.now()).await?;
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

const KEY_FINGERPRINT: &str = "field_key_fingerprint";

/// The field-encryption key, checked against the data: the configured key or
/// the data directory's key file must be the one the data was encrypted with
/// (its fingerprint is stored in `system_meta`). A key is generated only for an
/// installation without encrypted data; otherwise a missing or different key
/// refuses to start with one clear line, instead of a node silently writing
/// with a new key (staff SMS sign-in failing, phones registering twice).
pub async fn field_key(db: &DatabaseConnection, settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<Crypto> {
    use qifu_db::entity::{system_meta, user};
    use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
    let stored = system_meta::Entity::find_by_id(KEY_FINGERPRINT).one(db).await?.map(|m| m.value);
    let sample = user::Entity::find().filter(user::Column::PhoneEnc.is_not_null()).one(db).await?.and_then(|u| u.phone_enc);
    let found = Crypto::find(settings.security.field_key.expose(), &settings.data_dir)?;
    let crypto = match found {
        Some(c) => c,
        None if stored.is_none() && sample.is_none() => Crypto::generate(&settings.data_dir)?,
        None => anyhow::bail!(
            "数据库中已有加密数据，但没有配置 security.field_key，数据目录中也没有 {}：请配置或恢复原来的字段密钥后再启动（不会生成新密钥）",
            crate::crypto::key_file(&settings.data_dir).display()
        ),
    };
    let fingerprint = crypto.fingerprint();
    match &stored {
        Some(s) if *s != fingerprint => anyhow::bail!(
            "字段密钥与数据不符：数据是用指纹为 {s} 的密钥加密的，当前密钥的指纹是 {fingerprint}。请配置原来的 security.field_key（或恢复 keys/field.key）后再启动"
        ),
        Some(_) => {}
        None => {
            if let Some(enc) = &sample
                && crypto.decrypt(enc).is_err()
            {
                anyhow::bail!(
                    "字段密钥与数据不符：现有加密数据无法用当前密钥解密。请配置原来的 security.field_key（或恢复 keys/field.key）后再启动"
                );
            }
            system_meta::Entity::insert(system_meta::ActiveModel {
                key: Set(KEY_FINGERPRINT.to_owned()),
                value: Set(fingerprint),
                updated_at: Set(now),
            })
            .on_conflict(OnConflict::column(system_meta::Column::Key).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(crypto)
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
