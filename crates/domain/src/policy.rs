//! Policies (惠企政策): their eligibility rules are evaluated by the one engine
//! in [`crate::eligibility`]; proposing conditions from a policy's text lives here.

pub mod parse;

pub use crate::eligibility::*;
