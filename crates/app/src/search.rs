//! Keeping the search index current and asking it.
//!
//! Every use case that creates, changes or removes a searchable item calls
//! [`touch`] inside its transaction: a row in `search_changes` that commits or
//! rolls back with the change. Each node running the portal holds its own index
//! under `<data_dir>/search` and follows that log ([`sync`], every few seconds),
//! storing the last applied id in the index's own commit; so several nodes each
//! keep their own index current, and a node that was down catches up. A change
//! of kind `*` (written by `qifu reindex` and by the demo) makes every node
//! rebuild from the database. A missing or corrupt index is rebuilt in the
//! background at start; until it is ready the portal searches titles in the
//! database and says so.

use crate::actor::{AccessError, Actor, Grant};

use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{
    activity, article, category, enterprise, institution, organisation, policy, product, search_change, search_synonym,
};
use qifu_domain::accounts::{AccountStatus, Permission};
use qifu_domain::content::{ActivityKind, ArticleKind, ContentState};
use qifu_domain::demands::ProductState;
use qifu_domain::policy::PolicyState;
use qifu_search::{Doc, Gap, Opened, SearchIndex, Synonyms};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub use qifu_search::{Hit, Kind, QueryProblem, Request, Results, SearchError, check_query};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Index(#[from] qifu_search::SearchError),
    #[error("搜索索引任务中断：{0}")]
    Join(String),
}

/// Opens (or creates) this node's index under the data directory. A fresh or
/// corrupt one is marked not ready until the next [`sync`] has rebuilt it.
pub fn open(ctx: &Ctx) -> Result<Opened, qifu_search::SearchError> {
    let (ix, opened) = SearchIndex::open(&index_dir(ctx))?;
    if let Ok(mut g) = ctx.search.index.write() {
        *g = Some(Arc::new(ix));
    }
    ctx.search.ready.store(matches!(opened, Opened::Existing(_)), Ordering::Release);
    Ok(opened)
}

fn index_dir(ctx: &Ctx) -> std::path::PathBuf {
    ctx.settings.data_dir.join("search")
}

/// Opens the index and keeps it current in the background: a rebuild first if
/// needed, then the change log every `every`, and a comparison with the
/// database every `search.reconcile_minutes`. Never blocks the caller.
pub fn start(ctx: &Ctx, every: std::time::Duration) -> Result<tokio::task::JoinHandle<()>, qifu_search::SearchError> {
    let opened = open(ctx)?;
    tracing::info!(?opened, "search index opened");
    let ctx = ctx.clone();
    Ok(tokio::spawn(async move {
        qifu_search::warm_up();
        let reconcile_every = std::time::Duration::from_secs(ctx.settings.search.reconcile_minutes.saturating_mul(60));
        let mut last_reconcile = std::time::Instant::now();
        loop {
            match sync(&ctx).await {
                Ok(r) if r.rebuilt.is_some() || r.applied > 0 => tracing::info!(?r, "search index updated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "search index sync failed; retrying"),
            }
            if !reconcile_every.is_zero() && last_reconcile.elapsed() >= reconcile_every {
                last_reconcile = std::time::Instant::now();
                match reconcile(&ctx, true).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(repaired = n, "search index differed from the database; repaired"),
                    Err(e) => tracing::warn!(error = %e, "search index reconciliation failed"),
                }
            }
            tokio::time::sleep(every).await;
        }
    }))
}

/// What one sync did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// Documents indexed by a full rebuild, if one ran.
    pub rebuilt: Option<usize>,
    /// Changes applied from the log.
    pub applied: usize,
    pub checkpoint: i64,
    /// Change ids still looked for (their transactions may not have committed yet).
    pub gaps: usize,
}

/// The most change-log ids remembered as gaps; the oldest go first beyond it
/// (the periodic comparison with the database catches anything lost so).
const MAX_GAPS: usize = 10_000;

/// One pass over the change log: rebuild if the index is fresh, missing,
/// broken or a rebuild was asked for; otherwise apply every change after the
/// checkpoint, and every change whose id was missing when later ones were
/// applied (an id is taken when a row is inserted, before its transaction
/// commits, so a change can appear below the checkpoint later: such ids are
/// looked for again until `search.gap_window_secs` have passed).
pub async fn sync(ctx: &Ctx) -> Result<SyncReport, SyncError> {
    let _one = ctx.search.syncing.lock().await;
    sync_locked(ctx).await.inspect_err(|e| {
        if matches!(e, SyncError::Index(_)) {
            ctx.search.mark_broken(ctx.now(), e.to_string());
        }
    })
}

