//! The audit trail: every state-changing use case writes one record in the same
//! transaction as its change. Records are append-only and chained: each carries
//! the keyed hash (HMAC-SM3) of its predecessor's hash and its own canonical
//! content, so an edited, deleted or inserted row breaks the chain at that point.
//!
//! Hardening (等保 2.0 level 3, docs/SECURITY.md):
//! - the chain key is derived from the field key (`ctx.crypto`), which lives
//!   outside the database: someone who can write the database but not read the
//!   key cannot recompute a chain that verifies;
//! - records written before keying (an upgraded installation) stay plain SM3 up
//!   to `audit_head.keyed_from`, which is itself signed into every anchor;
//! - the heads are anchored outside the database: every N records or M minutes
//!   (a job) and on `qifu audit anchor`, `{chain, seq, hash, keyed_from, at,
//!   key_id, signature}` signed with the platform's SM2 key is appended to
//!   `<data_dir>/audit-anchors/<date>.log`; verification checks that each
//!   anchored head still matches, so cutting records off the end after an
//!   anchor (and moving the head back) is detected;
//! - the login log is a second chain with the same mechanism (head row 2);
//! - a migration makes both tables append-only for the application (triggers).

use crate::actor::Actor;
use crate::context::{Ctx, Meta};
use crate::crypto::sm3_hex;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use qifu_db::entity::{audit, login_log};
use qifu_domain::accounts::LoginResult;
use qifu_domain::system::AuditResult;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::{Deserialize, Serialize};
use sm3::Sm3;

/// What happened, to what.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: Option<String>,
    /// Before/after of the changed fields, or other detail. Never secrets.
    pub detail: serde_json::Value,
    pub result: AuditResult,
}

impl Entry {
    pub fn ok(action: &'static str, target_type: &'static str, target_id: impl ToString, detail: serde_json::Value) -> Self {
        Entry { action, target_type, target_id: Some(target_id.to_string()), detail, result: AuditResult::Ok }
    }
}

/// The two chains kept with this mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Audit,
    Login,
}

impl Chain {
    pub const ALL: [Chain; 2] = [Chain::Audit, Chain::Login];

    fn head_id(self) -> i32 {
        match self {
            Chain::Audit => 1,
            Chain::Login => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Chain::Audit => "audit",
            Chain::Login => "login",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Chain::Audit => "审计日志",
            Chain::Login => "登录日志",
        }
    }

    fn parse(s: &str) -> Option<Chain> {
        Chain::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// The exact content the hash covers, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    at_us: i64,
    actor_user_id: Option<i64>,
    actor_org_id: Option<i64>,
    actor_name: &'a str,
    action: &'a str,
    target_type: &'a str,
    target_id: Option<&'a str>,
    detail: &'a str,
    ip: &'a str,
    user_agent: &'a str,
    request_id: &'a str,
    result: &'a str,
}

/// What a login-log hash covers.
#[derive(Serialize)]
struct LoginCanonical<'a> {
    seq: i64,
    at_us: i64,
    username: &'a str,
    user_id: Option<i64>,
    ip: &'a str,
    user_agent: &'a str,
    result: &'a str,
    reason: &'a str,
}

/// The chain key: derived from the field key, never stored in the database.
fn chain_key(ctx: &Ctx) -> Vec<u8> {
    hex::decode(ctx.crypto.blind_index("qifu audit chain key v1")).unwrap_or_default()
}

