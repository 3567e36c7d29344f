use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_bindings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub openid: String,
    pub user_id: Option<i64>,
    pub subscribed: bool,
    pub scene: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
