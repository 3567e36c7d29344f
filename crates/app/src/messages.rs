//! Messages to users. Use cases call [`notify`] / [`notify_with_sms`] (or
//! [`center::send`] with a template of their own) inside their transaction; the
//! message center decides the channels. Also the in-site inbox (站内信).

pub mod broadcasts;
pub mod center;
pub mod settings;
pub mod templates;
pub mod wechat;

use crate::actor::Actor;
use crate::context::Ctx;
use crate::integrations::sms::{NOTICE_TEMPLATE, SmsError, SmsMessage};
use qifu_db::Committed;
use qifu_db::entity::{message, user};
use qifu_domain::accounts::Phone;
use qifu_domain::messages::{Channel, MessageCategory};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// The message center's administration (templates, broadcasts to every
/// enterprise, everyone's delivery log, the official account) is platform-wide:
/// `message.manage` only ever reaches 全部.
pub fn require_manage(actor: &Actor) -> Result<(), crate::actor::AccessError> {
    crate::actor::require(actor, qifu_domain::accounts::Permission::MessageManage)?;
    Ok(())
}

/// The category of a notice: a [`MessageCategory`].
pub trait NoticeCategory {
    fn category(self) -> Result<MessageCategory, DbErr>;
}

impl NoticeCategory for MessageCategory {
    fn category(self) -> Result<MessageCategory, DbErr> {
        Ok(self)
    }
}

/// Tells a user something inside the caller's transaction: the in-site message
/// at once; WeChat and email as the user's preferences say (no SMS).
pub async fn notify<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    user_id: i64,
    category: impl NoticeCategory,
    title: &str,
    body: &str,
    link: Option<&str>,
) -> Result<(), DbErr> {
    send_notice(conn, ctx, user_id, category.category()?, title, body, link, Some(vec![Channel::Wechat, Channel::Email])).await
}

/// As [`notify`], and by SMS too where the user's preferences allow: for
/// changes the user must not miss (a demand accepted, a delivery to confirm).
/// Outside channels go through the job queue, so a slow or failing gateway
/// never blocks or undoes the change.
pub async fn notify_with_sms<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    user_id: i64,
    category: impl NoticeCategory,
    title: &str,
    body: &str,
    link: Option<&str>,
) -> Result<(), DbErr> {
    send_notice(conn, ctx, user_id, category.category()?, title, body, link, None).await
}

#[allow(clippy::too_many_arguments)]
async fn send_notice<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    user_id: i64,
    category: MessageCategory,
    title: &str,
    body: &str,
    link: Option<&str>,
    channels: Option<Vec<Channel>>,
) -> Result<(), DbErr> {
    let out = center::Outgoing {
        // Each category's notice template has the category's code as its key.
        template: category.code().to_owned(),
        user_id,
        vars: vec![
            ("title".to_owned(), title.chars().take(200).collect()),
            ("body".to_owned(), body.to_owned()),
            ("link".to_owned(), link.map(|l| center::absolute(ctx, l)).unwrap_or_default()),
        ],
        link: link.map(str::to_owned),
        channels,
        broadcast_id: None,
    };
    center::send(conn, ctx, &out).await?;
    Ok(())
}

/// Why an SMS notice could not be sent now (the job retries).
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("短信通道暂不可用：{0}")]
    Unavailable(String),
}

/// The handler of [`SendSmsNotice`]: texts the user's phone, if they have one,
/// and records the attempt in the outbox. A gateway that is down is retried; a
/// refusal (bad template, blocked number) is recorded and not retried.
pub async fn send_sms_notice(ctx: &Ctx, job: &SendSmsNotice) -> Result<bool, NoticeError> {
    let phone_enc = match &job.to_phone_enc {
        Some(enc) => Some(enc.clone()),
        None => {
            let Some(u) = user::Entity::find_by_id(job.user_id).one(&ctx.db).await? else { return Ok(false) };
            if !u.status.is_active() {
                return Ok(false);
            }
            u.phone_enc
        }
    };
    let Some(phone) = phone_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok()).and_then(|p| Phone::parse(&p).ok()) else {
        return Ok(false);
    };
    let text = format!("【{}】{}，请登录平台查看。", crate::outbox::short_sign(ctx), job.title);
    let msg = SmsMessage {
        phone: phone.as_str().to_owned(),
        template: NOTICE_TEMPLATE.to_owned(),
        params: vec![("title".to_owned(), job.title.clone())],
        text: text.clone(),
    };
    let delivered = ctx.sms.send(&msg).await;
    crate::outbox::record_outbox(ctx, &phone, NOTICE_TEMPLATE, &text, &delivered).await?;
    match delivered {
        Ok(_) => Ok(true),
        Err(SmsError::Unavailable(e)) => Err(NoticeError::Unavailable(e)),
        Err(SmsError::Rejected { .. }) => Ok(false),
    }
}

