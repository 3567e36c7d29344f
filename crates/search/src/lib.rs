//! Full-text search for qifu: one tantivy index with jieba segmentation over
//! products, institutions, policies, news, activities (public) and enterprises
//! (back office only). Titles weigh more than tags, tags more than bodies;
//! titles are also indexed as full pinyin and pinyin initials; synonym groups
//! widen a query. This crate knows nothing of the database: `app` turns rows
//! into [`Doc`]s and keeps the index current from its change log, whose last
//! applied id is stored in the index's own commit (so each node's index knows
//! how far it has come).

mod query;
mod segment;

pub use query::{QueryProblem, check_query};
pub use segment::{keywords, warm_up};

use chrono::{DateTime, TimeZone, Utc};
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

/// What an indexed item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Policy,
    Product,
    Institution,
    News,
    Activity,
    Enterprise,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Policy, Kind::Product, Kind::Institution, Kind::News, Kind::Activity, Kind::Enterprise];
    /// What the portal may show.
    pub const PUBLIC: [Kind; 5] = [Kind::Policy, Kind::Product, Kind::Institution, Kind::News, Kind::Activity];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Policy => "policy",
            Kind::Product => "product",
            Kind::Institution => "institution",
            Kind::News => "news",
            Kind::Activity => "activity",
            Kind::Enterprise => "enterprise",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// 政策 / 服务产品 / 服务机构 / 资讯 / 活动 / 企业
    pub fn label(self) -> &'static str {
        match self {
            Kind::Policy => "政策",
            Kind::Product => "服务产品",
            Kind::Institution => "服务机构",
            Kind::News => "资讯",
            Kind::Activity => "活动",
            Kind::Enterprise => "企业",
        }
    }
}

/// One item to index.
#[derive(Debug, Clone)]
pub struct Doc {
    pub kind: Kind,
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    /// Plain text (no markup).
    pub body: String,
    /// Shown on the portal (published / listed / active).
    pub public: bool,
    /// A filterable category name (product category, policy level, news kind …); may be empty.
    pub category: String,
    pub date: Option<DateTime<Utc>>,
}

impl Doc {
    /// A fingerprint of everything indexed of this item (FNV-1a, stable across
    /// builds and nodes): an index and the database agree on an item when their
    /// fingerprints do.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            // A separator, so ("ab", "c") and ("a", "bc") differ.
            h ^= 0xff;
            h = h.wrapping_mul(0x0100_0000_01b3);
        };
        eat(self.kind.as_str().as_bytes());
        eat(&self.id.to_le_bytes());
        eat(self.title.as_bytes());
        for t in &self.tags {
            eat(t.as_bytes());
        }
        let body: String = self.body.chars().take(BODY_MAX_CHARS).collect();
        eat(body.as_bytes());
        eat(&[u8::from(self.public)]);
        eat(self.category.as_bytes());
        eat(&self.date.map(|d| d.timestamp()).unwrap_or(i64::MIN).to_le_bytes());
        h
    }
}

/// A change-log id not seen when later ids were applied: its transaction may
/// still commit, so it is looked for again until `seen` is older than the
/// longest transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gap {
    pub id: i64,
    /// Unix seconds when the gap was first noticed.
    pub seen: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("搜索索引出错：{0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("搜索索引目录无法使用：{0}")]
    Io(#[from] std::io::Error),
    #[error("搜索索引正被另一个进程使用")]
    Locked,
}

/// Synonym groups: every word of a group also finds the others (贷款 ~ 融资).
#[derive(Debug, Clone, Default)]
pub struct Synonyms(pub Vec<Vec<String>>);

impl Synonyms {
    fn group_of(&self, word: &str) -> Option<&Vec<String>> {
        self.0.iter().find(|g| g.iter().any(|w| w == word))
    }
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct Request {
    /// Already checked with [`check_query`].
    pub text: String,
    /// Kinds the caller may see.
    pub kinds: Vec<Kind>,
    /// Only this kind's hits (counts still cover all `kinds`).
    pub kind: Option<Kind>,
    pub category: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only public items (the portal).
    pub public_only: bool,
    /// With `kind`: the page of hits; without: hits per kind.
    pub offset: usize,
    pub limit: usize,
}

/// One hit, with HTML that is safe to render (escaped text and `<b>` marks).
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: Kind,
    pub id: i64,
    pub title_html: String,
    pub snippet_html: String,
    pub category: String,
    pub date: Option<DateTime<Utc>>,
    pub score: f32,
}

#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Hits per kind, in [`Kind::ALL`] order, only kinds with hits.
    pub counts: Vec<(Kind, usize)>,
    /// Best first; grouped by kind when no kind was asked for.
    pub hits: Vec<Hit>,
}

