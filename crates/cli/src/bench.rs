//! `qifu bench …`: measurements that go into docs/BENCHMARKS.md. Never part of
//! the test suite.

use anyhow::{Result, bail};
use qifu_app::Ctx;
use qifu_app::search::{self, Request};
use std::time::{Duration, Instant};

/// The fixed query set: common terms, phrases, policy vocabulary, pinyin and
/// initials, synonyms, enterprise-like names, and terms that find nothing.
pub const SEARCH_QUERIES: &[&str] = &[
    "知识产权",
    "知识产权质押融资",
    "贷款",
    "融资担保",
    "信用贷款",
    "专精特新",
    "高新技术企业",
    "小巨人",
    "社保",
    "稳岗补贴",
    "研发费用加计扣除",
    "法律顾问",
    "合同审查",
    "代理记账",
    "商标注册",
    "专利申请",
    "人力资源",
    "招聘",
    "数字化转型",
    "上云",
    "首台套",
    "贴息",
    "通州区",
    "城市副中心",
    "培训",
    "zscq",
    "zhishichanquan",
    "daikuan",
    "rongzi",
    "flgw",
    "科技型中小企业 补贴",
    "制造业企业 标准版",
    "2024年版",
    "不存在的关键词组合",
    "量子纠缠",
    "ISO",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten().map(|e| e.metadata().map(|m| if m.is_dir() { dir_size(&e.path()) } else { m.len() }).unwrap_or(0)).sum()
        })
        .unwrap_or(0)
}

pub async fn search(ctx: &Ctx, rounds: usize) -> Result<()> {
    use qifu_db::entity::{enterprise, policy, product};
    use sea_orm::{EntityTrait, PaginatorTrait};
    let counts = (
        enterprise::Entity::find().count(&ctx.db).await?,
        product::Entity::find().count(&ctx.db).await?,
        policy::Entity::find().count(&ctx.db).await?,
    );
    match search::open(ctx) {
        Ok(_) => {}
        Err(search::SearchError::Locked) => bail!("搜索索引正被运行中的服务使用：请先停止使用该数据目录的服务"),
        Err(e) => return Err(e.into()),
    }
    qifu_search::warm_up();
    search::request_rebuild(&ctx.db, ctx).await?;
    let started = Instant::now();
    let r = search::sync(ctx).await?;
    let build = started.elapsed();
    let docs = r.rebuilt.unwrap_or(0);
    let size = dir_size(&ctx.settings.data_dir.join("search"));
    // One warm-up pass, then the timed rounds.
    let mut hits_per_query = Vec::new();
    for q in SEARCH_QUERIES {
        let res = search::portal(ctx, request(q)).await?;
        hits_per_query.push((*q, res.total()));
    }
    let mut all = Vec::with_capacity(SEARCH_QUERIES.len() * rounds);
    let t0 = Instant::now();
    for _ in 0..rounds {
        for q in SEARCH_QUERIES {
            let t = Instant::now();
            let _ = search::portal(ctx, request(q)).await?;
            all.push(t.elapsed());
        }
    }
    let wall = t0.elapsed();
    all.sort();
    println!("## Search benchmark");
    println!();
    println!(
        "Data: {} enterprises, {} products, {} policies (plus news, activities, institutions); {} documents indexed ({}).",
        counts.0,
        counts.1,
        counts.2,
        docs,
        if ctx.settings.database_url.expose().starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| full index build (`qifu reindex` path) | {:.1} s |", build.as_secs_f64());
    println!("| index size on disk | {:.1} MB |", size as f64 / 1024.0 / 1024.0);
    println!("| queries timed | {} ({} queries × {} rounds, one at a time) |", all.len(), SEARCH_QUERIES.len(), rounds);
    println!("| query latency p50 | {} ms |", ms(percentile(&all, 0.50)));
    println!("| query latency p90 | {} ms |", ms(percentile(&all, 0.90)));
    println!("| query latency p99 | {} ms |", ms(percentile(&all, 0.99)));
    println!("| query latency max | {} ms |", ms(all.last().copied().unwrap_or_default()));
    println!("| throughput, one client | {:.0} queries/s |", all.len() as f64 / wall.as_secs_f64());
    if let Some(rss) = rss_mb() {
        println!("| process RSS after the run | {rss:.0} MB |");
    }
    println!();
    println!(
        "Hits per query (portal, all types): {}",
        hits_per_query.iter().map(|(q, n)| format!("{q} {n}")).collect::<Vec<_>>().join("；")
    );
    Ok(())
}

fn request(q: &str) -> Request {
    Request {
        text: q.to_owned(),
        kinds: Vec::new(),
        kind: None,
        category: None,
        since: None,
        public_only: true,
        offset: 0,
        limit: 5,
    }
}
