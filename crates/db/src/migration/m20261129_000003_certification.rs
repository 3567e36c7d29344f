//! Certification: the local registry, certification requests and their review,
//! uploaded files, in-site messages, the platform's SM2 key and signed data-use
//! authorisations.

use super::util::{index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organisations").add_column(timestamp_with_time_zone_null("certified_at")).to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("registry_entries")
                .col(big_pk_auto("id"))
                .col(string_len("credit_code", 18))
                .col(string_len("name", 200))
                .col(string_len("legal_rep_name", 64))
                .col(text_null("legal_rep_id_enc"))
                .col(string_len_null("legal_rep_id_hash", 64))
                .col(string_len("status", 16))
                .col(string_len("source", 16))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("registry_entries", &["credit_code"])).await?;

        m.create_table(
            Table::create()
                .table("files")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("purpose", 32))
                .col(string_len("original_name", 200))
                .col(string_len("content_type", 64))
                .col(big_integer("size"))
                .col(string_len("sm3", 64))
                .col(string_len("storage_key", 200))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("files", &["org_id"])).await?;

        m.create_table(
            Table::create()
                .table("certifications")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(big_integer("user_id"))
                .col(string_len("name", 200))
                .col(string_len("credit_code", 18))
                .col(string_len("legal_rep_name", 64))
                .col(text("legal_rep_id_enc"))
                .col(string_len("legal_rep_id_hash", 64))
                .col(string_len("legal_rep_id_masked", 20))
                .col(big_integer_null("licence_file_id"))
                .col(string_len("status", 16))
                .col(string_len("match_result", 16))
                .col(text("registry_snapshot"))
                .col(big_integer_null("reviewer_id"))
                .col(string_len_null("review_reason", 500))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("certifications", &["status", "created_at"])).await?;
        m.create_index(index("certifications", &["org_id"])).await?;
        m.create_index(index("certifications", &["credit_code"])).await?;

        m.create_table(
            Table::create()
                .table("messages")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("category", 32))
                .col(string_len("title", 200))
                .col(text("body"))
                .col(string_len_null("link", 300))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("messages", &["user_id", "read_at"])).await?;

        m.create_table(
            Table::create()
                .table("platform_keys")
                .col(big_pk_auto("id"))
                .col(string_len("algorithm", 16))
                .col(string_len("public_key", 200))
                .col(text("secret_enc"))
                .col(boolean("active").default(true))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("authorizations")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("credit_code", 18))
                .col(string_len("text_version", 16))
                .col(big_integer("signer_user_id"))
                .col(timestamp_with_time_zone("signed_at"))
                .col(text("record"))
                .col(string_len("digest", 64))
                .col(string_len("signature", 160))
                .col(big_integer("key_id"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(big_integer_null("revoked_by"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("authorizations", &["org_id"])).await?;
        Ok(())
    }
}
