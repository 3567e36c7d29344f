//! Kernel: the SMS outbox (短信发件箱). Every SMS the platform sends, whatever
//! the area or provider, is recorded here with its outcome.

use crate::context::Ctx;
use crate::integrations::sms::SmsError;
use qifu_db::Committed;
use qifu_db::entity::sms_outbox;
use qifu_domain::accounts::Phone;
use qifu_domain::messages::SmsStatus;
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, PaginatorTrait, QueryOrder};

/// Records one send attempt in the outbox (短信发件箱).
pub async fn record_outbox(
    ctx: &Ctx,
    phone: &Phone,
    template: &str,
    shown: &str,
    delivered: &Result<Option<String>, SmsError>,
) -> Result<(), DbErr> {
    let (status, msg_id, error) = match delivered {
        Ok(id) => (if ctx.sms.outbox_is_delivery() { SmsStatus::Logged } else { SmsStatus::Sent }, id.clone(), None),
        Err(e) => (SmsStatus::Failed, None, Some(e.to_string())),
    };
    sms_outbox::ActiveModel {
        at: Set(ctx.now()),
        phone_enc: Set(ctx.crypto.encrypt(phone.as_str())),
        phone_hash: Set(ctx.crypto.blind_index(phone.as_str())),
        phone_masked: Set(phone.masked()),
        template: Set(template.to_owned()),
        content: Set(shown.to_owned()),
        provider: Set(ctx.sms.name().to_owned()),
        provider_msg_id: Set(msg_id),
        status: Set(status),
        error: Set(error),
        ..Default::default()
    }
    .insert_committed(&ctx.db)
    .await?;
    Ok(())
}

pub fn short_sign(ctx: &Ctx) -> String {
    if ctx.settings.sms.aliyun_sign_name.is_empty() {
        "通州企服".to_owned()
    } else {
        ctx.settings.sms.aliyun_sign_name.clone()
    }
}

/// The SMS outbox (短信发件箱) for operators. It shows phone numbers and
/// message texts (personal data): each page read is audited.
pub async fn list(
    ctx: &Ctx,
    actor: &crate::actor::Actor,
    meta: &crate::context::Meta,
    page: u64,
) -> Result<(Vec<sms_outbox::Model>, u64), crate::actor::AccessError> {
    use sea_orm::QuerySelect;
    crate::actor::require(actor, qifu_domain::accounts::Permission::SmsOutboxView)?;
    let q = sms_outbox::Entity::find().order_by_desc(sms_outbox::Column::Id);
    let total = q.clone().count(&ctx.db).await?;
    let rows = q.offset(page.max(1).saturating_sub(1) * 30).limit(30).all(&ctx.db).await?;
    crate::audit::record_read(
        ctx,
        actor,
        meta,
        "sms_outbox",
        page.max(1),
        serde_json::json!({"page": page.max(1), "rows": rows.len()}),
    )
    .await?;
    Ok((rows, total))
}
