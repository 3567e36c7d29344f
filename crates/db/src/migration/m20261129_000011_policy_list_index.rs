//! An index for the policy list's filter options: their cache key (count and
//! latest change of all policies) is read from indexes alone. On `updated_at`
//! only, so the list's own query keeps using (status, publish_date).

use super::util::index;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("policies", &["updated_at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_policies_updated_at").table("policies").to_owned()).await
    }
}