/// The hash of one link: keyed (HMAC-SM3) from `keyed_from` on, plain SM3 before.
fn link_hash(key: Option<&[u8]>, prev: &str, body: &str) -> String {
    let data = format!("{prev}\n{body}");
    match key {
        Some(k) => match <Hmac<Sm3> as Mac>::new_from_slice(k) {
            Ok(mut mac) => {
                mac.update(data.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length.
            Err(_) => String::new(),
        },
        None => sm3_hex(data.as_bytes()),
    }
}

fn canonical_body(m: &audit::Model) -> String {
    serde_json::to_string(&Canonical {
        seq: m.seq,
        at_us: m.at.timestamp_micros(),
        actor_user_id: m.actor_user_id,
        actor_org_id: m.actor_org_id,
        actor_name: &m.actor_name,
        action: &m.action,
        target_type: &m.target_type,
        target_id: m.target_id.as_deref(),
        detail: &m.detail,
        ip: &m.ip,
        user_agent: &m.user_agent,
        request_id: &m.request_id,
        result: m.result.code(),
    })
    .unwrap_or_default()
}

fn login_body(m: &login_log::Model, seq: i64) -> String {
    serde_json::to_string(&LoginCanonical {
        seq,
        at_us: m.at.timestamp_micros(),
        username: &m.username,
        user_id: m.user_id,
        ip: &m.ip,
        user_agent: &m.user_agent,
        result: m.result.code(),
        reason: &m.reason,
    })
    .unwrap_or_default()
}

/// `$1`-style SQL for the connection's backend.
fn sql(backend: sea_orm::DatabaseBackend, pg: &str) -> String {
    if backend == sea_orm::DatabaseBackend::Postgres { pg.to_owned() } else { pg.replace('$', "?") }
}

#[derive(FromQueryResult)]
struct Head {
    seq: i64,
    hash: String,
    keyed_from: Option<i64>,
}

/// One new link: its sequence number, its predecessor's hash and its own.
struct Link {
    seq: i64,
    prev: String,
    hash: String,
}

/// Appends to a chain on `conn` (the caller's transaction): takes the next
/// sequence number (the head row's write lock serialises appends on both
/// backends), hashes `body(seq)` onto the head and moves the head.
async fn append<C: ConnectionTrait>(conn: &C, ctx: &Ctx, chain: Chain, body: impl FnOnce(i64) -> String) -> Result<Link, DbErr> {
    let backend = conn.get_database_backend();
    let head = Head::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql(backend, "UPDATE audit_head SET seq = seq + 1 WHERE id = $1 RETURNING seq, hash, keyed_from"),
        [chain.head_id().into()],
    ))
    .one(conn)
    .await?
    .ok_or_else(|| DbErr::Custom("audit head missing".to_owned()))?;
    // The first record written with the key starts the keyed part of the chain.
    let keyed_from = head.keyed_from.unwrap_or(head.seq);
    let key = chain_key(ctx);
    let hash = link_hash((head.seq >= keyed_from).then_some(key.as_slice()), &head.hash, &body(head.seq));
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        sql(backend, "UPDATE audit_head SET hash = $1, keyed_from = $2 WHERE id = $3"),
        [hash.clone().into(), keyed_from.into(), chain.head_id().into()],
    ))
    .await?;
    Ok(Link { seq: head.seq, prev: head.hash, hash })
}

