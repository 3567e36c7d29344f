use qifu_domain::governance::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "field_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: EnterpriseField,
    pub rule: Survivorship,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
