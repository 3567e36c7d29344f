//! The send pipeline of the message center (消息中心). An event names a
//! template; the template has a version per channel; the user's preferences
//! choose the channels and their quiet hours hold back what is not urgent. The
//! in-site message is written at once, in the caller's transaction; SMS, WeChat
//! and email become deliveries, each sent by a job with retries and a
//! per-channel rate limit, every attempt logged.

use super::templates::{self, Rendered};
use crate::clock::beijing;
use crate::config::parse_hhmm;
use crate::context::Ctx;
use crate::integrations::email::{Email, EmailError};
use crate::integrations::sms::{NOTICE_TEMPLATE, SmsError, SmsMessage};
use crate::integrations::wechat_api::{WechatError, WechatMessage};
use crate::jobs::{self, EnqueueOptions, Job};
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use qifu_db::entity::{delivery, delivery_attempt, message, message_preference, message_setting, user, wechat_binding};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::Phone;
use qifu_domain::messages::{AttemptStatus, Channel, DeliveryStatus, MessageCategory};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

/// One event for one user.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// The template's key.
    pub template: String,
    pub user_id: i64,
    /// Variables of the template.
    pub vars: Vec<(String, String)>,
    /// Where the in-site message leads (a path on the portal).
    pub link: Option<String>,
    /// Outside channels this event may use (`None`: all).
    pub channels: Option<Vec<Channel>>,
    pub broadcast_id: Option<i64>,
}

impl Outgoing {
    pub fn new(template: &str, user_id: i64) -> Self {
        Outgoing { template: template.to_owned(), user_id, ..Default::default() }
    }
    #[must_use]
    pub fn var(mut self, k: &str, v: impl Into<String>) -> Self {
        self.vars.push((k.to_owned(), v.into()));
        self
    }
}

/// What `send` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    pub message_id: Option<i64>,
    /// Outside channels a delivery was queued for.
    pub queued: Vec<Channel>,
    /// Marketing to a user who unsubscribed: nothing written.
    pub unsubscribed: bool,
}

/// Delivers one queued delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deliver {
    pub delivery_id: i64,
}

impl Job for Deliver {
    const KIND: &'static str = "messages.deliver";
    /// One attempt at one provider; every provider call is bounded well within this.
    const DEADLINE_SECS: u64 = DELIVER_DEADLINE_SECS;
}

macro_rules! deliver_via {
    ($(#[$doc:meta] $name:ident = $kind:literal),* $(,)?) => {
        $(
            #[$doc]
            #[derive(Debug, Clone, Serialize, Deserialize)]
            pub struct $name {
                pub delivery_id: i64,
            }

            impl Job for $name {
                const KIND: &'static str = $kind;
                const DEADLINE_SECS: u64 = DELIVER_DEADLINE_SECS;
            }

            impl From<&$name> for Deliver {
                fn from(j: &$name) -> Deliver {
                    Deliver { delivery_id: j.delivery_id }
                }
            }
        )*
    };
}

deliver_via!(
    /// Delivers one SMS delivery.
    DeliverSms = "messages.deliver.sms",
    /// Delivers one email delivery.
    DeliverEmail = "messages.deliver.email",
    /// Delivers one WeChat delivery.
    DeliverWechat = "messages.deliver.wechat",
);

/// The deadline of one delivery attempt. A delivery claimed ("sending") longer
/// ago than this plus a margin belongs to a run that died or was cut off.
pub const DELIVER_DEADLINE_SECS: u64 = 60;

/// A user's message settings, with the defaults filled in.
#[derive(Debug, Clone)]
pub struct UserSettings {
    pub quiet_start: i32,
    pub quiet_end: i32,
    pub marketing_opt_out: bool,
    pub email: Option<String>,
    pub email_masked: Option<String>,
    /// (category, channel) → enabled, for the rows the user changed.
    pub prefs: Vec<(MessageCategory, Channel, bool)>,
}

impl UserSettings {
    pub fn wants(&self, cat: MessageCategory, channel: Channel) -> bool {
        match self.prefs.iter().find(|(c, ch, _)| *c == cat && *ch == channel) {
            Some((_, _, on)) => *on,
            None => cat.default_channels().contains(&channel),
        }
    }
}

pub async fn user_settings<C: ConnectionTrait>(conn: &C, ctx: &Ctx, user_id: i64) -> Result<UserSettings, DbErr> {
    let s = message_setting::Entity::find().filter(message_setting::Column::UserId.eq(user_id)).one(conn).await?;
    let prefs = message_preference::Entity::find()
        .filter(message_preference::Column::UserId.eq(user_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.category, p.channel, p.enabled))
        .collect();
    let m = &ctx.settings.messages;
    Ok(match s {
        Some(s) => UserSettings {
            quiet_start: s.quiet_start,
            quiet_end: s.quiet_end,
            marketing_opt_out: s.marketing_opt_out,
            email: s.email_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok()),
            email_masked: s.email_masked,
            prefs,
        },
        None => UserSettings {
            quiet_start: parse_hhmm(&m.quiet_start).unwrap_or(22 * 60),
            quiet_end: parse_hhmm(&m.quiet_end).unwrap_or(8 * 60),
            marketing_opt_out: false,
            email: None,
            email_masked: None,
            prefs,
        },
    })
}

