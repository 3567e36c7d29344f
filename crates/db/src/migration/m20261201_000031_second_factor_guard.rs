//! Second-factor brute force (issue 26): failures of the second factor (SMS and
//! authenticator together) counted per pending session and per user, and the
//! last accepted authenticator time step, so a code cannot be replayed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        m.alter_table(Table::alter().table("users").add_column(integer("mfa_failures").default(0)).to_owned()).await?;
        m.alter_table(Table::alter().table("users").add_column(big_integer_null("totp_last_step")).to_owned()).await?;
        m.alter_table(Table::alter().table("sessions").add_column(integer("mfa_failures").default(0)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("sessions").drop_column("mfa_failures").to_owned()).await?;
        m.alter_table(Table::alter().table("users").drop_column("totp_last_step").to_owned()).await?;
        m.alter_table(Table::alter().table("users").drop_column("mfa_failures").to_owned()).await
    }
}
