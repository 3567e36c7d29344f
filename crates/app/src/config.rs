//! Configuration: built-in defaults → optional `qifu.toml` → `QIFU_*` environment
//! variables (nested keys with `__`, e.g. `QIFU_WEB__SESSION_IDLE_MINUTES`), loaded
//! once into typed settings that are passed down. No globals.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub log_level: String,
    pub database: DatabaseSettings,
    pub web: WebSettings,
    pub worker: WorkerSettings,
    pub platform: PlatformSettings,
    pub security: SecuritySettings,
    pub sms: SmsSettings,
    pub registry: RegistrySettings,
    pub demands: DemandSettings,
    pub messages: MessageSettings,
    pub email: EmailSettings,
    pub wechat: WechatSettings,
    pub search: SearchSettings,
    pub audit: AuditSettings,
    pub crawl: CrawlSettings,
    pub files: FileSettings,
}

/// The audit trail's signed anchors outside the database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Anchor the chain heads after this many new records (0 = only by time).
    pub anchor_every_records: u64,
    /// Anchor the chain heads at least this often while they move (0 = only by count).
    pub anchor_every_minutes: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { anchor_every_records: 1000, anchor_every_minutes: 60 }
    }
}

/// Outside fetches whose address a user sets (crawl sources).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CrawlSettings {
    /// Internal hosts (names or IP addresses) a crawl source may nevertheless reach.
    pub allow_hosts: Vec<String>,
}

/// Uploaded files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileSettings {
    /// Days a rejected certification keeps its licence image before the file is deleted.
    pub rejected_retention_days: i64,
}

impl Default for FileSettings {
    fn default() -> Self {
        FileSettings { rejected_retention_days: 180 }
    }
}

/// Each node's search index: how it follows the change log and checks itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchSettings {
    /// How often the index applies new changes.
    pub sync_interval_ms: u64,
    /// How long a change id seen missing is looked for again (longer than any transaction).
    pub gap_window_secs: i64,
    /// How often the index is compared with the database and repaired (0 = never).
    pub reconcile_minutes: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings { sync_interval_ms: 2000, gap_window_secs: 600, reconcile_minutes: 60 }
    }
}

/// The message center: delivery retries, per-channel rate limits, default quiet hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageSettings {
    pub max_attempts: i32,
    pub sms_per_minute: u32,
    pub email_per_minute: u32,
    pub wechat_per_minute: u32,
    pub quiet_start: String,
    pub quiet_end: String,
    /// The portal's address as users reach it, for links in SMS, email and WeChat.
    pub public_url: String,
}