/// When a non-urgent message may go out: `now`, or the end of the quiet hours
/// `[start, end)` (Beijing time, minutes after midnight; may wrap midnight).
pub fn not_quiet(now: DateTime<Utc>, start: i32, end: i32) -> DateTime<Utc> {
    if start == end {
        return now;
    }
    let local = now.with_timezone(&beijing());
    let t = local.time();
    let mins = i32::try_from(chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t)).unwrap_or(0);
    let quiet = if start < end { mins >= start && mins < end } else { mins >= start || mins < end };
    if !quiet {
        return now;
    }
    let mut day = local.date_naive();
    if start > end && mins >= start {
        day = day.succ_opt().unwrap_or(day);
    }
    let end_t = NaiveTime::from_hms_opt(u32::try_from(end / 60).unwrap_or(8), u32::try_from(end % 60).unwrap_or(0), 0)
        .unwrap_or_default();
    beijing().from_local_datetime(&day.and_time(end_t)).single().map(|d| d.with_timezone(&Utc)).unwrap_or(now)
}

/// Sends `out` inside the caller's transaction: the in-site message now, one
/// queued delivery per outside channel the template, the event and the user's
/// preferences allow and the user can be reached on.
pub async fn send<C: ConnectionTrait>(conn: &C, ctx: &Ctx, out: &Outgoing) -> Result<Sent, DbErr> {
    let tpl = templates::get(conn, &out.template).await?;
    send_with(conn, ctx, &tpl, out).await
}

