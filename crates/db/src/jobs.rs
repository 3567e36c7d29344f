//! The job queue table. Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so
//! several nodes can share the queue; SQLite serialises writers, so one worker
//! claims at a time there.

use crate::entity::job;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use qifu_domain::system::JobStatus;

const QUEUED: &str = JobStatus::Queued.code();
const RUNNING: &str = JobStatus::Running.code();
const DONE: &str = JobStatus::Done.code();
const DEAD: &str = JobStatus::Dead.code();

/// A job to put on the queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// Same kind + key = the same logical job: enqueued at most once.
    pub dedup_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

/// Writes SQL with `$1`-style placeholders for PostgreSQL and `?1` for SQLite.
fn stmt(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DatabaseBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Enqueues inside the caller's connection or transaction. Returns the new id, or
/// `None` when a job with the same kind and dedup key already exists.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, job: NewJob, now: DateTime<Utc>) -> Result<Option<i64>, DbErr> {
    let model = job::ActiveModel {
        kind: Set(job.kind),
        payload: Set(job.payload),
        dedup_key: Set(job.dedup_key),
        status: Set(JobStatus::Queued),
        attempts: Set(0),
        max_attempts: Set(job.max_attempts),
        run_at: Set(job.run_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let res = job::Entity::insert(model)
        .on_conflict(OnConflict::columns([job::Column::Kind, job::Column::DedupKey]).do_nothing().to_owned())
        .exec(conn)
        .await;
    match res {
        Ok(r) => Ok(Some(r.last_insert_id)),
        Err(DbErr::RecordNotInserted) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Claims up to `limit` due jobs (or jobs whose lease expired) for `worker`.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<job::Model>, DbErr> {
    claim_of(conn, worker, now, lease_until, limit, None).await
}

/// Claims up to `limit` due jobs of one kind (or of any kind when `kind` is `None`).
pub async fn claim_of<C: ConnectionTrait>(
    conn: &C,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
    kind: Option<&str>,
) -> Result<Vec<job::Model>, DbErr> {
    let backend = conn.get_database_backend();
    let lock = if backend == DatabaseBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let of_kind = if kind.is_some() { " AND kind = $5" } else { "" };
    let sql = format!(
        "UPDATE jobs SET status = '{RUNNING}', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id IN (SELECT id FROM jobs WHERE ((status = '{QUEUED}' AND run_at <= $3) \
         OR (status = '{RUNNING}' AND locked_until < $3)){of_kind} ORDER BY run_at, id LIMIT $4{lock}) RETURNING *"
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values: Vec<Value> = vec![worker.into(), lease_until.into(), now.into(), limit.into()];
    if let Some(k) = kind {
        values.push(k.into());
    }
    let rows = conn.query_all_raw(stmt(backend, &sql, values)).await?;
    rows.iter().map(|r| job::Model::from_query_result(r, "")).collect()
}

/// The kinds that have a job due now (queued and due, or with an expired lease).
pub async fn due_kinds<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<Vec<String>, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT DISTINCT kind FROM jobs WHERE (status = '{QUEUED}' AND run_at <= $1) OR (status = '{RUNNING}' AND locked_until < $1)"
    );
    let rows = conn.query_all_raw(stmt(backend, &sql, vec![now.into()])).await?;
    rows.iter().map(|r| r.try_get::<String>("", "kind")).collect()
}

/// Extends the lease of jobs `worker` is running (its heartbeat).
pub async fn renew<C: ConnectionTrait>(conn: &C, worker: &str, ids: &[i64], lease_until: DateTime<Utc>) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let r = job::Entity::update_many()
        .col_expr(job::Column::LockedUntil, sea_orm::sea_query::Expr::value(lease_until))
        .filter(job::Column::Id.is_in(ids.to_vec()))
        .filter(job::Column::LockedBy.eq(worker))
        .filter(job::Column::Status.eq(JobStatus::Running))
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// Gives back jobs `worker` claimed but did not finish (a shutdown): queued
/// again at once, the interrupted attempt not counted.
pub async fn release<C: ConnectionTrait>(conn: &C, worker: &str, ids: &[i64], now: DateTime<Utc>) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let backend = conn.get_database_backend();
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "UPDATE jobs SET status = '{QUEUED}', locked_by = NULL, locked_until = NULL, run_at = $1, updated_at = $1, \
         attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END \
         WHERE status = '{RUNNING}' AND locked_by = $2 AND id IN ({})",
        placeholders.join(", ")
    );
    let mut values: Vec<Value> = vec![now.into(), worker.into()];
    values.extend(ids.iter().map(|i| Value::from(*i)));
    let r = conn.execute_raw(stmt(backend, &sql, values)).await?;
    Ok(r.rows_affected())
}

/// Marks a claimed job done.
pub async fn complete<C: ConnectionTrait>(conn: &C, id: i64, worker: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "UPDATE jobs SET status = '{DONE}', locked_by = NULL, locked_until = NULL, finished_at = $1, updated_at = $1, last_error = NULL \
         WHERE id = $2 AND locked_by = $3"
    );
    conn.execute_raw(stmt(backend, &sql, vec![now.into(), id.into(), worker.into()])).await?;
    Ok(())
}

