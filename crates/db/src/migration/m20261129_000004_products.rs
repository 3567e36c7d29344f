//! Products get their full description: service area, contacts, eligibility
//! criteria, financing ranges, the review outcome and revisions.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add(m: &SchemaManager<'_>, col: &mut ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table("products").add_column(col).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A revision of a listed product: reviewed on its own while the original stays listed.
        add(m, &mut big_integer_null("revision_of")).await?;
        add(m, &mut string_len_null("reject_reason", 500)).await?;
        add(m, string_len("service_area", 100).default("通州区")).await?;
        add(m, string_len("contact", 100).default("")).await?;
        // Eligibility: comma-separated GB/T 4754 prefixes and size classes; empty = any.
        add(m, string_len("industries", 200).default("")).await?;
        add(m, string_len("size_classes", 64).default("")).await?;
        add(m, &mut integer_null("min_years")).await?;
        add(m, boolean("tongzhou_only").default(false)).await?;
        add(m, boolean("certification_required").default(true)).await?;
        // Financing: amounts in fen, terms in months, rates in basis points.
        add(m, &mut big_integer_null("amount_min_fen")).await?;
        add(m, &mut big_integer_null("amount_max_fen")).await?;
        add(m, &mut integer_null("term_min_months")).await?;
        add(m, &mut integer_null("term_max_months")).await?;
        add(m, &mut integer_null("rate_min_bp")).await?;
        add(m, &mut integer_null("rate_max_bp")).await?;
        add(m, string_len("guarantee_modes", 100).default("")).await?;
        add(m, &mut big_integer_null("submitted_by")).await?;
        m.create_index(Index::create().name("idx_products_revision_of").table("products").col("revision_of").to_owned()).await?;
        Ok(())
    }
}
