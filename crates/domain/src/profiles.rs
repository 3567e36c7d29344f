//! Enterprise profile rules: SME size classification (工信部联企业〔2011〕300号)
//! and the NBS 规模以上 thresholds.

pub mod size;

pub use size::{Indicators, SizeClass, SizeGroup, classify};
