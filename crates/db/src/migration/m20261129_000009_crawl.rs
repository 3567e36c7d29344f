//! Policy aggregation (政策归集): crawl sources, the pages seen (deduplicated by
//! URL, changes detected by content hash) and a log of each run.

use super::util::{index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("crawl_sources")
                .col(big_pk_auto("id"))
                .col(string_len("name", 100))
                .col(string_len("list_url", 500))
                .col(string_len("item_selector", 200))
                .col(string_len("title_selector", 200))
                .col(string_len("date_selector", 200))
                .col(string_len("doc_no_selector", 200))
                .col(string_len("body_selector", 200))
                .col(string_len("next_selector", 200))
                .col(string_len("attachment_selector", 200))
                .col(string_len("issuer", 100))
                .col(string_len("level", 16))
                .col(integer("delay_ms"))
                .col(integer("max_pages"))
                .col(boolean("enabled"))
                .col(timestamp_with_time_zone_null("last_run_at"))
                .col(string_len_null("last_status", 500))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("crawled_pages")
                .col(big_pk_auto("id"))
                .col(big_integer("source_id"))
                .col(string_len("url", 500))
                .col(string_len("content_hash", 64))
                .col(big_integer_null("policy_id"))
                .col(timestamp_with_time_zone("first_seen"))
                .col(timestamp_with_time_zone("last_seen"))
                .col(timestamp_with_time_zone_null("changed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("crawled_pages", &["url"])).await?;
        m.create_table(
            Table::create()
                .table("crawl_logs")
                .col(big_pk_auto("id"))
                .col(big_integer("source_id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("level", 8))
                .col(string_len("url", 500))
                .col(string_len("message", 500))
                .to_owned(),
        )
        .await?;
        m.create_index(index("crawl_logs", &["source_id", "at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["crawl_logs", "crawled_pages", "crawl_sources"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
