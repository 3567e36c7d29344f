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
    qifu_app::index::request_rebuild(&ctx.db, ctx.now()).await?;
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

/// `qifu bench match`: every registered-or-not enterprise in the database
/// against `policies` generated rules, on all cores.
pub async fn matching(ctx: &Ctx, n_policies: usize) -> Result<()> {
    use qifu_db::entity::enterprise;
    use qifu_domain::policy::{Attribute, Condition, Op, Rule, Verdict};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    let today = ctx.now().date_naive();
    let t_load = Instant::now();
    let mut profiles = Vec::new();
    let mut after = 0i64;
    loop {
        let batch = enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(after))
            .order_by_asc(enterprise::Column::Id)
            .limit(10_000)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else { break };
        after = last;
        profiles.extend(batch.iter().map(|e| qifu_app::profiles::profile_of(e, None, today)));
    }
    let load = t_load.elapsed();
    // Rules shaped like real ones: a division list, an industry prefix, a size class,
    // a revenue and an employee bound, sometimes a qualification and a "not".
    let streets = qifu_domain::reference::division::tongzhou_streets();
    let prefixes = ["13", "26", "27", "35", "39", "40", "51", "52", "63", "64", "65", "72", "73", "75"];
    let rules: Vec<Rule> = (0..n_policies)
        .map(|i| {
            let cond = |attr: Attribute, op: Op, texts: Vec<String>, numbers: Vec<f64>| Rule::Cond {
                cond: Condition { attr, op, texts, numbers },
            };
            let mut rules = vec![
                cond(
                    Attribute::Division,
                    Op::In,
                    streets.iter().skip(i % 7).step_by(2).map(|s| s.code.to_owned()).collect(),
                    vec![],
                ),
                Rule::Any {
                    rules: vec![
                        cond(
                            Attribute::Industry,
                            Op::PrefixIn,
                            vec![prefixes[i % prefixes.len()].into(), prefixes[(i + 5) % prefixes.len()].into()],
                            vec![],
                        ),
                        cond(Attribute::SizeClass, Op::In, vec!["micro".into(), "small".into()], vec![]),
                    ],
                },
                cond(Attribute::Revenue, Op::Ge, vec![], vec![(i % 20) as f64 * 100.0]),
                cond(Attribute::Employees, Op::Le, vec![], vec![50.0 + (i % 10) as f64 * 50.0]),
                cond(Attribute::YearsSinceFounding, Op::Ge, vec![], vec![(i % 5) as f64]),
            ];
            if i % 3 == 0 {
                rules.push(Rule::Not { rule: Box::new(cond(Attribute::AboveDesignatedSize, Op::Has, vec![], vec![])) });
            }
            if i % 4 == 0 {
                rules.push(cond(Attribute::Qualification, Op::Has, vec!["高新技术企业".into()], vec![]));
            }
            Rule::All { rules }
        })
        .collect();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let t = Instant::now();
    let chunk = profiles.len().div_ceil(threads).max(1);
    let counts: Vec<[u64; 4]> = std::thread::scope(|s| {
        let handles: Vec<_> = profiles
            .chunks(chunk)
            .map(|part| {
                let rules = &rules;
                s.spawn(move || {
                    let mut c = [0u64; 4];
                    for p in part {
                        for r in rules {
                            let i = match qifu_domain::policy::verdict(r, p) {
                                Verdict::Eligible => 0,
                                Verdict::Near => 1,
                                Verdict::Incomplete => 2,
                                Verdict::Ineligible => 3,
                            };
                            c[i] += 1;
                        }
                    }
                    c
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let took = t.elapsed();
    let total: [u64; 4] = counts.iter().fold([0; 4], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2], a[3] + c[3]]);
    let pairs = profiles.len() as u64 * rules.len() as u64;
    println!("## Batch matching benchmark");
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| enterprises | {} (profiles loaded in {:.1} s) |", profiles.len(), load.as_secs_f64());
    println!("| policies (generated rules, 5–7 conditions each) | {} |", rules.len());
    println!("| pairs evaluated (verdict; the trace is built only for results that are kept) | {pairs} |");
    println!("| threads | {threads} |");
    println!("| matching time | {:.2} s |", took.as_secs_f64());
    println!("| pairs per second | {:.0} |", pairs as f64 / took.as_secs_f64());
    println!("| 符合 / 接近 / 待完善 / 不符合 | {} / {} / {} / {} |", total[0], total[1], total[2], total[3]);
    if let Some(rss) = rss_mb() {
        println!("| process RSS | {rss:.0} MB |");
    }
    Ok(())
}

/// Peak resident memory of this process so far (VmHWM), in MB.
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A CSV of `rows` enterprise rows shaped like the market-regulation extract,
/// with planted defects: 1 % bad check characters, 1 % impossible dates, 1 %
/// unknown industry codes, 1 % credit codes repeated, 5 % full-width digits.
pub fn import_csv(rows: usize) -> String {
    use std::fmt::Write;
    const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马"];
    const GIVEN: &[&str] = &["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超"];
    const INDUSTRIES: &[&str] = &["6513", "6511", "7239", "5191", "3911", "1811", "7511", "5261", "4813", "7281"];
    let streets = qifu_domain::reference::division::tongzhou_streets();
    let mut out = String::with_capacity(rows * 120);
    out.push_str("统一社会信用代码,企业名称,法定代表人,成立日期,国民经济行业,所属街道,住所,从业人员,营业收入（万元）\n");
    for i in 0..rows {
        let n = i as u64;
        let mut code = qifu_app::demo::credit_code(1_000_000 + n, "110112").to_string();
        let mut founded = format!("{}-{:02}-{:02}", 2000 + (i % 25), 1 + (i % 12), 1 + (i % 28));
        let mut industry = INDUSTRIES[i % INDUSTRIES.len()].to_owned();
        let street = &streets[i % streets.len()];
        let mut employees = format!("{}", 3 + (i * 7) % 290);
        match i % 100 {
            11 => {
                let last = code.pop().unwrap_or('0');
                code.push(if last == '0' { '1' } else { '0' });
            }
            22 => founded = format!("{}-02-30", 2000 + (i % 25)),
            33 => industry = "9999".to_owned(),
            44 if i > 0 => code = qifu_app::demo::credit_code(1_000_000 + n - 1, "110112").to_string(),
            _ => {}
        }
        if i % 20 == 5 {
            employees = employees.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c)).collect();
        }
        let _ = writeln!(
            out,
            "{code},北京通州第{i}号科技有限公司,{}{},{founded},{industry},{},北京市通州区{}{}号,{employees},{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i / SURNAMES.len()) % GIVEN.len()],
            street.name,
            street.name,
            i % 500 + 1,
            (i * 37) % 5000 + 10
        );
    }
    out
}

/// `qifu bench import`: the import of `rows` generated rows with cleaning
/// (parse, stage, commit) into an empty database, then the quality scoring of
/// every record, each timed, with the process's peak memory.
pub async fn import(ctx: &Ctx, rows: usize) -> Result<()> {
    use qifu_app::governance::{import, quality};
    use sea_orm::{EntityTrait, PaginatorTrait};
    if qifu_db::entity::enterprise::Entity::find().count(&ctx.db).await? > 0 {
        bail!("数据库中已有企业档案：请在空数据库上运行（另用一个 --data-dir 或 PostgreSQL 数据库）");
    }
    let t = Instant::now();
    let csv = import_csv(rows);
    let generated = t.elapsed();
    let t = Instant::now();
    let table = import::read_table(csv.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let parse = t.elapsed();
    let source = import::check_source("市场监管局登记信息").map_err(|e| anyhow::anyhow!("{e}"))?;
    let map = import::mapping(&ctx.db, &source, &table.headers).await?;
    let t = Instant::now();
    let (batch, counts) =
        import::stage(ctx, None, &source, "bench.csv", &table, &map).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let stage = t.elapsed();
    drop(table);
    let t = Instant::now();
    let committed = import::commit(ctx, batch, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let commit = t.elapsed();
    let t = Instant::now();
    let scored = quality::score_all(ctx).await?;
    let score = t.elapsed();
    let db = if ctx.settings.effective_database_url().starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    println!(
        "Import of {rows} generated rows ({:.1} MB CSV, generated in {:.1} s) on {db}:",
        csv.len() as f64 / 1e6,
        generated.as_secs_f64()
    );
    println!();
    println!("| Step | Seconds | Result |");
    println!("|---|---:|---|");
    println!("| Read and parse the CSV | {:.2} | {} rows |", parse.as_secs_f64(), counts.rows_read);
    println!(
        "| Clean, check, detect duplicates, stage | {:.2} | accepted {}, normalised {} values, rejected {}, duplicates {} |",
        stage.as_secs_f64(),
        counts.accepted,
        counts.normalised,
        counts.rejected,
        counts.duplicates
    );
    println!(
        "| Commit to the records (with provenance) | {:.2} | created {}, updated {}, unchanged {}, to review {} |",
        commit.as_secs_f64(),
        committed.created,
        committed.updated,
        committed.unchanged,
        committed.conflicts
    );
    println!("| **Import total** (parse + stage + commit) | **{:.2}** | |", (parse + stage + commit).as_secs_f64());
    println!("| Quality scoring of every record | {:.2} | {scored} records |", score.as_secs_f64());
    println!();
    println!("Peak RSS of the process: {:.0} MB.", peak_rss_mb().unwrap_or(0.0));
    Ok(())
}
