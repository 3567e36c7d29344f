//! The platform's own registry table (登记信息库), filled by demo data now and
//! by imports from the market-regulation bureau later.

use crate::crypto::Crypto;
use crate::integrations::registry::{LookupFuture, Registry, RegistryError, RegistryRecord};
use qifu_db::entity::registry_entry;
use qifu_domain::certification::CreditCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
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
            Ok(row.map(|r| RegistryRecord {
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
            }))
        })
    }
}
