//! `qifu bench load`, `qifu bench floor`, `qifu bench coldstart` and
//! `qifu bench export`: the tender's load and our own targets, measured side by
//! side (docs/BENCHMARKS.md). The server under test is a child process (`qifu
//! serve`), so its RSS and CPU are its own; the load generator holds a fixed
//! arrival rate (an open model: 500 users each waiting a think time between
//! pages) and measures every request from the moment it was due, not from when
//! it was sent, which corrects for coordinated omission. The floor is a bare
//! axum handler (`qifu bench floor`, also a child) running the same main query
//! as the page, measured in the same run.

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use qifu_app::Ctx;
use qifu_db::entity::{organisation, policy, product, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What `qifu bench load` is asked to do.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub users: usize,
    pub duration: Duration,
    pub think: Duration,
    pub floor_duration: Duration,
    pub connections: usize,
    pub export_every: Duration,
}

/// One kind of request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tx {
    Home,
    PolicyList,
    PolicyDetail,
    ProductList,
    ProductDetail,
    Search,
    Calculator,
    Apply,
    InstitutionInbox,
    AdminDemands,
    Export,
}

impl Tx {
    fn name(self) -> &'static str {
        match self {
            Tx::Home => "首页 /",
            Tx::PolicyList => "政策列表 /policies",
            Tx::PolicyDetail => "政策详情 /policies/{id}",
            Tx::ProductList => "产品列表 /products",
            Tx::ProductDetail => "产品详情 /products/{id}",
            Tx::Search => "搜索 /search",
            Tx::Calculator => "政策计算器（企业登录）",
            Tx::Apply => "申请产品（POST）",
            Tx::InstitutionInbox => "机构需求受理 /admin/demands",
            Tx::AdminDemands => "后台需求列表（运营方）",
            Tx::Export => "导出 13 万企业 xlsx",
        }
    }
}

/// The mix: (transaction, weight). Pages a visitor reads most weigh most.
const MIX: &[(Tx, u32)] = &[
    (Tx::Home, 18),
    (Tx::PolicyList, 12),
    (Tx::PolicyDetail, 14),
    (Tx::ProductList, 12),
    (Tx::ProductDetail, 14),
    (Tx::Search, 10),
    (Tx::Calculator, 8),
    (Tx::Apply, 2),
    (Tx::InstitutionInbox, 6),
    (Tx::AdminDemands, 4),
];

const SEARCH_TERMS: &[&str] =
    &["贷款", "知识产权", "专精特新", "社保", "高新技术企业", "zscq", "融资担保", "法律咨询", "数字化转型", "人才"];

struct Session {
    cookie: String,
    csrf: String,
}

struct Fixture {
    enterprises: Vec<Session>,
    institution: Session,
    operator: Session,
    policies: Vec<i64>,
    products: Vec<i64>,
    /// Products any enterprise may apply for: (id, amount in 万元, term in months, guarantee).
    appliable: Vec<(i64, String, String, String)>,
}

async fn session_for(ctx: &Ctx, user_id: i64) -> Result<Session> {
    let (token, csrf) = qifu_app::accounts::open_session_for_tools(ctx, user_id).await?;
    Ok(Session { cookie: format!("qifu_session={token}"), csrf })
}

