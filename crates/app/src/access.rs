//! Access errors shared by use cases. Records outside the actor's scope are
//! reported as not found, so their existence is not revealed.

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("记录不存在")]
    NotFound,
    #[error("没有权限")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}