/// Records a failure: back to the queue at `retry_at`, or dead when attempts are used up.
/// Returns true when the job is now dead.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    job: &job::Model,
    worker: &str,
    now: DateTime<Utc>,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let dead = job.attempts >= job.max_attempts;
    let error: String = error.chars().take(4000).collect();
    let sql = if dead {
        format!(
            "UPDATE jobs SET status = '{DEAD}', locked_by = NULL, locked_until = NULL, last_error = $1, updated_at = $2, finished_at = $2 \
             WHERE id = $3 AND locked_by = $4"
        )
    } else {
        format!(
            "UPDATE jobs SET status = '{QUEUED}', locked_by = NULL, locked_until = NULL, last_error = $1, updated_at = $2, run_at = $5 \
             WHERE id = $3 AND locked_by = $4"
        )
    };
    let mut values: Vec<Value> = vec![error.into(), now.into(), job.id.into(), worker.into()];
    if !dead {
        values.push(retry_at.into());
    }
    conn.execute_raw(stmt(backend, &sql, values)).await?;
    Ok(dead)
}

/// Puts a dead job back on the queue with fresh attempts.
pub async fn retry_dead<C: ConnectionTrait>(conn: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "UPDATE jobs SET status = '{QUEUED}', attempts = 0, run_at = $1, updated_at = $1, finished_at = NULL WHERE id = $2 AND status = '{DEAD}'"
    );
    let r = conn.execute_raw(stmt(backend, &sql, vec![now.into(), id.into()])).await?;
    Ok(r.rows_affected() == 1)
}

/// Deletes finished jobs older than `before` (dead jobs are kept).
pub async fn prune_done<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let r = job::Entity::delete_many()
        .filter(job::Column::Status.eq(JobStatus::Done))
        .filter(job::Column::FinishedAt.lt(before))
        .exec(conn)
        .await?;
    Ok(r.rows_affected)
}

/// Number of jobs per status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub dead: u64,
}

pub async fn stats<C: ConnectionTrait>(conn: &C) -> Result<QueueStats, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        status: JobStatus,
        n: i64,
    }
    let rows = Row::find_by_statement(Statement::from_string(
        conn.get_database_backend(),
        "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status",
    ))
    .all(conn)
    .await?;
    let mut s = QueueStats::default();
    for r in rows {
        let n = u64::try_from(r.n).unwrap_or(0);
        match r.status {
            JobStatus::Queued => s.queued = n,
            JobStatus::Running => s.running = n,
            JobStatus::Done => s.done = n,
            JobStatus::Dead => s.dead = n,
        }
    }
    Ok(s)
}

/// A page of jobs, newest first, optionally of one status.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    status: Option<JobStatus>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<job::Model>, u64), DbErr> {
    let mut q = job::Entity::find().order_by_desc(job::Column::Id);
    if let Some(s) = status {
        q = q.filter(job::Column::Status.eq(s));
    }
    let total = q.clone().count(conn).await?;
    let items = q.offset(page.saturating_sub(1) * per_page).limit(per_page).all(conn).await?;
    Ok((items, total))
}
