//! `qifu`: one binary for the whole platform.

mod bench;
mod bench_load;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use qifu_app::config::{LogFormat, Sources};
use qifu_app::{Ctx, Settings, SystemClock};
use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "qifu",
    version,
    about = "通州区中小微企业智慧服务平台 (qifu)：门户、管理后台、接口和后台任务，一个程序全部提供",
    long_about = "通州区中小微企业智慧服务平台 (qifu, 企服)。\n\n\
        配置来源依次为：内置默认值 → qifu.toml（可选）→ QIFU_* 环境变量 → 命令行参数。\n\
        默认使用数据目录下的 SQLite 数据库；设置 QIFU_DATABASE_URL=postgres://… 使用 PostgreSQL。\n\
        运行 `qifu config defaults` 查看全部配置项。"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
    /// 数据目录：SQLite 数据库、搜索索引和上传文件 [默认: ./data]
    #[arg(long, global = true, env = "QIFU_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// 配置文件（TOML）；不指定时读取当前目录下的 qifu.toml（如果存在）
    #[arg(long, global = true, env = "QIFU_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 启动网站（门户、管理后台、接口），并在进程内运行后台任务
    Serve(ServeArgs),
    /// 只运行后台任务（多节点部署时与 serve --no-worker 配合）
    Worker(WorkerArgs),
    /// 执行数据库迁移（serve 启动时也会自动执行）
    Migrate,
    /// 从数据库重建全文搜索索引；服务运行中时通知各节点在后台重建
    Reindex,
    /// 性能测试（结果写入 docs/BENCHMARKS.md 的格式）
    #[command(subcommand)]
    Bench(BenchCommand),
    /// 向空数据库填充通州区演示数据，并打印各角色的演示账号
    Demo(DemoArgs),
    /// 账号管理
    #[command(subcommand)]
    Admin(AdminCommand),
    /// 配置
    #[command(subcommand)]
    Config(ConfigCommand),
    /// 审计日志
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 核验企业数据授权的签名存证文件（SM3 摘要与 SM2 签名）；无效时以非零状态退出
    VerifyAuthorization(VerifyAuthorizationArgs),
    /// 校验代码：每个参数输出一行“值<TAB>valid”或“值<TAB>invalid<TAB>原因”；参数为 - 时从标准输入逐行读取
    #[command(subcommand)]
    Check(CheckCommand),
    /// 数据导入
    #[command(subcommand)]
    Import(ImportCommand),
}

#[derive(Subcommand, Debug)]
enum ImportCommand {
    /// 导入企业基础数据（CSV：UTF-8 或 GB18030；或 xlsx）：逐行清洗校验并暂存，打印统计和错误文件路径；
    /// 加 --commit 才写入企业档案（可重复导入：相同的数据不会重复写入）
    Enterprises(ImportEnterprisesArgs),
    /// 从登记信息来源（registry.provider）同步企业登记信息：取回变更日期在上次同步之后（或 --since 指定日期起）的记录，
    /// 清洗校验后写入企业档案，打印统计
    Registry {
        /// 从这一天（YYYY-MM-DD）起的变更；不指定时接着上次同步
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
    },
}

#[derive(Args, Debug)]
struct ImportEnterprisesArgs {
    /// 数据文件（.csv 或 .xlsx）
    file: PathBuf,
    /// 数据来源名称，如“市场监管局登记信息”“统计局规上名录”（列对应关系按来源保存）
    #[arg(long)]
    source: String,
    /// 列对应关系文件：每行“列名,字段代码”（字段代码见 docs/ARCHITECTURE.md 或错误提示）
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
    /// 确认写入企业档案（不加时只暂存和检查）
    #[arg(long)]
    commit: bool,
}

