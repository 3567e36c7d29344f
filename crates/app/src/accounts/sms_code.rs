//! SMS verification codes: six digits, valid five minutes, single use; at most
//! one send per phone a minute, and daily caps per phone and per IP.

use crate::context::{Ctx, Meta};
use crate::crypto::sm3_hex;
use crate::integrations::sms::{SmsMessage, VERIFY_CODE_TEMPLATE};
use crate::outbox::{record_outbox, short_sign};
use chrono::Duration;
use qifu_db::Committed;
use qifu_db::entity::{rate_event, sms_code};
use qifu_domain::accounts::Phone;
pub use qifu_domain::accounts::SmsPurpose;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

#[derive(Debug, thiserror::Error)]
pub enum SmsCodeError {
    #[error("验证码发送太频繁，请{0}秒后再试")]
    TooSoon(i64),
    #[error("该手机号今日获取验证码次数已达上限，请明天再试")]
    PhoneDailyCap,
    #[error("操作过于频繁，请明天再试")]
    IpDailyCap,
    #[error("短信发送失败，请稍后再试")]
    Delivery,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn code_hash(phone_hash: &str, code: &str) -> String {
    sm3_hex(format!("{phone_hash}:{code}").as_bytes())
}

fn six_digits() -> String {
    let n = u128::from_le_bytes(*uuid::Uuid::new_v4().as_bytes()) % 1_000_000;
    format!("{n:06}")
}

/// Counts events for `key` since `since`.
pub(crate) async fn count_events<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<u64, DbErr> {
    rate_event::Entity::find().filter(rate_event::Column::Key.eq(key)).filter(rate_event::Column::At.gte(since)).count(conn).await
}

pub(crate) async fn add_event<C: ConnectionTrait>(conn: &C, key: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), DbErr> {
    rate_event::ActiveModel { key: Set(key.chars().take(160).collect()), at: Set(at), ..Default::default() }.insert(conn).await?;
    Ok(())
}

/// Sends a code for `purpose` to `phone` after checking the rate limits.
pub async fn send_code(ctx: &Ctx, meta: &Meta, phone: &Phone, purpose: SmsPurpose) -> Result<(), SmsCodeError> {
    let now = ctx.now();
    let s = &ctx.settings.sms;
    let phone_hash = ctx.crypto.blind_index(phone.as_str());
    let last = sms_code::Entity::find()
        .filter(sms_code::Column::PhoneHash.eq(phone_hash.as_str()))
        .order_by_desc(sms_code::Column::CreatedAt)
        .one(&ctx.db)
        .await?;
    if let Some(l) = &last {
        let wait = s.resend_secs - (now - l.created_at).num_seconds();
        if wait > 0 {
            return Err(SmsCodeError::TooSoon(wait));
        }
    }
    let day_ago = now - Duration::days(1);
    let sent_today = sms_code::Entity::find()
        .filter(sms_code::Column::PhoneHash.eq(phone_hash.as_str()))
        .filter(sms_code::Column::CreatedAt.gte(day_ago))
        .count(&ctx.db)
        .await?;
    if sent_today >= s.daily_per_phone {
        return Err(SmsCodeError::PhoneDailyCap);
    }
    let ip_key = format!("sms:ip:{}", meta.ip);
    if count_events(&ctx.db, &ip_key, day_ago).await? >= s.daily_per_ip {
        return Err(SmsCodeError::IpDailyCap);
    }
    let code = six_digits();
    let minutes = s.code_ttl_secs / 60;
    let text = format!("【{}】您的{}验证码为{code}，{minutes}分钟内有效，请勿泄露给他人。", short_sign(ctx), purpose.label());
    let msg = SmsMessage {
        phone: phone.as_str().to_owned(),
        template: VERIFY_CODE_TEMPLATE.to_owned(),
        params: vec![("code".to_owned(), code.clone())],
        text: text.clone(),
    };
    let delivered = ctx.sms.send(&msg).await;
    let shown = if ctx.sms.outbox_is_delivery() { text } else { text.replace(&code, "******") };
    record_outbox(ctx, phone, VERIFY_CODE_TEMPLATE, &shown, &delivered).await?;
    if delivered.is_err() {
        return Err(SmsCodeError::Delivery);
    }
    sms_code::ActiveModel {
        phone_hash: Set(phone_hash),
        purpose: Set(purpose),
        code_hash: Set(code_hash(&ctx.crypto.blind_index(phone.as_str()), &code)),
        ip: Set(meta.ip.chars().take(64).collect()),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(s.code_ttl_secs)),
        used_at: Set(None),
        ..Default::default()
    }
    .insert_committed(&ctx.db)
    .await?;
    add_event(&ctx.db, &ip_key, now).await?;
    Ok(())
}

/// Checks a code and uses it up. Wrong codes count; after five the code is void.
pub async fn verify_code<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    phone: &Phone,
    purpose: SmsPurpose,
    code: &str,
) -> Result<bool, DbErr> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let phone_hash = ctx.crypto.blind_index(phone.as_str());
    let now = ctx.now();
    let Some(latest) = sms_code::Entity::find()
        .filter(sms_code::Column::PhoneHash.eq(phone_hash.as_str()))
        .filter(sms_code::Column::Purpose.eq(purpose))
        .order_by_desc(sms_code::Column::CreatedAt)
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    if latest.used_at.is_some() || latest.expires_at <= now || latest.attempts >= 5 {
        return Ok(false);
    }
    let ok = latest.code_hash == code_hash(&phone_hash, code);
    // Conditional, atomic updates: two requests racing with the same code use it
    // once, and concurrent wrong guesses all count.
    if ok {
        let used = sms_code::Entity::update_many()
            .col_expr(sms_code::Column::UsedAt, Expr::value(now))
            .filter(sms_code::Column::Id.eq(latest.id))
            .filter(sms_code::Column::UsedAt.is_null())
            .filter(sms_code::Column::Attempts.lt(5))
            .exec(conn)
            .await?;
        Ok(used.rows_affected == 1)
    } else {
        sms_code::Entity::update_many()
            .col_expr(sms_code::Column::Attempts, sea_orm::sea_query::ExprTrait::add(Expr::col(sms_code::Column::Attempts), 1))
            .filter(sms_code::Column::Id.eq(latest.id))
            .exec(conn)
            .await?;
        Ok(false)
    }
}