impl Results {
    pub fn total(&self) -> usize {
        self.counts.iter().map(|(_, n)| n).sum()
    }
    pub fn count(&self, kind: Kind) -> usize {
        self.counts.iter().find(|(k, _)| *k == kind).map(|(_, n)| *n).unwrap_or(0)
    }
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(move |h| h.kind == kind)
    }
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    title: Field,
    tags: Field,
    body: Field,
    pinyin: Field,
    public: Field,
    category: Field,
    date: Field,
    hash: Field,
}

const JIEBA: &str = "jieba_lc";
/// Bodies longer than this are cut before indexing; snippets come from the start.
const BODY_MAX_CHARS: usize = 5000;
/// Bumped when the schema changes, so an older index is rebuilt.
const SCHEMA_VERSION: u32 = 2;

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let idx = TextFieldIndexing::default().set_tokenizer(JIEBA).set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let o = TextOptions::default().set_indexing_options(idx);
        if stored { o.set_stored() } else { o }
    };
    let pinyin_opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer("default").set_index_option(IndexRecordOption::WithFreqs),
    );
    let f = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", STORED | tantivy::schema::FAST),
        title: b.add_text_field("title", text(true)),
        tags: b.add_text_field("tags", text(false)),
        body: b.add_text_field("body", text(true)),
        pinyin: b.add_text_field("pinyin", pinyin_opts),
        public: b.add_u64_field("public", INDEXED),
        category: b.add_text_field("category", STRING | STORED),
        date: b.add_i64_field("date", INDEXED | STORED | tantivy::schema::FAST),
        hash: b.add_u64_field("hash", tantivy::schema::FAST),
    };
    (b.build(), f)
}

fn register_tokenizers(index: &Index) {
    let analyzer = TextAnalyzer::builder(segment::JiebaTokenizer).filter(RemoveLongFilter::limit(40)).filter(LowerCaser).build();
    index.tokenizers().register(JIEBA, analyzer);
}

/// How the index was found at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// An existing index, current up to this change id.
    Existing(i64),
    /// Missing, corrupt or of an older schema: created empty, needs a rebuild.
    Fresh,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    schema: u32,
    change: i64,
    /// False until the first full rebuild has been committed.
    built: bool,
    /// Change ids below `change` not yet seen (see [`Gap`]).
    #[serde(default)]
    gaps: Vec<Gap>,
}

