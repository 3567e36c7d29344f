//! Policy aggregation (政策归集): configurable crawl sources fetched by the job
//! queue — politely (robots.txt, a delay between requests, a clear user agent) —
//! deduplicated by URL, with changes detected by an SM3 hash of the content.
//! New pages land as draft policies in the review queue; a changed page updates
//! its draft, or is logged for review when the policy is already published.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::jobs::Job;
use chrono::NaiveDate;
use qifu_db::Committed;
use qifu_db::entity::{crawl_log, crawl_source, crawled_page, policy};
use qifu_domain::accounts::Permission;
use qifu_domain::policy::PolicyState;
use qifu_domain::policy::{CrawlLogLevel, PolicyLevel};
use reqwest::Url;
use scraper::{Html, Selector};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

/// The user agent every request carries.
pub const USER_AGENT: &str = "qifu-policy-crawler/0.1 (Tongzhou SME service platform; policy aggregation)";
/// Robots.txt group name matched against.
const ROBOT_NAME: &str = "qifu-policy-crawler";
/// Longest page read.
const PAGE_MAX_BYTES: usize = 3 * 1024 * 1024;
/// Items followed per list page.
const ITEMS_MAX: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for CrawlError {
    fn from(e: DbErr) -> Self {
        CrawlError::Access(AccessError::Db(e))
    }
}

/// The source form as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceForm {
    pub name: String,
    pub list_url: String,
    pub item_selector: String,
    pub title_selector: String,
    pub date_selector: String,
    pub doc_no_selector: String,
    pub body_selector: String,
    pub next_selector: String,
    pub attachment_selector: String,
    pub issuer: String,
    pub level: String,
    pub delay_ms: String,
    pub max_pages: String,
}

fn check_selector(errors: &mut Vec<String>, label: &str, s: &str, required: bool) -> String {
    let s = s.trim();
    if s.is_empty() {
        if required {
            errors.push(format!("请填写{label}"));
        }
        return String::new();
    }
    if s.chars().count() > 200 || Selector::parse(s).is_err() {
        errors.push(format!("{label}不是有效的 CSS 选择器：{}", s.chars().take(60).collect::<String>()));
    }
    s.to_owned()
}

/// Adds a crawl source.
pub async fn create_source(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &SourceForm) -> Result<i64, CrawlError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let mut errors = Vec::new();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(|c| matches!(c, '<' | '>')) {
        errors.push("请填写来源名称（不超过100字）".to_owned());
    }
    let url = f.list_url.trim();
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && url.len() <= 500 => {
            // User info and odd IP forms are refused at once; addresses are checked at each fetch.
            if let Err(why) = crate::netguard::Outbound::check_form(&u, url) {
                errors.push(format!("列表页地址不可用：{why}"));
            }
        }
        _ => errors.push("列表页地址应为 http:// 或 https:// 开头的完整网址".to_owned()),
    }
    let item = check_selector(&mut errors, "条目链接选择器", &f.item_selector, true);
    let title = check_selector(&mut errors, "标题选择器", &f.title_selector, true);
    let body = check_selector(&mut errors, "正文选择器", &f.body_selector, true);
    let date = check_selector(&mut errors, "日期选择器", &f.date_selector, false);
    let doc_no = check_selector(&mut errors, "文号选择器", &f.doc_no_selector, false);
    let next = check_selector(&mut errors, "下一页选择器", &f.next_selector, false);
    let attach = check_selector(&mut errors, "附件选择器", &f.attachment_selector, false);
    let issuer = f.issuer.trim();
    if issuer.is_empty() || issuer.chars().count() > 100 {
        errors.push("请填写发布机构".to_owned());
    }
    let level = PolicyLevel::parse(&f.level);
    if level.is_none() {
        errors.push("请选择政策层级".to_owned());
    }
    let delay = if f.delay_ms.trim().is_empty() {
        Some(2000)
    } else {
        f.delay_ms.trim().parse::<i32>().ok().filter(|d| (0..=60_000).contains(d))
    };
    let pages = if f.max_pages.trim().is_empty() {
        Some(5)
    } else {
        f.max_pages.trim().parse::<i32>().ok().filter(|p| (1..=50).contains(p))
    };
    if delay.is_none() {
        errors.push("请求间隔应为0到60000毫秒".to_owned());
    }
    if pages.is_none() {
        errors.push("最多翻页数应为1到50".to_owned());
    }
    let Some(level) = level.filter(|_| errors.is_empty()) else {
        return Err(CrawlError::Invalid(errors.join("；")));
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let row = crawl_source::ActiveModel {
        name: Set(name.to_owned()),
        list_url: Set(url.to_owned()),
        item_selector: Set(item),
        title_selector: Set(title),
        date_selector: Set(date),
        doc_no_selector: Set(doc_no),
        body_selector: Set(body),
        next_selector: Set(next),
        attachment_selector: Set(attach),
        issuer: Set(issuer.to_owned()),
        level: Set(level),
        delay_ms: Set(delay.unwrap_or(2000)),
        max_pages: Set(pages.unwrap_or(5)),
        enabled: Set(true),
        last_run_at: Set(None),
        last_status: Set(None),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("crawl.source_create", "crawl_source", row.id, serde_json::json!({"after": {"name": name, "url": url}})),
    )
    .await?;
    txn.commit().await?;
    Ok(row.id)
}

