use qifu_domain::messages::MessageCategory;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message_templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub category: MessageCategory,
    pub urgent: bool,
    pub variables: String,
    pub inbox_title: String,
    pub inbox_body: String,
    pub sms_text: String,
    pub sms_template_code: String,
    pub wechat_template_id: String,
    pub wechat_subscribe_template_id: String,
    pub wechat_fields: String,
    pub email_subject: String,
    pub email_body: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
