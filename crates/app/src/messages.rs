//! In-site messages (站内信) and SMS notices. The message center (templates,
//! channels, preferences) builds on this; for now use cases notify users here.

use crate::accounts::Actor;
use crate::context::Ctx;
use crate::integrations::sms::{NOTICE_TEMPLATE, SmsError, SmsMessage};
use crate::jobs::{self, EnqueueOptions, SendSmsNotice};
use qifu_db::entity::{message, user};
use qifu_domain::accounts::Phone;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

/// Writes a message to a user inside the caller's transaction.
pub async fn notify<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    user_id: i64,
    category: &str,
    title: &str,
    body: &str,
    link: Option<&str>,
) -> Result<(), DbErr> {
    message::ActiveModel {
        user_id: Set(user_id),
        category: Set(category.to_owned()),
        title: Set(title.chars().take(200).collect()),
        body: Set(body.to_owned()),
        link: Set(link.map(str::to_owned)),
        read_at: Set(None),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Writes a message to a user and, after the transaction commits, texts them a
/// short notice to look at it (the SMS goes through the job queue, so a slow or
/// failing gateway never blocks or undoes the change).
pub async fn notify_with_sms<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    user_id: i64,
    category: &str,
    title: &str,
    body: &str,
    link: Option<&str>,
) -> Result<(), DbErr> {
    notify(conn, ctx, user_id, category, title, body, link).await?;
    let job = SendSmsNotice { user_id, title: title.chars().take(SMS_TITLE_CHARS).collect(), to_phone_enc: None };
    jobs::enqueue(conn, ctx, &job, EnqueueOptions::default()).await?;
    Ok(())
}

/// Long enough for "需求已受理：" and a product name; short enough for one SMS.
const SMS_TITLE_CHARS: usize = 40;

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
            if u.status != "active" {
                return Ok(false);
            }
            u.phone_enc
        }
    };
    let Some(phone) = phone_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok()).and_then(|p| Phone::parse(&p).ok()) else {
        return Ok(false);
    };
    let text = format!("【{}】{}，请登录平台查看。", crate::accounts::short_sign(ctx), job.title);
    let msg = SmsMessage {
        phone: phone.as_str().to_owned(),
        template: NOTICE_TEMPLATE.to_owned(),
        params: vec![("title".to_owned(), job.title.clone())],
        text: text.clone(),
    };
    let delivered = ctx.sms.send(&msg).await;
    crate::accounts::record_outbox(ctx, &phone, NOTICE_TEMPLATE, &text, &delivered).await?;
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
