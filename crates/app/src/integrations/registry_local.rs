//! The platform's own registry table (登记信息库), filled by demo data now and
//! by imports from the market-regulation bureau later.

use crate::crypto::Crypto;
use crate::integrations::registry::{Change, ChangePage, ChangesFuture, LookupFuture, Registry, RegistryError, RegistryRecord};
use qifu_db::entity::registry_entry;
use qifu_domain::certification::CreditCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LocalRegistry {
    db: DatabaseConnection,
    crypto: Arc<Crypto>,
}

impl LocalRegistry {
    pub fn new(db: DatabaseConnection, crypto: Arc<Crypto>) -> Self {
        LocalRegistry { db, crypto }
    }
}

impl Registry for LocalRegistry {
    fn name(&self) -> &'static str {
        "local"
    }

    fn lookup<'a>(&'a self, code: &'a CreditCode) -> LookupFuture<'a> {
        Box::pin(async move {
            let row = registry_entry::Entity::find()
                .filter(registry_entry::Column::CreditCode.eq(code.as_str()))
                .one(&self.db)
                .await
                .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
            Ok(row.map(|r| self.record(r)))
        })
    }

    /// Entries updated on or after `since` (Beijing time), by id; the cursor is the last id seen.
    fn changes<'a>(&'a self, since: chrono::NaiveDate, cursor: Option<&'a str>) -> ChangesFuture<'a> {
        Box::pin(async move {
            let after: i64 = match cursor {
                Some(c) => c.parse().map_err(|_| RegistryError::Unavailable("游标无效".to_owned()))?,
                None => 0,
            };
            let from = since.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::Duration::hours(8);
            let rows = registry_entry::Entity::find()
                .filter(registry_entry::Column::UpdatedAt.gte(from))
                .filter(registry_entry::Column::Id.gt(after))
                .order_by_asc(registry_entry::Column::Id)
                .limit(PAGE)
                .all(&self.db)
                .await
                .map_err(|e| RegistryError::Unavailable(e.to_string()))?;
            let next_cursor = (rows.len() as u64 == PAGE).then(|| rows.last().map(|r| r.id.to_string())).flatten();
            let changes = rows
                .into_iter()
                .map(|r| Change { changed_on: (r.updated_at + chrono::Duration::hours(8)).date_naive(), record: self.record(r) })
                .collect();
            Ok(ChangePage { changes, next_cursor })
        })
    }
}

/// Entries per page of changes.
const PAGE: u64 = 500;

impl LocalRegistry {
    fn record(&self, r: registry_entry::Model) -> RegistryRecord {
        RegistryRecord {
            base: super::registry::RegistryBase {
                entity_type: r.entity_type.clone(),
                founded_on: r.founded_on,
                registered_capital_fen: r.registered_capital_fen,
                address: r.address.clone(),
                division_code: r.division_code.clone(),
                industry_code: r.industry_code.clone(),
            },
            legal_rep_id: r.legal_rep_id_enc.as_deref().and_then(|e| self.crypto.decrypt(e).ok()),
            credit_code: r.credit_code,
            name: r.name,
            legal_rep_name: r.legal_rep_name,
            status: r.status,
        }
    }
}
