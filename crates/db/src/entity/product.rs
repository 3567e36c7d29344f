use qifu_domain::catalog::{DeliveryMode, Pricing};
use qifu_domain::demands::ProductState;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub institution_id: i64,
    pub category_id: i64,
    pub name: String,
    pub summary: String,
    pub description: String,
    pub pricing: Pricing,
    pub price_fen: Option<i64>,
    pub delivery_mode: DeliveryMode,
    pub status: ProductState,
    pub applied_count: i32,
    pub published_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub revision_of: Option<i64>,
    pub reject_reason: Option<String>,
    pub service_area: String,
    pub contact: String,
    pub industries: String,
    pub size_classes: String,
    pub min_years: Option<i32>,
    pub tongzhou_only: bool,
    pub certification_required: bool,
    pub amount_min_fen: Option<i64>,
    pub amount_max_fen: Option<i64>,
    pub term_min_months: Option<i32>,
    pub term_max_months: Option<i32>,
    pub rate_min_bp: Option<i32>,
    pub rate_max_bp: Option<i32>,
    pub guarantee_modes: String,
    pub submitted_by: Option<i64>,
    pub rating_count: i32,
    pub rating_sum: i32,
}

impl Model {
    /// Average stars × 100 (e.g. 450 = 4.5), 0 when unrated.
    pub fn rating_avg_x100(&self) -> i32 {
        self.rating_sum.saturating_mul(100) / self.rating_count.max(1)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