async fn fixture(ctx: &Ctx, users: usize) -> Result<Fixture> {
    let db = &ctx.db;
    let by_name = |name: &'static str| async move {
        user::Entity::find().filter(user::Column::Username.eq(name)).one(db).await.map(|u| u.map(|u| u.id))
    };
    let (Some(inst), Some(op), Some(ent)) =
        (by_name("institution").await?, by_name("operator").await?, by_name("enterprise").await?)
    else {
        bail!("没有演示账号：先运行 qifu demo --enterprises 130000 --products 10000 --policies 5000 --users 150000");
    };
    // Enterprise users of certified organisations (the demo's bench users), else the demo login.
    let certified: Vec<i64> = organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .filter(organisation::Column::Kind.eq(qifu_domain::accounts::OrgKind::Enterprise))
        .filter(organisation::Column::CertifiedAt.is_not_null())
        .limit(users as u64)
        .into_tuple()
        .all(db)
        .await?;
    let mut ids: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::OrgId.is_in(certified))
        .filter(user::Column::Status.eq(qifu_domain::accounts::AccountStatus::Active))
        .order_by_asc(user::Column::Id)
        .limit(users as u64)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        ids.push(ent);
    }
    let mut enterprises = Vec::new();
    for id in ids {
        enterprises.push(session_for(ctx, id).await?);
    }
    let policies: Vec<i64> = policy::Entity::find()
        .select_only()
        .column(policy::Column::Id)
        .filter(policy::Column::Status.eq(qifu_domain::policy::PolicyState::Published))
        .into_tuple()
        .all(db)
        .await?;
    let products: Vec<i64> = product::Entity::find()
        .select_only()
        .column(product::Column::Id)
        .filter(product::Column::Status.eq(qifu_domain::demands::ProductState::Online))
        .into_tuple()
        .all(db)
        .await?;
    if policies.is_empty() || products.is_empty() {
        bail!("没有已发布的政策或已上架的产品");
    }
    let appliable = product::Entity::find()
        .filter(product::Column::Status.eq(qifu_domain::demands::ProductState::Online))
        .filter(product::Column::Industries.eq(""))
        .filter(product::Column::SizeClasses.eq(""))
        .filter(product::Column::MinYears.is_null())
        .limit(2000)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let amount = p.amount_min_fen.or(p.amount_max_fen).map_or(100, |f| (f / 1_000_000).max(1));
            let term = p.term_min_months.unwrap_or(12).max(1);
            let guarantee = p.guarantee_modes.split(',').map(str::trim).find(|g| !g.is_empty()).unwrap_or("信用").to_owned();
            (p.id, amount.to_string(), term.to_string(), guarantee)
        })
        .collect::<Vec<_>>();
    if appliable.is_empty() {
        bail!("没有可申请的产品（不限行业、规模和成立年限的已上架产品）");
    }
    Ok(Fixture {
        enterprises,
        institution: session_for(ctx, inst).await?,
        operator: session_for(ctx, op).await?,
        policies,
        products,
        appliable,
    })
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child `qifu` process, killed when dropped.
struct ChildProc(Child);

impl Drop for ChildProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_qifu(ctx: &Ctx, args: &[&str]) -> Result<ChildProc> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.arg("--data-dir").arg(&ctx.settings.data_dir).args(args);
    if !ctx.settings.database_url.is_empty() {
        cmd.env("QIFU_DATABASE_URL", ctx.settings.database_url.expose());
    }
    cmd.env("QIFU_LOG_LEVEL", "warn").stdout(Stdio::null()).stderr(Stdio::inherit());
    Ok(ChildProc(cmd.spawn().context("无法启动 qifu 子进程")?))
}

async fn wait_ready(client: &reqwest::Client, url: &str, limit: Duration) -> Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    bail!("{url} 在 {} 秒内没有就绪", limit.as_secs())
}

/// RSS and CPU of a process, from /proc.
#[derive(Debug, Clone, Copy, Default)]
struct ProcSample {
    rss_kb: u64,
    hwm_kb: u64,
    /// Resident heap and stacks (RssAnon), without mapped files such as the search index.
    anon_kb: u64,
    cpu_ticks: u64,
}

fn sample(pid: u32) -> ProcSample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    ProcSample { rss_kb: kb("VmRSS:"), hwm_kb: kb("VmHWM:"), anon_kb: kb("RssAnon:"), cpu_ticks: t(11) + t(12) }
}

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux).
const TICKS: f64 = 100.0;

#[derive(Default)]
struct TxStats {
    hist: Option<Histogram<u64>>,
    errors: u64,
    refused: u64,
    /// The first refusal or error, to say what it was.
    first_problem: Option<String>,
}

impl TxStats {
    fn record(&mut self, micros: u64) {
        if self.hist.is_none() {
            self.hist = Histogram::new_with_bounds(1, 120_000_000, 3).ok();
        }
        if let Some(h) = self.hist.as_mut() {
            let _ = h.record(micros.max(1));
        }
    }
}

type Stats = Arc<Mutex<BTreeMap<Tx, TxStats>>>;

fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1000.0)
}

fn pick(weights: &[(Tx, u32)], r: u32) -> Tx {
    let total: u32 = weights.iter().map(|(_, w)| *w).sum();
    let mut x = r % total.max(1);
    for (t, w) in weights {
        if x < *w {
            return *t;
        }
        x -= w;
    }
    Tx::Home
}