pub async fn unread_count(ctx: &Ctx, actor: &Actor) -> Result<u64, DbErr> {
    message::Entity::find()
        .filter(message::Column::UserId.eq(actor.user_id))
        .filter(message::Column::ReadAt.is_null())
        .count(&ctx.db)
        .await
}

pub async fn list(ctx: &Ctx, actor: &Actor, page: u64) -> Result<(Vec<message::Model>, u64), DbErr> {
    let q = message::Entity::find().filter(message::Column::UserId.eq(actor.user_id)).order_by_desc(message::Column::Id);
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?, total))
}

/// One of the actor's messages, marked read.
pub async fn read(ctx: &Ctx, actor: &Actor, id: i64) -> Result<message::Model, crate::actor::AccessError> {
    let m = message::Entity::find_by_id(id)
        .filter(message::Column::UserId.eq(actor.user_id))
        .one(&ctx.db)
        .await?
        .ok_or(crate::actor::AccessError::NotFound)?;
    if m.read_at.is_some() {
        return Ok(m);
    }
    let mut am: message::ActiveModel = m.into();
    am.read_at = Set(Some(ctx.now()));
    Ok(am.update_committed(&ctx.db).await?)
}

/// Deletes one of the actor's messages (deliveries already sent stay logged).
pub async fn delete(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(), crate::actor::AccessError> {
    let r = message::Entity::delete_many()
        .filter(message::Column::Id.eq(id))
        .filter(message::Column::UserId.eq(actor.user_id))
        .exec(&ctx.db)
        .await?;
    if r.rows_affected == 0 {
        return Err(crate::actor::AccessError::NotFound);
    }
    Ok(())
}

/// Marks all of the actor's messages read.
pub async fn mark_all_read(ctx: &Ctx, actor: &Actor) -> Result<(), DbErr> {
    message::Entity::update_many()
        .col_expr(message::Column::ReadAt, sea_orm::sea_query::Expr::value(ctx.now()))
        .filter(message::Column::UserId.eq(actor.user_id))
        .filter(message::Column::ReadAt.is_null())
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Sends one SMS notice to a user (the text is "{title}，请登录平台查看。").
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SendSmsNotice {
    pub user_id: i64,
    pub title: String,
    /// Texts this (encrypted) number instead of the user's, for people without
    /// an account yet, such as an institution whose application was reviewed.
    #[serde(default)]
    pub to_phone_enc: Option<String>,
}

impl crate::jobs::Job for SendSmsNotice {
    const KIND: &'static str = "messages.sms_notice";
    const DEADLINE_SECS: u64 = center::DELIVER_DEADLINE_SECS;
}

/// The message center's jobs.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, job: center::Deliver| async move {
        center::deliver(&ctx, &job).await?;
        Ok(())
    });
    r.register(|ctx: Ctx, job: center::DeliverSms| async move {
        center::deliver(&ctx, &(&job).into()).await?;
        Ok(())
    });
    r.register(|ctx: Ctx, job: center::DeliverEmail| async move {
        center::deliver(&ctx, &(&job).into()).await?;
        Ok(())
    });
    r.register(|ctx: Ctx, job: center::DeliverWechat| async move {
        center::deliver(&ctx, &(&job).into()).await?;
        Ok(())
    });
    r.register(|ctx: Ctx, job: broadcasts::SendBroadcast| async move {
        let n = broadcasts::send(&ctx, &job).await?;
        tracing::info!(broadcast = job.broadcast_id, recipients = n, "broadcast sent");
        Ok(())
    });
    r.register(|ctx: Ctx, job: SendSmsNotice| async move {
        let sent = send_sms_notice(&ctx, &job).await?;
        tracing::debug!(user = job.user_id, sent, "SMS notice");
        Ok(())
    });
}
