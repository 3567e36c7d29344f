//! SeaORM entities, one module per table.

pub mod activity;
pub mod article;
pub mod audit;
pub mod audit_head;
pub mod captcha;
pub mod category;
pub mod enterprise;
pub mod institution;
pub mod job;
pub mod login_log;
pub mod menu;
pub mod organisation;
pub mod policy;
pub mod product;
pub mod rate_event;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod sms_code;
pub mod sms_outbox;
pub mod user;
pub mod user_role;
