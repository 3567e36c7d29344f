use qifu_domain::profiles::SizeClass;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enterprises")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: Option<i64>,
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
    pub industry_code: String,
    pub division_code: String,
    pub address: Option<String>,
    pub founded_on: Date,
    pub registered_capital_fen: Option<i64>,
    pub employees: Option<i32>,
    pub revenue_fen: Option<i64>,
    pub total_assets_fen: Option<i64>,
    pub size_class: Option<SizeClass>,
    pub above_designated_size: bool,
    pub certified: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub rd_ratio_bp: Option<i32>,
    /// Comma-separated; `None` when the enterprise has not said.
    pub qualifications: Option<String>,
    pub credit_standing: Option<String>,
    /// JSON object of operator-defined attributes (name → number).
    pub custom_attrs: Option<String>,
    /// 企业类型 as registered (有限责任公司 …).
    pub entity_type: Option<String>,
    /// 登记状态 (存续, 在业, 吊销, 注销).
    pub registry_status: Option<String>,
    /// Operator tags, comma-separated.
    pub tags: Option<String>,
    pub contact_phone_masked: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