/// Appends one record on `conn` (the caller's transaction).
pub async fn record<C: ConnectionTrait>(conn: &C, ctx: &Ctx, actor: Option<&Actor>, meta: &Meta, e: Entry) -> Result<(), DbErr> {
    let now = ctx.now();
    let at = Utc.timestamp_micros(now.timestamp_micros()).single().unwrap_or(now);
    let actor_name = actor.map(|a| format!("{}（{}）", a.display_name, a.username)).unwrap_or_else(|| "系统".to_owned());
    let mut m = audit::Model {
        id: 0,
        seq: 0,
        at,
        actor_user_id: actor.map(|a| a.user_id),
        actor_org_id: actor.map(|a| a.org_id),
        actor_name: actor_name.chars().take(64).collect(),
        action: e.action.to_owned(),
        target_type: e.target_type.to_owned(),
        target_id: e.target_id.map(|t| t.chars().take(64).collect()),
        detail: e.detail.to_string(),
        ip: meta.ip.chars().take(64).collect(),
        user_agent: meta.user_agent.chars().take(256).collect(),
        request_id: meta.request_id.chars().take(64).collect(),
        result: e.result,
        prev_hash: String::new(),
        hash: String::new(),
    };
    let link = append(conn, ctx, Chain::Audit, |seq| {
        m.seq = seq;
        canonical_body(&m)
    })
    .await?;
    audit::ActiveModel {
        seq: Set(link.seq),
        at: Set(m.at),
        actor_user_id: Set(m.actor_user_id),
        actor_org_id: Set(m.actor_org_id),
        actor_name: Set(m.actor_name),
        action: Set(m.action),
        target_type: Set(m.target_type),
        target_id: Set(m.target_id),
        detail: Set(m.detail),
        ip: Set(m.ip),
        user_agent: Set(m.user_agent),
        request_id: Set(m.request_id),
        result: Set(m.result),
        prev_hash: Set(link.prev),
        hash: Set(link.hash),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Records an event that changes nothing else (a read, an export, a refusal)
/// in a transaction of its own.
pub async fn record_alone(ctx: &Ctx, actor: Option<&Actor>, meta: &Meta, e: Entry) -> Result<(), DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    record(&txn, ctx, actor, meta, e).await?;
    txn.commit().await
}

/// An export: what was exported, with which filters, how many rows.
pub async fn record_export(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    what: &'static str,
    filter: serde_json::Value,
    rows: usize,
) -> Result<(), DbErr> {
    record_alone(
        ctx,
        Some(actor),
        meta,
        Entry::ok("data.export", "export", what, serde_json::json!({"filter": filter, "rows": rows})),
    )
    .await
}

/// A read of a document holding personal data (licence image, attachment, demand file, SMS outbox).
pub async fn record_read(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    target_type: &'static str,
    target_id: impl ToString,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    record_alone(ctx, Some(actor), meta, Entry::ok("data.read", target_type, target_id, detail)).await
}

/// Refusals by one user within [`DENIED_WINDOW_MINUTES`] above which the security administrators are alerted.
pub const DENIED_ALERT_THRESHOLD: u64 = 20;
pub const DENIED_WINDOW_MINUTES: i64 = 10;

/// An authorisation failure at the web boundary: recorded with the actor, the
/// path and the permission asked for, counted in `qifu_access_denied_total`;
/// when one user passes [`DENIED_ALERT_THRESHOLD`] refusals within
/// [`DENIED_WINDOW_MINUTES`] minutes, every security administrator gets an
/// in-site message (once per crossing).
pub async fn record_denied(
    ctx: &Ctx,
    actor: Option<&Actor>,
    meta: &Meta,
    method: &str,
    path: &str,
    permission: Option<&str>,
) -> Result<(), DbErr> {
    metrics::counter!("qifu_access_denied_total").increment(1);
    let path: String = path.chars().take(200).collect();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    record(
        &txn,
        ctx,
        actor,
        meta,
        Entry {
            action: "access.denied",
            target_type: "path",
            target_id: Some(path.chars().take(64).collect()),
            detail: serde_json::json!({"method": method, "path": path, "permission": permission}),
            result: AuditResult::Denied,
        },
    )
    .await?;
    if let Some(a) = actor {
        let since = ctx.now() - chrono::Duration::minutes(DENIED_WINDOW_MINUTES);
        let n = audit::Entity::find()
            .filter(audit::Column::Action.eq("access.denied"))
            .filter(audit::Column::ActorUserId.eq(a.user_id))
            .filter(audit::Column::At.gte(since))
            .count(&txn)
            .await?;
        if n == DENIED_ALERT_THRESHOLD + 1 {
            alert_denied(&txn, ctx, a, n).await?;
        }
    }
    txn.commit().await
}

async fn alert_denied<C: ConnectionTrait>(conn: &C, ctx: &Ctx, who: &Actor, n: u64) -> Result<(), DbErr> {
    metrics::counter!("qifu_access_denied_alerts_total").increment(1);
    tracing::warn!(user = who.user_id, refusals = n, "repeated authorisation failures");
    alert_security_admins(
        conn,
        ctx,
        "安全告警：越权访问次数异常",
        &format!(
            "用户 {}（{}）在{}分钟内被拒绝访问{}次，可能在尝试越权操作。请在操作日志中查看“越权访问”记录并核实。",
            who.display_name, who.username, DENIED_WINDOW_MINUTES, n
        ),
        "/admin/operation-log?action=access.denied",
    )
    .await
}

/// Sends every security administrator an in-site message (安全告警) in the
/// caller's transaction.
pub async fn alert_security_admins<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    title: &str,
    body: &str,
    link: &str,
) -> Result<(), DbErr> {
    use qifu_db::entity::{message, role, user_role};
    let role_ids: Vec<i64> = role::Entity::find()
        .filter(role::Column::Code.eq(qifu_domain::accounts::BuiltinRole::SecurityAdmin.code()))
        .select_only()
        .column(role::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let users: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::RoleId.is_in(role_ids))
        .select_only()
        .column(user_role::Column::UserId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    for uid in users {
        message::ActiveModel {
            user_id: Set(uid),
            category: Set(qifu_domain::messages::MessageCategory::Account),
            title: Set(title.to_owned()),
            body: Set(body.to_owned()),
            link: Set(Some(link.to_owned())),
            read_at: Set(None),
            broadcast_id: Set(None),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// A sign-in attempt, appended to the login chain (in its own transaction).
#[allow(clippy::too_many_arguments)]
pub async fn record_login(
    ctx: &Ctx,
    meta: &Meta,
    username: &str,
    user_id: Option<i64>,
    result: LoginResult,
    reason: &str,
) -> Result<(), DbErr> {
    let now = ctx.now();
    let mut m = login_log::Model {
        id: 0,
        at: Utc.timestamp_micros(now.timestamp_micros()).single().unwrap_or(now),
        username: username.chars().take(64).collect(),
        user_id,
        ip: meta.ip.chars().take(64).collect(),
        user_agent: meta.user_agent.chars().take(256).collect(),
        result,
        reason: reason.chars().take(64).collect(),
        seq: None,
        prev_hash: None,
        hash: None,
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let link = append(&txn, ctx, Chain::Login, |seq| login_body(&m, seq)).await?;
    m.seq = Some(link.seq);
    login_log::ActiveModel {
        at: Set(m.at),
        username: Set(m.username),
        user_id: Set(m.user_id),
        ip: Set(m.ip),
        user_agent: Set(m.user_agent),
        result: Set(m.result),
        reason: Set(m.reason),
        seq: Set(m.seq),
        prev_hash: Set(Some(link.prev)),
        hash: Set(Some(link.hash)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await
}

/// Outcome of checking the chains and their anchors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// Audit records checked.
    pub checked: u64,
    /// Login records checked.
    pub login_checked: u64,
    /// Anchors found and checked.
    pub anchors: u64,
    /// The first record that does not fit, and why.
    pub broken: Option<(i64, String)>,
    /// Which chain `broken` is in (审计日志 / 登录日志).
    pub chain: &'static str,
}

/// One chain's state as read from the database.
struct Walked {
    checked: u64,
    /// Hashes by sequence number, for the anchors.
    hashes: std::collections::HashMap<i64, String>,
    last_seq: i64,
    keyed_from: Option<i64>,
    broken: Option<(i64, String)>,
}

async fn head_of<C: ConnectionTrait>(conn: &C, chain: Chain) -> Result<Option<Head>, DbErr> {
    let backend = conn.get_database_backend();
    Head::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql(backend, "SELECT seq, hash, keyed_from FROM audit_head WHERE id = $1"),
        [chain.head_id().into()],
    ))
    .one(conn)
    .await
}

/// Walks one chain in order of sequence number; `rows(after)` gives the next
/// batch as `(seq, prev_hash, hash, body)`.
async fn walk<C, F, Fut>(conn: &C, ctx: &Ctx, chain: Chain, mut rows: F) -> Result<Walked, DbErr>
where
    C: ConnectionTrait,
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(i64, String, String, String)>, DbErr>>,
{
    let head = head_of(conn, chain).await?;
    let keyed_from = head.as_ref().and_then(|h| h.keyed_from);
    let key = chain_key(ctx);
    let mut w = Walked { checked: 0, hashes: Default::default(), last_seq: 0, keyed_from, broken: None };
    let mut prev = "0".repeat(64);
    let mut expected = 1i64;
    let mut after = 0i64;
    loop {
        let batch = rows(after).await?;
        if batch.is_empty() {
            break;
        }
        for (seq, prev_hash, hash, body) in batch {
            if seq != expected {
                w.broken = Some((expected, format!("第 {expected} 条记录缺失")));
                return Ok(w);
            }
            if prev_hash != prev {
                w.broken = Some((seq, "前序哈希不符（此前记录被改动或删除）".to_owned()));
                return Ok(w);
            }
            let keyed = keyed_from.is_some_and(|k| seq >= k);
            if link_hash(keyed.then_some(key.as_slice()), &prev, &body) != hash {
                w.broken = Some((seq, "记录内容与哈希不符（记录被改动，或哈希不是用平台密钥计算的）".to_owned()));
                return Ok(w);
            }
            w.hashes.insert(seq, hash.clone());
            prev = hash;
            expected += 1;
            w.checked += 1;
            after = seq;
        }
    }
    w.last_seq = expected - 1;
    // The head must point at the last record, or records were cut off the end.
    if let Some(h) = head
        && (h.seq != w.last_seq || h.hash != prev)
    {
        w.broken = Some((expected, "末尾记录缺失（链头与最后一条记录不符）".to_owned()));
    }
    Ok(w)
}

async fn walk_audit(ctx: &Ctx) -> Result<Walked, DbErr> {
    let conn = &ctx.db;
    walk(conn, ctx, Chain::Audit, |after| async move {
        let batch = audit::Entity::find()
            .filter(audit::Column::Seq.gt(after))
            .order_by_asc(audit::Column::Seq)
            .limit(1000)
            .all(conn)
            .await?;
        Ok(batch.into_iter().map(|m| (m.seq, m.prev_hash.clone(), m.hash.clone(), canonical_body(&m))).collect())
    })
    .await
}

async fn walk_login(ctx: &Ctx) -> Result<Walked, DbErr> {
    let conn = &ctx.db;
    walk(conn, ctx, Chain::Login, |after| async move {
        let batch = login_log::Entity::find()
            .filter(login_log::Column::Seq.gt(after))
            .order_by_asc(login_log::Column::Seq)
            .limit(1000)
            .all(conn)
            .await?;
        Ok(batch
            .into_iter()
            .map(|m| {
                let seq = m.seq.unwrap_or_default();
                (seq, m.prev_hash.clone().unwrap_or_default(), m.hash.clone().unwrap_or_default(), login_body(&m, seq))
            })
            .collect())
    })
    .await
}

/// Walks both chains and checks every anchor written outside the database.
pub async fn verify(ctx: &Ctx) -> Result<Verification, DbErr> {
    let mut v = Verification::default();
    let anchors = match read_anchors(&anchor_dir(ctx)) {
        Ok(a) => a,
        Err(why) => {
            v.broken = Some((0, why));
            v.chain = "锚点文件";
            return Ok(v);
        }
    };
    v.anchors = anchors.len() as u64;
    for chain in Chain::ALL {
        let w = match chain {
            Chain::Audit => walk_audit(ctx).await?,
            Chain::Login => walk_login(ctx).await?,
        };
        match chain {
            Chain::Audit => v.checked = w.checked,
            Chain::Login => v.login_checked = w.checked,
        }
        if let Some(b) = w.broken {
            v.broken = Some(b);
            v.chain = chain.label();
            return Ok(v);
        }
        for a in anchors.iter().filter(|a| a.chain == chain.code()) {
            if let Some(why) = check_anchor(ctx, a, &w).await? {
                v.broken = Some((a.seq, why));
                v.chain = chain.label();
                return Ok(v);
            }
        }
    }
    Ok(v)
}

async fn check_anchor(ctx: &Ctx, a: &Anchor, w: &Walked) -> Result<Option<String>, DbErr> {
    let public = qifu_db::entity::platform_key::Entity::find_by_id(a.key_id).one(&ctx.db).await?.map(|k| k.public_key);
    let Some(public) = public else {
        return Ok(Some(format!("{} 的锚点所用平台密钥（编号 {}）不存在", a.at, a.key_id)));
    };
    if crate::signing::verify(&public, a.message().as_bytes(), &a.signature).is_err() {
        return Ok(Some(format!("{} 的锚点签名无效（锚点文件被改动）", a.at)));
    }
    if a.seq > w.last_seq {
        return Ok(Some(format!(
            "{} 签名锚定的第 {} 条记录已不存在：锚点之后的记录被截断（现存最后一条为第 {} 条）",
            a.at, a.seq, w.last_seq
        )));
    }
    if a.seq > 0 && w.hashes.get(&a.seq) != Some(&a.hash) {
        return Ok(Some(format!("第 {} 条记录的哈希与 {} 签名锚定的不符（链被重写）", a.seq, a.at)));
    }
    if a.keyed_from.is_some() && a.keyed_from != w.keyed_from {
        return Ok(Some(format!("链的密钥起点与 {} 签名锚定的不符（链被重写）", a.at)));
    }
    Ok(None)
}

/// A signed chain head, one line of an anchor file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Anchor {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
    pub keyed_from: Option<i64>,
    /// RFC 3339, UTC.
    pub at: String,
    /// The platform key (`platform_keys.id`) that signed it.
    pub key_id: i64,
    /// SM2 signature (r‖s, hex) of [`Anchor::message`].
    pub signature: String,
}

impl Anchor {
    /// The exact text signed.
    pub fn message(&self) -> String {
        format!(
            "qifu-audit-anchor-v1\n{}\n{}\n{}\n{}\n{}\n{}",
            self.chain,
            self.seq,
            self.hash,
            self.keyed_from.map(|k| k.to_string()).unwrap_or_default(),
            self.at,
            self.key_id
        )
    }
}

/// `<data_dir>/audit-anchors`.
pub fn anchor_dir(ctx: &Ctx) -> std::path::PathBuf {
    ctx.settings.data_dir.join("audit-anchors")
}

/// Every anchor in the folder, oldest first (files by date, lines in order).
pub fn read_anchors(dir: &std::path::Path) -> Result<Vec<Anchor>, String> {
    let mut files: Vec<std::path::PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "log")).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("无法读取锚点目录 {}：{e}", dir.display())),
    };
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("无法读取锚点文件 {}：{e}", f.display()))?;
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let a: Anchor = serde_json::from_str(line)
                .map_err(|_| format!("锚点文件 {} 第 {} 行格式不正确（文件被改动）", f.display(), i + 1))?;
            if Chain::parse(&a.chain).is_none() {
                return Err(format!("锚点文件 {} 第 {} 行的链名称未知", f.display(), i + 1));
            }
            out.push(a);
        }
    }
    Ok(out)
}

