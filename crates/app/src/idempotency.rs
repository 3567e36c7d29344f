//! Kernel: idempotency keys for the JSON API. A client that did not see the
//! answer to a POST (a dropped connection) retries with the same
//! `Idempotency-Key` and gets the first answer again; the write is not made
//! twice. Keys are kept a day.

use crate::context::Ctx;
use chrono::Duration;
use qifu_db::entity::idempotency_key;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: handle it, then [`finish`] (or [`abandon`] on a server error).
    New,
    /// Answered before: send this again.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still being handled.
    InFlight,
}

/// How long a claim without an answer blocks a retry (a node that died while
/// handling it); after that the request may run again.
const ABANDONED_AFTER_SECS: i64 = 60;

/// Whether a key is acceptable: 1–64 letters, digits, `-` or `_` (UUIDs are).
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Claims `key` for `route` (method and path) and a request fingerprint.
pub async fn claim(ctx: &Ctx, key: &str, route: &str, request_sm3: &str) -> Result<Claim, DbErr> {
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let found = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Route.eq(route))
        .one(&txn)
        .await?;
    let claim = match found {
        Some(row) if row.request_sm3 != request_sm3 => Claim::Mismatch,
        Some(row) => match (row.status, row.response) {
            (Some(status), Some(body)) => Claim::Replay { status: u16::try_from(status).unwrap_or(200), body },
            _ if row.created_at > now - Duration::seconds(ABANDONED_AFTER_SECS) => Claim::InFlight,
            _ => {
                idempotency_key::Entity::update_many()
                    .col_expr(idempotency_key::Column::CreatedAt, sea_orm::sea_query::Expr::value(now))
                    .filter(idempotency_key::Column::Key.eq(key))
                    .filter(idempotency_key::Column::Route.eq(route))
                    .exec(&txn)
                    .await?;
                Claim::New
            }
        },
        None => {
            let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
                key: Set(key.to_owned()),
                route: Set(route.to_owned()),
                request_sm3: Set(request_sm3.to_owned()),
                status: Set(None),
                response: Set(None),
                created_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await;
            match inserted {
                Ok(_) => Claim::New,
                // Another node claimed it between our read and insert.
                Err(e) if qifu_db::is_unique_violation(&e) => Claim::InFlight,
                Err(e) => return Err(e),
            }
        }
    };
    txn.commit().await?;
    Ok(claim)
}

/// Stores the answer of a claimed request.
pub async fn finish(ctx: &Ctx, key: &str, route: &str, status: u16, body: &str) -> Result<(), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Status, sea_orm::sea_query::Expr::value(i32::from(status)))
        .col_expr(idempotency_key::Column::Response, sea_orm::sea_query::Expr::value(body.to_owned()))
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Route.eq(route))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Releases a claim whose request failed on the server side, so a retry runs again.
pub async fn abandon(ctx: &Ctx, key: &str, route: &str) -> Result<(), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::Key.eq(key))
        .filter(idempotency_key::Column::Route.eq(route))
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// Forgets keys older than a day.
pub async fn prune(ctx: &Ctx) -> Result<u64, DbErr> {
    let r = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(ctx.now() - Duration::days(1)))
        .exec(&ctx.db)
        .await?;
    Ok(r.rows_affected)
}
