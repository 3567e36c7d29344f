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
use qifu_domain::accounts::Permission;
use qifu_search::{Doc, Opened, SearchIndex, Synonyms};
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
    let (ix, opened) = SearchIndex::open(&ctx.settings.data_dir.join("search"))?;
    if let Ok(mut g) = ctx.search.index.write() {
        *g = Some(Arc::new(ix));
    }
    ctx.search.ready.store(matches!(opened, Opened::Existing(_)), Ordering::Release);
    Ok(opened)
}

/// Opens the index and keeps it current in the background: a rebuild first if
/// needed, then the change log every `every`. Never blocks the caller.
pub fn start(ctx: &Ctx, every: std::time::Duration) -> Result<tokio::task::JoinHandle<()>, qifu_search::SearchError> {
    let opened = open(ctx)?;
    tracing::info!(?opened, "search index opened");
    let ctx = ctx.clone();
    Ok(tokio::spawn(async move {
        qifu_search::warm_up();
        loop {
            match sync(&ctx).await {
                Ok(r) if r.rebuilt.is_some() || r.applied > 0 => tracing::info!(?r, "search index updated"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "search index sync failed; retrying"),
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
}

/// One pass over the change log: rebuild if the index is fresh or a rebuild was
/// asked for, then apply every change after the index's checkpoint.
pub async fn sync(ctx: &Ctx) -> Result<SyncReport, SyncError> {
    let Some(ix) = ctx.search.index() else { return Ok(SyncReport::default()) };
    let _one = ctx.search.syncing.lock().await;
    let mut report = SyncReport::default();
    let checkpoint = ix.checkpoint();
    let latest =
        search_change::Entity::find().order_by_desc(search_change::Column::Id).one(&ctx.db).await?.map(|c| c.id).unwrap_or(0);
    let rebuild_asked = search_change::Entity::find()
        .filter(search_change::Column::Id.gt(checkpoint))
        .filter(search_change::Column::Kind.eq("*"))
        .one(&ctx.db)
        .await?
        .is_some();
    if !ix.is_built() || rebuild_asked {
        report.rebuilt = Some(rebuild(ctx, &ix, latest).await?);
        ctx.search.ready.store(true, Ordering::Release);
        report.checkpoint = latest;
        return Ok(report);
    }
    ctx.search.ready.store(true, Ordering::Release);
    let mut from = checkpoint;
    loop {
        let batch = search_change::Entity::find()
            .filter(search_change::Column::Id.gt(from))
            .order_by_asc(search_change::Column::Id)
            .limit(500)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|c| c.id) else { break };
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in &batch {
            let Some(kind) = Kind::parse(&c.kind) else { continue };
            if !seen.insert((kind, c.entity_id)) {
                continue;
            }
            match load(ctx, kind, c.entity_id).await? {
                Some(d) => upserts.push(d),
                None => deletes.push((kind, c.entity_id)),
            }
        }
        report.applied += batch.len();
        let ix2 = ix.clone();
        tokio::task::spawn_blocking(move || ix2.apply(&upserts, &deletes, last))
            .await
            .map_err(|e| SyncError::Join(e.to_string()))??;
        from = last;
    }
    report.checkpoint = from;
    Ok(report)
}

/// Rebuilds from every searchable row, a batch at a time; returns the number of documents.
async fn rebuild(ctx: &Ctx, ix: &Arc<SearchIndex>, change: i64) -> Result<usize, SyncError> {
    let blocking = |f: Box<dyn FnOnce() -> Result<(), qifu_search::SearchError> + Send>| async move {
        tokio::task::spawn_blocking(f).await.map_err(|e| SyncError::Join(e.to_string()))?.map_err(SyncError::from)
    };
    let i = ix.clone();
    blocking(Box::new(move || i.begin_rebuild())).await?;
    let mut n = 0;
    for kind in Kind::ALL {
        let mut after = 0i64;
        loop {
            let batch = load_batch(ctx, kind, after, 2000).await?;
            let Some(last) = batch.last().map(|d| d.id) else { break };
            n += batch.len();
            after = last;
            let i = ix.clone();
            blocking(Box::new(move || i.add(&batch))).await?;
        }
    }
    let i = ix.clone();
    blocking(Box::new(move || i.finish_rebuild(change))).await?;
    Ok(n)
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
                    let org_active = org.is_some_and(|o| o.status == "active");
                    Doc {
                        kind,
                        id: p.id,
                        title: p.name.clone(),
                        tags: vec![cat.clone(), org.map(|o| o.name.clone()).unwrap_or_default()],
                        body: format!("{} {}", summary_and_body(&p.summary, &p.description), p.service_area),
                        public: p.status == "online" && org_active,
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
                    let kind_label = qifu_domain::accounts::InstitutionKind::parse(&i.kind).map(|k| k.label()).unwrap_or("");
                    Some(Doc {
                        kind,
                        id: i.id,
                        title: o.name.clone(),
                        tags: vec![kind_label.to_owned()],
                        body: format!("{} {}", i.intro, i.qualifications),
                        public: o.status == "active",
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
                let level = match p.level.as_str() {
                    "national" => "国家",
                    "city" => "北京市",
                    "district" => "通州区",
                    _ => "其他",
                };
                Doc {
                    kind,
                    id: p.id,
                    title: p.title.clone(),
                    tags: [p.issuer.clone(), p.support_type.clone(), p.doc_no.clone().unwrap_or_default(), level.to_owned()]
                        .into_iter()
                        .chain(p.tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned))
                        .collect(),
                    body: summary_and_body(&p.summary, &p.body),
                    public: p.status == "published" || p.status == "expired",
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
                let label = if a.kind == "announcement" { "通知公告" } else { "新闻动态" };
                Doc {
                    kind,
                    id: a.id,
                    title: a.title.clone(),
                    tags: vec![a.source.clone(), label.to_owned()],
                    body: summary_and_body(&a.summary, &a.body),
                    public: a.status == "published",
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
                let label = if a.kind == "training" { "培训" } else { "活动" };
                Doc {
                    kind,
                    id: a.id,
                    title: a.title.clone(),
                    tags: vec![a.organizer.clone(), a.location.clone(), label.to_owned()],
                    body: summary_and_body(&a.summary, &a.body),
                    public: a.status == "published",
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
    tokio::task::spawn_blocking(move || ix.search(&req, &syn)).await.map_err(|_| SearchFailure::Join)?.map_err(Into::into)
}

/// The portal's search: public items only.
pub async fn portal(ctx: &Ctx, mut req: Request) -> Result<Results, SearchFailure> {
    req.public_only = true;
    req.kinds = Kind::PUBLIC.to_vec();
    run(ctx, req).await
}

/// Enterprise ids best matching `text` (name, credit code, legal representative,
/// industry, street), for the back office.
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
}

pub async fn status(ctx: &Ctx, actor: &Actor) -> Result<IndexStatus, AccessError> {
    use sea_orm::PaginatorTrait;
    crate::actor::require(actor, Permission::CatalogManage)?;
    let Some(ix) = ctx.search.index() else { return Ok(IndexStatus::default()) };
    let checkpoint = ix.checkpoint();
    let pending = search_change::Entity::find().filter(search_change::Column::Id.gt(checkpoint)).count(&ctx.db).await?;
    Ok(IndexStatus { open: true, ready: ctx.search.is_ready(), documents: ix.len(), checkpoint, pending })
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
