//! Certification rules: the unified social credit code (GB 32100-2015).

mod credit_code;

pub use credit_code::{CreditCode, CreditCodeError, org_code_check_char};
