use qifu_domain::messages::{Channel, DeliveryStatus, MessageCategory};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub message_id: Option<i64>,
    pub broadcast_id: Option<i64>,
    pub template_key: String,
    pub category: MessageCategory,
    pub channel: Channel,
    pub urgent: bool,
    pub subject: String,
    pub body: String,
    pub data: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub provider: String,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
    pub due_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
