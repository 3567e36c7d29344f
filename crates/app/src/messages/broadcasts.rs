//! Broadcasts (群发消息): the operator writes a message, picks a segment of
//! enterprises, previews who it reaches, and schedules it; at its time a job
//! sends it to every active user of those enterprises through the pipeline.
//! Marketing broadcasts skip users who unsubscribed.

use super::center::{self, Outgoing};
use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::jobs::{self, EnqueueOptions, Job};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use qifu_db::Committed;
use qifu_db::entity::{broadcast, delivery, enterprise, message, organisation, policy_match, user, wechat_binding};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::eligibility::Verdict;
use qifu_domain::messages::{BroadcastKind, BroadcastStatus, Channel, DeliveryStatus};
use qifu_domain::profiles::SizeClass;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

/// Which enterprises a broadcast reaches. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// GB/T 4754 code prefix, e.g. `C` or `I65`.
    #[serde(default)]
    pub industry: String,
    /// Division code prefix (街道乡镇), e.g. `110112004`.
    #[serde(default)]
    pub division: String,
    /// 大型 / 中型 / 小型 / 微型 code: large, medium, small, micro.
    #[serde(default)]
    pub size_class: String,
    /// `yes` / `no` / empty.
    #[serde(default)]
    pub certified: String,
    /// A qualification (资质标签), e.g. 高新技术企业.
    #[serde(default)]
    pub tag: String,
    /// Eligible (符合) for this policy.
    #[serde(default)]
    pub policy_id: String,
    /// Channel of origin: the `?ch=` code the enterprise registered with.
    #[serde(default)]
    pub channel: String,
    /// The QR scene its users followed the official account by.
    #[serde(default)]
    pub scene: String,
}

impl Segment {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.industry.is_empty() {
            parts.push(format!("行业 {}", self.industry));
        }
        if !self.division.is_empty() {
            parts.push(format!("区划 {}", self.division));
        }
        if !self.size_class.is_empty() {
            parts.push(format!("规模 {}", size_label(&self.size_class)));
        }
        match self.certified.as_str() {
            "yes" => parts.push("已实名认证".to_owned()),
            "no" => parts.push("未实名认证".to_owned()),
            _ => {}
        }
        if !self.tag.is_empty() {
            parts.push(format!("资质 {}", self.tag));
        }
        if !self.policy_id.is_empty() {
            parts.push(format!("符合政策 #{}", self.policy_id));
        }
        if !self.channel.is_empty() {
            parts.push(format!("来源渠道 {}", self.channel));
        }
        if !self.scene.is_empty() {
            parts.push(format!("公众号扫码场景 {}", self.scene));
        }
        if parts.is_empty() { "全部企业".to_owned() } else { parts.join("；") }
    }

    fn check(&self) -> Result<(), String> {
        let ascii = |s: &str, max: usize| s.len() <= max && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ascii(&self.industry, 8) {
            return Err("行业代码格式不正确（如 C、I65）".to_owned());
        }
        if !self.division.chars().all(|c| c.is_ascii_digit()) || self.division.len() > 12 {
            return Err("区划代码只能是数字".to_owned());
        }
        if !self.size_class.is_empty() && SizeClass::parse(&self.size_class).is_none() {
            return Err("企业规模不正确".to_owned());
        }
        if !matches!(self.certified.as_str(), "" | "yes" | "no") {
            return Err("实名认证条件不正确".to_owned());
        }
        if self.tag.chars().count() > 30 || self.tag.contains(',') {
            return Err("资质标签不能超过 30 个字，也不能包含逗号".to_owned());
        }
        if !self.policy_id.is_empty() && self.policy_id.parse::<i64>().is_err() {
            return Err("政策编号只能是数字".to_owned());
        }
        if !ascii(&self.channel, 32) {
            return Err("来源渠道代码只能包含字母、数字、下划线和连字符".to_owned());
        }
        if !ascii(&self.scene, 64) {
            return Err("来源渠道（扫码场景值）只能包含字母、数字、下划线和连字符".to_owned());
        }
        Ok(())
    }
}

