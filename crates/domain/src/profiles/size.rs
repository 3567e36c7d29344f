//! 《中小企业划型标准规定》(工信部联企业〔2011〕300号).
//!
//! Combination rule: large, medium and small enterprises must reach the lower
//! bound of every listed indicator, otherwise they drop one tier; a micro
//! enterprise needs only one indicator below the small bound.

use crate::money::Money;
use crate::stored::stored_enum;
use serde::{Deserialize, Serialize};

stored_enum! {
    /// 企业划型, largest first.
    pub enum SizeClass in ["enterprises.size_class"] {
        Large = "large" => "大型",
        Medium = "medium" => "中型",
        Small = "small" => "小型",
        Micro = "micro" => "微型",
    }
}

impl SizeClass {
    fn lower(self) -> Option<SizeClass> {
        match self {
            SizeClass::Large => Some(SizeClass::Medium),
            SizeClass::Medium => Some(SizeClass::Small),
            SizeClass::Small => Some(SizeClass::Micro),
            SizeClass::Micro => None,
        }
    }
}

/// The industry groups of the 300号 table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeGroup {
    Agriculture,
    Industrial,
    Construction,
    Wholesale,
    Retail,
    Transport,
    Warehousing,
    Postal,
    Accommodation,
    Catering,
    InformationTransmission,
    Software,
    RealEstateDevelopment,
    PropertyManagement,
    LeasingBusiness,
    Other,
}

impl SizeGroup {
    /// The group of a GB/T 4754-2017 code (section letter or 2–4 digits).
    pub fn of_industry(code: &str) -> SizeGroup {
        let div: u32 = code.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0);
        match div {
            1..=5 => SizeGroup::Agriculture,
            6..=46 => SizeGroup::Industrial,
            47..=50 => SizeGroup::Construction,
            51 => SizeGroup::Wholesale,
            52 => SizeGroup::Retail,
            // 53 铁路运输业 is excluded from 交通运输业 and falls to 其他未列明行业.
            54..=58 => SizeGroup::Transport,
            59 => SizeGroup::Warehousing,
            60 => SizeGroup::Postal,
            61 => SizeGroup::Accommodation,
            62 => SizeGroup::Catering,
            63 | 64 => SizeGroup::InformationTransmission,
            65 => SizeGroup::Software,
            70 if code.starts_with("701") => SizeGroup::RealEstateDevelopment,
            70 if code.starts_with("702") => SizeGroup::PropertyManagement,
            71 | 72 => SizeGroup::LeasingBusiness,
            _ => SizeGroup::Other,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SizeGroup::Agriculture => "农、林、牧、渔业",
            SizeGroup::Industrial => "工业",
            SizeGroup::Construction => "建筑业",
            SizeGroup::Wholesale => "批发业",
            SizeGroup::Retail => "零售业",
            SizeGroup::Transport => "交通运输业",
            SizeGroup::Warehousing => "仓储业",
            SizeGroup::Postal => "邮政业",
            SizeGroup::Accommodation => "住宿业",
            SizeGroup::Catering => "餐饮业",
            SizeGroup::InformationTransmission => "信息传输业",
            SizeGroup::Software => "软件和信息技术服务业",
            SizeGroup::RealEstateDevelopment => "房地产开发经营",
            SizeGroup::PropertyManagement => "物业管理",
            SizeGroup::LeasingBusiness => "租赁和商务服务业",
            SizeGroup::Other => "其他未列明行业",
        }
    }

    /// Lower bounds (large, medium, small) per indicator, in 人 and 万元.
    fn bounds(self) -> Bounds {
        use SizeGroup::*;
        let (e, r, a) = match self {
            Agriculture => (None, Some([20000, 500, 50]), None),
            Industrial => (Some([1000, 300, 20]), Some([40000, 2000, 300]), None),
            Construction => (None, Some([80000, 6000, 300]), Some([80000, 5000, 300])),
            Wholesale => (Some([200, 20, 5]), Some([40000, 5000, 1000]), None),
            Retail => (Some([300, 50, 10]), Some([20000, 500, 100]), None),
            Transport => (Some([1000, 300, 20]), Some([30000, 3000, 200]), None),
            Warehousing => (Some([200, 100, 20]), Some([30000, 1000, 100]), None),
            Postal => (Some([1000, 300, 20]), Some([30000, 2000, 100]), None),
            Accommodation | Catering => (Some([300, 100, 10]), Some([10000, 2000, 100]), None),
            InformationTransmission => (Some([2000, 100, 10]), Some([100000, 1000, 100]), None),
            Software => (Some([300, 100, 10]), Some([10000, 1000, 50]), None),
            RealEstateDevelopment => (None, Some([200000, 1000, 100]), Some([10000, 5000, 2000])),
            PropertyManagement => (Some([1000, 300, 100]), Some([5000, 1000, 500]), None),
            LeasingBusiness => (Some([300, 100, 10]), None, Some([120000, 8000, 100])),
            Other => (Some([300, 100, 10]), None, None),
        };
        Bounds { employees: e, revenue_wan: r, assets_wan: a }
    }

    /// Which indicators the group's rule uses.
    pub fn needs(self) -> Needs {
        let b = self.bounds();
        Needs { employees: b.employees.is_some(), revenue: b.revenue_wan.is_some(), assets: b.assets_wan.is_some() }
    }

    /// 规模以上 / 限额以上 threshold on annual revenue, where the NBS defines one by revenue.
    pub fn above_designated_size_revenue(self) -> Option<Money> {
        use SizeGroup::*;
        let wan = match self {
            Industrial => 2000,
            Wholesale => 2000,
            Retail => 500,
            Accommodation | Catering => 200,
            Transport | Warehousing | Postal | InformationTransmission | Software => 2000,
            LeasingBusiness | PropertyManagement => 1000,
            _ => return None,
        };
        Some(Money::from_wan(wan))
    }
}

