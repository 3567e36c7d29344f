use qifu_domain::accounts::{ApplicationStatus, InstitutionKind};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "institution_applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub kind: InstitutionKind,
    pub intro: String,
    pub qualifications: String,
    pub contact_name: String,
    pub contact_phone_enc: String,
    pub contact_phone_hash: String,
    pub contact_phone_masked: String,
    pub password_hash: String,
    pub licence_file_id: i64,
    pub status: ApplicationStatus,
    pub reject_reason: Option<String>,
    pub org_id: Option<i64>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
