//! Catalogue rules: whether an enterprise meets a product's eligibility
//! criteria, and why — the basis of product recommendations (智能产品匹配).

use crate::profiles::SizeClass;

/// A product's criteria; empty lists and `None` mean "no restriction".
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// GB/T 4754 section letters or code prefixes.
    pub industries: Vec<String>,
    pub size_classes: Vec<SizeClass>,
    pub min_years: Option<i32>,
    pub tongzhou_only: bool,
    pub certification_required: bool,
}

impl Criteria {
    /// From the stored comma-separated columns.
    pub fn from_columns(
        industries: &str,
        sizes: &str,
        min_years: Option<i32>,
        tongzhou_only: bool,
        certification_required: bool,
    ) -> Self {
        Criteria {
            industries: industries.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            size_classes: sizes.split(',').filter_map(|s| SizeClass::parse(s.trim())).collect(),
            min_years,
            tongzhou_only,
            certification_required,
        }
    }
}

/// What is known of the enterprise; `None` = unknown, which never counts as a match.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub industry_code: Option<String>,
    pub section: Option<String>,
    pub industry_name: Option<String>,
    pub size: Option<SizeClass>,
    pub years: Option<i64>,
    pub in_tongzhou: bool,
    pub certified: bool,
}

/// How well a product fits: `None` when a criterion is not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// The number of specific criteria met (more specific = better fit).
    pub matched: u32,
    /// One line for the enterprise, e.g. `符合：软件和信息技术服务业、小型企业、成立满3年`.
    pub reason: String,
}

pub fn fit(c: &Criteria, p: &Profile) -> Option<Fit> {
    let mut parts: Vec<String> = Vec::new();
    if c.certification_required && !p.certified {
        return None;
    }
    if !c.industries.is_empty() {
        let code = p.industry_code.as_deref()?;
        let section = p.section.as_deref().unwrap_or("");
        if !c.industries.iter().any(|i| code.starts_with(i.as_str()) || i == section) {
            return None;
        }
        parts.push(p.industry_name.clone().unwrap_or_else(|| "所属行业".to_owned()));
    }
    if !c.size_classes.is_empty() {
        let size = p.size?;
        if !c.size_classes.contains(&size) {
            return None;
        }
        parts.push(format!("{}企业", size.label()));
    }
    if let Some(min) = c.min_years.filter(|m| *m > 0) {
        let years = p.years?;
        if years < i64::from(min) {
            return None;
        }
        parts.push(format!("成立满{min}年"));
    }
    if c.tongzhou_only {
        if !p.in_tongzhou {
            return None;
        }
        parts.push("注册在通州区".to_owned());
    }
    let matched = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    let reason = if parts.is_empty() {
        "面向所有企业，无特定条件".to_owned()
    } else {
        format!("符合：{}", parts.join("、"))
    };
    Some(Fit { matched, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            industry_code: Some("6513".into()),
            section: Some("I".into()),
            industry_name: Some("应用软件开发".into()),
            size: Some(SizeClass::Small),
            years: Some(4),
            in_tongzhou: true,
            certified: true,
        }
    }

    #[test]
    fn each_criterion_filters_and_explains() {
        let any = Criteria::default();
        assert_eq!(fit(&any, &profile()).unwrap().reason, "面向所有企业，无特定条件");
        let c = Criteria::from_columns("65,C", "small,micro", Some(3), true, true);
        let f = fit(&c, &profile()).unwrap();
        assert_eq!(f.matched, 4);
        assert_eq!(f.reason, "符合：应用软件开发、小型企业、成立满3年、注册在通州区");
        assert!(fit(&Criteria::from_columns("I", "", None, false, false), &profile()).is_some(), "a section letter matches");
        assert!(fit(&Criteria::from_columns("C", "", None, false, false), &profile()).is_none());
        assert!(fit(&Criteria::from_columns("", "medium", None, false, false), &profile()).is_none());
        assert!(fit(&Criteria::from_columns("", "", Some(5), false, false), &profile()).is_none());
        let mut outside = profile();
        outside.in_tongzhou = false;
        assert!(fit(&Criteria::from_columns("", "", None, true, false), &outside).is_none());
        let mut uncertified = profile();
        uncertified.certified = false;
        assert!(fit(&Criteria::from_columns("", "", None, false, true), &uncertified).is_none());
        // Unknown attributes never count as met.
        let unknown = Profile { certified: true, ..Default::default() };
        assert!(fit(&Criteria::from_columns("65", "", None, false, false), &unknown).is_none());
        assert!(fit(&Criteria::default(), &unknown).is_some());
    }
}