pub fn size_label(code: &str) -> &'static str {
    SizeClass::parse(code).map_or("未知", SizeClass::label)
}

/// The recipients of a segment: (user id, enterprise name), ordered.
pub async fn recipients(ctx: &Ctx, seg: &Segment) -> Result<Vec<(i64, String)>, DbErr> {
    let mut cond = Condition::all().add(enterprise::Column::OrgId.is_not_null());
    if !seg.industry.is_empty() {
        cond = cond.add(enterprise::Column::IndustryCode.starts_with(seg.industry.clone()));
    }
    if !seg.division.is_empty() {
        cond = cond.add(enterprise::Column::DivisionCode.starts_with(seg.division.clone()));
    }
    if let Some(size) = SizeClass::parse(&seg.size_class) {
        cond = cond.add(enterprise::Column::SizeClass.eq(size));
    }
    match seg.certified.as_str() {
        "yes" => cond = cond.add(enterprise::Column::Certified.eq(true)),
        "no" => cond = cond.add(enterprise::Column::Certified.eq(false)),
        _ => {}
    }
    if !seg.tag.is_empty() {
        cond = cond.add(enterprise::Column::Qualifications.contains(seg.tag.clone()));
    }
    if let Ok(pid) = seg.policy_id.parse::<i64>() {
        // A subquery, not a list of ids: tens of thousands may be eligible.
        let eligible = sea_orm::sea_query::Query::select()
            .column(policy_match::Column::EnterpriseId)
            .from(policy_match::Entity)
            .and_where(policy_match::Column::PolicyId.eq(pid))
            .and_where(policy_match::Column::Verdict.eq(Verdict::Eligible))
            .to_owned();
        cond = cond.add(enterprise::Column::Id.in_subquery(eligible));
    }
    let ents: Vec<(i64, String)> = enterprise::Entity::find()
        .select_only()
        .column(enterprise::Column::OrgId)
        .column(enterprise::Column::Name)
        .filter(cond)
        .into_tuple::<(Option<i64>, String)>()
        .all(&ctx.db)
        .await?
        .into_iter()
        .filter_map(|(o, n)| o.map(|o| (o, n)))
        .collect();
    let mut out = Vec::new();
    for chunk in ents.chunks(500) {
        let orgs: Vec<i64> = chunk.iter().map(|(o, _)| *o).collect();
        let mut oq = organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .filter(organisation::Column::Id.is_in(orgs.clone()))
            .filter(organisation::Column::Status.eq(AccountStatus::Active));
        if !seg.channel.is_empty() {
            oq = oq.filter(organisation::Column::Channel.eq(seg.channel.clone()));
        }
        let active_orgs: Vec<i64> = oq.into_tuple().all(&ctx.db).await?;
        let users: Vec<(i64, i64)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::OrgId)
            .filter(user::Column::OrgId.is_in(active_orgs))
            .filter(user::Column::Status.eq(AccountStatus::Active))
            .order_by_asc(user::Column::Id)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        for (uid, org) in users {
            if let Some((_, name)) = chunk.iter().find(|(o, _)| *o == org) {
                out.push((uid, name.clone()));
            }
        }
    }
    if !seg.scene.is_empty() {
        let bound: Vec<Option<i64>> = wechat_binding::Entity::find()
            .select_only()
            .column(wechat_binding::Column::UserId)
            .filter(wechat_binding::Column::Scene.eq(seg.scene.clone()))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        out.retain(|(u, _)| bound.contains(&Some(*u)));
    }
    out.sort_by_key(|(u, _)| *u);
    out.dedup_by_key(|(u, _)| *u);
    Ok(out)
}

/// How many a segment reaches and a sample of enterprise names.
#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub users: usize,
    pub enterprises: usize,
    pub sample: Vec<String>,
}

