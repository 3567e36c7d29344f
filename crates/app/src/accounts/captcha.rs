//! Image captchas. The challenge is stored server-side (id → answer, five
//! minutes, single use); the picture is a PNG sent inline as a data URL.

use crate::context::Ctx;
use base64::Engine;
use chrono::Duration;
use qifu_db::entity::captcha as row;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// A challenge to show.
#[derive(Debug, Clone)]
pub struct Captcha {
    pub id: String,
    /// `data:image/png;base64,…`
    pub image: String,
}

/// Characters that are hard to confuse with one another.
const CHARS: &[char] = &[
    '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'h', 'k', 'm', 'n', 'p', 'r', 's', 't', 'w', 'x', 'y',
];

pub async fn new_captcha(db: &sea_orm::DatabaseConnection, ctx: &Ctx) -> Result<Captcha, DbErr> {
    use qifu_db::Committed;
    let (answer, png) = draw();
    let id = super::random_token();
    row::ActiveModel { id: Set(id.clone()), answer: Set(answer), expires_at: Set(ctx.now() + Duration::minutes(5)) }
        .insert_committed(db)
        .await?;
    Ok(Captcha { id, image: format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)) })
}

/// Draws a challenge; kept apart so nothing non-`Send` lives across an await.
fn draw() -> (String, Vec<u8>) {
    use captcha::filters::{Dots, Noise, Wave};
    let mut c = captcha::Captcha::new();
    c.set_chars(CHARS)
        .add_chars(4)
        .apply_filter(Noise::new(0.15))
        .apply_filter(Wave::new(2.0, 16.0))
        .view(160, 60)
        .apply_filter(Dots::new(6));
    (c.chars_as_string().to_lowercase(), c.as_png().unwrap_or_default())
}

/// Checks and consumes a challenge: any answer, right or wrong, uses it up.
pub async fn check_captcha<C: ConnectionTrait>(conn: &C, ctx: &Ctx, id: &str, answer: &str) -> Result<bool, DbErr> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(false);
    }
    let Some(c) = row::Entity::find_by_id(id.to_owned()).one(conn).await? else {
        return Ok(false);
    };
    row::Entity::delete_by_id(id.to_owned()).exec(conn).await?;
    Ok(c.expires_at > ctx.now() && c.answer == answer.trim().to_lowercase())
}

/// Deletes expired challenges.
pub async fn prune_captchas<C: ConnectionTrait>(conn: &C, ctx: &Ctx) -> Result<u64, DbErr> {
    Ok(row::Entity::delete_many().filter(row::Column::ExpiresAt.lt(ctx.now())).exec(conn).await?.rows_affected)
}