#[derive(Args, Debug)]
struct VerifyAuthorizationArgs {
    /// 企业下载的签名存证文件（JSON）
    file: PathBuf,
    /// 平台公钥文件（PEM）；不指定时使用本平台数据库中的平台公钥
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// 统一社会信用代码（GB 32100-2015）
    CreditCode {
        /// 一个或多个代码；“-”表示从标准输入逐行读取
        #[arg(required = true)]
        codes: Vec<String>,
    },
    /// 居民身份证号码（GB 11643-1999）
    IdNumber {
        /// 一个或多个号码；“-”表示从标准输入逐行读取
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// 全文搜索：重建索引的时间，以及固定查询集的延迟 p50/p90/p99（需先停止使用同一数据目录的服务）
    Search {
        /// 每条查询重复的轮数
        #[arg(long, default_value_t = 20)]
        rounds: usize,
    },
    /// 政策批量匹配：数据库中的全部企业 × 生成的政策申报条件（含逐条核对记录），用全部 CPU 核
    Match {
        /// 政策数量
        #[arg(long, default_value_t = 500)]
        policies: usize,
    },
    /// 负载测试：以子进程启动 qifu serve，按固定到达率模拟在线用户（含思考时间）访问混合页面，
    /// 输出各交易 p50/p95/p99/p99.9、吞吐、错误、服务进程内存和 CPU，并与裸 axum 处理器（地板）对比
    Load {
        /// 在线用户数
        #[arg(long, default_value_t = 500)]
        users: usize,
        /// 计时秒数（另有 5 秒预热不计）
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// 每个用户两次请求之间的思考时间（毫秒）；到达率 = 用户数 ÷ 思考时间
        #[arg(long, default_value_t = 5000)]
        think_ms: u64,
        /// 与地板对比时每个页面的压测秒数
        #[arg(long, default_value_t = 10)]
        floor_duration: u64,
        /// 与地板对比时的并发连接数
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// 每隔多少秒在负载中插入一次 13 万企业的 xlsx 导出（0 表示不导出）
        #[arg(long, default_value_t = 30)]
        export_every: u64,
    },
    /// 地板：只运行各页面主查询的裸 axum 处理器（供 bench load 作为子进程启动）
    Floor {
        #[arg(long)]
        listen: SocketAddr,
    },
    /// 冷启动：多次启动 qifu serve，计时到 /readyz 返回 200
    Coldstart {
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// 导出：全部企业写入 xlsx（与后台“导出 Excel”同一函数），计时并报告本进程峰值内存
    Export,
    /// 导入：在空数据库上生成并导入企业基础数据（清洗、校验、查重、暂存、写入档案），再对全部档案评分，
    /// 分步计时并报告本进程峰值内存
    Import {
        /// 生成的行数
        #[arg(long, default_value_t = 130_000)]
        rows: usize,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// 校验审计日志和登录日志的哈希链（HMAC-SM3，密钥不在数据库中），并核对数据目录 audit-anchors/ 中
    /// 每个签名锚点与现存记录一致（锚点之后的截断可被发现）；有问题时指出第一条并以非零状态退出
    Verify,
    /// 立即把两条链的链头用平台 SM2 密钥签名，追加写入数据目录 audit-anchors/<日期>.log（只追加，0600）
    Anchor,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// 监听地址 ADDR:PORT [默认: 127.0.0.1:8080]
    #[arg(long, env = "QIFU_LISTEN", value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// 数据库为空时先填充演示数据（首次体验用）
    #[arg(long)]
    demo: bool,
    /// 不在进程内运行后台任务
    #[arg(long)]
    no_worker: bool,
}

#[derive(Args, Debug)]
struct WorkerArgs {
    /// 处理完当前到期的任务后退出
    #[arg(long)]
    once: bool,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// 生成的企业数量（1 到 130000）
    #[arg(long, default_value_t = qifu_app::demo::DEFAULT_ENTERPRISES)]
    enterprises: u32,
    /// 随机种子；相同种子生成相同数据
    #[arg(long, default_value_t = 20261129)]
    seed: u64,
    /// 服务产品总数（默认只生成手写的示例产品；更多时按细分行业和套餐生成变体，用于性能测试）
    #[arg(long, default_value_t = 0)]
    products: u32,
    /// 政策总数（默认只生成手写的示例政策；更多时生成往年版本，用于性能测试）
    #[arg(long, default_value_t = 0)]
    policies: u32,
    /// 另建的企业登录账号数（性能测试用：先给每家企业建组织并认证，再分配账号；密码同演示账号）
    #[arg(long, default_value_t = 0)]
    users: u32,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// 创建用户（所属组织不存在时一并创建）
    CreateUser(CreateUserArgs),
}

#[derive(Args, Debug)]
struct CreateUserArgs {
    /// 用户名（3–32 位字母、数字、_-.）
    #[arg(long)]
    username: String,
    /// 姓名
    #[arg(long)]
    display_name: String,
    /// 角色：operator_admin、system_admin、security_admin、auditor、government_viewer、institution_admin、enterprise_admin
    #[arg(long)]
    role: String,
    /// 所属组织名称
    #[arg(long)]
    org_name: String,
    /// 手机号码（工作人员登录的第二因素短信发往此号码）
    #[arg(long)]
    phone: Option<String>,
    /// 从标准输入读取密码（否则随机生成并打印，首次登录须修改）
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// 打印全部配置项、默认值和说明
    Defaults,
}

/// glibc gives every thread that allocates its own malloc arena and keeps what
/// is freed there, so a long-running server's RSS climbs after each burst (an
/// xlsx export, a search rebuild) and stays. Two arenas keep it flat (measured
/// in docs/BENCHMARKS.md: peak 155 MB → 125 MB under the tender's load with
/// exports). The limit must be set before the process starts, so `serve` and
/// `worker` re-execute themselves once with `MALLOC_ARENA_MAX=2` unless the
/// variable is already set (any value, e.g. by the service unit, wins).
fn limit_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    // exec only returns on failure; then carry on with glibc's default.
    let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("MALLOC_ARENA_MAX", "2").exec();
    eprintln!("qifu: 提示: 无法以 MALLOC_ARENA_MAX=2 重新启动（{err}），继续运行");
}

fn main() -> ExitCode {
    qifu_app::integrations::aliyun::install_crypto_provider();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    if matches!(cli.command, Command::Serve(_) | Command::Worker(_)) {
        limit_malloc_arenas();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("qifu: 错误: 无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("qifu: 错误: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings(g: &Global, listen: Option<SocketAddr>) -> Result<Settings> {
    let (file, required) = match &g.config {
        Some(f) => (f.clone(), true),
        None => (qifu_app::config::default_config_file().to_path_buf(), false),
    };
    let src = Sources { file: Some(file), file_required: required, data_dir: g.data_dir.clone(), listen };
    Ok(Settings::load(&src)?)
}

fn init_tracing(s: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&s.log_level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match s.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
    };
}

async fn open(settings: Settings) -> Result<Ctx> {
    let url = settings.effective_database_url();
    let db = qifu_db::open(&url, &settings.db_options()).await?;
    let ctx = Ctx::new(db, Arc::new(settings), Arc::new(SystemClock)).await?;
    qifu_app::system::bootstrap(&ctx).await.context("初始化内置角色和菜单失败")?;
    // Keys, uploads, anchors and the SQLite file: the owner's only.
    qifu_app::files::secure_data_dir(&ctx.settings.data_dir)
        .with_context(|| format!("无法收紧数据目录 {} 的权限", ctx.settings.data_dir.display()))?;
    Ok(ctx)
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Defaults) => {
            // Defaults only: no file or environment is read.
            let mut out = std::io::stdout().lock();
            writeln!(out, "# 配置项\t默认值\t说明")?;
            for (k, v, m) in Settings::defaults_table() {
                writeln!(out, "{k}\t{v}\t{m}")?;
            }
            Ok(())
        }
        Command::Migrate => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let applied = qifu_db::applied_migrations(&ctx.db).await?;
            println!("数据库已是最新（{} 个迁移）：", applied.len());
            for m in applied {
                println!("  {m}");
            }
            Ok(())
        }
        Command::Reindex => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            qifu_app::index::request_rebuild(&ctx.db, ctx.now()).await?;
            match qifu_app::search::open(&ctx) {
                Ok(_) => {
                    let started = std::time::Instant::now();
                    let r = qifu_app::search::sync(&ctx).await?;
                    println!(
                        "搜索索引已重建：{} 条文档，用时 {:.1} 秒（变更序号 {}）",
                        r.rebuilt.unwrap_or(0),
                        started.elapsed().as_secs_f64(),
                        r.checkpoint
                    );
                }
                Err(qifu_search::SearchError::Locked) => {
                    println!("搜索索引正被运行中的服务使用：已通知各节点在后台重建，几秒内开始，期间搜索照常可用。");
                }
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Search { rounds }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            bench::search(&ctx, rounds.max(1)).await
        }
        Command::Bench(BenchCommand::Match { policies }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            bench::matching(&ctx, policies.clamp(1, 10_000)).await
        }
        Command::Bench(BenchCommand::Load { users, duration, think_ms, floor_duration, connections, export_every }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let o = bench_load::LoadOptions {
                users: users.clamp(1, 100_000),
                duration: std::time::Duration::from_secs(duration.max(1)),
                think: std::time::Duration::from_millis(think_ms.max(1)),
                floor_duration: std::time::Duration::from_secs(floor_duration.max(1)),
                connections: connections.clamp(1, 1024),
                export_every: std::time::Duration::from_secs(export_every),
            };
            bench_load::load(&ctx, &o).await
        }
        Command::Bench(BenchCommand::Floor { listen }) => {
            let settings = load_settings(&cli.global, None)?;
            let ctx = open(settings).await?;
            bench_load::floor(ctx, listen).await
        }
        Command::Bench(BenchCommand::Coldstart { rounds }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            bench_load::coldstart(&ctx, rounds.clamp(1, 50)).await
        }
        Command::Bench(BenchCommand::Import { rows }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            bench::import(&ctx, rows).await
        }
        Command::Bench(BenchCommand::Export) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            bench_load::export(&ctx).await
        }
        Command::Demo(args) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            demo(&ctx, args.enterprises, args.seed, args.products, args.policies, args.users).await
        }
        Command::Serve(args) => serve(&cli.global, args).await,
        Command::VerifyAuthorization(a) => {
            let text = std::fs::read_to_string(&a.file).with_context(|| format!("无法读取文件 {}", a.file.display()))?;
            let report = |r: &qifu_app::authorization::Record| {
                println!(
                    "有效：{}（{}）于 {} 签署授权书 {}，有效期至 {}",
                    r.enterprise_name, r.credit_code, r.signed_at, r.text_version, r.valid_until
                )
            };
            match a.public_key {
                Some(pk) => {
                    let pem = std::fs::read_to_string(&pk).with_context(|| format!("无法读取公钥文件 {}", pk.display()))?;
                    let file: qifu_app::authorization::SignedFile = serde_json::from_str(&text)
                        .map_err(|_| anyhow::anyhow!("文件不是平台出具的授权存证（JSON 格式不正确）"))?;
                    match qifu_app::authorization::verify_file(&file, &pem) {
                        Ok(r) => report(&r),
                        Err(why) => bail!("验证未通过：{why}"),
                    }
                }
                None => {
                    let settings = load_settings(&cli.global, None)?;
                    init_tracing(&settings);
                    let ctx = open(settings).await?;
                    match qifu_app::authorization::verify_text(&ctx, &text).await? {
                        qifu_app::authorization::Verdict::Valid { record, revoked, expired } => {
                            report(&record);
                            if revoked {
                                println!("注意：该授权已被企业撤回。");
                            } else if expired {
                                println!("注意：该授权已过期。");
                            }
                        }
                        qifu_app::authorization::Verdict::Invalid(why) => bail!("验证未通过：{why}"),
                    }
                }
            }
            Ok(())
        }
        Command::Check(c) => {
            type Check = fn(&str) -> Result<(), String>;
            let (values, check): (Vec<String>, Check) = match c {
                CheckCommand::CreditCode { codes } => {
                    (codes, |v| qifu_domain::certification::CreditCode::parse(v).map(|_| ()).map_err(|e| e.to_string()))
                }
                CheckCommand::IdNumber { numbers } => {
                    (numbers, |v| qifu_domain::certification::ResidentId::parse(v).map(|_| ()).map_err(|e| e.to_string()))
                }
            };
            let mut out = std::io::stdout().lock();
            let mut one = |v: &str| -> std::io::Result<()> {
                match check(v) {
                    Ok(()) => writeln!(out, "{v}\tvalid"),
                    Err(reason) => writeln!(out, "{v}\tinvalid\t{reason}"),
                }
            };
            for v in &values {
                if v == "-" {
                    for line in std::io::stdin().lock().lines() {
                        let line = line.context("无法读取标准输入")?;
                        one(line.trim_end_matches('\r'))?;
                    }
                } else {
                    one(v)?;
                }
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let v = qifu_app::audit::verify(&ctx).await?;
            match v.broken {
                None => {
                    println!(
                        "审计链完整：已校验审计日志 {} 条、登录日志 {} 条记录，签名锚点 {} 个全部相符。",
                        v.checked, v.login_checked, v.anchors
                    );
                    Ok(())
                }
                Some((seq, why)) => bail!("{}在第 {seq} 条记录处断开：{why}（此前 {} 条完好）", v.chain, v.checked),
            }
        }
        Command::Audit(AuditCommand::Anchor) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let anchors = qifu_app::audit::anchor(&ctx).await?;
            for a in &anchors {
                println!("已锚定 {}：第 {} 条，哈希 {}，签名密钥编号 {}", a.chain, a.seq, a.hash, a.key_id);
            }
            println!("锚点已写入 {}", qifu_app::audit::anchor_dir(&ctx).display());
            Ok(())
        }
        Command::Worker(args) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let worker = qifu_worker::Worker::new(ctx, qifu_worker::Registry::standard(), qifu_worker::default_schedules()?);
            if args.once {
                let p = worker.drain().await?;
                println!("完成 {} 个任务，重试 {} 个，失败 {} 个", p.succeeded, p.retried, p.dead);
                return Ok(());
            }
            let (tx, rx) = tokio::sync::watch::channel(false);
            let handle = tokio::spawn(worker.run(rx));
            shutdown_signal().await;
            let _ = tx.send(true);
            let _ = handle.await;
            Ok(())
        }
        Command::Import(ImportCommand::Registry { since }) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            let r = qifu_app::governance::import::sync_registry(&ctx, None, since).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let from = r.since.map_or("最早".to_owned(), |d| d.to_string());
            match r.batch_id {
                None => println!("登记信息来源（{}）自 {from} 起没有变更，未写入任何数据", ctx.registry.name()),
                Some(b) => {
                    println!(
                        "批次 {b}：自 {from} 起的变更 {} 条（{} 页），接受 {}，拒绝 {}，重复 {}；新建 {}，更新 {}，无变化 {}，待人工核对 {}",
                        r.counts.rows_read,
                        r.pages,
                        r.counts.accepted,
                        r.counts.rejected,
                        r.counts.duplicates,
                        r.committed.created,
                        r.committed.updated,
                        r.committed.unchanged,
                        r.committed.conflicts
                    );
                    if let Some(d) = r.checkpoint {
                        println!("下次同步从 {d} 起");
                    }
                }
            }
            Ok(())
        }
        Command::Import(ImportCommand::Enterprises(a)) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let ctx = open(settings).await?;
            import_enterprises(&ctx, a).await
        }
        Command::Admin(AdminCommand::CreateUser(a)) => {
            let settings = load_settings(&cli.global, None)?;
            init_tracing(&settings);
            let Some(role) = qifu_domain::accounts::BuiltinRole::parse(&a.role) else {
                bail!("未知角色“{}”，可选：{}", a.role, role_codes());
            };
            let (password, generated) = if a.password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).context("无法读取密码")?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (generate_password(), true)
            };
            let ctx = open(settings).await?;
            let id = qifu_app::accounts::create_user(
                &ctx,
                qifu_app::accounts::NewUser {
                    username: a.username.clone(),
                    display_name: a.display_name,
                    password: password.clone(),
                    role,
                    org_name: a.org_name,
                    must_change_password: generated,
                    phone: a.phone.clone(),
                },
            )
            .await?;
            println!("已创建用户 {}（编号 {id}，角色 {}）", a.username, role.label());
            if generated {
                println!("初始密码：{password}（首次登录后须修改）");
            }
            Ok(())
        }
    }
}

