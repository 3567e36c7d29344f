//! In-site messages (站内信). The message center (templates, channels,
//! preferences) builds on this table; for now use cases notify users here.

use crate::accounts::Actor;
use crate::context::Ctx;
use qifu_db::entity::message;
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
