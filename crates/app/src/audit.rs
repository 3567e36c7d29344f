//! The audit trail: every state-changing use case writes one record in the same
//! transaction as its change. Records are append-only and chained: each carries
//! the SM3 hash of its predecessor's hash and its own canonical content, so an
//! edited, deleted or inserted row breaks the chain at that point.

use crate::actor::Actor;
use crate::context::{Ctx, Meta};
use crate::crypto::sm3_hex;
use chrono::{DateTime, TimeZone, Utc};
use qifu_db::entity::audit;
use qifu_domain::accounts::LoginResult;
use qifu_domain::system::AuditResult;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;

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

fn chain_hash(prev: &str, c: &Canonical<'_>) -> String {
    let body = serde_json::to_string(c).unwrap_or_default();
    sm3_hex(format!("{prev}\n{body}").as_bytes())
}

fn canonical(m: &audit::Model) -> Canonical<'_> {
    Canonical {
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
    }
}

#[derive(FromQueryResult)]
struct Head {
    seq: i64,
    hash: String,
}

/// Appends one record on `conn` (the caller's transaction).
pub async fn record<C: ConnectionTrait>(conn: &C, ctx: &Ctx, actor: Option<&Actor>, meta: &Meta, e: Entry) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    // Taking the head row's write lock first serialises appends on both backends.
    let head = Head::find_by_statement(Statement::from_string(
        backend,
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
    ))
    .one(conn)
    .await?
    .ok_or_else(|| DbErr::Custom("audit head missing".to_owned()))?;
    let now = ctx.now();
    let at = Utc.timestamp_micros(now.timestamp_micros()).single().unwrap_or(now);
    let detail = e.detail.to_string();
    let actor_name = actor.map(|a| format!("{}（{}）", a.display_name, a.username)).unwrap_or_else(|| "系统".to_owned());
    let ip: String = meta.ip.chars().take(64).collect();
    let ua: String = meta.user_agent.chars().take(256).collect();
    let rid: String = meta.request_id.chars().take(64).collect();
    let target_id: Option<String> = e.target_id.map(|t| t.chars().take(64).collect());
    let actor_name: String = actor_name.chars().take(64).collect();
    let c = Canonical {
        seq: head.seq,
        at_us: at.timestamp_micros(),
        actor_user_id: actor.map(|a| a.user_id),
        actor_org_id: actor.map(|a| a.org_id),
        actor_name: &actor_name,
        action: e.action,
        target_type: e.target_type,
        target_id: target_id.as_deref(),
        detail: &detail,
        ip: &ip,
        user_agent: &ua,
        request_id: &rid,
        result: e.result.code(),
    };
    let hash = chain_hash(&head.hash, &c);
    audit::ActiveModel {
        seq: Set(head.seq),
        at: Set(at),
        actor_user_id: Set(c.actor_user_id),
        actor_org_id: Set(c.actor_org_id),
        actor_name: Set(actor_name.clone()),
        action: Set(e.action.to_owned()),
        target_type: Set(e.target_type.to_owned()),
        target_id: Set(target_id.clone()),
        detail: Set(detail.clone()),
        ip: Set(ip.clone()),
        user_agent: Set(ua.clone()),
        request_id: Set(rid.clone()),
        result: Set(e.result),
        prev_hash: Set(head.hash.clone()),
        hash: Set(hash.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    conn.execute_raw(Statement::from_sql_and_values(
        backend,
        if backend == sea_orm::DatabaseBackend::Postgres {
            "UPDATE audit_head SET hash = $1 WHERE id = 1"
        } else {
            "UPDATE audit_head SET hash = ?1 WHERE id = 1"
        },
        [hash.into()],
    ))
    .await?;
    Ok(())
}

/// Outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: u64,
    /// The first record that does not fit, and why.
    pub broken: Option<(i64, String)>,
}

/// Walks the chain in order of sequence number.
pub async fn verify<C: ConnectionTrait>(conn: &C) -> Result<Verification, DbErr> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut checked = 0u64;
    let mut after = 0i64;
    loop {
        let batch = audit::Entity::find()
            .filter(audit::Column::Seq.gt(after))
            .order_by_asc(audit::Column::Seq)
            .limit(1000)
            .all(conn)
            .await?;
        if batch.is_empty() {
            break;
        }
        for m in &batch {
            if m.seq != expected_seq {
                return Ok(Verification { checked, broken: Some((expected_seq, format!("第 {expected_seq} 条记录缺失"))) });
            }
            if m.prev_hash != prev {
                return Ok(Verification {
                    checked, broken: Some((m.seq, "前序哈希不符（此前记录被改动或删除）".to_owned()))
                });
            }
            if chain_hash(&prev, &canonical(m)) != m.hash {
                return Ok(Verification {
                    checked, broken: Some((m.seq, "记录内容与哈希不符（记录被改动）".to_owned()))
                });
            }
            prev = m.hash.clone();
            expected_seq += 1;
            checked += 1;
            after = m.seq;
        }
    }
    // The head must point at the last record, or records were cut off the end.
    #[derive(FromQueryResult)]
    struct H {
        seq: i64,
        hash: String,
    }
    let head = H::find_by_statement(Statement::from_string(
        conn.get_database_backend(),
        "SELECT seq, hash FROM audit_head WHERE id = 1",
    ))
    .one(conn)
    .await?;
    if let Some(h) = head
        && (h.seq != expected_seq - 1 || h.hash != prev)
    {
        return Ok(Verification {
            checked, broken: Some((expected_seq, "末尾记录缺失（链头与最后一条记录不符）".to_owned()))
        });
    }
    Ok(Verification { checked, broken: None })
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
    Ok(verify(&ctx.db).await?)
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

pub async fn login_log_xlsx(ctx: &Ctx, actor: &Actor, f: &LoginLogFilter) -> Result<Vec<u8>, AccessError> {
    let grant = crate::actor::require(actor, Permission::LoginLogView)?;
    let rows = login_query(&grant, &org_users(ctx, &grant).await?, f).limit(EXPORT_LIMIT).all(&ctx.db).await?;
    let data: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| vec![bj(&r.at), r.username, r.result.label().to_owned(), r.reason, r.ip, r.user_agent])
        .collect();
    crate::export::xlsx("登录日志", &["时间", "用户名", "结果", "原因", "IP 地址", "浏览器"], &data)
        .map_err(|e| AccessError::Db(DbErr::Custom(e.to_string())))
}

pub async fn operation_log_xlsx(ctx: &Ctx, actor: &Actor, f: &LogFilter, full: bool) -> Result<Vec<u8>, AccessError> {
    let grant = crate::actor::require(actor, if full { Permission::AuditView } else { Permission::OperationLogView })?;
    let (rows, _) = list(&ctx.db, &grant, f, 1, EXPORT_LIMIT).await?;
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
