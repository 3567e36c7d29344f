//! Messages from the WeChat server already handled, by MsgId (or sender and
//! time for events), kept until their signed timestamp could no longer pass the
//! clock-skew check: a replay inside that window is answered without acting.

use super::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("wechat_seen")
                .col(string_len("key", 128).primary_key())
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("wechat_seen", &["expires_at"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("wechat_seen").to_owned()).await
    }
}
