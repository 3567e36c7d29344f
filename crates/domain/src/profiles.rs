//! The enterprise profile (企业画像) every eligibility check reads, and the
//! profile rules: SME size classification (工信部联企业〔2011〕300号) and the
//! NBS 规模以上 thresholds.

pub mod portrait;
pub mod size;

pub use size::{Indicators, SizeClass, SizeGroup, classify, explain};

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

/// Software and information-technology services (GB/T 4754-2017 I63–I65).
pub fn is_it_services(industry_code: &str) -> bool {
    ["63", "64", "65"].iter().any(|p| industry_code.starts_with(p))
}

/// Whether revenue reaches the NBS 规模以上 / 限额以上 threshold of the industry, and why.
pub fn above_designated_size_reason(industry_code: &str, revenue: Option<crate::money::Money>) -> Option<(bool, String)> {
    let group = SizeGroup::of_industry(industry_code);
    let threshold = group.above_designated_size_revenue()?;
    let revenue = revenue?;
    let above = revenue.fen() >= threshold.fen();
    Some((
        above,
        format!(
            "{}：营业收入 {} {} 规模以上标准 {}",
            group.label(),
            revenue.display_wan(),
            if above { "达到" } else { "未达到" },
            threshold.display_wan()
        ),
    ))
}