fn role_codes() -> String {
    qifu_domain::accounts::BuiltinRole::ALL.iter().map(|r| r.code()).collect::<Vec<_>>().join("、")
}

fn generate_password() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("Qf-{}{}", &raw[..10], &raw[10..14].to_uppercase())
}

async fn demo(ctx: &Ctx, enterprises: u32, seed: u64, products: u32, policies: u32, users: u32) -> Result<()> {
    let started = std::time::Instant::now();
    let outcome = qifu_app::demo::run(ctx, &qifu_app::demo::DemoOptions { enterprises, seed, products, policies, users }).await?;
    match outcome {
        qifu_app::demo::DemoOutcome::AlreadyHasData => {
            println!("数据库中已有数据，未做任何修改。（演示数据只填充到空数据库）");
        }
        qifu_app::demo::DemoOutcome::Created(r) => {
            println!(
                "已填充演示数据：企业 {} 家，服务机构 {} 家，服务产品 {} 项，政策 {} 条，用时 {:.1} 秒。",
                r.enterprises,
                r.institutions,
                r.products,
                r.policies,
                started.elapsed().as_secs_f64()
            );
            println!("演示账号（密码均为 {}）：", qifu_app::demo::DEMO_PASSWORD);
            for l in &r.logins {
                println!("  {:<10}  {}", l.username, l.role);
            }
        }
    }
    Ok(())
}