struct Bounds {
    employees: Option<[i64; 3]>,
    revenue_wan: Option<[i64; 3]>,
    assets_wan: Option<[i64; 3]>,
}

/// Which indicators a group's rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub employees: bool,
    pub revenue: bool,
    pub assets: bool,
}

/// The indicators of one enterprise for one year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Indicators {
    /// 从业人员 (人)
    pub employees: Option<i64>,
    /// 营业收入
    pub revenue: Option<Money>,
    /// 资产总额
    pub total_assets: Option<Money>,
}

/// An indicator the rule needs is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MissingIndicator {
    #[error("缺少从业人员数")]
    Employees,
    #[error("缺少营业收入")]
    Revenue,
    #[error("缺少资产总额")]
    Assets,
}

/// Classifies an enterprise of `group` by the 300号 rule.
pub fn classify(group: SizeGroup, ind: &Indicators) -> Result<SizeClass, MissingIndicator> {
    let b = group.bounds();
    // For each tier (large, medium, small) the enterprise must reach every lower bound.
    let mut values: Vec<(i64, [i64; 3])> = Vec::with_capacity(2);
    if let Some(bounds) = b.employees {
        values.push((ind.employees.ok_or(MissingIndicator::Employees)?, bounds));
    }
    if let Some(bounds) = b.revenue_wan {
        let fen = ind.revenue.ok_or(MissingIndicator::Revenue)?.fen();
        values.push((fen, bounds.map(|w| w * crate::money::FEN_PER_WAN)));
    }
    if let Some(bounds) = b.assets_wan {
        let fen = ind.total_assets.ok_or(MissingIndicator::Assets)?.fen();
        values.push((fen, bounds.map(|w| w * crate::money::FEN_PER_WAN)));
    }
    let mut tier = SizeClass::Large;
    for (i, t) in [SizeClass::Large, SizeClass::Medium, SizeClass::Small].into_iter().enumerate() {
        if values.iter().all(|(v, bounds)| *v >= bounds[i]) {
            return Ok(t);
        }
        tier = t.lower().unwrap_or(SizeClass::Micro);
    }
    Ok(tier)
}

/// Why an enterprise has its size class: the group's rule for that class and
/// the enterprise's figures, e.g. `工业：从业人员 120 人（≥20）、营业收入 800 万元（≥300）→ 小型`.
pub fn explain(group: SizeGroup, ind: &Indicators) -> String {
    let b = group.bounds();
    let class = match classify(group, ind) {
        Ok(c) => c,
        Err(m) => return format!("{}：{}，无法按300号标准划型", group.label(), m),
    };
    let tier = match class {
        SizeClass::Large => Some(0),
        SizeClass::Medium => Some(1),
        SizeClass::Small => Some(2),
        SizeClass::Micro => None,
    };
    let mut parts = Vec::new();
    let fmt = |label: &str, unit: &str, value: i64, bounds: Option<[i64; 3]>| -> Option<String> {
        let bounds = bounds?;
        Some(match tier {
            Some(i) => format!("{label} {value} {unit}（≥{}）", bounds[i]),
            None => format!("{label} {value} {unit}（<{}）", bounds[2]),
        })
    };
    if let Some(e) = ind.employees {
        parts.extend(fmt("从业人员", "人", e, b.employees));
    }
    if let Some(r) = ind.revenue {
        parts.extend(fmt("营业收入", "万元", r.wan_floor(), b.revenue_wan));
    }
    if let Some(a) = ind.total_assets {
        parts.extend(fmt("资产总额", "万元", a.wan_floor(), b.assets_wan));
    }
    let joiner = if class == SizeClass::Micro { "或" } else { "、" };
    format!("{}：{} → {}企业（工信部联企业〔2011〕300号）", group.label(), parts.join(joiner), class.label())
}

