//! Policy eligibility rules (versioned), match results kept with the version
//! they were computed with, pushes recorded once, and the enterprise attributes
//! rules look at.

use super::util::{index, unique};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add(m: &SchemaManager<'_>, table: &'static str, col: ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite alters one at a time.
    m.alter_table(Table::alter().table(table).add_column(col).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "policies", text("region").default("").to_owned()).await?;
        add(m, "policies", text("tags").default("").to_owned()).await?;
        add(m, "policies", big_integer_null("amount_max_wan").to_owned()).await?;
        add(m, "policies", date_null("apply_until").to_owned()).await?;
        add(m, "policies", text("interpretation").default("").to_owned()).await?;
        add(m, "policies", integer("rule_version").default(0).to_owned()).await?;

        add(m, "enterprises", integer_null("rd_ratio_bp").to_owned()).await?;
        add(m, "enterprises", text_null("qualifications").to_owned()).await?;
        add(m, "enterprises", string_len_null("credit_standing", 16).to_owned()).await?;
        add(m, "enterprises", text_null("custom_attrs").to_owned()).await?;

        add(m, "organisations", boolean("policy_push_opt_out").default(false).to_owned()).await?;

        m.create_table(
            Table::create()
                .table("policy_rule_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("policy_id"))
                .col(integer("version"))
                .col(text("rule"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("policy_rule_versions", &["policy_id", "version"])).await?;

        m.create_table(
            Table::create()
                .table("policy_matches")
                .col(big_pk_auto("id"))
                .col(big_integer("policy_id"))
                .col(integer("version"))
                .col(big_integer("enterprise_id"))
                .col(string_len("verdict", 16))
                .col(text("trace"))
                .col(timestamp_with_time_zone("computed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("policy_matches", &["policy_id", "version", "enterprise_id"])).await?;
        m.create_index(index("policy_matches", &["enterprise_id"])).await?;

        m.create_table(
            Table::create()
                .table("policy_pushes")
                .col(big_pk_auto("id"))
                .col(big_integer("policy_id"))
                .col(big_integer("enterprise_id"))
                .col(big_integer("org_id"))
                .col(integer("version"))
                .col(timestamp_with_time_zone("pushed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("policy_pushes", &["policy_id", "enterprise_id"])).await?;

        // Qualifications enterprises can declare (资质名录); the operator adds more.
        m.create_table(
            Table::create()
                .table("qualification_kinds")
                .col(big_pk_auto("id"))
                .col(string_len("name", 32))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(unique("qualification_kinds", &["name"])).await?;
        let now = chrono::Utc::now();
        for name in ["高新技术企业", "专精特新中小企业", "专精特新“小巨人”", "科技型中小企业", "创新型中小企业"]
        {
            m.exec_stmt(
                Query::insert()
                    .into_table("qualification_kinds")
                    .columns(["name", "created_at"])
                    .values_panic([name.into(), now.into()])
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["qualification_kinds", "policy_pushes", "policy_matches", "policy_rule_versions"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
