use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registry_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub legal_rep_name: String,
    pub legal_rep_id_enc: Option<String>,
    pub legal_rep_id_hash: Option<String>,
    pub status: String,
    pub source: String,
    pub updated_at: DateTimeUtc,
    pub entity_type: Option<String>,
    pub founded_on: Option<Date>,
    pub registered_capital_fen: Option<i64>,
    pub address: Option<String>,
    pub division_code: Option<String>,
    pub industry_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
