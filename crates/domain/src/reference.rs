//! Reference tables shipped with the binary: GB/T 4754-2017 industries and the
//! administrative divisions of Tongzhou (NBS 2023 codes).

pub mod division;
pub mod industry;
