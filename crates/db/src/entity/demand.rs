use qifu_domain::demands::{DemandKind, DemandState};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "demands")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_id: i64,
    pub institution_id: i64,
    pub enterprise_org_id: i64,
    pub applicant_user_id: i64,
    pub kind: DemandKind,
    pub status: DemandState,
    pub needs: String,
    pub contact_name: String,
    pub contact_phone_enc: String,
    pub contact_phone_masked: String,
    pub expected_date: Option<Date>,
    pub amount_fen: Option<i64>,
    pub term_months: Option<i32>,
    pub purpose: Option<String>,
    pub guarantee_mode: Option<String>,
    pub financial_summary: Option<String>,
    pub assignee_user_id: Option<i64>,
    pub decline_reason: Option<String>,
    pub proof_note: Option<String>,
    pub proof_file_id: Option<i64>,
    pub attachment_file_id: Option<i64>,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<DateTimeUtc>,
    pub granted_amount_fen: Option<i64>,
    pub granted_rate_bp: Option<i32>,
    pub granted_term_months: Option<i32>,
    pub reminded_at: Option<DateTimeUtc>,
    pub escalated_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
