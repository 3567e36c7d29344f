//! Enterprise records (一企一档) and data governance: the registry's base
//! fields, where every value of a record came from, imports staged row by row,
//! conflicts waiting for a data clerk, quality rules and scores, tags.

use super::util::{fk, index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add(m: &SchemaManager<'_>, table: &'static str, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(col).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The registry's base fields (the market-regulation record of an enterprise).
        add(m, "registry_entries", string_len_null("entity_type", 50).to_owned()).await?;
        add(m, "registry_entries", date_null("founded_on").to_owned()).await?;
        add(m, "registry_entries", big_integer_null("registered_capital_fen").to_owned()).await?;
        add(m, "registry_entries", string_len_null("address", 200).to_owned()).await?;
        add(m, "registry_entries", string_len_null("division_code", 12).to_owned()).await?;
        add(m, "registry_entries", string_len_null("industry_code", 8).to_owned()).await?;
        add(m, "enterprises", string_len_null("entity_type", 50).to_owned()).await?;
        add(m, "enterprises", string_len_null("registry_status", 20).to_owned()).await?;
        add(m, "enterprises", text_null("tags").to_owned()).await?;
        add(m, "enterprises", string_len_null("contact_phone_masked", 16).to_owned()).await?;

        m.create_table(
            Table::create()
                .table("enterprise_field_sources")
                .col(big_pk_auto("id"))
                .col(big_integer("enterprise_id"))
                .col(string_len("field", 32))
                .col(text("value"))
                .col(string_len("source", 16))
                .col(string_len_null("source_ref", 100))
                .col(big_integer_null("by_user_id"))
                .col(timestamp_with_time_zone("at"))
                .foreign_key(&mut fk("enterprise_field_sources", "enterprise_id", "enterprises"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("enterprise_field_sources", &["enterprise_id", "field"])).await?;

        m.create_table(
            Table::create()
                .table("import_batches")
                .col(big_pk_auto("id"))
                .col(string_len("source_name", 50))
                .col(string_len("file_name", 200))
                .col(string_len("status", 16))
                .col(integer("rows_read"))
                .col(integer("accepted"))
                .col(integer("normalised"))
                .col(integer("rejected"))
                .col(integer("duplicates"))
                .col(integer("created_records"))
                .col(integer("updated_records"))
                .col(integer("conflicts"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("committed_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("import_rows")
                .col(big_pk_auto("id"))
                .col(big_integer("batch_id"))
                .col(integer("row_no"))
                .col(text("raw"))
                .col(text_null("clean"))
                .col(text_null("errors"))
                .col(string_len("outcome", 16))
                .col(string_len_null("credit_code", 18))
                .foreign_key(&mut fk("import_rows", "batch_id", "import_batches"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("import_rows", &["batch_id", "row_no"])).await?;
        m.create_table(
            Table::create()
                .table("import_mappings")
                .col(big_pk_auto("id"))
                .col(string_len("source_name", 50))
                .col(string_len("column_name", 100))
                .col(string_len("field", 32))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("import_mappings", &["source_name", "column_name"])).await?;

        m.create_table(
            Table::create()
                .table("merge_reviews")
                .col(big_pk_auto("id"))
                .col(big_integer("enterprise_id"))
                .col(string_len("field", 32))
                .col(text("current_value"))
                .col(string_len("current_source", 16))
                .col(text("proposed_value"))
                .col(string_len("proposed_source", 16))
                .col(string_len_null("source_ref", 100))
                .col(string_len("status", 16))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("merge_reviews", "enterprise_id", "enterprises"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("merge_reviews", &["status", "created_at"])).await?;
        m.create_table(
            Table::create()
                .table("field_policies")
                .col(string_len("field", 32).primary_key())
                .col(string_len("rule", 16))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("quality_rules")
                .col(big_pk_auto("id"))
                .col(string_len("field", 32))
                .col(string_len("dimension", 16))
                .col(string_len("kind", 16))
                .col(double_null("min_value"))
                .col(double_null("max_value"))
                .col(integer("weight"))
                .col(boolean("enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("quality_scores")
                .col(big_integer("enterprise_id").primary_key())
                .col(double_null("completeness"))
                .col(double_null("consistency"))
                .col(double_null("accuracy"))
                .col(double_null("timeliness"))
                .col(double_null("uniqueness"))
                .col(double("total"))
                .col(text("issues"))
                .col(timestamp_with_time_zone("computed_at"))
                .foreign_key(&mut fk("quality_scores", "enterprise_id", "enterprises"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("quality_scores", &["total"])).await?;
        m.create_table(
            Table::create()
                .table("enterprise_tags")
                .col(big_pk_auto("id"))
                .col(string_len("name", 20))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("enterprise_tags", &["name"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "enterprise_tags",
            "quality_scores",
            "quality_rules",
            "field_policies",
            "merge_reviews",
            "import_mappings",
            "import_rows",
            "import_batches",
            "enterprise_field_sources",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
