use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "import_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub batch_id: i64,
    pub row_no: i32,
    /// The row as read: JSON object of column name to text.
    pub raw: String,
    /// The cleaned values (JSON), for accepted rows.
    pub clean: Option<String>,
    /// The refused values (JSON list of field, value, message).
    pub errors: Option<String>,
    /// `accepted`, `rejected` or `duplicate`.
    pub outcome: String,
    pub credit_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