impl SizeGroup {
    /// Half-open ranges `[low, high)` per indicator (人, 万元, 万元) that put an
    /// enterprise of this group in `class`; used to generate consistent data.
    pub fn ranges(self, class: SizeClass) -> [Option<(i64, i64)>; 3] {
        let b = self.bounds();
        let pick = |bounds: Option<[i64; 3]>| {
            bounds.map(|[l, m, s]| match class {
                SizeClass::Large => (l, l.saturating_mul(5)),
                SizeClass::Medium => (m, l),
                SizeClass::Small => (s, m),
                SizeClass::Micro => ((s / 10).max(1).min(s), s),
            })
        };
        [pick(b.employees), pick(b.revenue_wan), pick(b.assets_wan)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(e: i64, r_wan: i64) -> Indicators {
        Indicators { employees: Some(e), revenue: Some(Money::from_wan(r_wan)), total_assets: None }
    }

    #[test]
    fn the_explanation_names_the_rule_and_the_figures() {
        let g = SizeGroup::of_industry("3911");
        let e = explain(g, &ind(120, 800));
        assert_eq!(e, "工业：从业人员 120 人（≥20）、营业收入 800 万元（≥300） → 小型企业（工信部联企业〔2011〕300号）");
        assert!(explain(g, &Indicators::default()).contains("无法按300号标准划型"));
    }

    #[test]
    fn worked_examples_from_the_rules() {
        let g = SizeGroup::of_industry("3911");
        assert_eq!(g, SizeGroup::Industrial);
        assert_eq!(classify(g, &ind(500, 1500)), Ok(SizeClass::Small));
        assert_eq!(classify(g, &ind(15, 5000)), Ok(SizeClass::Micro));
        assert_eq!(classify(g, &ind(1200, 30000)), Ok(SizeClass::Medium));
        assert_eq!(classify(g, &ind(1000, 40000)), Ok(SizeClass::Large));
        assert_eq!(classify(g, &ind(20, 300)), Ok(SizeClass::Small));
        assert_eq!(classify(g, &ind(19, 300)), Ok(SizeClass::Micro));
    }

    #[test]
    fn table_per_group() {
        // (industry code, employees, revenue 万元, assets 万元, expected)
        type Case = (&'static str, Option<i64>, Option<i64>, Option<i64>, SizeClass);
        let cases: &[Case] = &[
            ("0111", None, Some(20000), None, SizeClass::Large),
            ("0111", None, Some(49), None, SizeClass::Micro),
            ("4710", None, Some(6000), Some(4999), SizeClass::Small),
            ("4710", None, Some(6000), Some(5000), SizeClass::Medium),
            ("5111", Some(20), Some(5000), None, SizeClass::Medium),
            ("5211", Some(9), Some(100), None, SizeClass::Micro),
            ("5411", Some(300), Some(3000), None, SizeClass::Medium),
            ("5311", Some(300), None, None, SizeClass::Large), // railway → 其他未列明
            ("5910", Some(100), Some(1000), None, SizeClass::Medium),
            ("6010", Some(20), Some(99), None, SizeClass::Micro),
            ("6110", Some(100), Some(2000), None, SizeClass::Medium),
            ("6210", Some(10), Some(100), None, SizeClass::Small),
            ("6410", Some(2000), Some(100000), None, SizeClass::Large),
            ("6513", Some(10), Some(50), None, SizeClass::Small),
            ("6513", Some(99), Some(49), None, SizeClass::Micro),
            ("7010", None, Some(200000), Some(10000), SizeClass::Large),
            ("7020", Some(100), Some(500), None, SizeClass::Small),
            ("7211", Some(100), None, Some(8000), SizeClass::Medium),
            ("7310", Some(9), None, None, SizeClass::Micro),
        ];
        for &(code, e, r, a, want) in cases {
            let i = Indicators { employees: e, revenue: r.map(Money::from_wan), total_assets: a.map(Money::from_wan) };
            assert_eq!(classify(SizeGroup::of_industry(code), &i), Ok(want), "{code}");
        }
    }

    #[test]
    fn missing_indicator_is_reported() {
        let g = SizeGroup::Industrial;
        let i = Indicators { employees: Some(10), revenue: None, total_assets: None };
        assert_eq!(classify(g, &i), Err(MissingIndicator::Revenue));
    }
}
