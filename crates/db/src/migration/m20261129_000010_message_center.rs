//! The message center (消息中心): templates with a version per channel, each
//! user's channel preferences and quiet hours, deliveries with their attempt
//! log, broadcasts, and the WeChat official account (bindings, auto-replies,
//! menu, event log).

use super::util::{index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("message_templates")
                .col(big_pk_auto("id"))
                .col(string_len("key", 64))
                .col(string_len("name", 100))
                .col(string_len("category", 32))
                .col(boolean("urgent"))
                .col(string_len("variables", 500))
                .col(string_len("inbox_title", 200))
                .col(text("inbox_body"))
                .col(text("sms_text"))
                .col(string_len("sms_template_code", 64))
                .col(string_len("wechat_template_id", 128))
                .col(string_len("wechat_subscribe_template_id", 128))
                .col(text("wechat_fields"))
                .col(string_len("email_subject", 200))
                .col(text("email_body"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("message_templates", &["key"])).await?;
        m.create_table(
            Table::create()
                .table("message_preferences")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("category", 32))
                .col(string_len("channel", 16))
                .col(boolean("enabled"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("message_preferences", &["user_id", "category", "channel"])).await?;
        m.create_table(
            Table::create()
                .table("message_settings")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(integer("quiet_start"))
                .col(integer("quiet_end"))
                .col(boolean("marketing_opt_out"))
                .col(text_null("email_enc"))
                .col(string_len_null("email_masked", 128))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("message_settings", &["user_id"])).await?;
        m.create_table(
            Table::create()
                .table("deliveries")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer_null("message_id"))
                .col(big_integer_null("broadcast_id"))
                .col(string_len("template_key", 64))
                .col(string_len("category", 32))
                .col(string_len("channel", 16))
                .col(boolean("urgent"))
                .col(string_len("subject", 200))
                .col(text("body"))
                .col(text("data"))
                .col(string_len("status", 16))
                .col(integer("attempts"))
                .col(string_len("provider", 32))
                .col(string_len_null("provider_message_id", 128))
                .col(string_len_null("last_error", 500))
                .col(timestamp_with_time_zone("due_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("deliveries", &["broadcast_id"])).await?;
        m.create_index(index("deliveries", &["user_id"])).await?;
        m.create_index(index("deliveries", &["status"])).await?;
        m.create_table(
            Table::create()
                .table("delivery_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("delivery_id"))
                .col(string_len("channel", 16))
                .col(string_len("provider", 32))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("status", 16))
                .col(string_len_null("provider_message_id", 128))
                .col(string_len_null("error", 500))
                .to_owned(),
        )
        .await?;
        m.create_index(index("delivery_attempts", &["channel", "at"])).await?;
        m.create_index(index("delivery_attempts", &["delivery_id"])).await?;
        m.alter_table(Table::alter().table("messages").add_column(big_integer_null("broadcast_id")).to_owned()).await?;
        m.create_index(index("messages", &["broadcast_id"])).await?;
        m.create_table(
            Table::create()
                .table("broadcasts")
                .col(big_pk_auto("id"))
                .col(string_len("title", 200))
                .col(text("body"))
                .col(string_len("kind", 16))
                .col(string_len("channels", 64))
                .col(text("segment"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("scheduled_at"))
                .col(integer("recipients"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("wechat_bindings")
                .col(big_pk_auto("id"))
                .col(string_len("openid", 64))
                .col(big_integer_null("user_id"))
                .col(boolean("subscribed"))
                .col(string_len("scene", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("wechat_bindings", &["openid"])).await?;
        m.create_index(index("wechat_bindings", &["user_id"])).await?;
        m.create_table(
            Table::create()
                .table("wechat_auto_replies")
                .col(big_pk_auto("id"))
                .col(string_len("keyword", 64))
                .col(string_len("match_kind", 16))
                .col(string_len("reply_kind", 16))
                .col(text("content"))
                .col(boolean("enabled"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("wechat_menus")
                .col(big_pk_auto("id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(string_len_null("publish_status", 500))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("wechat_logs")
                .col(big_pk_auto("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len("kind", 32))
                .col(string_len("openid", 64))
                .col(string_len("detail", 500))
                .to_owned(),
        )
        .await?;
        m.create_index(index("wechat_logs", &["at"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "wechat_logs",
            "wechat_menus",
            "wechat_auto_replies",
            "wechat_bindings",
            "broadcasts",
            "delivery_attempts",
            "deliveries",
            "message_settings",
            "message_preferences",
            "message_templates",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("messages").drop_column("broadcast_id").to_owned()).await?;
        Ok(())
    }
}
