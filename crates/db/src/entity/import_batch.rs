use qifu_domain::governance::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_batches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_name: String,
    pub file_name: String,
    pub status: BatchState,
    pub rows_read: i32,
    pub accepted: i32,
    pub normalised: i32,
    pub rejected: i32,
    pub duplicates: i32,
    pub created_records: i32,
    pub updated_records: i32,
    pub conflicts: i32,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub committed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
