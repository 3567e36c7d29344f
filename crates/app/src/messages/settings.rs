//! A user's message settings (消息设置): channels per category, quiet hours,
//! the email address to write to, and unsubscribing from marketing.

use super::center::{self, UserSettings};
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::config::parse_hhmm;
use crate::context::{Ctx, Meta};
use qifu_db::entity::{message_preference, message_setting};
use qifu_domain::messages::{Channel, MessageCategory};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};
use std::collections::HashMap;

pub async fn get(ctx: &Ctx, actor: &Actor) -> Result<UserSettings, DbErr> {
    center::user_settings(&ctx.db, ctx, actor.user_id).await
}

/// The form: `ch_{category}_{channel}` boxes, quiet hours, email, unsubscribe.
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    pub checked: Vec<(MessageCategory, Channel)>,
    pub quiet_start: String,
    pub quiet_end: String,
    pub email: String,
    pub marketing_opt_out: bool,
}

impl SettingsForm {
    pub fn from_pairs(pairs: &HashMap<String, String>) -> Self {
        let mut checked = Vec::new();
        for cat in MessageCategory::ALL {
            for ch in Channel::OUTSIDE {
                if pairs.contains_key(&format!("ch_{}_{}", cat.code(), ch.code())) {
                    checked.push((cat, ch));
                }
            }
        }
        let v = |k: &str| pairs.get(k).cloned().unwrap_or_default();
        SettingsForm {
            checked,
            quiet_start: v("quiet_start"),
            quiet_end: v("quiet_end"),
            email: v("email"),
            marketing_opt_out: pairs.contains_key("marketing_opt_out"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A plain check of an email address: one `@`, a dotted domain, no spaces.
pub fn check_email(s: &str) -> Result<(), &'static str> {
    let s = s.trim();
    if s.len() > 120 {
        return Err("电子邮箱不能超过 120 个字符");
    }
    let Some((local, domain)) = s.split_once('@') else { return Err("电子邮箱格式不正确") };
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'(),;:\\[]".contains(c))
        && !domain.contains('@');
    if ok { Ok(()) } else { Err("电子邮箱格式不正确") }
}

fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((l, d)) => format!("{}***@{d}", l.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

pub async fn save(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &SettingsForm) -> Result<(), SettingsError> {
    let (Some(qs), Some(qe)) = (parse_hhmm(&f.quiet_start), parse_hhmm(&f.quiet_end)) else {
        return Err(SettingsError::Invalid("免打扰时间请按“22:00”的格式填写".to_owned()));
    };
    let email = f.email.trim();
    if !email.is_empty() {
        check_email(email).map_err(|m| SettingsError::Invalid(m.to_owned()))?;
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let now = ctx.now();
    let existing = message_setting::Entity::find().filter(message_setting::Column::UserId.eq(actor.user_id)).one(&txn).await?;
    let (enc, masked) = if email.is_empty() { (None, None) } else { (Some(ctx.crypto.encrypt(email)), Some(mask_email(email))) };
    match existing {
        Some(m) => {
            let mut am: message_setting::ActiveModel = m.into();
            am.quiet_start = Set(qs);
            am.quiet_end = Set(qe);
            am.marketing_opt_out = Set(f.marketing_opt_out);
            am.email_enc = Set(enc);
            am.email_masked = Set(masked);
            am.updated_at = Set(now);
            am.update(&txn).await?;
        }
        None => {
            message_setting::ActiveModel {
                user_id: Set(actor.user_id),
                quiet_start: Set(qs),
                quiet_end: Set(qe),
                marketing_opt_out: Set(f.marketing_opt_out),
                email_enc: Set(enc),
                email_masked: Set(masked),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    message_preference::Entity::delete_many().filter(message_preference::Column::UserId.eq(actor.user_id)).exec(&txn).await?;
    for cat in MessageCategory::ALL {
        for ch in Channel::OUTSIDE {
            let on = f.checked.contains(&(cat, ch));
            message_preference::ActiveModel {
                user_id: Set(actor.user_id),
                category: Set(cat),
                channel: Set(ch),
                enabled: Set(on),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    let detail = serde_json::json!({
        "quiet": format!("{}–{}", f.quiet_start.trim(), f.quiet_end.trim()),
        "marketing_opt_out": f.marketing_opt_out,
        "channels": f.checked.iter().map(|(c, h)| format!("{}.{}", c.code(), h.code())).collect::<Vec<_>>(),
    });
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("message.settings", "user", actor.user_id, detail)).await?;
    txn.commit().await?;
    Ok(())
}

/// Unsubscribes from marketing only (the link in marketing messages).
pub async fn unsubscribe(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), SettingsError> {
    let current = get(ctx, actor).await?;
    let mut f = SettingsForm {
        checked: Vec::new(),
        quiet_start: hhmm(current.quiet_start),
        quiet_end: hhmm(current.quiet_end),
        email: current.email.clone().unwrap_or_default(),
        marketing_opt_out: true,
    };
    for cat in MessageCategory::ALL {
        for ch in Channel::OUTSIDE {
            if current.wants(cat, ch) {
                f.checked.push((cat, ch));
            }
        }
    }
    save(ctx, actor, meta, &f).await
}

pub fn hhmm(mins: i32) -> String {
    format!("{:02}:{:02}", mins / 60, mins % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(check_email("zhang.san@example.com.cn").is_ok());
        for bad in ["", "a", "a@b", "a@.cn", "a b@c.cn", "<script>@x.cn", "a@b@c.cn", "a@b.cn."] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(mask_email("zhang@example.cn"), "z***@example.cn");
    }
}