/// Why the heads could not be anchored.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("平台签名密钥尚未生成或无法解密")]
    NoKey,
    #[error("无法写入锚点文件 {0}：{1}")]
    Io(String, std::io::Error),
}

async fn platform_signer(ctx: &Ctx) -> Result<(i64, crate::signing::PlatformSigner), AnchorError> {
    use qifu_db::entity::platform_key;
    let k = platform_key::Entity::find()
        .filter(platform_key::Column::Active.eq(true))
        .order_by_desc(platform_key::Column::Id)
        .one(&ctx.db)
        .await?
        .ok_or(AnchorError::NoKey)?;
    let secret = ctx.crypto.decrypt(&k.secret_enc).map_err(|_| AnchorError::NoKey)?;
    let s = crate::signing::PlatformSigner::from_secret_hex(&secret).map_err(|_| AnchorError::NoKey)?;
    Ok((k.id, s))
}

/// Signs both chain heads and appends them to today's anchor file (Beijing
/// date), opened append-only and readable by the owner only.
pub async fn anchor(ctx: &Ctx) -> Result<Vec<Anchor>, AnchorError> {
    let (key_id, signer) = platform_signer(ctx).await?;
    let now = ctx.now();
    let mut out = Vec::new();
    for chain in Chain::ALL {
        let Some(h) = head_of(&ctx.db, chain).await? else { continue };
        let mut a = Anchor {
            chain: chain.code().to_owned(),
            seq: h.seq,
            hash: h.hash,
            keyed_from: h.keyed_from,
            at: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            key_id,
            signature: String::new(),
        };
        a.signature = signer.sign(a.message().as_bytes());
        out.push(a);
    }
    let dir = anchor_dir(ctx);
    let path = dir.join(format!("{}.log", (now + chrono::Duration::hours(8)).format("%Y-%m-%d")));
    let mut text = String::new();
    for a in &out {
        text.push_str(&serde_json::to_string(a).unwrap_or_default());
        text.push('\n');
    }
    append_private(&dir, &path, text.as_bytes()).map_err(|e| AnchorError::Io(path.display().to_string(), e))?;
    Ok(out)
}

