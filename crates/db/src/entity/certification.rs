use qifu_domain::certification::{CertificationStatus, MatchResult};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "certifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
    pub legal_rep_id_enc: String,
    pub legal_rep_id_hash: String,
    pub legal_rep_id_masked: String,
    pub licence_file_id: Option<i64>,
    pub status: CertificationStatus,
    pub match_result: MatchResult,
    pub registry_snapshot: String,
    pub reviewer_id: Option<i64>,
    pub review_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