/// A tiny xorshift for picking; no need for a crate.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
}

fn build(client: &reqwest::Client, base: &str, fx: &Fixture, tx: Tx, r: &mut Rand) -> reqwest::RequestBuilder {
    let ent = &fx.enterprises[r.next() as usize % fx.enterprises.len()];
    let policy = fx.policies[r.next() as usize % fx.policies.len()];
    let product = fx.products[r.next() as usize % fx.products.len()];
    match tx {
        Tx::Home => client.get(format!("{base}/")),
        Tx::PolicyList => client.get(format!("{base}/policies?page={}", 1 + r.next() % 5)),
        Tx::PolicyDetail => client.get(format!("{base}/policies/{policy}")),
        Tx::ProductList => client.get(format!("{base}/products?page={}", 1 + r.next() % 5)),
        Tx::ProductDetail => client.get(format!("{base}/products/{product}")),
        Tx::Search => {
            let q = SEARCH_TERMS[r.next() as usize % SEARCH_TERMS.len()];
            client.get(format!("{base}/search")).query(&[("q", q)])
        }
        Tx::Calculator => client.get(format!("{base}/policies/calculator")).header("cookie", &ent.cookie),
        Tx::Apply => {
            let (id, amount, term, guarantee) = &fx.appliable[r.next() as usize % fx.appliable.len()];
            client.post(format!("{base}/products/{id}/apply")).header("cookie", &ent.cookie).form(&[
                ("_csrf", ent.csrf.as_str()),
                ("needs", "希望了解办理流程和所需材料，尽快安排对接。"),
                ("contact_name", "张经理"),
                ("contact_phone", "13800138000"),
                ("amount_wan", amount),
                ("term_months", term),
                ("purpose", "补充流动资金"),
                ("guarantee_mode", guarantee),
                ("financial_summary", "上年营业收入 1,200 万元，净利润 90 万元，资产负债率 45%，无逾期贷款。"),
            ])
        }
        Tx::InstitutionInbox => client.get(format!("{base}/admin/demands")).header("cookie", &fx.institution.cookie),
        Tx::AdminDemands => client.get(format!("{base}/admin/demands?scope=all")).header("cookie", &fx.operator.cookie),
        Tx::Export => client.get(format!("{base}/admin/enterprises?export=xlsx")).header("cookie", &fx.operator.cookie),
    }
}

async fn send(req: reqwest::RequestBuilder) -> std::result::Result<u16, ()> {
    send_detailed(req).await.map(|(s, _)| s).map_err(|_| ())
}

/// The status and, for a 4xx/5xx, the start of the page's message.
async fn send_detailed(req: reqwest::RequestBuilder) -> std::result::Result<(u16, String), String> {
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            // Read the whole body, as a browser would.
            match r.bytes().await {
                Ok(b) if status >= 400 => {
                    let text = String::from_utf8_lossy(&b);
                    let msg = text
                        .split("class=\"field-error\"")
                        .nth(1)
                        .or_else(|| text.split("role=\"alert\"").nth(1))
                        .or_else(|| text.split("<main").nth(1))
                        .map(|t| t.chars().filter(|c| !c.is_control()).take(300).collect::<String>())
                        .unwrap_or_default();
                    Ok((status, msg))
                }
                Ok(_) => Ok((status, String::new())),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    }
}

fn client() -> Result<reqwest::Client> {
    qifu_app::integrations::aliyun::install_crypto_provider();
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(1024)
        .build()?)
}