async fn serve(g: &Global, args: ServeArgs) -> Result<()> {
    let settings = load_settings(g, args.listen)?;
    init_tracing(&settings);
    let listen = settings.listen;
    let run_worker = settings.worker.in_process && !args.no_worker;
    // Bind before anything slow so a busy port is reported at once.
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("无法监听 {listen}"))?;
    let ctx = open(settings).await?;
    if args.demo {
        demo(&ctx, qifu_app::demo::DEFAULT_ENTERPRISES, 20261129, 0, 0, 0).await?;
    }
    // Each node keeps its own search index current; a second process on the same
    // data directory (or a broken folder) leaves search on its database fallback.
    let search =
        match qifu_app::search::start(&ctx, std::time::Duration::from_millis(ctx.settings.search.sync_interval_ms.max(100))) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "search index not available; portal search falls back to titles");
                None
            }
        };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let worker = if run_worker {
        let w = qifu_worker::Worker::new(ctx.clone(), qifu_worker::Registry::standard(), qifu_worker::default_schedules()?);
        Some(tokio::spawn(w.run(rx)))
    } else {
        None
    };
    let state = qifu_web::AppState::new(ctx);
    let addr = listener.local_addr()?;
    println!("qifu 已启动：http://{addr}/  （管理后台 http://{addr}/admin ，按 Ctrl+C 停止）");
    tracing::info!(%addr, worker = run_worker, "listening");
    let (stop_web, mut web_stopped) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(qifu_web::serve(listener, state, async move {
        let _ = web_stopped.changed().await;
    }));
    tokio::select! {
        r = &mut server => {
            // The server ended by itself: an error.
            let _ = tx.send(true);
            r.context("网站服务异常退出")?.context("网站服务异常退出")?;
            return Ok(());
        }
        _ = shutdown_signal() => {}
    }
    // A bounded stop: in-flight requests and running jobs get a few seconds,
    // then the process exits (jobs not finished are given back to the queue).
    tracing::info!("stopping");
    let _ = stop_web.send(true);
    let _ = tx.send(true);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(8);
    if tokio::time::timeout_at(deadline, &mut server).await.is_err() {
        tracing::warn!("requests still open after 8 s; closing them");
        server.abort();
    }
    if let Some(s) = search {
        s.abort();
    }
    if let Some(w) = worker {
        let _ = tokio::time::timeout_at(deadline + std::time::Duration::from_secs(1), w).await;
    }
    Ok(())
}