async fn sync_locked(ctx: &Ctx) -> Result<SyncReport, SyncError> {
    let ix = match ctx.search.index() {
        Some(ix) => ix,
        // Nothing open (the folder could not be opened at start): try again, as a rebuild.
        None => {
            let mut report = SyncReport::default();
            let latest = latest_change(ctx).await?;
            report.rebuilt = Some(rebuild(ctx, latest, "索引未打开").await?);
            report.checkpoint = latest;
            return Ok(report);
        }
    };
    let mut report = SyncReport::default();
    let checkpoint = ix.checkpoint();
    let latest = latest_change(ctx).await?;
    let mut gaps = ix.gaps();
    let rebuild_asked = search_change::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(search_change::Column::Id.gt(checkpoint))
                .add(search_change::Column::Id.is_in(gaps.iter().map(|g| g.id).collect::<Vec<_>>())),
        )
        .filter(search_change::Column::Kind.eq(crate::index::REBUILD_ALL))
        .one(&ctx.db)
        .await?
        .is_some();
    let why = if !ix.present() {
        Some("索引目录不存在（可能被删除）")
    } else if ctx.search.broken.load(Ordering::Acquire) {
        Some("索引读写出错")
    } else if !ix.is_built() {
        Some("新建索引")
    } else if rebuild_asked {
        Some("收到重建请求")
    } else {
        None
    };
    if let Some(why) = why {
        report.rebuilt = Some(rebuild(ctx, latest, why).await?);
        report.checkpoint = latest;
        return Ok(report);
    }
    ctx.search.ready.store(true, Ordering::Release);
    let now = ctx.now().timestamp();
    // Ids seen missing before: any that committed since are applied now.
    let mut gaps_changed = false;
    if !gaps.is_empty() {
        let ids: Vec<i64> = gaps.iter().map(|g| g.id).collect();
        let mut found = Vec::new();
        for chunk in ids.chunks(500) {
            found.extend(
                search_change::Entity::find().filter(search_change::Column::Id.is_in(chunk.to_vec())).all(&ctx.db).await?,
            );
        }
        if !found.is_empty() {
            let (upserts, deletes) = documents_for(ctx, &found).await?;
            report.applied += found.len();
            gaps.retain(|g| !found.iter().any(|c| c.id == g.id));
            let (ix2, g2) = (ix.clone(), gaps.clone());
            tokio::task::spawn_blocking(move || ix2.apply(&upserts, &deletes, checkpoint, &g2))
                .await
                .map_err(|e| SyncError::Join(e.to_string()))??;
        }
        let before = gaps.len();
        gaps.retain(|g| now - g.seen < ctx.settings.search.gap_window_secs);
        gaps_changed = gaps.len() != before;
    }
    let mut from = checkpoint;
    loop {
        let batch = search_change::Entity::find()
            .filter(search_change::Column::Id.gt(from))
            .order_by_asc(search_change::Column::Id)
            .limit(500)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|c| c.id) else { break };
        let mut expected = from + 1;
        for c in &batch {
            gaps.extend((expected..c.id).map(|id| Gap { id, seen: now }));
            expected = c.id + 1;
        }
        if gaps.len() > MAX_GAPS {
            let excess = gaps.len() - MAX_GAPS;
            gaps.drain(..excess);
        }
        let (upserts, deletes) = documents_for(ctx, &batch).await?;
        report.applied += batch.len();
        let (ix2, g2) = (ix.clone(), gaps.clone());
        tokio::task::spawn_blocking(move || ix2.apply(&upserts, &deletes, last, &g2))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))??;
        from = last;
        gaps_changed = false;
    }
    if gaps_changed {
        let (ix2, g2) = (ix.clone(), gaps.clone());
        tokio::task::spawn_blocking(move || ix2.apply(&[], &[], from, &g2))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))??;
    }
    report.checkpoint = from;
    report.gaps = gaps.len();
    Ok(report)
}

async fn latest_change(ctx: &Ctx) -> Result<i64, DbErr> {
    Ok(search_change::Entity::find().order_by_desc(search_change::Column::Id).one(&ctx.db).await?.map(|c| c.id).unwrap_or(0))
}