pub async fn preview(ctx: &Ctx, actor: &Actor, seg: &Segment) -> Result<Preview, BroadcastError> {
    crate::messages::require_manage(actor)?;
    seg.check().map_err(BroadcastError::Invalid)?;
    let r = recipients(ctx, seg).await?;
    let mut names: Vec<String> = r.iter().map(|(_, n)| n.clone()).collect();
    names.dedup();
    let mut uniq = names.clone();
    uniq.sort();
    uniq.dedup();
    Ok(Preview { users: r.len(), enterprises: uniq.len(), sample: names.into_iter().take(10).collect() })
}

#[derive(Debug, thiserror::Error)]
pub enum BroadcastError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for BroadcastError {
    fn from(e: DbErr) -> Self {
        BroadcastError::Access(AccessError::Db(e))
    }
}

/// The operator's form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BroadcastForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// `notice` or `marketing`.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub ch_sms: Option<String>,
    #[serde(default)]
    pub ch_wechat: Option<String>,
    #[serde(default)]
    pub ch_email: Option<String>,
    /// Beijing time `YYYY-MM-DDTHH:MM` (from a datetime-local field); empty = now.
    #[serde(default)]
    pub scheduled_at: String,
    #[serde(flatten)]
    pub segment: Segment,
}

impl ChannelReport {
    fn new(channel: Channel) -> Self {
        ChannelReport { channel, total: 0, sent: 0, failed: 0, pending: 0, read: 0 }
    }
}

impl BroadcastForm {
    pub fn channels(&self) -> Vec<Channel> {
        let mut c = Vec::new();
        if self.ch_sms.is_some() {
            c.push(Channel::Sms);
        }
        if self.ch_wechat.is_some() {
            c.push(Channel::Wechat);
        }
        if self.ch_email.is_some() {
            c.push(Channel::Email);
        }
        c
    }
}

/// Sends a scheduled broadcast.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendBroadcast {
    pub broadcast_id: i64,
}

impl Job for SendBroadcast {
    const KIND: &'static str = "messages.broadcast";
    fn dedup_key(&self) -> Option<String> {
        Some(self.broadcast_id.to_string())
    }
}

fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(now);
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .map_err(|_| "发送时间格式不正确，应为 2026-12-01 09:00".to_owned())?;
    let at = crate::clock::beijing()
        .from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| "发送时间不正确".to_owned())?;
    if at < now - chrono::Duration::minutes(1) {
        return Err("发送时间不能早于现在".to_owned());
    }
    Ok(at)
}

/// Creates and schedules a broadcast (audited); returns its id.
pub async fn create(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &BroadcastForm) -> Result<i64, BroadcastError> {
    crate::messages::require_manage(actor)?;
    let title = f.title.trim();
    let body = f.body.trim();
    let bad = |m: &str| Err(BroadcastError::Invalid(m.to_owned()));
    if title.is_empty() || title.chars().count() > 60 {
        return bad("请填写标题（不超过 60 个字）");
    }
    if body.is_empty() || body.chars().count() > 2000 {
        return bad("请填写内容（不超过 2000 个字）");
    }
    let Some(kind) = BroadcastKind::parse(&f.kind) else {
        return bad("请选择消息类型");
    };
    f.segment.check().map_err(BroadcastError::Invalid)?;
    let now = ctx.now();
    let at = parse_when(&f.scheduled_at, now).map_err(BroadcastError::Invalid)?;
    let channels = f.channels();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let b = broadcast::ActiveModel {
        title: Set(title.to_owned()),
        body: Set(body.to_owned()),
        kind: Set(kind),
        channels: Set(channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(",")),
        segment: Set(serde_json::to_string(&f.segment).unwrap_or_default()),
        status: Set(BroadcastStatus::Scheduled),
        scheduled_at: Set(at),
        recipients: Set(0),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    jobs::enqueue(&txn, ctx, &SendBroadcast { broadcast_id: b.id }, EnqueueOptions { run_at: Some(at), max_attempts: None })
        .await?;
    let detail =
        serde_json::json!({ "title": title, "kind": kind.code(), "segment": f.segment.describe(), "at": at.to_rfc3339() });
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("message.broadcast_create", "broadcast", b.id, detail)).await?;
    txn.commit().await?;
    Ok(b.id)
}