async fn import_enterprises(ctx: &Ctx, a: ImportEnterprisesArgs) -> Result<()> {
    use qifu_app::governance::import;
    use qifu_domain::governance::EnterpriseField;
    let started = std::time::Instant::now();
    let bytes = std::fs::read(&a.file).with_context(|| format!("无法读取 {}", a.file.display()))?;
    let table = import::read_table(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    let source = import::check_source(&a.source).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut map = import::mapping(&ctx.db, &source, &table.headers).await?;
    if let Some(m) = &a.mapping {
        let text = std::fs::read_to_string(m).with_context(|| format!("无法读取 {}", m.display()))?;
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#')) {
            let (col, field) =
                line.split_once([',', '\t']).with_context(|| format!("{} 第{}行应为“列名,字段代码”", m.display(), n + 1))?;
            let field = EnterpriseField::parse(field.trim()).with_context(|| {
                format!(
                    "{} 第{}行：未知字段代码“{}”，可用：{}",
                    m.display(),
                    n + 1,
                    field.trim(),
                    EnterpriseField::CODES.join("、")
                )
            })?;
            match table.headers.iter().position(|h| h == col.trim()) {
                Some(i) => map[i] = Some(field),
                None => bail!("{} 第{}行：文件中没有“{}”这一列", m.display(), n + 1, col.trim()),
            }
        }
    }
    let file_name = a.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (batch, counts) =
        import::stage(ctx, None, &source, &file_name, &table, &map).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let pairs: Vec<(String, EnterpriseField)> =
        table.headers.iter().zip(&map).filter_map(|(h, f)| f.map(|f| (h.clone(), f))).collect();
    import::save_mapping(&txn, &source, &pairs).await?;
    txn.commit().await?;
    println!(
        "批次 {batch}（来源：{source}）：读取 {} 行，接受 {}，规范化 {} 个值，拒绝 {}，重复 {}",
        counts.rows_read, counts.accepted, counts.normalised, counts.rejected, counts.duplicates
    );
    let unmapped: Vec<&String> = table.headers.iter().zip(&map).filter(|(_, f)| f.is_none()).map(|(h, _)| h).collect();
    if !unmapped.is_empty() {
        println!("未对应的列（未导入）：{}", unmapped.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("、"));
    }
    if counts.rejected + counts.duplicates > 0 {
        let errors = import::error_file(&ctx.db, batch).await?;
        let path = a.file.with_extension("errors.csv");
        let path = match std::fs::write(&path, &errors) {
            Ok(()) => path,
            Err(_) => {
                let p = ctx.settings.data_dir.join(format!("import-{batch}.errors.csv"));
                std::fs::write(&p, &errors).with_context(|| format!("无法写入 {}", p.display()))?;
                p
            }
        };
        println!("错误文件：{}", path.display());
    }
    if a.commit {
        let r = import::commit(ctx, batch, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        println!(
            "已写入企业档案：新建 {}，更新 {}，无变化 {}，待人工核对的差异 {}",
            r.created, r.updated, r.unchanged, r.conflicts
        );
    } else {
        println!("尚未写入企业档案：确认无误后加 --commit 重新运行，或在管理后台“数据导入”中确认批次 {batch}");
    }
    println!("用时 {:.1} 秒", started.elapsed().as_secs_f64());
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
