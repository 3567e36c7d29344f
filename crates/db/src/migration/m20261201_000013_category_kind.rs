//! A product category's kind (服务类 / 融资类), set on top-level categories:
//! whether a product asks for the financing fields is a property of its
//! category, no longer decided by the category's (editable) name.
//!
//! One-time data upgrade: the top-level categories named 融资服务 — the name
//! the financing rule was keyed on until now — become financing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("categories").add_column(string_len("kind", 16).default("service")).to_owned())
            .await?;
        m.exec_stmt(
            Query::update()
                .table("categories")
                .value("kind", "financing")
                .and_where(Expr::col("parent_id").is_null())
                .and_where(Expr::col("name").eq("融资服务"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("categories").drop_column("kind").to_owned()).await
    }
}
