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

/// The node's index, once opened.
#[derive(Default)]
pub struct SearchService {
    pub(crate) index: RwLock<Option<Arc<SearchIndex>>>,
    pub(crate) ready: AtomicBool,
    /// One sync at a time (the background loop, `qifu reindex`, tests).
    pub(crate) syncing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SearchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchService").field("ready", &self.is_ready()).finish()
    }
}

impl SearchService {
    /// Whether searches go to the index (it is open and fully built).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(crate) fn index(&self) -> Option<Arc<SearchIndex>> {
        self.index.read().ok().and_then(|g| g.clone())
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
    search_change::ActiveModel { kind: Set("*".to_owned()), entity_id: Set(0), at: Set(now), ..Default::default() }
        .insert(conn)
        .await?;
    Ok(())
}