/// [`send`] with the template already loaded (a broadcast loads it once for
/// all its recipients); `out.template` is not looked at.
pub async fn send_with<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    tpl: &qifu_db::entity::message_template::Model,
    out: &Outgoing,
) -> Result<Sent, DbErr> {
    let cat = tpl.category;
    let settings = user_settings(conn, ctx, out.user_id).await?;
    if cat.is_marketing() && settings.marketing_opt_out {
        return Ok(Sent { unsubscribed: true, ..Default::default() });
    }
    let r: Rendered = templates::render(tpl, &out.vars);
    let now = ctx.now();
    let msg = message::ActiveModel {
        user_id: Set(out.user_id),
        category: Set(cat),
        title: Set(r.inbox_title.chars().take(200).collect()),
        body: Set(r.inbox_body.clone()),
        link: Set(out.link.clone()),
        read_at: Set(None),
        broadcast_id: Set(out.broadcast_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut sent = Sent { message_id: Some(msg.id), ..Default::default() };
    let due = if tpl.urgent { now } else { not_quiet(now, settings.quiet_start, settings.quiet_end) };
    let link = out.link.as_deref().map(|l| absolute(ctx, l)).unwrap_or_default();
    for channel in Channel::OUTSIDE {
        if out.channels.as_ref().is_some_and(|allowed| !allowed.contains(&channel)) || !settings.wants(cat, channel) {
            continue;
        }
        let (subject, body, data) = match channel {
            Channel::Sms if !r.sms_text.is_empty() => (String::new(), r.sms_text.clone(), String::new()),
            Channel::Email if !r.email_subject.is_empty() && settings.email.is_some() => {
                let body = if link.is_empty() { r.email_body.clone() } else { format!("{}\n\n{link}", r.email_body) };
                (r.email_subject.clone(), body, String::new())
            }
            Channel::Wechat if !r.wechat_fields.is_empty() && reachable_on_wechat(conn, out.user_id).await? => {
                let data = serde_json::json!({
                    "template_id": tpl.wechat_template_id,
                    "subscribe_template_id": tpl.wechat_subscribe_template_id,
                    "url": link,
                    "fields": r.wechat_fields,
                    "sms_template_code": "",
                });
                (
                    String::new(),
                    r.wechat_fields.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("\n"),
                    data.to_string(),
                )
            }
            _ => continue,
        };
        let data = if channel == Channel::Sms {
            serde_json::json!({ "sms_template_code": tpl.sms_template_code, "params": out.vars }).to_string()
        } else {
            data
        };
        let d = delivery::ActiveModel {
            user_id: Set(out.user_id),
            message_id: Set(Some(msg.id)),
            broadcast_id: Set(out.broadcast_id),
            template_key: Set(tpl.key.clone()),
            category: Set(cat),
            channel: Set(channel),
            urgent: Set(tpl.urgent),
            subject: Set(subject.chars().take(200).collect()),
            body: Set(body),
            data: Set(data),
            status: Set(if due > now { DeliveryStatus::Deferred } else { DeliveryStatus::Queued }),
            attempts: Set(0),
            provider: Set(String::new()),
            provider_message_id: Set(None),
            last_error: Set(None),
            due_at: Set(due),
            sent_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        enqueue_delivery(conn, ctx, d.id, d.channel, due).await?;
        sent.queued.push(channel);
    }
    Ok(sent)
}

async fn enqueue_delivery<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    id: i64,
    channel: Channel,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    // The delivery counts its own attempts; the job may run once more than that
    // so the last failure is recorded by the delivery, not lost with the job.
    let opts = EnqueueOptions { run_at: Some(at), max_attempts: Some(ctx.settings.messages.max_attempts + 1) };
    // One job kind per channel: the worker bounds each kind's concurrency, so a
    // provider that hangs holds back its own channel only.
    match channel {
        Channel::Sms => jobs::enqueue(conn, ctx, &DeliverSms { delivery_id: id }, opts).await?,
        Channel::Email => jobs::enqueue(conn, ctx, &DeliverEmail { delivery_id: id }, opts).await?,
        Channel::Wechat => jobs::enqueue(conn, ctx, &DeliverWechat { delivery_id: id }, opts).await?,
        Channel::Inbox => jobs::enqueue(conn, ctx, &Deliver { delivery_id: id }, opts).await?,
    };
    Ok(())
}

async fn reachable_on_wechat<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<bool, DbErr> {
    Ok(wechat_binding::Entity::find()
        .filter(wechat_binding::Column::UserId.eq(user_id))
        .filter(wechat_binding::Column::Subscribed.eq(true))
        .count(conn)
        .await?
        > 0)
}

/// A portal path as a full address (for SMS, email and WeChat).
pub fn absolute(ctx: &Ctx, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!("{}{}", ctx.settings.messages.public_url.trim_end_matches('/'), path)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("{0}")]
    Retry(String),
}

fn per_minute(ctx: &Ctx, channel: Channel) -> u32 {
    let m = &ctx.settings.messages;
    match channel {
        Channel::Sms => m.sms_per_minute,
        Channel::Email => m.email_per_minute,
        Channel::Wechat | Channel::Inbox => m.wechat_per_minute,
    }
}

/// How old a "sending" claim must be before another run may take it over: the
/// attempt's hard deadline and a margin, so a live run is never doubled.
fn stale_claim() -> Duration {
    Duration::seconds(i64::try_from(DELIVER_DEADLINE_SECS).unwrap_or(60) + 15)
}

/// The handler of [`Deliver`]. Idempotent: a delivery already sent or given up
/// on is left alone.
pub async fn deliver(ctx: &Ctx, job: &Deliver) -> Result<(), DeliverError> {
    let Some(d) = delivery::Entity::find_by_id(job.delivery_id).one(&ctx.db).await? else { return Ok(()) };
    if d.status.is_final() {
        return Ok(());
    }
    let now = ctx.now();
    if d.due_at > now {
        // Re-queued early (e.g. by hand): wait for its time.
        enqueue_delivery(&ctx.db, ctx, d.id, d.channel, d.due_at).await?;
        return Ok(());
    }
    // Claim it: only one run sends, even when a job is run twice (an expired
    // lease, two nodes). A claim older than the attempt's deadline is a run that died.
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, sea_orm::sea_query::Expr::value(DeliveryStatus::Sending))
        .col_expr(delivery::Column::DueAt, sea_orm::sea_query::Expr::value(now))
        .filter(delivery::Column::Id.eq(d.id))
        .filter(
            sea_orm::Condition::any().add(delivery::Column::Status.is_in(DeliveryStatus::WAITING)).add(
                sea_orm::Condition::all()
                    .add(delivery::Column::Status.eq(DeliveryStatus::Sending))
                    .add(delivery::Column::DueAt.lt(now - stale_claim())),
            ),
        )
        .exec(&ctx.db)
        .await?;
    if claimed.rows_affected == 0 {
        // Another run holds it. Should that run have died, look again once its claim is stale.
        if let Some(cur) = delivery::Entity::find_by_id(d.id).one(&ctx.db).await?
            && cur.status == DeliveryStatus::Sending
        {
            enqueue_delivery(&ctx.db, ctx, d.id, d.channel, cur.due_at + stale_claim() + Duration::seconds(1)).await?;
        }
        return Ok(());
    }
    // The rate limit: attempts of this channel in the last minute, all nodes.
    let limit = per_minute(ctx, d.channel);
    let window = now - Duration::seconds(60);
    let recent = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::Channel.eq(d.channel))
        .filter(delivery_attempt::Column::At.gt(window))
        .filter(delivery_attempt::Column::Status.ne(AttemptStatus::Deferred))
        .order_by_asc(delivery_attempt::Column::At)
        .limit(u64::from(limit.max(1)))
        .all(&ctx.db)
        .await?;
    if limit == 0 || recent.len() >= limit as usize {
        let next =
            recent.first().map_or(now + Duration::seconds(60), |a| a.at + Duration::seconds(60) + Duration::milliseconds(1));
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let mut am: delivery::ActiveModel = d.clone().into();
        am.status = Set(DeliveryStatus::Deferred);
        am.due_at = Set(next);
        am.update(&txn).await?;
        enqueue_delivery(&txn, ctx, d.id, d.channel, next).await?;
        txn.commit().await?;
        return Ok(());
    }
    let outcome = attempt(ctx, &d, now).await?;
    use DeliveryStatus as S;
    let (status, provider, msg_id, error, retry) = match outcome {
        Attempt::Sent { provider, id } => (S::Sent, provider, id, None, false),
        Attempt::Skipped(why) => (S::Skipped, "", None, Some(why), false),
        Attempt::Rejected { provider, error } => (S::Failed, provider, None, Some(error), false),
        Attempt::Unavailable { provider, error } => {
            let last = d.attempts + 1 >= ctx.settings.messages.max_attempts;
            (if last { S::Failed } else { S::Retrying }, provider, None, Some(error), !last)
        }
    };
    let attempt_status = match status {
        S::Sent => AttemptStatus::Ok,
        S::Skipped => AttemptStatus::Skipped,
        S::Retrying => AttemptStatus::Retrying,
        S::Queued | S::Deferred | S::Sending | S::Failed => AttemptStatus::Failed,
    };
    // The attempt and the delivery's new state are written together.
    let txn = qifu_db::begin_write(&ctx.db).await?;
    delivery_attempt::ActiveModel {
        delivery_id: Set(d.id),
        channel: Set(d.channel),
        provider: Set(provider.to_owned()),
        at: Set(now),
        status: Set(attempt_status),
        provider_message_id: Set(msg_id.clone()),
        error: Set(error.clone().map(|e| e.chars().take(500).collect())),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let attempts = d.attempts + 1;
    let mut am: delivery::ActiveModel = d.into();
    am.status = Set(status);
    am.attempts = Set(attempts);
    am.provider = Set(provider.to_owned());
    am.provider_message_id = Set(msg_id);
    am.last_error = Set(error.clone().map(|e| e.chars().take(500).collect()));
    am.due_at = Set(now);
    if status == S::Sent {
        am.sent_at = Set(Some(now));
    }
    am.update(&txn).await?;
    txn.commit().await?;
    if retry {
        return Err(DeliverError::Retry(error.unwrap_or_default()));
    }
    Ok(())
}