/// Appends to `path` in `dir` (created 0700): opened append-only, created 0600.
fn append_private(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The newest anchor of each chain, if any.
fn last_anchors(ctx: &Ctx) -> Vec<Anchor> {
    let all = read_anchors(&anchor_dir(ctx)).unwrap_or_default();
    Chain::ALL.iter().filter_map(|c| all.iter().rev().find(|a| a.chain == c.code()).cloned()).collect()
}

/// Whether the heads have moved enough (records or time) since the last anchor.
pub async fn anchor_due(ctx: &Ctx) -> Result<bool, DbErr> {
    let s = &ctx.settings.audit;
    let last = last_anchors(ctx);
    for chain in Chain::ALL {
        let Some(h) = head_of(&ctx.db, chain).await? else { continue };
        let Some(a) = last.iter().find(|a| a.chain == chain.code()) else {
            if h.seq > 0 {
                return Ok(true);
            }
            continue;
        };
        if h.seq == a.seq {
            continue;
        }
        if s.anchor_every_records > 0 && h.seq - a.seq >= i64::try_from(s.anchor_every_records).unwrap_or(i64::MAX) {
            return Ok(true);
        }
        let at = DateTime::parse_from_rfc3339(&a.at).map(|t| t.with_timezone(&Utc)).unwrap_or(DateTime::<Utc>::MIN_UTC);
        if s.anchor_every_minutes > 0
            && ctx.now() - at >= chrono::Duration::minutes(i64::try_from(s.anchor_every_minutes).unwrap_or(i64::MAX))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Anchors the chain heads when due (checked every five minutes by cron).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnchorHeads;

impl crate::jobs::Job for AnchorHeads {
    const KIND: &'static str = "audit.anchor";
    fn dedup_key(&self) -> Option<String> {
        Some("audit.anchor".to_owned())
    }
}

/// The audit trail's job and schedule.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, _: AnchorHeads| async move {
        if anchor_due(&ctx).await? {
            match anchor(&ctx).await {
                Ok(a) => tracing::info!(anchors = a.len(), "audit heads anchored"),
                Err(AnchorError::Db(e)) => return Err(e.into()),
                Err(e) => return Err(anyhow::anyhow!(e.to_string())),
            }
        }
        Ok(())
    });
    r.schedule("audit_anchor", "0 */5 * * * *", &AnchorHeads);
}

