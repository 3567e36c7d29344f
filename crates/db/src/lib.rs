//! qifu storage: connection setup for SQLite and PostgreSQL, backend-neutral
//! migrations, SeaORM entities, and the read models that pages use.
//! Dialect differences stay inside this crate.

pub mod entity;
pub mod jobs;
pub mod migration;
pub mod read;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use sea_orm_migration::MigratorTrait;
use std::path::Path;
use std::time::Duration;
use thiserror::Error;

pub use sea_orm;

/// Pool and SQLite tuning.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub sqlite_busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions { max_connections: 10, acquire_timeout: Duration::from_secs(5), sqlite_busy_timeout: Duration::from_secs(5) }
    }
}

#[derive(Debug, Error)]
pub enum ConnectError {
    #[error("不支持的数据库地址“{0}”：只支持 sqlite:// 和 postgres:// (unsupported database URL scheme)")]
    UnsupportedScheme(String),
    #[error("无法连接数据库 {url}：{source}")]
    Connect { url: String, source: DbErr },
    #[error("无法创建数据目录 {path}：{source}")]
    DataDir { path: String, source: std::io::Error },
}

/// Which backend a URL selects.
pub fn backend_of(url: &str) -> Result<DatabaseBackend, ConnectError> {
    if url.starts_with("sqlite:") {
        Ok(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(DatabaseBackend::Postgres)
    } else {
        let scheme = url.split(':').next().unwrap_or(url);
        Err(ConnectError::UnsupportedScheme(scheme.to_owned()))
    }
}

/// The SQLite URL for `qifu.db` inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("qifu.db").display())
}

/// A URL with any password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens a pool. SQLite gets WAL, a busy timeout and foreign keys on every connection.
/// The SQLite file is created readable by its owner only (0600) before SQLite
/// opens it (SQLite gives its -wal and -shm files the same mode); an existing
/// file is narrowed to 0600 too.
fn private_database_file(path: &Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let p = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

pub async fn connect(url: &str, opts: &DbOptions) -> Result<DatabaseConnection, ConnectError> {
    let backend = backend_of(url)?;
    if backend == DatabaseBackend::Sqlite {
        let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| ConnectError::DataDir { path: parent.display().to_string(), source })?;
        }
        private_database_file(Path::new(path)).map_err(|source| ConnectError::DataDir { path: path.to_owned(), source })?;
    }
    let mut co = ConnectOptions::new(url.to_owned());
    co.max_connections(opts.max_connections)
        .acquire_timeout(opts.acquire_timeout)
        .connect_timeout(opts.acquire_timeout)
        .sqlx_logging(false);
    // A COMMIT refused by a full disk can leave SQLite's transaction open on
    // that connection, holding the write lock after space is freed ("database
    // is locked" for every other writer). While storage trouble was seen
    // recently, each connection is rolled back before it is handed out again
    // (a no-op error when nothing is open), so writes recover without a restart.
    co.map_sqlx_sqlite_before_acquire(|conn, _meta| {
        Box::pin(async move {
            if storage_trouble_recently() {
                let _ = sea_orm::sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
            }
            Ok(true)
        })
    });
    let busy = opts.sqlite_busy_timeout;
    co.map_sqlx_sqlite_opts(move |o| {
        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(busy)
            .foreign_keys(true)
            .create_if_missing(true)
    });
    Database::connect(co).await.map_err(|source| ConnectError::Connect { url: redact_url(url), source })
}

/// Runs every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migration::Migrator::up(db, None).await
}

#[derive(Debug, Error)]
pub enum OpenError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] DbErr),
}

/// Migrates on a connection of its own, closes it, then opens the pool. On
/// SQLite a pooled connection that read before the schema changed can keep a
/// stale snapshot of the schema, so the pool must only ever see the migrated one.
pub async fn open(url: &str, opts: &DbOptions) -> Result<DatabaseConnection, OpenError> {
    let one = DbOptions { max_connections: 1, ..opts.clone() };
    let conn = connect(url, &one).await?;
    migrate(&conn).await?;
    conn.close().await?;
    Ok(connect(url, opts).await?)
}

/// Names of the migrations applied so far.
pub async fn applied_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT version FROM seaql_migrations ORDER BY version"))
        .await?;
    rows.iter().map(|r| r.try_get::<String>("", "version")).collect()
}

