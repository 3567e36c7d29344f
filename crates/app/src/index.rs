//! Kernel: this node's search index handle and the change log every area
//! writes to. A use case that creates, changes or removes a searchable item
//! calls [`touch`] inside its transaction; the search area (`crate::search`)
//! follows the log and answers queries.

use chrono::{DateTime, Utc};
use qifu_db::entity::search_change;
use qifu_search::SearchIndex;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

pub use qifu_search::Kind;

/// The change-log kind that asks every node to rebuild its index from the
/// database (the other kinds are [`Kind`] codes).
pub const REBUILD_ALL: &str = "*";

/// The node's index, once opened.
#[derive(Default)]
pub struct SearchService {
    pub(crate) index: RwLock<Option<Arc<SearchIndex>>>,
    pub(crate) ready: AtomicBool,
    /// One sync at a time (the background loop, `qifu reindex`, tests).
    pub(crate) syncing: tokio::sync::Mutex<()>,
    /// Set when reading or writing the index failed: the next sync rebuilds it.
    pub(crate) broken: AtomicBool,
    pub(crate) health: std::sync::Mutex<IndexHealth>,
}

/// What this node's index has been through, for `/readyz` and the back office.
#[derive(Debug, Clone, Default)]
pub struct IndexHealth {
    /// The last full rebuild: when, documents, seconds, and why.
    pub last_rebuild: Option<(DateTime<Utc>, usize, f64, String)>,
    /// The last comparison with the database: when, and how many items it repaired.
    pub last_reconcile: Option<(DateTime<Utc>, usize)>,
    /// The last failure, if it has not been followed by a success.
    pub last_error: Option<(DateTime<Utc>, String)>,
    pub rebuilding: bool,
}

impl std::fmt::Debug for SearchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchService").field("ready", &self.is_ready()).finish()
    }
}

impl SearchService {
    /// Whether searches go to the index (it is open and fully built).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && !self.broken.load(Ordering::Acquire)
    }

    pub(crate) fn index(&self) -> Option<Arc<SearchIndex>> {
        self.index.read().ok().and_then(|g| g.clone())
    }

    /// Whether an index is open on this node.
    pub fn is_open(&self) -> bool {
        self.index().is_some()
    }

    pub fn health(&self) -> IndexHealth {
        self.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut IndexHealth)) {
        if let Ok(mut h) = self.health.lock() {
            f(&mut h);
        }
    }

    /// Marks the index as failing: searches fall back to titles and the next sync rebuilds it.
    pub(crate) fn mark_broken(&self, now: DateTime<Utc>, why: String) {
        self.broken.store(true, Ordering::Release);
        self.update(|h| h.last_error = Some((now, why)));
    }
}

/// Records that an item changed, inside the caller's transaction.
pub async fn touch<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>, kind: Kind, id: i64) -> Result<(), DbErr> {
    search_change::ActiveModel { kind: Set(kind.as_str().to_owned()), entity_id: Set(id), at: Set(now), ..Default::default() }
        .insert(conn)
        .await?;
    Ok(())
}

/// Asks every node to rebuild its index from the database.
pub async fn request_rebuild<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<(), DbErr> {
    search_change::ActiveModel { kind: Set(REBUILD_ALL.to_owned()), entity_id: Set(0), at: Set(now), ..Default::default() }
        .insert(conn)
        .await?;
    Ok(())
}
