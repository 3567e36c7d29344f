use qifu_domain::policy::PolicyLevel;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "crawl_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub list_url: String,
    pub item_selector: String,
    pub title_selector: String,
    pub date_selector: String,
    pub doc_no_selector: String,
    pub body_selector: String,
    pub next_selector: String,
    pub attachment_selector: String,
    pub issuer: String,
    pub level: PolicyLevel,
    pub delay_ms: i32,
    pub max_pages: i32,
    pub enabled: bool,
    pub last_run_at: Option<DateTimeUtc>,
    pub last_status: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