/// The documents to write and remove for a set of changes (each item once).
async fn documents_for(ctx: &Ctx, changes: &[search_change::Model]) -> Result<(Vec<Doc>, Vec<(Kind, i64)>), DbErr> {
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in changes {
        let Some(kind) = Kind::parse(&c.kind) else { continue };
        if !seen.insert((kind, c.entity_id)) {
            continue;
        }
        match load(ctx, kind, c.entity_id).await? {
            Some(d) => upserts.push(d),
            None => deletes.push((kind, c.entity_id)),
        }
    }
    Ok((upserts, deletes))
}

/// Rebuilds from every searchable row into a new folder and swaps it in when
/// complete, whatever state the old index is in (missing, truncated, locked by
/// nothing): searches keep using the old one until then. Returns the number of
/// documents.
async fn rebuild(ctx: &Ctx, change: i64, why: &str) -> Result<usize, SyncError> {
    let started = std::time::Instant::now();
    ctx.search.update(|h| h.rebuilding = true);
    let result = rebuild_into_new_folder(ctx, change).await;
    let now = ctx.now();
    match &result {
        Ok(n) => {
            ctx.search.broken.store(false, Ordering::Release);
            ctx.search.ready.store(true, Ordering::Release);
            ctx.search.update(|h| {
                h.rebuilding = false;
                h.last_rebuild = Some((now, *n, started.elapsed().as_secs_f64(), why.to_owned()));
                h.last_error = None;
            });
            tracing::info!(documents = n, why, seconds = started.elapsed().as_secs_f64(), "search index rebuilt");
        }
        Err(e) => {
            let msg = e.to_string();
            ctx.search.update(|h| {
                h.rebuilding = false;
                h.last_error = Some((now, msg));
            });
        }
    }
    result
}

async fn rebuild_into_new_folder(ctx: &Ctx, change: i64) -> Result<usize, SyncError> {
    let dir = index_dir(ctx);
    let building = ctx.settings.data_dir.join("search.building");
    let old = ctx.settings.data_dir.join("search.old");
    let blocking = |f: Box<dyn FnOnce() -> Result<(), qifu_search::SearchError> + Send>| async move {
        tokio::task::spawn_blocking(f).await.map_err(|e| SyncError::Join(e.to_string()))?.map_err(SyncError::from)
    };
    let b = building.clone();
    let fresh = tokio::task::spawn_blocking(move || SearchIndex::create_fresh(&b))
        .await
        .map_err(|e| SyncError::Join(e.to_string()))??;
    let fresh = Arc::new(fresh);
    let mut n = 0;
    for kind in Kind::ALL {
        let mut after = 0i64;
        loop {
            let batch = load_batch(ctx, kind, after, 2000).await?;
            let Some(last) = batch.last().map(|d| d.id) else { break };
            n += batch.len();
            after = last;
            let i = fresh.clone();
            blocking(Box::new(move || i.add(&batch))).await?;
        }
    }
    let i = fresh.clone();
    blocking(Box::new(move || i.finish_rebuild(change))).await?;
    drop(fresh);
    // Swap the folders, then open the new index where the old one was.
    let (d, bu, o) = (dir.clone(), building.clone(), old.clone());
    let opened = tokio::task::spawn_blocking(move || -> Result<SearchIndex, qifu_search::SearchError> {
        if o.exists() {
            std::fs::remove_dir_all(&o)?;
        }
        if d.exists() {
            std::fs::rename(&d, &o)?;
        }
        std::fs::rename(&bu, &d)?;
        let (ix, _) = SearchIndex::open(&d)?;
        Ok(ix)
    })
    .await
    .map_err(|e| SyncError::Join(e.to_string()))??;
    if let Ok(mut g) = ctx.search.index.write() {
        *g = Some(Arc::new(opened));
    }
    // The old folder goes once nothing reads it any more (searches in flight keep their files open).
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(old)).await;
    Ok(n)
}

