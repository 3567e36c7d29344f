use qifu_domain::accounts::AccountStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub org_id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub status: AccountStatus,
    pub must_change_password: bool,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub phone_enc: Option<String>,
    pub phone_hash: Option<String>,
    pub phone_masked: Option<String>,
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub totp_secret_enc: Option<String>,
    pub password_changed_at: Option<DateTimeUtc>,
    pub is_org_admin: bool,
    pub mfa_failures: i32,
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