/// Cancels a broadcast that has not gone out yet.
pub async fn cancel(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), BroadcastError> {
    crate::messages::require_manage(actor)?;
    broadcast::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let r = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::Status, Expr::value(BroadcastStatus::Cancelled))
        .filter(broadcast::Column::Id.eq(id))
        .filter(broadcast::Column::Status.eq(BroadcastStatus::Scheduled))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(BroadcastError::Invalid("只能取消尚未发送的群发".to_owned()));
    }
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("message.broadcast_cancel", "broadcast", id, serde_json::json!({})))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The handler of [`SendBroadcast`]: one transaction per 200 recipients; a
/// rerun after a crash skips users the broadcast already reached.
pub async fn send(ctx: &Ctx, job: &SendBroadcast) -> Result<usize, DbErr> {
    let Some(b) = broadcast::Entity::find_by_id(job.broadcast_id).one(&ctx.db).await? else { return Ok(0) };
    let unsent = [BroadcastStatus::Scheduled, BroadcastStatus::Sending];
    if !unsent.contains(&b.status) {
        return Ok(0);
    }
    // Conditional: a cancel that committed since the read above wins.
    let started = broadcast::Entity::update_many()
        .col_expr(broadcast::Column::Status, Expr::value(BroadcastStatus::Sending))
        .filter(broadcast::Column::Id.eq(b.id))
        .filter(broadcast::Column::Status.is_in(unsent))
        .exec(&ctx.db)
        .await?;
    if started.rows_affected == 0 {
        return Ok(0);
    }
    let seg: Segment = serde_json::from_str(&b.segment).unwrap_or_default();
    let people = recipients(ctx, &seg).await?;
    let done: Vec<i64> = message::Entity::find()
        .select_only()
        .column(message::Column::UserId)
        .filter(message::Column::BroadcastId.eq(b.id))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let channels: Vec<Channel> = b.channels.split(',').filter_map(Channel::parse).collect();
    // The template's key is its category's code.
    let template = b.kind.category().code();
    let tpl = super::templates::get(&ctx.db, template).await?;
    let mut reached = done.len();
    for chunk in people.chunks(200) {
        // Looked up again per chunk, so a second run of this job (an expired lease)
        // skips the users the first has reached since it started.
        let ids: Vec<i64> = chunk.iter().map(|(u, _)| *u).collect();
        let already: Vec<i64> = message::Entity::find()
            .select_only()
            .column(message::Column::UserId)
            .filter(message::Column::BroadcastId.eq(b.id))
            .filter(message::Column::UserId.is_in(ids))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        let txn = qifu_db::begin_write(&ctx.db).await?;
        for (uid, _) in chunk {
            if done.contains(uid) || already.contains(uid) {
                continue;
            }
            let out = Outgoing {
                template: template.to_owned(),
                user_id: *uid,
                vars: vec![("title".to_owned(), b.title.clone()), ("body".to_owned(), b.body.clone())],
                link: Some("/account/messages".to_owned()),
                channels: Some(channels.clone()),
                broadcast_id: Some(b.id),
            };
            if center::send_with(&txn, ctx, &tpl, &out).await?.message_id.is_some() {
                reached += 1;
            }
        }
        txn.commit().await?;
    }
    let mut am: broadcast::ActiveModel = b.into();
    am.status = Set(BroadcastStatus::Sent);
    am.recipients = Set(i32::try_from(reached).unwrap_or(i32::MAX));
    am.sent_at = Set(Some(ctx.now()));
    am.update_committed(&ctx.db).await?;
    Ok(reached)
}

pub async fn list(ctx: &Ctx, actor: &Actor, page: u64) -> Result<(Vec<broadcast::Model>, u64), AccessError> {
    crate::messages::require_manage(actor)?;
    let q = broadcast::Entity::find().order_by_desc(broadcast::Column::Id);
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?, total))
}