/// Filters for the operation and audit log pages.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub actor: String,
    pub action: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Log entries within the grant's scope (本人: the actor's own operations;
/// 本组织: its organisation's; 全部: all), newest first.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    grant: &Grant,
    f: &LogFilter,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit::Model>, u64), DbErr> {
    let mut q = audit::Entity::find()
        .filter(grant.condition(audit::Column::ActorOrgId, Some(audit::Column::ActorUserId)))
        .order_by_desc(audit::Column::Seq);
    if !f.actor.trim().is_empty() {
        q = q.filter(audit::Column::ActorName.contains(f.actor.trim()));
    }
    if !f.action.trim().is_empty() {
        q = q.filter(audit::Column::Action.starts_with(f.action.trim()));
    }
    if let Some(from) = f.from {
        q = q.filter(audit::Column::At.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(audit::Column::At.lt(to));
    }
    let total = q.clone().count(conn).await?;
    let items = q.offset(page.max(1).saturating_sub(1) * per_page).limit(per_page).all(conn).await?;
    Ok((items, total))
}

/// Chinese names of the actions, for the log pages.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "user.register" => "企业快速注册",
        "user.create" => "创建用户",
        "user.update" => "修改用户",
        "user.disable" => "停用用户",
        "user.enable" => "启用用户",
        "user.unlock" => "解除锁定",
        "user.reset_password" => "重置密码",
        "user.change_password" => "修改密码",
        "user.reset_password_sms" => "短信找回密码",
        "user.lock" => "账号锁定",
        "org.create_institution" => "注册机构账号",
        "org.disable" => "停用组织",
        "org.enable" => "启用组织",
        "role.create" => "创建角色",
        "role.update" => "修改角色",
        "menu.update" => "修改菜单",
        "session.end" => "结束会话",
        "session.force_out" => "强制下线",
        "job.retry" => "重试任务",
        "category.create" => "新增产品分类",
        "category.update" => "修改产品分类",
        "category.delete" => "删除产品分类",
        "certification.submit" => "提交实名认证",
        "certification.approve" => "通过实名认证",
        "certification.reject" => "驳回实名认证",
        "authorization.sign" => "签署数据授权",
        "authorization.revoke" => "撤回数据授权",
        "user.totp_enrol" => "绑定动态口令",
        "user.totp_remove" => "解除动态口令",
        "access.denied" => "越权访问（被拒绝）",
        "data.export" => "导出数据",
        "data.read" => "查看个人信息文件",
        _ => "其他操作",
    }
}

