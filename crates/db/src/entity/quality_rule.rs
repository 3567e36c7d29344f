use qifu_domain::governance::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quality_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub field: EnterpriseField,
    pub dimension: Dimension,
    pub kind: RuleKind,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub weight: i32,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
