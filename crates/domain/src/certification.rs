//! Certification rules: the unified social credit code (GB 32100-2015), the
//! resident identity number (GB 11643-1999) and enterprise-name comparison.

mod credit_code;
mod name;
mod resident_id;

pub use credit_code::{CreditCode, CreditCodeError, org_code_check_char};
pub use name::{normalise_name, same_name};
pub use resident_id::{ResidentId, ResidentIdError};