pub async fn list_sources(ctx: &Ctx, actor: &Actor) -> Result<Vec<crawl_source::Model>, AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    Ok(crawl_source::Entity::find().order_by_asc(crawl_source::Column::Id).all(&ctx.db).await?)
}

/// A source with its latest log lines.
pub async fn source(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(crawl_source::Model, Vec<crawl_log::Model>), AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let s = crawl_source::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let logs = crawl_log::Entity::find()
        .filter(crawl_log::Column::SourceId.eq(id))
        .order_by_desc(crawl_log::Column::Id)
        .limit(100)
        .all(&ctx.db)
        .await?;
    Ok((s, logs))
}

/// Crawls one source now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrawlSource {
    pub source_id: i64,
}

impl Job for CrawlSource {
    const KIND: &'static str = "policies.crawl";
    /// A source is read politely (a delay between pages), page by page.
    const DEADLINE_SECS: u64 = 1800;
    fn dedup_key(&self) -> Option<String> {
        Some(format!("crawl:{}", self.source_id))
    }
}

/// Enqueues a crawl of every enabled source (the daily schedule).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrawlAll;

impl Job for CrawlAll {
    const KIND: &'static str = "policies.crawl_all";
}

pub async fn enqueue_all(ctx: &Ctx) -> Result<usize, DbErr> {
    let ids: Vec<i64> = crawl_source::Entity::find()
        .filter(crawl_source::Column::Enabled.eq(true))
        .select_only()
        .column(crawl_source::Column::Id)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    for id in &ids {
        crate::jobs::enqueue(&ctx.db, ctx, &CrawlSource { source_id: *id }, Default::default()).await?;
    }
    Ok(ids.len())
}

