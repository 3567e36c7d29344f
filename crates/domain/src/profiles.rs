//! The enterprise profile (企业画像) every eligibility check reads, and the
//! profile rules: SME size classification (工信部联企业〔2011〕300号) and the
//! NBS 规模以上 thresholds.

pub mod size;

pub use size::{Indicators, SizeClass, SizeGroup, classify};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is known of an enterprise. `None` means not given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub division: Option<String>,
    pub industry: Option<String>,
    pub size_class: Option<String>,
    pub above_designated_size: Option<bool>,
    pub years_since_founding: Option<f64>,
    pub employees: Option<f64>,
    /// 万元
    pub revenue: Option<f64>,
    /// 万元
    pub total_assets: Option<f64>,
    /// %
    pub rd_ratio: Option<f64>,
    /// Qualifications held; `None` when the enterprise has not said.
    pub qualifications: Option<Vec<String>>,
    pub credit_standing: Option<String>,
    /// Real-name certified on the platform.
    #[serde(default)]
    pub certified: Option<bool>,
    #[serde(default)]
    pub custom: BTreeMap<String, f64>,
}
