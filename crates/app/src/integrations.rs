//! Adapters to outside systems, each behind a trait with an offline `log`
//! implementation and a real one.

pub mod aliyun;
pub mod email;
pub mod registry;
pub mod registry_http;
pub mod registry_local;
pub mod sms;
pub mod wechat_api;