/// The open-model run: arrivals at a fixed rate for `duration`.
async fn open_run(
    base: &str,
    fx: Arc<Fixture>,
    o: &LoadOptions,
    pid: u32,
) -> Result<(Stats, ProcSample, ProcSample, Duration, usize)> {
    let client = client()?;
    let stats: Stats = Arc::default();
    let rate = o.users as f64 / o.think.as_secs_f64().max(0.001);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now();
    let before = sample(pid);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut peak_in_flight = 0;
    let mut tasks = Vec::new();
    let mut r = Rand(0x9E37_79B9_7F4A_7C15);
    let mut n: u64 = 0;
    let mut next_export = started + o.export_every;
    loop {
        let due = started + interval.mul_f64(n as f64);
        if due.duration_since(started) >= o.duration {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let tx = if !o.export_every.is_zero() && due >= next_export {
            next_export += o.export_every;
            Tx::Export
        } else {
            pick(MIX, r.next())
        };
        let req = build(&client, base, &fx, tx, &mut r);
        let stats = stats.clone();
        let flight = in_flight.clone();
        peak_in_flight = peak_in_flight.max(flight.fetch_add(1, Ordering::Relaxed) + 1);
        tasks.push(tokio::spawn(async move {
            let res = send_detailed(req).await;
            // From when the request was due: a slow server delays later sends, and that wait counts.
            let us = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            flight.fetch_sub(1, Ordering::Relaxed);
            let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
            let e = s.entry(tx).or_default();
            match res {
                Ok((code, msg)) if code >= 500 => {
                    e.errors += 1;
                    e.first_problem.get_or_insert(format!("HTTP {code} {msg}"));
                }
                Ok((code, msg)) if code >= 400 => {
                    e.refused += 1;
                    e.first_problem.get_or_insert(format!("HTTP {code} {msg}"));
                    e.record(us);
                }
                Ok(_) => e.record(us),
                Err(err) => {
                    e.errors += 1;
                    e.first_problem.get_or_insert(err);
                }
            }
        }));
        n += 1;
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed();
    let after = sample(pid);
    Ok((stats, before, after, elapsed, peak_in_flight))
}

/// The closed-loop run: `connections` workers, each sending the next request
/// as soon as the last one is answered, for `duration`. Returns (requests,
/// errors, histogram).
async fn closed_run(
    url: &str,
    cookie: Option<&str>,
    connections: usize,
    duration: Duration,
) -> Result<(u64, u64, Histogram<u64>)> {
    let client = client()?;
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?));
    let errors = Arc::new(AtomicUsize::new(0));
    let count = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + duration;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (client, url, cookie) = (client.clone(), url.to_owned(), cookie.map(str::to_owned));
        let (hist, errors, count) = (hist.clone(), errors.clone(), count.clone());
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut req = client.get(&url);
                if let Some(c) = &cookie {
                    req = req.header("cookie", c);
                }
                match send(req).await {
                    Ok(code) if code < 400 => {
                        let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                        let _ = hist.lock().unwrap_or_else(|p| p.into_inner()).record(us.max(1));
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let h = hist.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Ok((count.load(Ordering::Relaxed) as u64, errors.load(Ordering::Relaxed) as u64, h))
}

pub async fn load(ctx: &Ctx, o: &LoadOptions) -> Result<()> {
    let backend = if ctx.settings.database_url.expose().starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    let fx = Arc::new(fixture(ctx, o.users).await?);
    let http = client()?;

    // Cold start: spawn → /readyz.
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let server = spawn_qifu(ctx, &["serve", "--listen", &addr])?;
    let base = format!("http://{addr}");
    let ready = wait_ready(&http, &format!("{base}/readyz"), Duration::from_secs(120)).await?;
    let pid = server.0.id();
    let idle_rss = sample(pid).rss_kb;
    // A short warm-up (caches, pools, the index's readers), not counted.
    let warm = LoadOptions { duration: Duration::from_secs(5), export_every: Duration::ZERO, ..o.clone() };
    open_run(&base, fx.clone(), &warm, pid).await?;

    let (stats, before, after, elapsed, peak_in_flight) = open_run(&base, fx.clone(), o, pid).await?;
    let cpu = (after.cpu_ticks.saturating_sub(before.cpu_ticks)) as f64 / TICKS / elapsed.as_secs_f64() * 100.0;

    // Throughput against the floor: the real pages, then the bare handlers, closed loop.
    let fport = free_port()?;
    let faddr = format!("127.0.0.1:{fport}");
    let _floor = spawn_qifu(ctx, &["bench", "floor", "--listen", &faddr])?;
    let fbase = format!("http://{faddr}");
    wait_ready(&http, &format!("{fbase}/products"), Duration::from_secs(60)).await?;
    let mut floor_rows = Vec::new();
    let pid_probe = fx.policies[0];
    let prod_probe = fx.products[0];
    for (label, path) in [
        ("产品列表", "/products".to_owned()),
        ("产品详情", format!("/products/{prod_probe}")),
        ("政策列表", "/policies".to_owned()),
        ("政策详情", format!("/policies/{pid_probe}")),
    ] {
        let real = closed_run(&format!("{base}{path}"), None, o.connections, o.floor_duration).await?;
        let bare = closed_run(&format!("{fbase}{path}"), None, o.connections, o.floor_duration).await?;
        floor_rows.push((label, path, real, bare));
    }
    let final_sample = sample(pid);
    drop(server);

    let secs = elapsed.as_secs_f64();
    println!(
        "## Load: {backend}, {} users, think time {:.1} s, {:.0} s",
        o.users,
        o.think.as_secs_f64(),
        o.duration.as_secs_f64()
    );
    println!();
    println!(
        "Arrival rate {:.1} req/s (fixed; latency counted from when each request was due). Peak requests in flight: {peak_in_flight}.",
        o.users as f64 / o.think.as_secs_f64()
    );
    println!();
    println!("| transaction | requests | req/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors | 4xx |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let s = stats.lock().unwrap_or_else(|p| p.into_inner());
    let mut all = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let (mut total_err, mut total_4xx) = (0, 0);
    for (tx, st) in s.iter() {
        total_err += st.errors;
        total_4xx += st.refused;
        let Some(h) = &st.hist else {
            println!("| {} | 0 | 0 | | | | | | {} | {} |", tx.name(), st.errors, st.refused);
            continue;
        };
        if *tx != Tx::Export {
            all.add(h)?;
        }
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
            tx.name(),
            h.len(),
            h.len() as f64 / secs,
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.95)),
            ms(h.value_at_quantile(0.99)),
            ms(h.value_at_quantile(0.999)),
            ms(h.max()),
            st.errors,
            st.refused
        );
    }
    println!(
        "| **all pages (without the export)** | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} |",
        all.len(),
        all.len() as f64 / secs,
        ms(all.value_at_quantile(0.5)),
        ms(all.value_at_quantile(0.95)),
        ms(all.value_at_quantile(0.99)),
        ms(all.value_at_quantile(0.999)),
        ms(all.max()),
        total_err,
        total_4xx
    );
    for (tx, st) in s.iter() {
        if let Some(p) = &st.first_problem {
            println!();
            println!("First problem of {}: {}", tx.name(), p.replace('|', "/"));
        }
    }
    println!();
    println!("| server (`qifu serve`, child process) | value |");
    println!("|---|---|");
    println!("| cold start to `/readyz` = 200 | {:.0} ms |", ready.as_secs_f64() * 1000.0);
    println!("| RSS idle after start | {:.1} MB |", idle_rss as f64 / 1024.0);
    println!(
        "| RSS at end of the load run | {:.1} MB (of which heap and stacks, RssAnon: {:.1} MB; the rest is mapped files such as the search index) |",
        after.rss_kb as f64 / 1024.0,
        after.anon_kb as f64 / 1024.0
    );
    println!("| peak RSS (VmHWM, whole run incl. floor phase) | {:.1} MB |", final_sample.hwm_kb as f64 / 1024.0);
    println!("| CPU during the load run | {cpu:.0} % of one core ({:.2} cores) |", cpu / 100.0);
    println!();
    println!("### Against the floor ({} connections, {:.0} s each, closed loop)", o.connections, o.floor_duration.as_secs_f64());
    println!();
    println!("| page | qifu req/s | floor req/s | ratio | qifu p50 / p99 ms | floor p50 / p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (label, path, (rn, re, rh), (bn, be, bh)) in &floor_rows {
        let d = o.floor_duration.as_secs_f64();
        let (rq, bq) = (*rn as f64 / d, *bn as f64 / d);
        println!(
            "| {label} `{path}` | {rq:.0}{} | {bq:.0}{} | {:.0} % | {} / {} | {} / {} |",
            if *re > 0 { format!(" ({re} errors)") } else { String::new() },
            if *be > 0 { format!(" ({be} errors)") } else { String::new() },
            if bq > 0.0 { rq / bq * 100.0 } else { 0.0 },
            ms(rh.value_at_quantile(0.5)),
            ms(rh.value_at_quantile(0.99)),
            ms(bh.value_at_quantile(0.5)),
            ms(bh.value_at_quantile(0.99)),
        );
    }
    Ok(())
}

