use qifu_domain::messages::SmsStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub phone_enc: String,
    pub phone_hash: String,
    pub phone_masked: String,
    pub template: String,
    pub content: String,
    pub provider: String,
    pub provider_msg_id: Option<String>,
    pub status: SmsStatus,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
