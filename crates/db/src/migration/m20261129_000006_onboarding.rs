//! Institution self-application (机构入驻申请) reviewed by the operator, and
//! attachments of products and policies (附件).

use super::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("institution_applications")
                .col(big_pk_auto("id"))
                .col(string_len("name", 100))
                .col(string_len("credit_code", 18))
                .col(string_len("kind", 32))
                .col(text("intro"))
                .col(text("qualifications"))
                .col(string_len("contact_name", 32))
                .col(text("contact_phone_enc"))
                .col(string_len("contact_phone_hash", 64))
                .col(string_len("contact_phone_masked", 16))
                .col(string_len("password_hash", 200))
                .col(big_integer("licence_file_id"))
                .col(string_len("status", 16))
                .col(string_len_null("reject_reason", 500))
                .col(big_integer_null("org_id"))
                .col(big_integer_null("reviewed_by"))
                .col(timestamp_with_time_zone_null("reviewed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("institution_applications", &["status", "created_at"])).await?;
        m.create_index(index("institution_applications", &["credit_code"])).await?;

        // Qualifications (资质) shown on the institution's public page.
        m.alter_table(Table::alter().table("institutions").add_column(text("qualifications").default("")).to_owned()).await?;

        // Attachments of products and policies: a file linked to its owner.
        m.create_table(
            Table::create()
                .table("attachments")
                .col(big_pk_auto("id"))
                .col(string_len("owner_kind", 16))
                .col(big_integer("owner_id"))
                .col(big_integer("file_id"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("attachments", &["owner_kind", "owner_id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("attachments").to_owned()).await?;
        m.alter_table(Table::alter().table("institutions").drop_column("qualifications").to_owned()).await?;
        m.drop_table(Table::drop().table("institution_applications").to_owned()).await
    }
}
