//! Catalogue rules: whether an enterprise meets a product's eligibility
//! criteria, and why — the basis of product recommendations (智能产品匹配).
//! The criteria are a rule of the one eligibility engine over the one
//! enterprise [`Profile`].

use crate::eligibility::{Attribute, Condition, Op, Rule, Verdict, evaluate};
use crate::profiles::{Profile, SizeClass};
use crate::stored::stored_enum;

stored_enum! {
    /// What a top-level product category offers; its children inherit it.
    /// A financing category's products ask for amount, term and purpose.
    pub enum CategoryKind in ["categories.kind"] {
        Service = "service" => "服务类",
        Financing = "financing" => "融资类",
    }
}

impl CategoryKind {
    pub fn is_financing(self) -> bool {
        self == CategoryKind::Financing
    }
}

stored_enum! {
    /// How a product is charged for.
    pub enum Pricing in ["products.pricing"] {
        Free = "free" => "免费",
        Price = "price" => "收费",
        Subsidized = "subsidized" => "政府补贴",
    }
}

stored_enum! {
    /// How a product's service is delivered.
    pub enum DeliveryMode in ["products.delivery_mode"] {
        Online = "online" => "线上服务",
        Offline = "offline" => "线下服务",
    }
}

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

impl Criteria {
    /// The criteria as an eligibility rule for the one engine
    /// ([`crate::eligibility`]): every criterion is a required condition.
    pub fn to_rule(&self) -> Rule {
        let cond = |attr: Attribute, op: Op, texts: Vec<String>, numbers: Vec<f64>| Rule::Cond {
            cond: Condition { attr, op, texts, numbers },
        };
        let mut rules = Vec::new();
        if self.certification_required {
            rules.push(cond(Attribute::Certified, Op::Has, vec![], vec![]));
        }
        if !self.industries.is_empty() {
            rules.push(cond(Attribute::Industry, Op::PrefixIn, self.industries.clone(), vec![]));
        }
        if !self.size_classes.is_empty() {
            let sizes = self.size_classes.iter().map(|s| s.code().to_owned()).collect();
            rules.push(cond(Attribute::SizeClass, Op::In, sizes, vec![]));
        }
        if let Some(min) = self.min_years.filter(|m| *m > 0) {
            rules.push(cond(Attribute::YearsSinceFounding, Op::Ge, vec![], vec![f64::from(min)]));
        }
        if self.tongzhou_only {
            rules.push(cond(Attribute::Division, Op::PrefixIn, vec![crate::reference::division::TONGZHOU.to_owned()], vec![]));
        }
        Rule::All { rules }
    }
}

/// How well a product fits: `None` when a criterion is not met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// The number of specific criteria met (more specific = better fit).
    pub matched: u32,
    /// One line for the enterprise, e.g. `符合：软件和信息技术服务业、小型企业、成立满3年`.
    pub reason: String,
}

/// Whether the enterprise meets every criterion, decided by the eligibility
/// engine. Unlike a policy, where a missing attribute asks for completion, a
/// product is recommended only when every criterion is known to be met.
pub fn fit(c: &Criteria, p: &Profile) -> Option<Fit> {
    if evaluate(&c.to_rule(), p).verdict != Verdict::Eligible {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    if !c.industries.is_empty() {
        let name = p.industry.as_deref().and_then(crate::reference::industry::find).map(|i| i.name.to_owned());
        parts.push(name.unwrap_or_else(|| "所属行业".to_owned()));
    }
    if !c.size_classes.is_empty()
        && let Some(size) = p.size_class.as_deref().and_then(SizeClass::parse)
    {
        parts.push(format!("{}企业", size.label()));
    }
    if let Some(min) = c.min_years.filter(|m| *m > 0) {
        parts.push(format!("成立满{min}年"));
    }
    if c.tongzhou_only {
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
            industry: Some("6513".into()),
            size_class: Some("small".into()),
            years_since_founding: Some(4.0),
            division: Some("110112001".into()),
            certified: Some(true),
            ..Default::default()
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
        outside.division = Some("110105001".into());
        assert!(fit(&Criteria::from_columns("", "", None, true, false), &outside).is_none());
        let mut uncertified = profile();
        uncertified.certified = Some(false);
        assert!(fit(&Criteria::from_columns("", "", None, false, true), &uncertified).is_none());
        // Unknown attributes never count as met.
        let unknown = Profile { certified: Some(true), ..Default::default() };
        assert!(fit(&Criteria::from_columns("65", "", None, false, false), &unknown).is_none());
        assert!(fit(&Criteria::default(), &unknown).is_some());
    }
}
