use qifu_domain::accounts::{AccountStatus, OrgKind};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: Option<String>,
    pub status: AccountStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub channel: Option<String>,
    pub certified_at: Option<DateTimeUtc>,
    pub policy_push_opt_out: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
