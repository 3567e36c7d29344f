use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quality_scores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub enterprise_id: i64,
    pub completeness: Option<f64>,
    pub consistency: Option<f64>,
    pub accuracy: Option<f64>,
    pub timeliness: Option<f64>,
    pub uniqueness: Option<f64>,
    pub total: f64,
    /// JSON list of the failed rules (field, dimension, message).
    pub issues: String,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