impl Default for MessageSettings {
    fn default() -> Self {
        MessageSettings {
            max_attempts: 4,
            sms_per_minute: 100,
            email_per_minute: 100,
            wechat_per_minute: 600,
            quiet_start: "22:00".to_owned(),
            quiet_end: "08:00".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailSettings {
    pub provider: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: String,
    pub smtp_username: String,
    pub smtp_password: Secret,
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for EmailSettings {
    fn default() -> Self {
        EmailSettings {
            provider: "log".to_owned(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".to_owned(),
            smtp_username: String::new(),
            smtp_password: Secret::default(),
            from: "通州企服 <noreply@example.gov.cn>".to_owned(),
            timeout_secs: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WechatSettings {
    pub provider: String,
    pub app_id: String,
    pub app_secret: Secret,
    pub token: Secret,
    pub aes_key: Secret,
    pub api_base: String,
    pub oauth_base: String,
    /// Requests whose timestamp is further than this from now are refused (replays); 0 = no check.
    pub max_clock_skew_secs: i64,
}

impl Default for WechatSettings {
    fn default() -> Self {
        WechatSettings {
            provider: "log".to_owned(),
            app_id: String::new(),
            app_secret: Secret::default(),
            token: Secret::default(),
            aes_key: Secret::default(),
            api_base: "https://api.weixin.qq.com".to_owned(),
            oauth_base: "https://open.weixin.qq.com".to_owned(),
            max_clock_skew_secs: 300,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemandSettings {
    pub accept_working_days: u32,
    pub escalate_after_working_days: u32,
}

impl Default for DemandSettings {
    fn default() -> Self {
        DemandSettings { accept_working_days: 3, escalate_after_working_days: 2 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistrySettings {
    pub provider: String,
    pub http_url: String,
    pub http_token: Secret,
    pub timeout_secs: u64,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            provider: "local".to_owned(),
            http_url: String::new(),
            http_token: Secret::default(),
            timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    pub field_key: Secret,
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    pub ip_failure_limit: u64,
    pub ip_window_minutes: i64,
    pub staff_second_factor: bool,
    pub staff_client_cert: bool,
    pub client_cert_header: String,
    pub trust_forwarded_for: bool,
    /// Proxies (CIDR) whose X-Forwarded-For entries are believed.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmsSettings {
    pub provider: String,
    pub code_ttl_secs: i64,
    pub resend_secs: i64,
    pub daily_per_phone: u64,
    pub daily_per_ip: u64,
    pub aliyun_endpoint: String,
    pub aliyun_access_key_id: String,
    pub aliyun_access_key_secret: Secret,
    pub aliyun_sign_name: String,
    pub aliyun_template_code: String,
    pub aliyun_notice_template_code: String,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            field_key: Secret::default(),
            lockout_threshold: 5,
            lockout_minutes: 15,
            ip_failure_limit: 30,
            ip_window_minutes: 15,
            staff_second_factor: true,
            staff_client_cert: false,
            client_cert_header: "X-SSL-Client-Verify".to_owned(),
            trust_forwarded_for: false,
            trusted_proxies: vec!["127.0.0.1/32".to_owned(), "::1/128".to_owned()],
        }
    }
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            provider: "log".to_owned(),
            code_ttl_secs: 300,
            resend_secs: 60,
            daily_per_phone: 10,
            daily_per_ip: 50,
            aliyun_endpoint: "https://dysmsapi.aliyuncs.com/".to_owned(),
            aliyun_access_key_id: String::new(),
            aliyun_access_key_secret: Secret::default(),
            aliyun_sign_name: String::new(),
            aliyun_template_code: String::new(),
            aliyun_notice_template_code: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    pub sqlite_busy_timeout_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSettings {
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub secure_cookies: bool,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Bearer token that opens /metrics to other than loopback peers (empty: loopback only).
    pub metrics_token: Secret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkerSettings {
    pub in_process: bool,
    pub poll_interval_ms: u64,
    pub batch_size: u64,
    pub lease_secs: i64,
    pub max_attempts: i32,
    pub backoff_base_secs: i64,
    pub backoff_max_secs: i64,
    /// Jobs one worker runs at the same time.
    pub concurrency: u64,
    /// Jobs of one kind one worker runs at the same time.
    pub per_kind_concurrency: u64,
    /// On shutdown, how long running jobs may take to finish before they are given back.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlatformSettings {
    pub name: String,
    pub owner: String,
    pub operator_name: String,
    pub operator_phone: String,
    pub operator_email: String,
    pub operator_address: String,
    pub icp_record: String,
    pub police_record: String,
    pub site_code: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("./data"),
            database_url: Secret::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log_format: LogFormat::Text,
            log_level: "info,sea_orm_migration=warn,sqlx=warn".to_owned(),
            database: DatabaseSettings::default(),
            web: WebSettings::default(),
            worker: WorkerSettings::default(),
            platform: PlatformSettings::default(),
            security: SecuritySettings::default(),
            sms: SmsSettings::default(),
            registry: RegistrySettings::default(),
            demands: DemandSettings::default(),
            messages: MessageSettings::default(),
            email: EmailSettings::default(),
            wechat: WechatSettings::default(),
            search: SearchSettings::default(),
            audit: AuditSettings::default(),
            crawl: CrawlSettings::default(),
            files: FileSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings { max_connections: 10, acquire_timeout_secs: 5, sqlite_busy_timeout_ms: 5000 }
    }
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            request_timeout_secs: 30,
            body_limit_bytes: 10 * 1024 * 1024,
            secure_cookies: false,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            metrics_token: Secret::default(),
        }
    }
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            in_process: true,
            poll_interval_ms: 1000,
            batch_size: 10,
            lease_secs: 30,
            max_attempts: 5,
            backoff_base_secs: 10,
            backoff_max_secs: 3600,
            concurrency: 8,
            per_kind_concurrency: 2,
            shutdown_grace_secs: 5,
        }
    }
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            name: "通州区中小微企业智慧服务平台".to_owned(),
            owner: "北京市通州区经济和信息化局".to_owned(),
            operator_name: "平台运营服务中心".to_owned(),
            operator_phone: "010-00000000".to_owned(),
            operator_email: "service@example.gov.cn".to_owned(),
            operator_address: "北京市通州区".to_owned(),
            icp_record: "京ICP备00000000号".to_owned(),
            police_record: "京公网安备 11011200000000号".to_owned(),
            site_code: "0000000000".to_owned(),
        }
    }
}

/// `HH:MM` → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<i32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m) && m.to_string().len() <= 2).then_some(h * 60 + m)
}

/// Every key with its meaning; `qifu config defaults` prints these with their defaults.
pub const KEYS: &[(&str, &str)] = &[
    ("data_dir", "数据目录：SQLite 文件、搜索索引和上传文件所在目录 (env QIFU_DATA_DIR, --data-dir)"),
    (
        "database_url",
        "数据库地址：留空为数据目录下的 SQLite (qifu.db)；生产用 postgres://… (env QIFU_DATABASE_URL)；保密项，不写入日志",
    ),
    ("listen", "serve 监听地址 ADDR:PORT (env QIFU_LISTEN, --listen)"),
    ("log_format", "日志格式：text 或 json (env QIFU_LOG_FORMAT)"),
    ("log_level", "日志级别或 tracing 过滤表达式，如 info、qifu=debug (env QIFU_LOG_LEVEL)"),
    ("database.max_connections", "数据库连接池最大连接数"),
    ("database.acquire_timeout_secs", "获取数据库连接的超时秒数"),
    ("database.sqlite_busy_timeout_ms", "SQLite 忙等待超时毫秒数"),
    ("web.request_timeout_secs", "单个请求的超时秒数，超时返回 503"),
    ("web.body_limit_bytes", "请求体大小上限（字节）"),
    ("web.secure_cookies", "Cookie 加 Secure 标志；在 TLS（HTTPS）之后部署时设为 true"),
    ("web.session_idle_minutes", "会话空闲超时分钟数"),
    ("web.session_absolute_hours", "会话绝对有效小时数"),
    ("worker.in_process", "serve 是否在进程内运行后台任务；多节点时可关掉并单独运行 qifu worker"),
    ("worker.poll_interval_ms", "任务队列轮询间隔毫秒数"),
    ("worker.batch_size", "每次领取的任务数"),
    ("worker.lease_secs", "任务租约秒数：运行中的任务每隔三分之一租约续租一次；节点停止后，租约到期的任务由其他节点接手"),
    ("worker.concurrency", "每个节点同时运行的任务数"),
    ("worker.per_kind_concurrency", "每个节点同时运行的同一类任务数（一类任务卡住时不影响其他任务）"),
    ("worker.shutdown_grace_secs", "停止时等待运行中任务完成的秒数，之后未完成的任务交回队列"),
    ("worker.max_attempts", "任务最多尝试次数，用尽后标记为失败（dead）并保留错误"),
    ("worker.backoff_base_secs", "重试退避的基数秒数（指数增长）"),
    ("worker.backoff_max_secs", "重试退避的最长秒数"),
    ("platform.name", "平台名称，显示在页头和标题"),
    ("platform.owner", "主办单位"),
    ("platform.operator_name", "运营单位名称（页脚）"),
    ("platform.operator_phone", "运营单位联系电话（页脚）"),
    ("platform.operator_email", "运营单位电子邮箱（页脚）"),
    ("platform.operator_address", "运营单位地址（页脚）"),
    ("platform.icp_record", "ICP 备案号（页脚）"),
    ("platform.police_record", "公安机关备案号（页脚）"),
    ("platform.site_code", "政府网站标识码（页脚）"),
    (
        "security.field_key",
        "个人信息字段加密密钥（SM4，32位十六进制）；留空则在数据目录 keys/field.key 生成；多节点必须配置同一密钥；保密项",
    ),
    ("security.lockout_threshold", "连续登录失败多少次后锁定账号"),
    ("security.lockout_minutes", "账号锁定分钟数"),
    ("security.ip_failure_limit", "同一 IP 在时间窗内允许的登录失败次数，超过后暂停该 IP 登录"),
    ("security.ip_window_minutes", "IP 登录失败计数的时间窗（分钟）"),
    ("security.staff_second_factor", "运营方和政府人员登录须通过第二因素（短信验证码或动态口令）"),
    ("security.staff_client_cert", "运营方和政府人员登录须持有受信任 CA 签发的客户端证书（由前置 TLS 代理校验）"),
    ("security.client_cert_header", "前置 TLS 代理传递客户端证书校验结果的请求头，值为 SUCCESS 表示通过"),
    ("security.trust_forwarded_for", "信任 X-Forwarded-For 头中的客户端 IP（仅在可信反向代理之后开启）"),
    ("sms.provider", "短信通道：log（写入后台短信发件箱，默认）或 aliyun（阿里云短信）"),
    ("sms.code_ttl_secs", "短信验证码有效秒数"),
    ("sms.resend_secs", "同一手机号两次发送验证码的最短间隔（秒）"),
    ("sms.daily_per_phone", "同一手机号每天最多发送验证码次数"),
    ("sms.daily_per_ip", "同一 IP 每天最多发送验证码次数"),
    ("sms.aliyun_endpoint", "阿里云短信接口地址"),
    ("sms.aliyun_access_key_id", "阿里云 AccessKey ID"),
    ("sms.aliyun_access_key_secret", "阿里云 AccessKey Secret；保密项"),
    ("sms.aliyun_sign_name", "短信签名"),
    ("sms.aliyun_template_code", "验证码短信模板编号，模板变量为 ${code}"),
    (
        "sms.aliyun_notice_template_code",
        "通知短信模板编号（需求受理、交付等状态变化），模板变量为 ${title}；留空则通知只发站内信，短信记为失败",
    ),
    ("registry.provider", "企业登记信息来源：local（平台登记信息库，默认）或 http（市场监管登记信息接口）"),
    ("registry.http_url", "登记信息接口地址，如 https://registry.example.gov.cn/api/v1/"),
    ("registry.http_token", "登记信息接口的访问令牌（Bearer）；保密项"),
    ("registry.timeout_secs", "登记信息接口超时秒数"),
    ("demands.accept_working_days", "需求提交后多少个工作日未受理即向服务机构发出超时催办"),
    ("demands.escalate_after_working_days", "催办后再过多少个工作日仍未受理即升级给运营方"),
    ("messages.max_attempts", "短信、邮件、微信消息每条最多尝试次数，用尽后记为发送失败"),
    ("messages.sms_per_minute", "短信通道每分钟最多发送条数（超出的顺延）"),
    ("messages.email_per_minute", "邮件通道每分钟最多发送封数（超出的顺延）"),
    ("messages.wechat_per_minute", "微信通道每分钟最多发送条数（超出的顺延）"),
    ("messages.quiet_start", "默认免打扰开始时间（北京时间 HH:MM），非紧急消息顺延到结束时间；用户可自行修改"),
    ("messages.quiet_end", "默认免打扰结束时间（北京时间 HH:MM）"),
    ("messages.public_url", "门户对外地址，用于短信、邮件和微信消息中的链接，如 https://qifu.tongzhou.gov.cn"),
    ("email.provider", "邮件通道：log（只记录，默认）或 smtp"),
    ("email.smtp_host", "SMTP 服务器地址"),
    ("email.smtp_port", "SMTP 端口（STARTTLS 常用 587，TLS 常用 465）"),
    ("email.smtp_security", "SMTP 加密方式：starttls（默认）、tls 或 none（仅限可信内网）"),
    ("email.smtp_username", "SMTP 用户名；留空则不认证"),
    ("email.smtp_password", "SMTP 密码；保密项"),
    ("email.from", "发件人，如 通州企服 <noreply@example.gov.cn>"),
    ("email.timeout_secs", "SMTP 超时秒数"),
    ("wechat.provider", "微信公众号接口：log（只记录，默认）或 api（调用微信接口发送模板消息、发布菜单、网页授权）"),
    ("wechat.app_id", "公众号 AppID (env QIFU_WECHAT_APP_ID)"),
    ("wechat.app_secret", "公众号 AppSecret；保密项"),
    ("wechat.token", "服务器配置的令牌 Token，用于校验 /wechat 请求签名 (env QIFU_WECHAT_TOKEN)；保密项"),
    ("wechat.aes_key", "消息加解密密钥 EncodingAESKey（43位），安全模式时必填 (env QIFU_WECHAT_AES_KEY)；保密项"),
    ("wechat.api_base", "微信接口地址"),
    ("wechat.oauth_base", "微信网页授权地址"),
    ("wechat.max_clock_skew_secs", "/wechat 请求时间戳与本机时间相差超过此秒数即拒绝（防重放）；0 表示不检查"),
    ("search.sync_interval_ms", "各节点搜索索引跟随变更记录的间隔毫秒数"),
    ("search.gap_window_secs", "变更序号出现空缺时继续查找的秒数（须长于最长的事务）：晚提交的变更不会被漏掉"),
    ("search.reconcile_minutes", "每隔多少分钟将搜索索引与数据库逐条核对并修复差异；0 表示不核对"),
    (
        "security.trusted_proxies",
        "可信反向代理的地址段（CIDR 列表）：只有来自这些地址的连接才采信 X-Forwarded-For，且取最右侧不属于这些地址段的 IP",
    ),
    ("web.metrics_token", "/metrics 的访问令牌（Authorization: Bearer …）；留空则只允许本机（回环地址）访问；保密项"),
    ("audit.anchor_every_records", "审计链每新增多少条记录即把签名的链头写入数据目录 audit-anchors/（0 表示只按时间）"),
    ("audit.anchor_every_minutes", "链头有变化时至少每隔多少分钟写入一次签名锚点（0 表示只按条数）"),
    ("crawl.allow_hosts", "政策采集允许访问的内网主机（主机名或 IP 列表）；默认拒绝回环、内网、链路本地等地址"),
    ("files.rejected_retention_days", "被驳回的实名认证申请保留营业执照图片的天数，到期删除文件"),
];

/// Where the settings come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A TOML file; read if it exists. An explicitly named file must exist.
    pub file: Option<PathBuf>,
    pub file_required: bool,
    /// Command-line overrides, applied last.
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("配置文件 {0} 不存在")]
    MissingFile(String),
    #[error("配置错误：{0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults → file → `QIFU_*` environment → command line.
    pub fn load(src: &Sources) -> Result<Settings, ConfigError> {
        let mut s = Self::load_with_env(src, Env::prefixed("QIFU_").split("__"))?;
        s.apply_wechat_env(|k| std::env::var(k).ok());
        Ok(s)
    }

    /// The WeChat server's own names: `QIFU_WECHAT_TOKEN`, `QIFU_WECHAT_AES_KEY`
    /// and `QIFU_WECHAT_APP_ID` (besides the nested `QIFU_WECHAT__TOKEN` form).
    pub fn apply_wechat_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(v) = var("QIFU_WECHAT_TOKEN").filter(|v| !v.is_empty()) {
            self.wechat.token = Secret::new(v);
        }
        if let Some(v) = var("QIFU_WECHAT_AES_KEY").filter(|v| !v.is_empty()) {
            self.wechat.aes_key = Secret::new(v);
        }
        if let Some(v) = var("QIFU_WECHAT_APP_ID").filter(|v| !v.is_empty()) {
            self.wechat.app_id = v;
        }
    }

    fn load_with_env(src: &Sources, env: Env) -> Result<Settings, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = &src.file {
            if file.exists() {
                fig = fig.merge(Toml::file(file));
            } else if src.file_required {
                return Err(ConfigError::MissingFile(file.display().to_string()));
            }
        }
        // Only known top-level keys are taken from the environment, so unrelated
        // QIFU_* variables (e.g. QIFU_TEST_DATABASE_URL) are not errors.
        let env = env.filter(|k| {
            let key = k.as_str().to_ascii_lowercase();
            let top = key.split('.').next().unwrap_or("");
            KEYS.iter().any(|(known, _)| known.split('.').next() == Some(top))
        });
        fig = fig.merge(env);
        let mut s: Settings = fig.extract().map_err(|e| ConfigError::Invalid(one_line(&e)))?;
        if let Some(d) = &src.data_dir {
            s.data_dir = d.clone();
        }
        if let Some(l) = src.listen {
            s.listen = l;
        }
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if parse_hhmm(&self.messages.quiet_start).is_none() || parse_hhmm(&self.messages.quiet_end).is_none() {
            return bad("messages.quiet_start 和 messages.quiet_end 须为 HH:MM，如 22:00");
        }
        if !self.wechat.aes_key.is_empty() && self.wechat.aes_key.expose().len() != 43 {
            return bad("wechat.aes_key（EncodingAESKey）须为 43 个字符");
        }
        if self.messages.max_attempts <= 0 {
            return bad("messages.max_attempts 必须大于 0");
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections 必须大于 0");
        }
        if self.web.session_idle_minutes <= 0 || self.web.session_absolute_hours <= 0 {
            return bad("web.session_idle_minutes 和 web.session_absolute_hours 必须大于 0");
        }
        if self.security.lockout_threshold <= 0 || self.security.lockout_minutes <= 0 {
            return bad("security.lockout_threshold 和 security.lockout_minutes 必须大于 0");
        }
        if !["local", "http"].contains(&self.registry.provider.as_str()) {
            return bad("registry.provider 只能是 local 或 http");
        }
        if !["log", "aliyun"].contains(&self.sms.provider.as_str()) {
            return bad("sms.provider 只能是 log 或 aliyun");
        }
        if self.worker.max_attempts <= 0 {
            return bad("worker.max_attempts 必须大于 0");
        }
        if let Some(bad_cidr) = self.security.trusted_proxies.iter().find(|c| crate::netguard::Cidr::parse(c).is_none()) {
            return bad(&format!("security.trusted_proxies 中的“{bad_cidr}”不是有效的地址段（如 10.0.0.0/8）"));
        }
        if self.web.body_limit_bytes < 1024 {
            return bad("web.body_limit_bytes 至少为 1024");
        }
        if tracing_level_ok(&self.log_level) { Ok(()) } else { bad(&format!("log_level “{}” 无法识别", self.log_level)) }
    }

    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() { qifu_db::sqlite_url_in(&self.data_dir) } else { self.database_url.expose().to_owned() }
    }

    pub fn db_options(&self) -> qifu_db::DbOptions {
        qifu_db::DbOptions {
            max_connections: self.database.max_connections,
            acquire_timeout: std::time::Duration::from_secs(self.database.acquire_timeout_secs),
            sqlite_busy_timeout: std::time::Duration::from_millis(self.database.sqlite_busy_timeout_ms),
        }
    }

    pub fn data_path(&self, rel: &str) -> PathBuf {
        self.data_dir.join(rel)
    }

    /// `key<TAB>default<TAB>meaning` lines for every key.
    pub fn defaults_table() -> Vec<(String, String, String)> {
        let value = toml::Value::try_from(Settings::default()).unwrap_or(toml::Value::Table(Default::default()));
        KEYS.iter()
            .map(|(key, meaning)| {
                let mut v = Some(&value);
                for part in key.split('.') {
                    v = v.and_then(|x| x.get(part));
                }
                let shown = match v {
                    Some(toml::Value::String(s)) => format!("\"{s}\""),
                    Some(other) => other.to_string(),
                    None => "\"\"".to_owned(),
                };
                ((*key).to_owned(), shown, (*meaning).to_owned())
            })
            .collect()
    }
}

fn tracing_level_ok(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '=' | ',' | ':' | '-'))
}

