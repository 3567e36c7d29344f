//! Search: the change log every node's index follows, and the synonym groups
//! the operator edits.

use super::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per changed item, written in the transaction of the change;
        // kind "*" asks every node to rebuild from scratch.
        m.create_table(
            Table::create()
                .table("search_changes")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(big_integer("entity_id"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("search_changes", &["at"])).await?;
        m.create_table(
            Table::create()
                .table("search_synonyms")
                .col(big_pk_auto("id"))
                .col(string_len("words", 200))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        let now = chrono::Utc::now();
        for words in ["贷款,融资", "社保,社会保险", "补贴,补助,资助", "知识产权,IP"] {
            m.exec_stmt(
                Query::insert()
                    .into_table("search_synonyms")
                    .columns(["words", "created_at"])
                    .values_panic([words.into(), now.into()])
                    .to_owned(),
            )
            .await?;
        }
        // Every node starts with a full build.
        m.exec_stmt(
            Query::insert()
                .into_table("search_changes")
                .columns(["kind", "entity_id", "at"])
                .values_panic(["*".into(), 0i64.into(), now.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("search_synonyms").to_owned()).await?;
        m.drop_table(Table::drop().table("search_changes").to_owned()).await
    }
}