enum Attempt {
    Sent { provider: &'static str, id: Option<String> },
    Skipped(String),
    Rejected { provider: &'static str, error: String },
    Unavailable { provider: &'static str, error: String },
}

async fn attempt(ctx: &Ctx, d: &delivery::Model, now: DateTime<Utc>) -> Result<Attempt, DbErr> {
    let data: serde_json::Value = serde_json::from_str(&d.data).unwrap_or_default();
    let s = |k: &str| data.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    match d.channel {
        Channel::Sms => {
            let Some(u) = user::Entity::find_by_id(d.user_id).one(&ctx.db).await? else {
                return Ok(Attempt::Skipped("用户不存在".to_owned()));
            };
            let phone = u.phone_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok()).and_then(|p| Phone::parse(&p).ok());
            let Some(phone) = phone.filter(|_| u.status == AccountStatus::Active) else {
                return Ok(Attempt::Skipped("用户没有可用的手机号".to_owned()));
            };
            let code = s("sms_template_code");
            let params: Vec<(String, String)> =
                serde_json::from_value(data.get("params").cloned().unwrap_or_default()).unwrap_or_default();
            let (template, params) = if code.is_empty() {
                // The provider's notice template is "${title}，请登录平台查看。".
                let title = params.iter().find(|(k, _)| k == "title").map_or_else(|| d.body.clone(), |(_, v)| v.clone());
                (NOTICE_TEMPLATE.to_owned(), vec![("title".to_owned(), title.chars().take(40).collect())])
            } else {
                (format!("code:{code}"), params)
            };
            let text = format!("【{}】{}", crate::outbox::short_sign(ctx), d.body);
            let msg = SmsMessage { phone: phone.as_str().to_owned(), template, params, text: text.clone() };
            let r = ctx.sms.send(&msg).await;
            crate::outbox::record_outbox(ctx, &phone, &msg.template, &text, &r).await?;
            let provider = ctx.sms.name();
            Ok(match r {
                Ok(id) => Attempt::Sent { provider, id },
                Err(e @ SmsError::Rejected { .. }) => Attempt::Rejected { provider, error: e.to_string() },
                Err(e @ SmsError::Unavailable(_)) => Attempt::Unavailable { provider, error: e.to_string() },
            })
        }
        Channel::Email => {
            let us = user_settings(&ctx.db, ctx, d.user_id).await?;
            let Some(to) = us.email else { return Ok(Attempt::Skipped("用户没有填写电子邮箱".to_owned())) };
            let provider = ctx.email.name();
            let key = Some(format!("qifu-delivery-{}", d.id));
            let r = ctx.email.send(&Email { to, subject: d.subject.clone(), body: d.body.clone(), idempotency_key: key }).await;
            Ok(match r {
                Ok(id) => Attempt::Sent { provider, id },
                Err(e @ EmailError::Rejected(_)) => Attempt::Rejected { provider, error: e.to_string() },
                Err(e @ EmailError::Unavailable(_)) => Attempt::Unavailable { provider, error: e.to_string() },
            })
        }
        Channel::Wechat => {
            let binding = wechat_binding::Entity::find()
                .filter(wechat_binding::Column::UserId.eq(d.user_id))
                .filter(wechat_binding::Column::Subscribed.eq(true))
                .order_by_desc(wechat_binding::Column::UpdatedAt)
                .one(&ctx.db)
                .await?;
            let Some(b) = binding else { return Ok(Attempt::Skipped("用户未关注公众号或未绑定微信".to_owned())) };
            let fields: Vec<(String, String)> =
                serde_json::from_value(data.get("fields").cloned().unwrap_or_default()).unwrap_or_default();
            let msg = WechatMessage {
                openid: b.openid,
                template_id: s("template_id"),
                subscribe_template_id: s("subscribe_template_id"),
                url: s("url"),
                fields,
            };
            let provider = ctx.wechat.name();
            Ok(match ctx.wechat.send(&msg, now).await {
                Ok(id) => Attempt::Sent { provider, id },
                Err(e @ WechatError::Unavailable(_)) => Attempt::Unavailable { provider, error: e.to_string() },
                Err(e) => Attempt::Rejected { provider, error: e.to_string() },
            })
        }
        other => Ok(Attempt::Skipped(format!("未知渠道 {other}"))),
    }
}

/// One delivery and its attempts, for the back office.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: delivery::Model,
    pub attempts: Vec<delivery_attempt::Model>,
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub channel: Option<Channel>,
    pub status: Option<DeliveryStatus>,
}

pub async fn list_deliveries(
    ctx: &Ctx,
    actor: &crate::actor::Actor,
    f: &DeliveryFilter,
    page: u64,
) -> Result<(Vec<delivery::Model>, u64), crate::actor::AccessError> {
    crate::messages::require_manage(actor)?;
    let mut q = delivery::Entity::find().order_by_desc(delivery::Column::Id);
    if let Some(c) = f.channel {
        q = q.filter(delivery::Column::Channel.eq(c));
    }
    if let Some(s) = f.status {
        q = q.filter(delivery::Column::Status.eq(s));
    }
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 30).limit(30).all(&ctx.db).await?, total))
}