/// The operator starts a crawl (it runs in the job queue).
pub async fn request_run(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    crawl_source::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    crate::jobs::enqueue(&txn, ctx, &CrawlSource { source_id: id }, Default::default()).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("crawl.run", "crawl_source", id, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CrawlReport {
    pub pages: usize,
    pub new: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub skipped: usize,
    pub disallowed: usize,
}

async fn log(ctx: &Ctx, source_id: i64, level: CrawlLogLevel, url: &str, message: &str) -> Result<(), DbErr> {
    crawl_log::ActiveModel {
        source_id: Set(source_id),
        at: Set(ctx.now()),
        level: Set(level),
        url: Set(url.chars().take(500).collect()),
        message: Set(message.chars().take(500).collect()),
        ..Default::default()
    }
    .insert_committed(&ctx.db)
    .await?;
    Ok(())
}

/// Fetches pages through the outbound rules (no internal addresses, each
/// redirect checked, the checked address pinned): see [`crate::netguard`].
struct Fetcher {
    outbound: crate::netguard::Outbound,
}

impl Fetcher {
    fn new(ctx: &Ctx) -> Result<Fetcher, String> {
        crate::integrations::aliyun::install_crypto_provider();
        let s = &ctx.settings;
        Ok(Fetcher { outbound: crate::netguard::Outbound::new(&s.crawl.allow_hosts, s.database_url.expose(), USER_AGENT) })
    }

    async fn get(&self, url: &Url) -> Result<(u16, String), String> {
        let (status, bytes) = self.outbound.get(url, PAGE_MAX_BYTES).await?;
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

fn first_text(doc: &Html, sel: &str) -> String {
    let Ok(s) = Selector::parse(sel) else { return String::new() };
    doc.select(&s)
        .next()
        .map(|e| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let digits: Vec<u32> =
        s.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
    match digits.as_slice() {
        [y, m, d, ..] if *y > 1990 => NaiveDate::from_ymd_opt(i32::try_from(*y).ok()?, *m, *d),
        _ => None,
    }
}

/// The handler of [`CrawlSource`]: one polite pass over the source.
pub async fn run(ctx: &Ctx, source_id: i64) -> Result<CrawlReport, DbErr> {
    let mut report = CrawlReport::default();
    let Some(src) = crawl_source::Entity::find_by_id(source_id).one(&ctx.db).await? else { return Ok(report) };
    let fetcher = match Fetcher::new(ctx) {
        Ok(f) => f,
        Err(e) => {
            log(ctx, src.id, CrawlLogLevel::Error, "", &format!("无法创建网络客户端：{e}")).await?;
            return Ok(report);
        }
    };
    let Ok(start) = Url::parse(&src.list_url) else {
        log(ctx, src.id, CrawlLogLevel::Error, &src.list_url, "列表页地址无效").await?;
        return Ok(report);
    };
    // robots.txt of the site: honoured when present; a missing one allows everything.
    let robots_url = start.join("/robots.txt").ok();
    let robot = match &robots_url {
        Some(u) => match fetcher.get(u).await {
            Ok((200, body)) => texting_robots::Robot::new(ROBOT_NAME, body.as_bytes()).ok(),
            _ => None,
        },
        None => None,
    };
    let allowed = |u: &Url| robot.as_ref().is_none_or(|r| r.allowed(u.as_str()));
    let delay = {
        let own = u64::try_from(src.delay_ms).unwrap_or(0);
        let asked = robot.as_ref().and_then(|r| r.delay).map(|d| (f64::from(d) * 1000.0) as u64).unwrap_or(0);
        std::time::Duration::from_millis(own.max(asked).min(60_000))
    };
    let mut list = Some(start);
    let mut seen_lists = std::collections::HashSet::new();
    let mut items: Vec<Url> = Vec::new();
    while let Some(url) = list.take() {
        if report.pages >= usize::try_from(src.max_pages).unwrap_or(1) || !seen_lists.insert(url.clone()) {
            break;
        }
        if !allowed(&url) {
            report.disallowed += 1;
            log(ctx, src.id, CrawlLogLevel::Warn, url.as_str(), "robots.txt 不允许抓取，已跳过").await?;
            break;
        }
        if report.pages > 0 {
            tokio::time::sleep(delay).await;
        }
        let html = match fetcher.get(&url).await {
            Ok((200, body)) => body,
            Ok((code, _)) => {
                log(ctx, src.id, CrawlLogLevel::Error, url.as_str(), &format!("列表页返回 HTTP {code}")).await?;
                break;
            }
            Err(e) => {
                log(ctx, src.id, CrawlLogLevel::Error, url.as_str(), &e).await?;
                break;
            }
        };
        report.pages += 1;
        let (links, next) = {
            let doc = Html::parse_document(&html);
            let links: Vec<Url> = Selector::parse(&src.item_selector)
                .ok()
                .map(|s| {
                    doc.select(&s)
                        .filter_map(|e| {
                            e.value().attr("href").or_else(|| {
                                e.select(&Selector::parse("a").unwrap_or(s.clone())).next().and_then(|a| a.value().attr("href"))
                            })
                        })
                        .filter_map(|h| url.join(h).ok())
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                        .take(ITEMS_MAX)
                        .collect()
                })
                .unwrap_or_default();
            let next = (!src.next_selector.is_empty())
                .then(|| Selector::parse(&src.next_selector).ok())
                .flatten()
                .and_then(|s| doc.select(&s).next().and_then(|e| e.value().attr("href")).and_then(|h| url.join(h).ok()));
            (links, next)
        };
        for l in links {
            if !items.contains(&l) {
                items.push(l);
            }
        }
        list = next;
    }
    for url in items {
        if !allowed(&url) {
            report.disallowed += 1;
            log(ctx, src.id, CrawlLogLevel::Warn, url.as_str(), "robots.txt 不允许抓取，已跳过").await?;
            continue;
        }
        tokio::time::sleep(delay).await;
        let html = match fetcher.get(&url).await {
            Ok((200, body)) => body,
            Ok((code, _)) => {
                report.skipped += 1;
                log(ctx, src.id, CrawlLogLevel::Warn, url.as_str(), &format!("页面返回 HTTP {code}，已跳过")).await?;
                continue;
            }
            Err(e) => {
                report.skipped += 1;
                log(ctx, src.id, CrawlLogLevel::Warn, url.as_str(), &e).await?;
                continue;
            }
        };
        let (title, date, doc_no, body_html, attachments) = {
            let doc = Html::parse_document(&html);
            let body_html = Selector::parse(&src.body_selector)
                .ok()
                .and_then(|s| doc.select(&s).next().map(|e| e.inner_html()))
                .unwrap_or_default();
            let attachments: Vec<(String, String)> = (!src.attachment_selector.is_empty())
                .then(|| Selector::parse(&src.attachment_selector).ok())
                .flatten()
                .map(|s| {
                    doc.select(&s)
                        .filter_map(|e| {
                            let href = url.join(e.value().attr("href")?).ok()?;
                            Some((e.text().collect::<String>().trim().to_owned(), href.to_string()))
                        })
                        .take(20)
                        .collect()
                })
                .unwrap_or_default();
            (
                first_text(&doc, &src.title_selector),
                (!src.date_selector.is_empty()).then(|| first_text(&doc, &src.date_selector)).and_then(|d| parse_date(&d)),
                if !src.doc_no_selector.is_empty() { first_text(&doc, &src.doc_no_selector) } else { Default::default() },
                body_html,
                attachments,
            )
        };
        let own = &ctx.settings.messages.public_url;
        let mut body = crate::html::clean(&body_html, own);
        let text = crate::search::plain_text(&body);
        if title.chars().count() < 4 || text.chars().count() < 10 {
            report.skipped += 1;
            log(ctx, src.id, CrawlLogLevel::Warn, url.as_str(), "页面缺少标题或正文（与选择器不符），已跳过").await?;
            continue;
        }
        if !attachments.is_empty() {
            body.push_str("<h3>附件</h3><ul>");
            for (name, href) in &attachments {
                let name = if name.is_empty() { href.as_str() } else { name.as_str() };
                body.push_str(&crate::html::clean(&format!("<li><a href=\"{href}\">{name}</a></li>"), own));
            }
            body.push_str("</ul>");
        }
        let title: String = title.chars().take(200).collect();
        let hash = crate::crypto::sm3_hex(format!("{title}\n{doc_no}\n{text}").as_bytes());
        let now = ctx.now();
        let existing = crawled_page::Entity::find().filter(crawled_page::Column::Url.eq(url.as_str())).one(&ctx.db).await?;
        let txn = qifu_db::begin_write(&ctx.db).await?;
        match existing {
            Some(page) if page.content_hash == hash => {
                report.unchanged += 1;
                let mut am: crawled_page::ActiveModel = page.into();
                am.last_seen = Set(now);
                am.update(&txn).await?;
            }
            Some(page) => {
                report.changed += 1;
                let draft = match page.policy_id {
                    Some(pid) => policy::Entity::find_by_id(pid).one(&txn).await?.filter(|p| p.status == PolicyState::Draft),
                    None => None,
                };
                if let Some(p) = draft {
                    let pid = p.id;
                    let mut am: policy::ActiveModel = p.into();
                    am.title = Set(title.clone());
                    am.body = Set(body.clone());
                    am.summary = Set(text.chars().take(200).collect());
                    am.updated_at = Set(now);
                    am.update(&txn).await?;
                    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, pid).await?;
                }
                let mut am: crawled_page::ActiveModel = page.into();
                am.content_hash = Set(hash);
                am.last_seen = Set(now);
                am.changed_at = Set(Some(now));
                am.update(&txn).await?;
                txn.commit().await?;
                log(ctx, src.id, CrawlLogLevel::Info, url.as_str(), "原文有变化：草稿已更新；已发布的政策请人工核对").await?;
                continue;
            }
            None => {
                report.new += 1;
                let p = policy::ActiveModel {
                    title: Set(title.clone()),
                    doc_no: Set((!doc_no.is_empty()).then(|| doc_no.chars().take(100).collect())),
                    issuer: Set(src.issuer.clone()),
                    level: Set(src.level),
                    publish_date: Set(date.unwrap_or(now.date_naive())),
                    valid_until: Set(None),
                    support_type: Set("其他".to_owned()),
                    summary: Set(text.chars().take(200).collect()),
                    body: Set(body.clone()),
                    source_url: Set(Some(url.to_string())),
                    status: Set(PolicyState::Draft),
                    created_at: Set(now),
                    updated_at: Set(now),
                    region: Set(String::new()),
                    tags: Set(String::new()),
                    amount_max_wan: Set(None),
                    apply_until: Set(None),
                    interpretation: Set(String::new()),
                    rule_version: Set(0),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, p.id).await?;
                crawled_page::ActiveModel {
                    source_id: Set(src.id),
                    url: Set(url.to_string()),
                    content_hash: Set(hash),
                    policy_id: Set(Some(p.id)),
                    first_seen: Set(now),
                    last_seen: Set(now),
                    changed_at: Set(None),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        txn.commit().await?;
    }
    let status = format!(
        "列表页{}页：新增{}，未变化{}，有变化{}，跳过{}，robots.txt 不允许{}",
        report.pages, report.new, report.unchanged, report.changed, report.skipped, report.disallowed
    );
    let mut am: crawl_source::ActiveModel = src.into();
    am.last_run_at = Set(Some(ctx.now()));
    am.last_status = Set(Some(status.clone()));
    am.update_committed(&ctx.db).await?;
    log(ctx, source_id, CrawlLogLevel::Info, "", &status).await?;
    Ok(report)
}

/// Policy collection's jobs and schedule.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, job: CrawlSource| async move {
        let r = run(&ctx, job.source_id).await?;
        tracing::info!(source = job.source_id, ?r, "policy source crawled");
        Ok(())
    });
    r.register(|ctx: Ctx, _: CrawlAll| async move {
        let n = enqueue_all(&ctx).await?;
        tracing::info!(sources = n, "policy crawls enqueued");
        Ok(())
    });
    r.schedule("crawl_policies", "0 0 6 * * *", &CrawlAll);
}