/// `qifu bench floor`: bare axum handlers running each page's main query,
/// with no session, template, middleware or search.
pub async fn floor(ctx: Ctx, listen: SocketAddr) -> Result<()> {
    use axum::extract::{Path, State};
    use axum::routing::get;
    async fn products(State(ctx): State<Ctx>) -> Result<String, axum::http::StatusCode> {
        let page = qifu_db::read::product_list(&ctx.db, &qifu_db::read::ProductFilter::default(), 1)
            .await
            .map_err(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR)?;
        Ok(page.items.iter().map(|p| p.product.name.as_str()).collect::<Vec<_>>().join("\n"))
    }
    async fn product(State(ctx): State<Ctx>, Path(id): Path<i64>) -> Result<String, axum::http::StatusCode> {
        match qifu_db::read::public_product(&ctx.db, id).await {
            Ok(Some(p)) => Ok(p.product.name),
            Ok(None) => Err(axum::http::StatusCode::NOT_FOUND),
            Err(_) => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
    async fn policies(State(ctx): State<Ctx>) -> Result<String, axum::http::StatusCode> {
        let page = qifu_db::read::published_policies(&ctx.db, &qifu_db::read::PolicyFilter::default(), 1)
            .await
            .map_err(|_| axum::http::StatusCode::INTERNAL_SERVER_ERROR)?;
        Ok(page.items.iter().map(|p| p.title.as_str()).collect::<Vec<_>>().join("\n"))
    }
    async fn policy_one(State(ctx): State<Ctx>, Path(id): Path<i64>) -> Result<String, axum::http::StatusCode> {
        match qifu_db::read::public_policy(&ctx.db, id).await {
            Ok(Some(p)) => Ok(p.title),
            Ok(None) => Err(axum::http::StatusCode::NOT_FOUND),
            Err(_) => Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
    let app = axum::Router::new()
        .route("/products", get(products))
        .route("/products/{id}", get(product))
        .route("/policies", get(policies))
        .route("/policies/{id}", get(policy_one))
        .with_state(ctx);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// `qifu bench coldstart`: start `qifu serve` `rounds` times; time to `/readyz`.
pub async fn coldstart(ctx: &Ctx, rounds: usize) -> Result<()> {
    let http = client()?;
    let mut times = Vec::new();
    for _ in 0..rounds {
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let t = Instant::now();
        let server = spawn_qifu(ctx, &["serve", "--listen", &addr])?;
        wait_ready(&http, &format!("http://{addr}/readyz"), Duration::from_secs(120)).await?;
        times.push(t.elapsed());
        drop(server);
    }
    times.sort();
    println!("## Cold start to /readyz ({rounds} starts)");
    println!();
    println!(
        "min {:.0} ms · median {:.0} ms · max {:.0} ms",
        times[0].as_secs_f64() * 1000.0,
        times[times.len() / 2].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0
    );
    Ok(())
}

/// `qifu bench export`: every enterprise to xlsx through the same function the
/// back office's 导出 button uses; time and this process's peak RSS.
pub async fn export(ctx: &Ctx) -> Result<()> {
    let op = user::Entity::find()
        .filter(user::Column::Username.eq("operator"))
        .one(&ctx.db)
        .await?
        .context("没有演示账号 operator：先运行 qifu demo")?;
    let actor = qifu_app::actor::load_actor(&ctx.db, op.id).await?.context("operator 不可用")?;
    let before = sample(std::process::id());
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("enterprises.xlsx");
    let t = Instant::now();
    let rows = qifu_app::profiles::export_enterprises(ctx, &actor, &Default::default(), &path).await?;
    let took = t.elapsed();
    let after = sample(std::process::id());
    let size = std::fs::metadata(&path)?.len();
    println!("## Export of every enterprise to xlsx");
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| rows | {rows} |");
    println!("| time | {:.1} s |", took.as_secs_f64());
    println!("| file size | {:.1} MB |", size as f64 / 1024.0 / 1024.0);
    println!("| RSS before | {:.1} MB |", before.rss_kb as f64 / 1024.0);
    println!("| peak RSS of the process (VmHWM) | {:.1} MB |", after.hwm_kb as f64 / 1024.0);
    Ok(())
}
