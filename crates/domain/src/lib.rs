//! Pure types and rules of qifu. No I/O, no async, no SQL: this is where the
//! rules taken from standards live, and where most of the tests are.

pub mod accounts;
pub mod catalog;
pub mod certification;
pub mod content;
pub mod demands;
pub mod eligibility;
pub mod files;
pub mod governance;
pub mod messages;
pub mod money;
pub mod policy;
pub mod profiles;
pub mod reference;
pub mod stored;
pub mod system;
pub mod text;
