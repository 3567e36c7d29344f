//! Idempotency keys of the JSON API: a client that retries a POST with the same
//! `Idempotency-Key` gets the first answer again instead of a second write.

use super::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string_len("key", 64))
                .col(string_len("route", 200))
                .col(string_len("request_sm3", 64))
                .col(integer_null("status"))
                .col(text_null("response"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("key").col("route"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idempotency_keys", &["created_at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("idempotency_keys").to_owned()).await
    }
}
