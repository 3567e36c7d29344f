//! The audit trail hardened (等保 2.0 level 3): the chain head records from which
//! sequence number records are keyed (HMAC-SM3 with a key outside the database);
//! the login log joins the same mechanism (its own chain, head row 2 of
//! `audit_head`); and both logs become append-only for the application: a
//! trigger refuses every UPDATE and DELETE (and TRUNCATE on PostgreSQL).

use super::util::unique;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const APPEND_ONLY: &[&str] = &["audit_log", "login_log"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("audit_head").add_column(big_integer_null("keyed_from")).to_owned()).await?;
        m.exec_stmt(
            Query::insert()
                .into_table("audit_head")
                .columns(["id", "seq", "hash"])
                .values_panic([2.into(), 0i64.into(), "0".repeat(64).into()])
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per statement.
        m.alter_table(Table::alter().table("login_log").add_column(big_integer_null("seq")).to_owned()).await?;
        m.alter_table(Table::alter().table("login_log").add_column(string_len_null("prev_hash", 64)).to_owned()).await?;
        m.alter_table(Table::alter().table("login_log").add_column(string_len_null("hash", 64)).to_owned()).await?;
        m.create_index(unique("login_log", &["seq"])).await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION qifu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION '% is append-only (audit trail)', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$",
                )
                .await?;
                for t in APPEND_ONLY {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION qifu_append_only()"
                    ))
                    .await?;
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION qifu_append_only()"
                    ))
                    .await?;
                }
            }
            _ => {
                for t in APPEND_ONLY {
                    for op in ["UPDATE", "DELETE"] {
                        let lower = op.to_ascii_lowercase();
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {t}_no_{lower} BEFORE {op} ON {t} BEGIN SELECT RAISE(ABORT, '{t} is append-only (audit trail)'); END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                for t in APPEND_ONLY {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_append_only ON {t}")).await?;
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")).await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS qifu_append_only()").await?;
            }
            _ => {
                for t in APPEND_ONLY {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_no_update")).await?;
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {t}_no_delete")).await?;
                }
            }
        }
        Ok(())
    }
}
