//! Facts about this installation that every node must agree on, such as the
//! fingerprint of the field-encryption key the data was written with.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("system_meta")
                .col(string_len("key", 64).primary_key())
                .col(text("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("system_meta").to_owned()).await
    }
}
