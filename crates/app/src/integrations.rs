//! Adapters to outside systems, each behind a trait with an offline `log`
//! implementation and a real one.

pub mod aliyun;
pub mod sms;
