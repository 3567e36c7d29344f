//! The foundation: organisations, users, roles, sessions, enterprises, institutions,
//! the content the home page shows, and the job queue.

use super::util::{fk, index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone(name)
}

fn ts_null(name: &'static str) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organisations")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(string_len("name", 200))
                .col(string_len_null("credit_code", 18))
                .col(string_len("status", 16).default("active"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("organisations", &["kind", "status"])).await?;
        m.create_index(unique("organisations", &["credit_code"])).await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("username", 64))
                .col(string_len("display_name", 64))
                .col(text("password_hash"))
                .col(string_len("status", 16).default("active"))
                .col(boolean("must_change_password").default(false))
                .col(ts_null("last_login_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("users", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("users", &["username"])).await?;
        m.create_index(index("users", &["org_id"])).await?;

        m.create_table(
            Table::create()
                .table("roles")
                .col(big_pk_auto("id"))
                .col(string_len("code", 64))
                .col(string_len("name", 64))
                .col(string_len("org_kind", 16))
                .col(boolean("builtin").default(false))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("roles", &["code"])).await?;

        m.create_table(
            Table::create()
                .table("user_roles")
                .col(big_integer("user_id"))
                .col(big_integer("role_id"))
                .primary_key(Index::create().col("user_id").col("role_id"))
                .foreign_key(&mut fk("user_roles", "user_id", "users"))
                .foreign_key(&mut fk("user_roles", "role_id", "roles"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(string_len("id", 64).primary_key())
                .col(big_integer("user_id"))
                .col(string_len("csrf_token", 64))
                .col(string_len("ip", 64))
                .col(string_len("user_agent", 256))
                .col(ts("created_at"))
                .col(ts("last_seen_at"))
                .col(ts("expires_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sessions", &["user_id"])).await?;
        m.create_index(index("sessions", &["expires_at"])).await?;

        m.create_table(
            Table::create()
                .table("enterprises")
                .col(big_pk_auto("id"))
                .col(big_integer_null("org_id"))
                .col(string_len("name", 200))
                .col(string_len("credit_code", 18))
                .col(string_len("legal_rep_name", 64))
                .col(string_len("industry_code", 8))
                .col(string_len("division_code", 12))
                .col(string_len_null("address", 200))
                .col(date("founded_on"))
                .col(big_integer_null("registered_capital_fen"))
                .col(integer_null("employees"))
                .col(big_integer_null("revenue_fen"))
                .col(big_integer_null("total_assets_fen"))
                .col(string_len_null("size_class", 16))
                .col(boolean("above_designated_size").default(false))
                .col(boolean("certified").default(false))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("enterprises", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("enterprises", &["credit_code"])).await?;
        m.create_index(index("enterprises", &["org_id"])).await?;
        m.create_index(index("enterprises", &["industry_code"])).await?;
        m.create_index(index("enterprises", &["division_code"])).await?;
        m.create_index(index("enterprises", &["size_class"])).await?;

        m.create_table(
            Table::create()
                .table("institutions")
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("kind", 32))
                .col(text("intro"))
                .col(string_len_null("contact_name", 64))
                .col(string_len_null("address", 200))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("institutions", "org_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("institutions", &["org_id"])).await?;
        m.create_index(index("institutions", &["kind"])).await?;

        m.create_table(
            Table::create()
                .table("categories")
                .col(big_pk_auto("id"))
                .col(big_integer_null("parent_id"))
                .col(string_len("name", 64))
                .col(integer("sort").default(0))
                .col(ts("created_at"))
                .foreign_key(&mut fk("categories", "parent_id", "categories"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("categories", &["parent_id", "sort"])).await?;

        m.create_table(
            Table::create()
                .table("products")
                .col(big_pk_auto("id"))
                .col(big_integer("institution_id"))
                .col(big_integer("category_id"))
                .col(string_len("name", 100))
                .col(string_len("summary", 300))
                .col(text("description"))
                .col(string_len("pricing", 16))
                .col(big_integer_null("price_fen"))
                .col(string_len("delivery_mode", 16))
                .col(string_len("status", 16))
                .col(integer("applied_count").default(0))
                .col(ts_null("published_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .foreign_key(&mut fk("products", "institution_id", "institutions"))
                .foreign_key(&mut fk("products", "category_id", "categories"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("products", &["status", "published_at"])).await?;
        m.create_index(index("products", &["institution_id"])).await?;
        m.create_index(index("products", &["category_id"])).await?;

        m.create_table(
            Table::create()
                .table("policies")
                .col(big_pk_auto("id"))
                .col(string_len("title", 200))
                .col(string_len_null("doc_no", 100))
                .col(string_len("issuer", 100))
                .col(string_len("level", 16))
                .col(date("publish_date"))
                .col(date_null("valid_until"))
                .col(string_len("support_type", 32))
                .col(string_len("summary", 500))
                .col(text("body"))
                .col(string_len_null("source_url", 500))
                .col(string_len("status", 16))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("policies", &["status", "publish_date"])).await?;

        m.create_table(
            Table::create()
                .table("articles")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(string_len("title", 200))
                .col(string_len("source", 100))
                .col(string_len("summary", 500))
                .col(text("body"))
                .col(string_len("status", 16))
                .col(ts_null("published_at"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("articles", &["kind", "status", "published_at"])).await?;

        m.create_table(
            Table::create()
                .table("activities")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(string_len("title", 200))
                .col(string_len("organizer", 100))
                .col(string_len("location", 200))
                .col(ts("starts_at"))
                .col(ts("ends_at"))
                .col(string_len("summary", 500))
                .col(text("body"))
                .col(integer("capacity").default(0))
                .col(string_len("status", 16))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("activities", &["status", "starts_at"])).await?;

        m.create_table(
            Table::create()
                .table("jobs")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 64))
                .col(text("payload"))
                .col(string_len_null("dedup_key", 200))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(integer("max_attempts"))
                .col(ts("run_at"))
                .col(string_len_null("locked_by", 64))
                .col(ts_null("locked_until"))
                .col(text_null("last_error"))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .col(ts_null("finished_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("jobs", &["kind", "dedup_key"])).await?;
        m.create_index(index("jobs", &["status", "run_at"])).await?;
        Ok(())
    }
}