fn one_line(e: &figment::Error) -> String {
    let key = e.path.join(".").to_ascii_lowercase();
    let from = e
        .metadata
        .as_ref()
        .map(|m| match &m.source {
            Some(src) => format!("{} {src}", m.name),
            None => m.name.to_string(),
        })
        .unwrap_or_default();
    let kind = e.kind.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    if key.is_empty() {
        format!("{kind}（来源：{from}）")
    } else {
        format!("配置项 {key} 的值无效：{kind}（来源：{from}）")
    }
}

/// Whether a path looks like an explicitly given config file.
pub fn default_config_file() -> &'static Path {
    Path::new("qifu.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_server_names_and_quiet_hours() {
        let mut s = Settings::default();
        let env =
            [("QIFU_WECHAT_TOKEN", "tok"), ("QIFU_WECHAT_AES_KEY", "k".repeat(43).leak() as &str), ("QIFU_WECHAT_APP_ID", "wx1")];
        s.apply_wechat_env(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()));
        assert_eq!((s.wechat.token.expose(), s.wechat.app_id.as_str(), s.wechat.aes_key.expose().len()), ("tok", "wx1", 43));
        assert!(s.validate().is_ok());
        s.wechat.aes_key = Secret::new("short");
        assert!(s.validate().is_err());
        assert_eq!(parse_hhmm("22:00"), Some(1320));
        assert_eq!(parse_hhmm("08:05"), Some(485));
        for bad in ["24:00", "8", "ab:cd", "12:60", "12:345"] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }

    fn leaf_keys(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
        if let toml::Value::Table(t) = v {
            for (k, v) in t {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if v.is_table() {
                    leaf_keys(&key, v, out);
                } else {
                    out.push(key);
                }
            }
        }
    }

    #[test]
    fn every_key_is_documented() {
        let v = toml::Value::try_from(Settings::default()).unwrap();
        let mut keys = Vec::new();
        leaf_keys("", &v, &mut keys);
        // database_url is an empty string by default and serialises as such.
        let documented: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
        for k in &keys {
            assert!(documented.contains(&k.as_str()), "undocumented key {k}");
        }
        for k in documented {
            assert!(keys.iter().any(|x| x == k), "documented key {k} does not exist");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Settings { database_url: Secret::new("postgres://u:pw@h/db"), ..Settings::default() };
        assert!(!format!("{s:?}").contains("pw@h"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the error type
    fn layering_and_bad_values() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("qifu.toml", "listen = \"0.0.0.0:9000\"\n[web]\nsession_idle_minutes = 15\n")?;
            let src = Sources { file: Some("qifu.toml".into()), ..Default::default() };
            let s = Settings::load(&src).unwrap();
            assert_eq!(s.listen.port(), 9000);
            assert_eq!(s.web.session_idle_minutes, 15);
            jail.set_env("QIFU_LISTEN", "127.0.0.1:9100");
            jail.set_env("QIFU_WEB__SESSION_IDLE_MINUTES", "20");
            jail.set_env("QIFU_TEST_DATABASE_URL", "postgres://ignored");
            let s = Settings::load(&src).unwrap();
            assert_eq!(s.listen.port(), 9100);
            assert_eq!(s.web.session_idle_minutes, 20);
            let s = Settings::load(&Sources { listen: Some("127.0.0.1:1".parse().unwrap()), ..src.clone() }).unwrap();
            assert_eq!(s.listen.port(), 1);
            jail.set_env("QIFU_LISTEN", "not-an-address");
            let err = Settings::load(&src).unwrap_err().to_string();
            assert!(err.contains("listen"), "{err}");
            assert!(!err.contains('\n'));
            Ok(())
        });
    }
}

#[cfg(test)]
mod env_tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail fixes the error type
    fn environment_reaches_nested_and_secret_keys() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("QIFU_DATABASE_URL", "postgres://u:p@h/db");
            jail.set_env("QIFU_DATABASE__MAX_CONNECTIONS", "3");
            jail.set_env("QIFU_WORKER__IN_PROCESS", "false");
            jail.set_env("QIFU_SOMETHING_ELSE", "ignored");
            let s = Settings::load(&Sources::default()).unwrap();
            assert_eq!(s.database_url.expose(), "postgres://u:p@h/db");
            assert_eq!(s.database.max_connections, 3);
            assert!(!s.worker.in_process);
            jail.set_env("QIFU_DATABASE__MAX_CONNECTIONS", "0");
            assert!(Settings::load(&Sources::default()).is_err());
            Ok(())
        });
    }
}