/// Per channel: total, sent, failed, waiting; and read for the in-site message.
#[derive(Debug, Clone)]
pub struct ChannelReport {
    pub channel: Channel,
    pub total: u64,
    pub sent: u64,
    pub failed: u64,
    pub pending: u64,
    pub read: u64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub broadcast: broadcast::Model,
    pub channels: Vec<ChannelReport>,
}

pub async fn report(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Report, AccessError> {
    crate::messages::require_manage(actor)?;
    let b = broadcast::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let inbox_total = message::Entity::find().filter(message::Column::BroadcastId.eq(id)).count(&ctx.db).await?;
    let inbox_read = message::Entity::find()
        .filter(message::Column::BroadcastId.eq(id))
        .filter(message::Column::ReadAt.is_not_null())
        .count(&ctx.db)
        .await?;
    let mut channels =
        vec![ChannelReport { total: inbox_total, sent: inbox_total, read: inbox_read, ..ChannelReport::new(Channel::Inbox) }];
    let rows: Vec<(Channel, DeliveryStatus)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Channel)
        .column(delivery::Column::Status)
        .filter(delivery::Column::BroadcastId.eq(id))
        .into_tuple()
        .all(&ctx.db)
        .await?;
    for ch in Channel::OUTSIDE {
        let mut r = ChannelReport::new(ch);
        for (_, s) in rows.iter().filter(|(c, _)| *c == ch) {
            r.total += 1;
            match s {
                DeliveryStatus::Sent => r.sent += 1,
                DeliveryStatus::Failed | DeliveryStatus::Skipped => r.failed += 1,
                _ => r.pending += 1,
            }
        }
        channels.push(r);
    }
    Ok(Report { broadcast: b, channels })
}

/// The delivery report as xlsx: one row per recipient and channel.
pub async fn report_xlsx(ctx: &Ctx, actor: &Actor, meta: &crate::context::Meta, id: i64) -> Result<Vec<u8>, AccessError> {
    let r = report(ctx, actor, id).await?;
    let msgs = message::Entity::find()
        .filter(message::Column::BroadcastId.eq(id))
        .order_by_asc(message::Column::Id)
        .all(&ctx.db)
        .await?;
    let dels = delivery::Entity::find()
        .filter(delivery::Column::BroadcastId.eq(id))
        .order_by_asc(delivery::Column::Id)
        .all(&ctx.db)
        .await?;
    let uids: Vec<i64> = msgs.iter().map(|m| m.user_id).collect();
    let mut users: Vec<(i64, String, String)> = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(1000) {
        let part: Vec<(i64, String, String)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .column(user::Column::DisplayName)
            .filter(user::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(&ctx.db)
            .await?;
        users.extend(part);
    }
    users.sort_by_key(|u| u.0);
    let name = |uid: i64| {
        users.binary_search_by_key(&uid, |u| u.0).ok().map(|i| (users[i].1.clone(), users[i].2.clone())).unwrap_or_default()
    };
    let fmt = |t: Option<DateTime<Utc>>| {
        t.map(|t| (t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    let mut rows = Vec::new();
    for m in &msgs {
        let (u, n) = name(m.user_id);
        rows.push(vec![
            u,
            n,
            "站内信".to_owned(),
            "已发送".to_owned(),
            fmt(Some(m.created_at)),
            if m.read_at.is_some() { "已读" } else { "未读" }.to_owned(),
            fmt(m.read_at),
            String::new(),
        ]);
    }
    for d in &dels {
        let (u, n) = name(d.user_id);
        rows.push(vec![
            u,
            n,
            d.channel.label().to_owned(),
            d.status.label().to_owned(),
            fmt(d.sent_at),
            String::new(),
            String::new(),
            d.last_error.clone().unwrap_or_default(),
        ]);
    }
    let title = format!("群发{}", r.broadcast.id);
    crate::audit::record_export(ctx, actor, meta, "broadcast_report", serde_json::json!({"broadcast": id}), rows.len()).await?;
    crate::export::xlsx(&title, &["账号", "姓名", "发送渠道", "状态", "发送时间", "阅读", "阅读时间", "失败原因"], &rows)
        .map_err(|e| AccessError::Db(DbErr::Custom(e.to_string())))
}
