//! Demands (需求): applications for products and financing, their timeline and
//! the message thread between the two sides.

use super::util::index;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("demands")
                .col(big_pk_auto("id"))
                .col(big_integer("product_id"))
                .col(big_integer("institution_id"))
                .col(big_integer("enterprise_org_id"))
                .col(big_integer("applicant_user_id"))
                .col(string_len("kind", 16))
                .col(string_len("status", 16))
                .col(text("needs"))
                .col(string_len("contact_name", 32))
                .col(text("contact_phone_enc"))
                .col(string_len("contact_phone_masked", 16))
                .col(date_null("expected_date"))
                .col(big_integer_null("amount_fen"))
                .col(integer_null("term_months"))
                .col(string_len_null("purpose", 200))
                .col(string_len_null("guarantee_mode", 32))
                .col(text_null("financial_summary"))
                .col(big_integer_null("assignee_user_id"))
                .col(string_len_null("decline_reason", 500))
                .col(text_null("proof_note"))
                .col(big_integer_null("proof_file_id"))
                .col(big_integer_null("attachment_file_id"))
                // The enterprise's rating (评价) after the service: 1–5 stars and a comment.
                .col(integer_null("rating"))
                .col(string_len_null("rating_comment", 300))
                .col(timestamp_with_time_zone_null("rated_at"))
                .col(big_integer_null("granted_amount_fen"))
                .col(integer_null("granted_rate_bp"))
                .col(integer_null("granted_term_months"))
                .col(timestamp_with_time_zone_null("reminded_at"))
                .col(timestamp_with_time_zone_null("escalated_at"))
                .col(timestamp_with_time_zone_null("accepted_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("demands", &["institution_id", "status", "created_at"])).await?;
        m.create_index(index("demands", &["enterprise_org_id", "created_at"])).await?;
        m.create_index(index("demands", &["status", "created_at"])).await?;

        m.create_table(
            Table::create()
                .table("demand_events")
                .col(big_pk_auto("id"))
                .col(big_integer("demand_id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer_null("actor_user_id"))
                .col(string_len("actor_name", 64))
                .col(string_len("event", 32))
                .col(string_len("from_status", 16))
                .col(string_len("to_status", 16))
                .col(string_len("note", 500))
                .to_owned(),
        )
        .await?;
        m.create_index(index("demand_events", &["demand_id", "at"])).await?;

        m.create_table(
            Table::create()
                .table("demand_messages")
                .col(big_pk_auto("id"))
                .col(big_integer("demand_id"))
                .col(timestamp_with_time_zone("at"))
                .col(big_integer("user_id"))
                .col(string_len("author_name", 64))
                .col(string_len("side", 16))
                .col(text("body"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("demand_messages", &["demand_id", "at"])).await?;
        // Products keep their rating totals, for sorting by 评分最高 without a join.
        for col in [integer("rating_count").default(0), integer("rating_sum").default(0)] {
            m.alter_table(Table::alter().table("products").add_column(col.clone()).to_owned()).await?;
        }
        Ok(())
    }
}