/// A cheap round trip used by `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_raw(Statement::from_string(db.get_database_backend(), "SELECT 1")).await.map(|_| ())
}

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the
/// write lock is taken at the start, so the busy timeout applies while waiting
/// for another writer, instead of a deferred transaction failing at once with
/// "database is locked" when its first write cannot upgrade its read snapshot.
/// On PostgreSQL it is an ordinary `BEGIN`.
pub async fn begin_write<C: sea_orm::TransactionTrait>(conn: &C) -> Result<C::Transaction, DbErr> {
    conn.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Writes one row in a transaction of its own. On SQLite an `INSERT …
/// RETURNING` (or `UPDATE … RETURNING`) outside a transaction commits when the
/// statement is reset, after its row was read, and a failure of that commit (a
/// full disk) is not reported: the write would be acknowledged and lost. Inside
/// an explicit transaction the failure surfaces at `COMMIT`.
pub trait Committed: Sized {
    type Model;
    fn insert_committed(self, db: &DatabaseConnection) -> impl std::future::Future<Output = Result<Self::Model, DbErr>> + Send;
    fn update_committed(self, db: &DatabaseConnection) -> impl std::future::Future<Output = Result<Self::Model, DbErr>> + Send;
}

impl<A> Committed for A
where
    A: sea_orm::ActiveModelTrait + sea_orm::ActiveModelBehavior + Send + 'static,
    <A::Entity as sea_orm::EntityTrait>::Model: sea_orm::IntoActiveModel<A>,
{
    type Model = <A::Entity as sea_orm::EntityTrait>::Model;

    async fn insert_committed(self, db: &DatabaseConnection) -> Result<Self::Model, DbErr> {
        let txn = begin_write(db).await?;
        let m = self.insert(&txn).await?;
        txn.commit().await?;
        Ok(m)
    }

    async fn update_committed(self, db: &DatabaseConnection) -> Result<Self::Model, DbErr> {
        let txn = begin_write(db).await?;
        let m = self.update(&txn).await?;
        txn.commit().await?;
        Ok(m)
    }
}

/// Whether an error says the database was busy (SQLite "database is locked" /
/// SQLITE_BUSY after the busy timeout, a busy snapshot, or a pool that had no
/// connection free in time): the request may be retried, it is not a fault.
pub fn is_busy(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("database is locked")
        || text.contains("SQLITE_BUSY")
        || text.contains("(code: 5)")
        || text.contains("(code: 517)")
        || text.contains("acquire connection")
        || matches!(err, DbErr::ConnectionAcquire(_))
}

static STORAGE_TROUBLE: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);

/// Records that the storage refused a write (see [`connect`]: connections are
/// cleaned before reuse for a minute after).
pub fn note_storage_trouble() {
    if let Ok(mut t) = STORAGE_TROUBLE.lock() {
        *t = Some(std::time::Instant::now());
    }
}

fn storage_trouble_recently() -> bool {
    STORAGE_TROUBLE.lock().ok().and_then(|t| *t).is_some_and(|t| t.elapsed() < Duration::from_secs(60))
}

/// Whether an error says the disk or the file system refused the write
/// (SQLite "database or disk is full", I/O errors; PostgreSQL "No space left").
pub fn is_storage_failure(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("disk is full")
        || text.contains("disk I/O error")
        || text.contains("No space left")
        || text.contains("(code: 13)")
        || text.contains("(code: 10)")
}

/// Whether an error is a unique-constraint violation (both backends).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(backend_of("sqlite://x.db").ok(), Some(DatabaseBackend::Sqlite));
        assert_eq!(backend_of("postgres://u@h/db").ok(), Some(DatabaseBackend::Postgres));
        assert!(matches!(backend_of("mysql://h/db"), Err(ConnectError::UnsupportedScheme(s)) if s == "mysql"));
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/qifu.db"), "sqlite://data/qifu.db");
    }

    /// One connection to a fresh in-memory SQLite database.
    async fn memory() -> DatabaseConnection {
        let mut opts = sea_orm::ConnectOptions::new("sqlite::memory:");
        opts.max_connections(1).min_connections(1).sqlx_logging(false);
        sea_orm::Database::connect(opts).await.unwrap()
    }

    #[tokio::test]
    async fn an_unknown_stored_value_names_table_column_and_value() {
        use qifu_domain::demands::DemandState;
        use sea_orm::{ConnectionTrait, Statement};
        let db = memory().await;
        let row = db
            .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, "SELECT 'bogus' AS status, 'accepted' AS to_status"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<DemandState>("", "to_status").unwrap(), DemandState::Accepted);
        let err = row.try_get::<DemandState>("", "status").unwrap_err();
        assert!(matches!(err, DbErr::Type(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("demands.status") && text.contains("\"bogus\""), "{text}");
        // NULL is not an unknown value: an optional column reads it as None.
        let row =
            db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, "SELECT NULL AS status")).await.unwrap().unwrap();
        assert_eq!(row.try_get::<Option<DemandState>>("", "status").unwrap(), None);
    }

    /// The category-kind migration marks the top-level 融资服务 categories as
    /// financing, and nothing else.
    #[tokio::test]
    async fn category_kind_upgrade_marks_the_financing_top_level_category() {
        use sea_orm::{ConnectionTrait, EntityTrait, Statement};
        let db = memory().await;
        migration::Migrator::up(&db, Some(12)).await.unwrap();
        let sql = "INSERT INTO categories (id, parent_id, name, sort, created_at) VALUES \
                   (1, NULL, '融资服务', 1, '2026-12-01T00:00:00Z'), (2, 1, '信用贷款', 1, '2026-12-01T00:00:00Z'), \
                   (3, NULL, '法律咨询', 2, '2026-12-01T00:00:00Z'), (4, 3, '融资服务', 1, '2026-12-01T00:00:00Z')";
        db.execute_raw(Statement::from_string(DatabaseBackend::Sqlite, sql)).await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let kinds: Vec<(i64, qifu_domain::catalog::CategoryKind)> =
            entity::category::Entity::find().all(&db).await.unwrap().into_iter().map(|c| (c.id, c.kind)).collect();
        use qifu_domain::catalog::CategoryKind::{Financing, Service};
        assert_eq!(kinds, vec![(1, Financing), (2, Service), (3, Service), (4, Service)]);
    }
}