use crate::actor::{AccessError, Grant};
use qifu_domain::accounts::Permission;

/// The operation log (操作日志) for security administrators.
pub async fn operation_log(ctx: &Ctx, actor: &Actor, f: &LogFilter, page: u64) -> Result<(Vec<audit::Model>, u64), AccessError> {
    let grant = crate::actor::require(actor, Permission::OperationLogView)?;
    Ok(list(&ctx.db, &grant, f, page, 30).await?)
}

/// The audit log (审计日志) with hashes, for auditors only.
pub async fn audit_log(ctx: &Ctx, actor: &Actor, f: &LogFilter, page: u64) -> Result<(Vec<audit::Model>, u64), AccessError> {
    let grant = crate::actor::require(actor, Permission::AuditView)?;
    Ok(list(&ctx.db, &grant, f, page, 30).await?)
}

/// Checks the chain on behalf of an auditor.
pub async fn verify_as(ctx: &Ctx, actor: &Actor) -> Result<Verification, AccessError> {
    crate::actor::require(actor, Permission::AuditView)?;
    Ok(verify(ctx).await?)
}

/// Filter of the login log.
#[derive(Debug, Clone, Default)]
pub struct LoginLogFilter {
    pub username: String,
    pub result: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The login log within the grant's scope: 本人 the actor's own sign-ins, 本组织
/// those of its organisation's users (`org_users`), 全部 every one.
fn login_query(grant: &Grant, org_users: &[i64], f: &LoginLogFilter) -> sea_orm::Select<qifu_db::entity::login_log::Entity> {
    use qifu_db::entity::login_log;
    let mut q = login_log::Entity::find()
        .filter(grant.user_condition(login_log::Column::UserId, org_users))
        .order_by_desc(login_log::Column::Id);
    if !f.username.trim().is_empty() {
        q = q.filter(login_log::Column::Username.contains(f.username.trim()));
    }
    if let Some(result) = LoginResult::parse(&f.result) {
        q = q.filter(login_log::Column::Result.eq(result));
    }
    if let Some(from) = f.from {
        q = q.filter(login_log::Column::At.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(login_log::Column::At.lt(to));
    }
    q
}

pub async fn login_log(
    ctx: &Ctx,
    actor: &Actor,
    f: &LoginLogFilter,
    page: u64,
) -> Result<(Vec<qifu_db::entity::login_log::Model>, u64), AccessError> {
    let grant = crate::actor::require(actor, Permission::LoginLogView)?;
    let q = login_query(&grant, &org_users(ctx, &grant).await?, f);
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 30).limit(30).all(&ctx.db).await?, total))
}

