use qifu_domain::policy::{PolicyLevel, PolicyState};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub doc_no: Option<String>,
    pub issuer: String,
    pub level: PolicyLevel,
    pub publish_date: Date,
    pub valid_until: Option<Date>,
    pub support_type: String,
    pub summary: String,
    pub body: String,
    pub source_url: Option<String>,
    pub status: PolicyState,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub region: String,
    pub tags: String,
    pub amount_max_wan: Option<i64>,
    pub apply_until: Option<Date>,
    pub interpretation: String,
    pub rule_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