pub async fn show_delivery(ctx: &Ctx, actor: &crate::actor::Actor, id: i64) -> Result<DeliveryView, crate::actor::AccessError> {
    crate::messages::require_manage(actor)?;
    let d = delivery::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(crate::actor::AccessError::NotFound)?;
    let attempts = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.eq(id))
        .order_by_asc(delivery_attempt::Column::Id)
        .all(&ctx.db)
        .await?;
    Ok(DeliveryView { delivery: d, attempts })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bj(h: u32, m: u32) -> DateTime<Utc> {
        beijing().with_ymd_and_hms(2026, 11, 29, h, m, 0).single().map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let (s, e) = (22 * 60, 8 * 60);
        assert_eq!(not_quiet(bj(10, 0), s, e), bj(10, 0));
        assert_eq!(not_quiet(bj(21, 59), s, e), bj(21, 59));
        assert_eq!(not_quiet(bj(3, 0), s, e), bj(8, 0));
        let next_morning = bj(8, 0) + Duration::days(1);
        assert_eq!(not_quiet(bj(22, 0), s, e), next_morning);
        assert_eq!(not_quiet(bj(23, 30), s, e), next_morning);
        // A daytime window and an empty one.
        assert_eq!(not_quiet(bj(12, 30), 12 * 60, 14 * 60), bj(14, 0));
        assert_eq!(not_quiet(bj(12, 30), 0, 0), bj(12, 30));
    }

    #[test]
    fn defaults_and_choices() {
        let us = UserSettings {
            quiet_start: 0,
            quiet_end: 0,
            marketing_opt_out: false,
            email: None,
            email_masked: None,
            prefs: vec![(MessageCategory::Demand, Channel::Sms, false), (MessageCategory::Policy, Channel::Sms, true)],
        };
        assert!(!us.wants(MessageCategory::Demand, Channel::Sms));
        assert!(us.wants(MessageCategory::Demand, Channel::Email));
        assert!(us.wants(MessageCategory::Policy, Channel::Sms));
        assert!(!us.wants(MessageCategory::Product, Channel::Sms));
    }
}
