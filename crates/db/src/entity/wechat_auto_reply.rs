use qifu_domain::messages::{ReplyKind, ReplyMatch};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_auto_replies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub keyword: String,
    pub match_kind: ReplyMatch,
    pub reply_kind: ReplyKind,
    pub content: String,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
