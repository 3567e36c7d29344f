//! SeaORM entities, one module per table.

pub mod activity;
pub mod article;
pub mod category;
pub mod enterprise;
pub mod institution;
pub mod job;
pub mod organisation;
pub mod policy;
pub mod product;
pub mod role;
pub mod session;
pub mod user;
pub mod user_role;