/// Compares the index with the database item by item (what a rebuild would
/// write against what the index holds) and, with `repair`, writes the
/// differences. Returns the number of items that differed.
pub async fn reconcile(ctx: &Ctx, repair: bool) -> Result<usize, SyncError> {
    let _one = ctx.search.syncing.lock().await;
    let Some(ix) = ctx.search.index() else { return Ok(0) };
    if !ix.is_built() {
        return Ok(0);
    }
    let mut differing = 0;
    for kind in Kind::ALL {
        let i = ix.clone();
        let mut indexed =
            tokio::task::spawn_blocking(move || i.fingerprints(kind)).await.map_err(|e| SyncError::Join(e.to_string()))??;
        let mut upserts = Vec::new();
        let mut after = 0i64;
        loop {
            let batch = load_batch(ctx, kind, after, 2000).await?;
            let Some(last) = batch.last().map(|d| d.id) else { break };
            after = last;
            for d in batch {
                if indexed.remove(&d.id) != Some(d.fingerprint()) {
                    upserts.push(d);
                }
            }
        }
        let deletes: Vec<(Kind, i64)> = indexed.into_keys().map(|id| (kind, id)).collect();
        differing += upserts.len() + deletes.len();
        if repair && (!upserts.is_empty() || !deletes.is_empty()) {
            let (i, checkpoint, gaps) = (ix.clone(), ix.checkpoint(), ix.gaps());
            tokio::task::spawn_blocking(move || i.apply(&upserts, &deletes, checkpoint, &gaps))
                .await
                .map_err(|e| SyncError::Join(e.to_string()))??;
        }
    }
    if repair {
        let now = ctx.now();
        ctx.search.update(|h| h.last_reconcile = Some((now, differing)));
    }
    Ok(differing)
}

/// The summary and the body's text, without the summary twice when the body repeats it.
fn summary_and_body(summary: &str, html: &str) -> String {
    let body = plain_text(html);
    let summary = summary.trim();
    if summary.is_empty() || body.contains(summary) { body } else { format!("{summary} {body}") }
}

/// Text without markup, for bodies stored as sanitised HTML.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn active_orgs<C: ConnectionTrait>(conn: &C, ids: Vec<i64>) -> Result<Vec<organisation::Model>, DbErr> {
    organisation::Entity::find().filter(organisation::Column::Id.is_in(ids)).all(conn).await
}

