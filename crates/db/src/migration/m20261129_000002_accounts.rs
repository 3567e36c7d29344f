//! Accounts and security: phones (encrypted), lockout, permissions, menus, the
//! hash-chained audit log, the login log, SMS outbox and codes, captchas and
//! rate-limit events.

use super::util::{index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite takes one column per ALTER TABLE.
async fn add_column(m: &SchemaManager<'_>, table: &'static str, col: &mut ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(col).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_column(m, "users", &mut text_null("phone_enc")).await?;
        add_column(m, "users", &mut string_len_null("phone_hash", 64)).await?;
        add_column(m, "users", &mut string_len_null("phone_masked", 16)).await?;
        add_column(m, "users", integer("failed_logins").default(0)).await?;
        add_column(m, "users", &mut timestamp_with_time_zone_null("locked_until")).await?;
        add_column(m, "users", &mut text_null("totp_secret_enc")).await?;
        add_column(m, "users", &mut timestamp_with_time_zone_null("password_changed_at")).await?;
        add_column(m, "users", boolean("is_org_admin").default(false)).await?;
        m.create_index(unique("users", &["phone_hash"])).await?;
        add_column(m, "organisations", &mut string_len_null("channel", 32)).await?;
        // "full" once every required factor passed; "mfa" while a second factor is pending.
        add_column(m, "sessions", string_len("stage", 8).default("full")).await?;

        m.create_table(
            Table::create()
                .table("role_permissions")
                .col(big_integer("role_id"))
                .col(string_len("permission", 64))
                .col(string_len("scope", 8))
                .primary_key(Index::create().col("role_id").col("permission"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_role_permissions_role_id")
                        .from("role_permissions", "role_id")
                        .to("roles", "id"),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("menus")
                .col(big_pk_auto("id"))
                .col(big_integer_null("parent_id"))
                .col(string_len("code", 64))
                .col(string_len("label", 32))
                .col(string_len_null("href", 200))
                .col(string_len_null("permission", 64))
                .col(integer("sort").default(0))
                .col(boolean("visible").default(true))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("menus", &["code"])).await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(big_integer("seq"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_org_id"))
                .col(string_len("actor_name", 64))
                .col(string_len("action", 64))
                .col(string_len("target_type", 32))
                .col(string_len_null("target_id", 64))
                .col(text("detail"))
                .col(string_len("ip", 64))
                .col(string_len("user_agent", 256))
                .col(string_len("request_id", 64))
                .col(string_len("result", 16))
                .col(string_len("prev_hash", 64))
                .col(string_len("hash", 64))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("audit_log", &["seq"])).await?;
        m.create_index(index("audit_log", &["at"])).await?;
        m.create_index(index("audit_log", &["actor_user_id"])).await?;
        m.create_index(index("audit_log", &["action"])).await?;

        m.create_table(
            Table::create()
                .table("audit_head")
                .col(integer("id").primary_key())
                .col(big_integer("seq"))
                .col(string_len("hash", 64))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("audit_head")
                .columns(["id", "seq", "hash"])
                .values_panic([1.into(), 0i64.into(), "0".repeat(64).into()])
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("login_log")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("username", 64))
                .col(big_integer_null("user_id"))
                .col(string_len("ip", 64))
                .col(string_len("user_agent", 256))
                .col(string_len("result", 16))
                .col(string_len("reason", 64))
                .to_owned(),
        )
        .await?;
        m.create_index(index("login_log", &["at"])).await?;
        m.create_index(index("login_log", &["username", "at"])).await?;

        m.create_table(
            Table::create()
                .table("sms_outbox")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(text("phone_enc"))
                .col(string_len("phone_hash", 64))
                .col(string_len("phone_masked", 16))
                .col(string_len("template", 64))
                .col(text("content"))
                .col(string_len("provider", 16))
                .col(string_len_null("provider_msg_id", 128))
                .col(string_len("status", 16))
                .col(text_null("error"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sms_outbox", &["at"])).await?;
        m.create_index(index("sms_outbox", &["phone_hash", "at"])).await?;

        m.create_table(
            Table::create()
                .table("sms_codes")
                .col(big_pk_auto("id"))
                .col(string_len("phone_hash", 64))
                .col(string_len("purpose", 16))
                .col(string_len("code_hash", 64))
                .col(string_len("ip", 64))
                .col(integer("attempts").default(0))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sms_codes", &["phone_hash", "purpose", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table("captchas")
                .col(string_len("id", 64).primary_key())
                .col(string_len("answer", 16))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("captchas", &["expires_at"])).await?;

        m.create_table(
            Table::create()
                .table("rate_events")
                .col(big_pk_auto("id"))
                .col(string_len("key", 160))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("rate_events", &["key", "at"])).await?;
        Ok(())
    }
}