/// The index, its reader and its single writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The folder it lives in (none in memory).
    dir: Option<std::path::PathBuf>,
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates it there when missing or unusable
    /// (the unusable folder is moved aside, never read again).
    pub fn open(dir: &Path) -> Result<(SearchIndex, Opened), SearchError> {
        let (schema, f) = schema();
        std::fs::create_dir_all(dir)?;
        let existing = if dir.join("meta.json").exists() {
            match Index::open_in_dir(dir) {
                Ok(index) => {
                    let payload =
                        index.load_metas().ok().and_then(|m| m.payload).and_then(|p| serde_json::from_str::<Payload>(&p).ok());
                    match payload {
                        Some(p) if p.schema == SCHEMA_VERSION && index.schema() == schema => {
                            Some((index, p.built.then_some(p.change)))
                        }
                        _ => None,
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "search index unreadable; rebuilding");
                    None
                }
            }
        } else {
            None
        };
        let (index, opened) = match existing {
            Some((index, Some(change))) => (index, Opened::Existing(change)),
            Some((index, None)) => (index, Opened::Fresh),
            None => {
                if dir.join("meta.json").exists() || std::fs::read_dir(dir)?.next().is_some() {
                    let aside = dir.with_extension(format!("broken-{}", Utc::now().format("%Y%m%d%H%M%S")));
                    std::fs::rename(dir, &aside)?;
                    std::fs::create_dir_all(dir)?;
                    tracing::warn!(moved_to = %aside.display(), "unusable search index moved aside");
                }
                (Index::create_in_dir(dir, schema)?, Opened::Fresh)
            }
        };
        let ix = match Self::wrap(index, f, Some(dir.to_path_buf())) {
            Ok(ix) => ix,
            Err(SearchError::Locked) => return Err(SearchError::Locked),
            // Readable metadata but unreadable segments: start afresh.
            Err(e) => {
                tracing::warn!(error = %e, "search index segments unreadable; starting a fresh index");
                return Self::create_fresh(dir).map(|ix| (ix, Opened::Fresh));
            }
        };
        if opened == Opened::Fresh {
            // Mark it as ours (but not built) so a restart does not take it for a broken one.
            let mut w = ix.lock();
            ix.commit(&mut w, 0, false, &[])?;
        }
        Ok((ix, opened))
    }

    /// A new, empty index in `dir`, replacing whatever was there (a rebuild
    /// writes into a new folder and swaps it in when complete).
    pub fn create_fresh(dir: &Path) -> Result<SearchIndex, SearchError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let (schema, f) = schema();
        let ix = Self::wrap(Index::create_in_dir(dir, schema)?, f, Some(dir.to_path_buf()))?;
        {
            let mut w = ix.lock();
            ix.commit(&mut w, 0, false, &[])?;
        }
        Ok(ix)
    }

    /// The folder of the index, if it is on disk.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether the folder and its metadata are still there (someone may have
    /// deleted them under a running node).
    pub fn present(&self) -> bool {
        self.dir.as_ref().is_none_or(|d| d.join("meta.json").is_file())
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<SearchIndex, SearchError> {
        let (schema, f) = schema();
        Self::wrap(Index::create_in_ram(schema), f, None)
    }

    fn wrap(index: Index, f: Fields, dir: Option<std::path::PathBuf>) -> Result<SearchIndex, SearchError> {
        register_tokenizers(&index);
        let writer = match index.writer(50_000_000) {
            Ok(w) => w,
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(SearchError::Locked),
            Err(e) => return Err(e.into()),
        };
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        // Read every segment once now: a truncated or missing segment file shows here, not at the first search.
        let searcher = reader.searcher();
        for seg in searcher.segment_readers() {
            seg.get_fieldnorms_reader(f.title)?;
            seg.fast_fields().i64("id")?;
        }
        Ok(SearchIndex { index, reader, writer: Mutex::new(writer), f, dir })
    }

    fn payload(&self) -> Option<Payload> {
        self.index.load_metas().ok().and_then(|m| m.payload).and_then(|p| serde_json::from_str::<Payload>(&p).ok())
    }

    /// The change id this index is current up to (0 for a fresh one).
    pub fn checkpoint(&self) -> i64 {
        self.payload().map(|p| p.change).unwrap_or(0)
    }

    /// Change ids still looked for (see [`Gap`]).
    pub fn gaps(&self) -> Vec<Gap> {
        self.payload().map(|p| p.gaps).unwrap_or_default()
    }

    /// Whether a full rebuild has been committed.
    pub fn is_built(&self) -> bool {
        self.payload().is_some_and(|p| p.built)
    }

    fn key(kind: Kind, id: i64) -> String {
        format!("{}:{id}", kind.as_str())
    }

    fn to_doc(&self, d: &Doc) -> TantivyDocument {
        let f = self.f;
        let body: String = d.body.chars().take(BODY_MAX_CHARS).collect();
        let mut doc = doc!(
            f.key => Self::key(d.kind, d.id),
            f.kind => d.kind.as_str(),
            f.id => d.id,
            f.title => d.title.as_str(),
            f.body => body,
            f.pinyin => query::pinyin_terms(&d.title),
            f.public => u64::from(d.public),
            f.category => d.category.as_str(),
            f.hash => d.fingerprint(),
        );
        for t in &d.tags {
            doc.add_text(f.tags, t);
        }
        if let Some(dt) = d.date {
            doc.add_i64(f.date, dt.timestamp());
        }
        doc
    }

    fn commit(&self, writer: &mut IndexWriter, change: i64, built: bool, gaps: &[Gap]) -> Result<(), SearchError> {
        let mut prepared = writer.prepare_commit()?;
        let payload =
            serde_json::to_string(&Payload { schema: SCHEMA_VERSION, change, built, gaps: gaps.to_vec() }).unwrap_or_default();
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces `upserts`, removes `deletes`, and records `change` as
    /// applied with the change ids still looked for (`gaps`).
    pub fn apply(&self, upserts: &[Doc], deletes: &[(Kind, i64)], change: i64, gaps: &[Gap]) -> Result<(), SearchError> {
        let mut w = self.lock();
        for (k, id) in deletes {
            w.delete_term(Term::from_field_text(self.f.key, &Self::key(*k, *id)));
        }
        for d in upserts {
            w.delete_term(Term::from_field_text(self.f.key, &Self::key(d.kind, d.id)));
            w.add_document(self.to_doc(d))?;
        }
        let built = self.is_built();
        self.commit(&mut w, change, built, gaps)
    }

    /// The fingerprint of every document of `kind`, by id: for comparing the
    /// index with the database.
    pub fn fingerprints(&self, kind: Kind) -> Result<std::collections::HashMap<i64, u64>, SearchError> {
        use tantivy::collector::DocSetCollector;
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(self.f.kind, kind.as_str()), IndexRecordOption::Basic);
        let addrs = searcher.search(&q, &DocSetCollector)?;
        let mut out = std::collections::HashMap::with_capacity(addrs.len());
        let mut columns = std::collections::HashMap::new();
        for a in addrs {
            let seg = a.segment_ord;
            let (ids, hashes) = match columns.entry(seg) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let ff = searcher.segment_reader(seg).fast_fields();
                    v.insert((ff.i64("id")?, ff.u64("hash")?))
                }
            };
            if let (Some(id), Some(h)) = (ids.first(a.doc_id), hashes.first(a.doc_id)) {
                out.insert(id, h);
            }
        }
        Ok(out)
    }

    /// Replaces everything with `docs`, current up to `change`.
    pub fn rebuild(&self, docs: impl Iterator<Item = Doc>, change: i64) -> Result<usize, SearchError> {
        self.begin_rebuild()?;
        let docs: Vec<Doc> = docs.collect();
        self.add(&docs)?;
        self.finish_rebuild(change)?;
        Ok(docs.len())
    }

    /// Starts a rebuild in parts: everything is dropped at [`Self::finish_rebuild`],
    /// readers see the old content until then.
    pub fn begin_rebuild(&self) -> Result<(), SearchError> {
        self.lock().delete_all_documents()?;
        Ok(())
    }

    /// Adds documents without committing (a part of a rebuild).
    pub fn add(&self, docs: &[Doc]) -> Result<(), SearchError> {
        let w = self.lock();
        for d in docs {
            w.add_document(self.to_doc(d))?;
        }
        Ok(())
    }

    /// Commits a rebuild as current up to `change`.
    pub fn finish_rebuild(&self, change: i64) -> Result<(), SearchError> {
        let mut w = self.lock();
        self.commit(&mut w, change, true, &[])
    }

    /// Documents in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs a search.
    pub fn search(&self, req: &Request, synonyms: &Synonyms) -> Result<Results, SearchError> {
        let searcher = self.reader.searcher();
        let f = self.f;
        let analyzer = self.index.tokenizer_for_field(f.title)?;
        let Some(text_q) = query::build(f.title, f.tags, f.body, f.pinyin, analyzer, &req.text, synonyms) else {
            return Ok(Results::default());
        };
        let mut filters: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_q)];
        if req.public_only {
            filters.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_u64(f.public, 1), IndexRecordOption::Basic))));
        }
        if let Some(c) = req.category.as_deref().filter(|c| !c.is_empty()) {
            filters.push((Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.category, c), IndexRecordOption::Basic))));
        }
        if let Some(since) = req.since {
            let lo = std::ops::Bound::Included(Term::from_field_i64(f.date, since.timestamp()));
            filters.push((Occur::Must, Box::new(RangeQuery::new(lo, std::ops::Bound::Unbounded))));
        }
        let base = BooleanQuery::new(filters);
        let of_kind = |k: Kind| -> BooleanQuery {
            BooleanQuery::new(vec![
                (Occur::Must, Box::new(base.clone())),
                (Occur::Must, Box::new(TermQuery::new(Term::from_field_text(f.kind, k.as_str()), IndexRecordOption::Basic))),
            ])
        };
        let mut out = Results::default();
        for k in Kind::ALL.into_iter().filter(|k| req.kinds.contains(k)) {
            let n = searcher.search(&of_kind(k), &Count)?;
            if n > 0 {
                out.counts.push((k, n));
            }
        }
        let mut title_gen = SnippetGenerator::create(&searcher, &base, f.title)?;
        title_gen.set_max_num_chars(120);
        let mut body_gen = SnippetGenerator::create(&searcher, &base, f.body)?;
        body_gen.set_max_num_chars(120);
        let wanted: Vec<Kind> = match req.kind {
            Some(k) => vec![k].into_iter().filter(|k| req.kinds.contains(k)).collect(),
            None => out.counts.iter().map(|(k, _)| *k).collect(),
        };
        let (offset, limit) = if req.kind.is_some() { (req.offset, req.limit) } else { (0, req.limit) };
        for k in wanted {
            let top = searcher.search(&of_kind(k), &TopDocs::with_limit(limit.max(1)).and_offset(offset).order_by_score())?;
            for (score, addr) in top {
                let d: TantivyDocument = searcher.doc(addr)?;
                let title = d.get_first(f.title).and_then(|v| v.as_str()).unwrap_or("").to_owned();
                let t = title_gen.snippet_from_doc(&d);
                let title_html = if t.highlighted().is_empty() { escape(&title) } else { t.to_html() };
                let b = body_gen.snippet_from_doc(&d);
                let snippet_html = if b.fragment().is_empty() {
                    let start: String = d.get_first(f.body).and_then(|v| v.as_str()).unwrap_or("").chars().take(100).collect();
                    escape(&start)
                } else {
                    b.to_html()
                };
                out.hits.push(Hit {
                    kind: k,
                    id: d.get_first(f.id).and_then(|v| v.as_i64()).unwrap_or(0),
                    title_html,
                    snippet_html,
                    category: d.get_first(f.category).and_then(|v| v.as_str()).unwrap_or("").to_owned(),
                    date: d.get_first(f.date).and_then(|v| v.as_i64()).and_then(|s| Utc.timestamp_opt(s, 0).single()),
                    score,
                });
            }
        }
        Ok(out)
    }

    /// The ids of the best `limit` matches of one kind (e.g. enterprises for the back office).
    pub fn ids(&self, kind: Kind, text: &str, synonyms: &Synonyms, limit: usize) -> Result<Vec<i64>, SearchError> {
        let req = Request {
            text: text.to_owned(),
            kinds: vec![kind],
            kind: Some(kind),
            category: None,
            since: None,
            public_only: false,
            offset: 0,
            limit,
        };
        Ok(self.search(&req, synonyms)?.hits.into_iter().map(|h| h.id).collect())
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