async fn org_users(ctx: &Ctx, grant: &Grant) -> Result<Vec<i64>, DbErr> {
    match grant.org() {
        Some(org) if grant.own_user().is_none() => crate::actor::org_user_ids(&ctx.db, org).await,
        _ => Ok(Vec::new()),
    }
}

/// Rows an export may hold; larger sets are narrowed with the filters first.
pub const EXPORT_LIMIT: u64 = 50_000;

fn bj(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S").to_string()
}

pub async fn login_log_xlsx(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &LoginLogFilter) -> Result<Vec<u8>, AccessError> {
    let grant = crate::actor::require(actor, Permission::LoginLogView)?;
    let rows = login_query(&grant, &org_users(ctx, &grant).await?, f).limit(EXPORT_LIMIT).all(&ctx.db).await?;
    let filter = serde_json::json!({"username": f.username, "result": f.result, "from": f.from, "to": f.to});
    record_export(ctx, actor, meta, "login_log", filter, rows.len()).await?;
    let data: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| vec![bj(&r.at), r.username, r.result.label().to_owned(), r.reason, r.ip, r.user_agent])
        .collect();
    crate::export::xlsx("登录日志", &["时间", "用户名", "结果", "原因", "IP 地址", "浏览器"], &data)
        .map_err(|e| AccessError::Db(DbErr::Custom(e.to_string())))
}

pub async fn operation_log_xlsx(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    f: &LogFilter,
    full: bool,
) -> Result<Vec<u8>, AccessError> {
    let grant = crate::actor::require(actor, if full { Permission::AuditView } else { Permission::OperationLogView })?;
    let (rows, _) = list(&ctx.db, &grant, f, 1, EXPORT_LIMIT).await?;
    let filter = serde_json::json!({"actor": f.actor, "action": f.action, "from": f.from, "to": f.to});
    record_export(ctx, actor, meta, if full { "audit_log" } else { "operation_log" }, filter, rows.len()).await?;
    let mut headers = vec!["序号", "时间", "操作人", "操作", "操作代码", "对象类型", "对象编号", "结果", "IP 地址"];
    if full {
        headers.extend(["变更内容", "请求编号", "前序哈希", "哈希"]);
    }
    let data: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let mut v = vec![
                r.seq.to_string(),
                bj(&r.at),
                r.actor_name,
                action_label(&r.action).to_owned(),
                r.action,
                r.target_type,
                r.target_id.unwrap_or_default(),
                r.result.label().to_owned(),
                r.ip,
            ];
            if full {
                v.extend([r.detail, r.request_id, r.prev_hash, r.hash]);
            }
            v
        })
        .collect();
    let title = if full { "审计日志" } else { "操作日志" };
    crate::export::xlsx(title, &headers, &data).map_err(|e| AccessError::Db(DbErr::Custom(e.to_string())))
}