/// Up to `limit` documents of `kind` with ids above `after`, in id order.
async fn load_batch(ctx: &Ctx, kind: Kind, after: i64, limit: u64) -> Result<Vec<Doc>, DbErr> {
    let db = &ctx.db;
    Ok(match kind {
        Kind::Product => {
            let rows = product::Entity::find()
                .filter(product::Column::Id.gt(after))
                .filter(product::Column::RevisionOf.is_null())
                .order_by_asc(product::Column::Id)
                .limit(limit)
                .all(db)
                .await?;
            let cats = category::Entity::find().all(db).await?;
            let insts = institution::Entity::find()
                .filter(institution::Column::Id.is_in(rows.iter().map(|p| p.institution_id).collect::<Vec<_>>()))
                .all(db)
                .await?;
            let orgs = active_orgs(db, insts.iter().map(|i| i.org_id).collect()).await?;
            rows.into_iter()
                .map(|p| {
                    let cat = cats.iter().find(|c| c.id == p.category_id).map(|c| c.name.clone()).unwrap_or_default();
                    let org =
                        insts.iter().find(|i| i.id == p.institution_id).and_then(|i| orgs.iter().find(|o| o.id == i.org_id));
                    let org_active = org.is_some_and(|o| o.status == AccountStatus::Active);
                    Doc {
                        kind,
                        id: p.id,
                        title: p.name.clone(),
                        tags: vec![cat.clone(), org.map(|o| o.name.clone()).unwrap_or_default()],
                        body: format!("{} {}", summary_and_body(&p.summary, &p.description), p.service_area),
                        public: p.status == ProductState::Online && org_active,
                        category: cat,
                        date: p.published_at.or(Some(p.created_at)),
                    }
                })
                .collect()
        }
        Kind::Institution => {
            let rows = institution::Entity::find()
                .filter(institution::Column::Id.gt(after))
                .order_by_asc(institution::Column::Id)
                .limit(limit)
                .all(db)
                .await?;
            let orgs = active_orgs(db, rows.iter().map(|i| i.org_id).collect()).await?;
            rows.into_iter()
                .filter_map(|i| {
                    let o = orgs.iter().find(|o| o.id == i.org_id)?;
                    let kind_label = i.kind.label();
                    Some(Doc {
                        kind,
                        id: i.id,
                        title: o.name.clone(),
                        tags: vec![kind_label.to_owned()],
                        body: format!("{} {}", i.intro, i.qualifications),
                        public: o.status == AccountStatus::Active,
                        category: kind_label.to_owned(),
                        date: Some(i.created_at),
                    })
                })
                .collect()
        }
        Kind::Policy => policy::Entity::find()
            .filter(policy::Column::Id.gt(after))
            .order_by_asc(policy::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(|p| {
                let level = p.level.label();
                Doc {
                    kind,
                    id: p.id,
                    title: p.title.clone(),
                    tags: [p.issuer.clone(), p.support_type.clone(), p.doc_no.clone().unwrap_or_default(), level.to_owned()]
                        .into_iter()
                        .chain(p.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned))
                        .collect(),
                    body: summary_and_body(&p.summary, &p.body),
                    public: matches!(p.status, PolicyState::Published | PolicyState::Expired),
                    category: level.to_owned(),
                    date: p.publish_date.and_hms_opt(0, 0, 0).map(|d| d.and_utc()),
                }
            })
            .collect(),
        Kind::News => article::Entity::find()
            .filter(article::Column::Id.gt(after))
            .order_by_asc(article::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(|a| {
                let label = if a.kind == ArticleKind::Announcement { "通知公告" } else { "新闻动态" };
                Doc {
                    kind,
                    id: a.id,
                    title: a.title.clone(),
                    tags: vec![a.source.clone(), label.to_owned()],
                    body: summary_and_body(&a.summary, &a.body),
                    public: a.status == ContentState::Published,
                    category: label.to_owned(),
                    date: a.published_at.or(Some(a.created_at)),
                }
            })
            .collect(),
        Kind::Activity => activity::Entity::find()
            .filter(activity::Column::Id.gt(after))
            .order_by_asc(activity::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(|a| {
                let label = if a.kind == ActivityKind::Training { "培训" } else { "活动" };
                Doc {
                    kind,
                    id: a.id,
                    title: a.title.clone(),
                    tags: vec![a.organizer.clone(), a.location.clone(), label.to_owned()],
                    body: summary_and_body(&a.summary, &a.body),
                    public: a.status == ContentState::Published,
                    category: label.to_owned(),
                    date: Some(a.starts_at),
                }
            })
            .collect(),
        Kind::Enterprise => enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(after))
            .order_by_asc(enterprise::Column::Id)
            .limit(limit)
            .all(db)
            .await?
            .into_iter()
            .map(|e| {
                let industry = qifu_domain::reference::industry::find(&e.industry_code).map(|i| i.name).unwrap_or("");
                let street = qifu_domain::reference::division::street(&e.division_code).map(|s| s.name).unwrap_or("");
                Doc {
                    kind,
                    id: e.id,
                    title: e.name.clone(),
                    tags: vec![industry.to_owned(), street.to_owned(), e.industry_code.clone()],
                    body: format!("{} {} {}", e.credit_code, e.legal_rep_name, e.address.clone().unwrap_or_default()),
                    public: false,
                    category: street.to_owned(),
                    date: Some(e.created_at),
                }
            })
            .collect(),
    })
}

/// The current document of one item, or `None` when it no longer exists.
async fn load(ctx: &Ctx, kind: Kind, id: i64) -> Result<Option<Doc>, DbErr> {
    Ok(load_batch(ctx, kind, id - 1, 1).await?.into_iter().find(|d| d.id == id))
}

/// The operator's synonym groups.
pub async fn synonyms<C: ConnectionTrait>(conn: &C) -> Result<Synonyms, DbErr> {
    Ok(Synonyms(
        search_synonym::Entity::find()
            .order_by_asc(search_synonym::Column::Id)
            .all(conn)
            .await?
            .into_iter()
            .map(|s| s.words.split(',').map(|w| w.trim().to_lowercase()).filter(|w| !w.is_empty()).collect::<Vec<_>>())
            .filter(|g| g.len() > 1)
            .collect(),
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum SearchFailure {
    /// The index is not built yet (a notice, not an error, on the portal).
    #[error("搜索服务正在建立索引，暂时只能按标题查找，请稍后再试。")]
    NotReady,
    #[error(transparent)]
    Index(#[from] qifu_search::SearchError),
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("搜索任务中断")]
    Join,
    #[error(transparent)]
    Access(#[from] AccessError),
}

/// Runs a search against this node's index.
pub async fn run(ctx: &Ctx, req: Request) -> Result<Results, SearchFailure> {
    let ix = ctx.search.index().filter(|_| ctx.search.is_ready()).ok_or(SearchFailure::NotReady)?;
    let syn = synonyms(&ctx.db).await?;
    match tokio::task::spawn_blocking(move || ix.search(&req, &syn)).await.map_err(|_| SearchFailure::Join)? {
        Ok(r) => Ok(r),
        // The index cannot be read (a damaged or vanished file): fall back to
        // titles now, and have the next sync rebuild it.
        Err(e) => {
            tracing::warn!(error = %e, "search index unreadable; rebuilding");
            ctx.search.mark_broken(ctx.now(), e.to_string());
            Err(SearchFailure::NotReady)
        }
    }
}

/// The portal's search: public items only.
pub async fn portal(ctx: &Ctx, mut req: Request) -> Result<Results, SearchFailure> {
    req.public_only = true;
    req.kinds = Kind::PUBLIC.to_vec();
    run(ctx, req).await
}

/// Enterprise ids matching `text`, best first, for a holder of 查看企业 (the
/// grant is the proof; enterprises are searched only in the back office).
pub async fn enterprise_ids(ctx: &Ctx, grant: &Grant, text: &str, limit: usize) -> Result<Vec<i64>, SearchFailure> {
    if grant.permission() != Permission::EnterpriseView {
        return Err(AccessError::Forbidden.into());
    }
    let ix = ctx.search.index().filter(|_| ctx.search.is_ready()).ok_or(SearchFailure::NotReady)?;
    let syn = synonyms(&ctx.db).await?;
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || ix.ids(Kind::Enterprise, &text, &syn, limit))
        .await
        .map_err(|_| SearchFailure::Join)?
        .map_err(Into::into)
}

/// Synonym groups for the back office.
pub async fn list_synonyms(ctx: &Ctx, actor: &Actor) -> Result<Vec<search_synonym::Model>, AccessError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    Ok(search_synonym::Entity::find().order_by_asc(search_synonym::Column::Id).all(&ctx.db).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum SynonymError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for SynonymError {
    fn from(e: DbErr) -> Self {
        SynonymError::Access(AccessError::Db(e))
    }
}

/// Adds a group from "贷款，融资" (commas, 、 or spaces between words).
pub async fn add_synonyms(ctx: &Ctx, actor: &Actor, meta: &Meta, input: &str) -> Result<i64, SynonymError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let words: Vec<String> = input
        .split([',', '，', '、', ' ', '\u{3000}', ';', '；'])
        .map(|w| w.trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < 2 {
        return Err(SynonymError::Invalid("请至少填写两个词，用逗号或顿号分隔".to_owned()));
    }
    if words.len() > 10 {
        return Err(SynonymError::Invalid("一组同义词最多10个词".to_owned()));
    }
    if let Some(w) = words.iter().find(|w| w.chars().count() > 20 || w.chars().any(|c| !c.is_alphanumeric())) {
        return Err(SynonymError::Invalid(format!(
            "“{}”不是一个词：每个词不超过20个字，只能包含文字和数字",
            w.chars().take(20).collect::<String>()
        )));
    }
    let joined = words.join(",");
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let row = search_synonym::ActiveModel { words: Set(joined.clone()), created_at: Set(ctx.now()), ..Default::default() }
        .insert(&txn)
        .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("search.synonym_add", "search_synonym", row.id, serde_json::json!({"after": {"words": joined}})),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn delete_synonyms(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), SynonymError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let row = search_synonym::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    search_synonym::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("search.synonym_delete", "search_synonym", id, serde_json::json!({"before": {"words": row.words}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What the back office shows of this node's index.
#[derive(Debug, Clone, Default)]
pub struct IndexStatus {
    pub open: bool,
    pub ready: bool,
    pub documents: u64,
    pub checkpoint: i64,
    /// Changes written but not yet applied on this node.
    pub pending: u64,
    pub health: crate::index::IndexHealth,
}

pub async fn status(ctx: &Ctx, actor: &Actor) -> Result<IndexStatus, AccessError> {
    use sea_orm::PaginatorTrait;
    crate::actor::require(actor, Permission::CatalogManage)?;
    let Some(ix) = ctx.search.index() else { return Ok(IndexStatus::default()) };
    let checkpoint = ix.checkpoint();
    let pending = search_change::Entity::find().filter(search_change::Column::Id.gt(checkpoint)).count(&ctx.db).await?;
    Ok(IndexStatus {
        open: true,
        ready: ctx.search.is_ready(),
        documents: ix.len(),
        checkpoint,
        pending,
        health: ctx.search.health(),
    })
}

/// The operator asks every node to rebuild (audited).
pub async fn rebuild_by(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::CatalogManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    crate::index::request_rebuild(&txn, ctx.now()).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("search.rebuild", "search_index", 0, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}
