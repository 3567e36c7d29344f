use qifu_domain::messages::{BroadcastKind, BroadcastStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcasts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub body: String,
    pub kind: BroadcastKind,
    pub channels: String,
    pub segment: String,
    pub status: BroadcastStatus,
    pub scheduled_at: DateTimeUtc,
    pub recipients: i32,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
