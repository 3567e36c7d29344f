//! The one eligibility engine (申报条件与匹配): policy rules, product criteria
//! and recommendations all evaluate an enterprise's [`Profile`] here.
//!
//! A rule is a tree of conditions over an enterprise's attributes combined
//! with all / any / not. Matching is three-valued: a condition is met, not met,
//! or cannot be decided because the enterprise has not given the attribute —
//! and a missing attribute is never counted as a failure. The result is
//! 符合 (eligible), 接近 (near miss), 待完善 (something is missing) or
//! 不符合 (ineligible), with a line per condition.

pub use crate::profiles::Profile;
use crate::stored::stored_enum;
use serde::{Deserialize, Serialize};

/// An attribute of an enterprise a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "attr", content = "key", rename_all = "snake_case")]
pub enum Attribute {
    /// Registered division (street or town code of Tongzhou).
    Division,
    /// GB/T 4754 industry code.
    Industry,
    /// 大/中/小/微 by the 300号 rules.
    SizeClass,
    /// 规模以上.
    AboveDesignatedSize,
    /// Full years since founding.
    YearsSinceFounding,
    /// 从业人员 (人).
    Employees,
    /// 营业收入 (万元).
    Revenue,
    /// 资产总额 (万元).
    TotalAssets,
    /// 研发费用占营业收入比例 (%).
    RdRatio,
    /// A qualification held (高新技术企业 …).
    Qualification,
    /// Credit standing (A, B, C, D or 良好 …).
    CreditStanding,
    /// Real-name certified on the platform (实名认证).
    Certified,
    /// An operator-defined attribute.
    Custom(String),
}

impl Attribute {
    pub fn label(&self) -> String {
        match self {
            Attribute::Division => "注册地".into(),
            Attribute::Industry => "所属行业".into(),
            Attribute::SizeClass => "企业规模".into(),
            Attribute::AboveDesignatedSize => "规模以上企业".into(),
            Attribute::YearsSinceFounding => "成立年限".into(),
            Attribute::Employees => "从业人员".into(),
            Attribute::Revenue => "年营业收入".into(),
            Attribute::TotalAssets => "资产总额".into(),
            Attribute::RdRatio => "研发费用占比".into(),
            Attribute::Qualification => "资质".into(),
            Attribute::CreditStanding => "信用等级".into(),
            Attribute::Certified => "实名认证".into(),
            Attribute::Custom(k) => k.clone(),
        }
    }

    /// The unit numbers of this attribute are written in.
    pub fn unit(&self) -> &'static str {
        match self {
            Attribute::YearsSinceFounding => "年",
            Attribute::Employees => "人",
            Attribute::Revenue | Attribute::TotalAssets => "万元",
            Attribute::RdRatio => "%",
            _ => "",
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Attribute::YearsSinceFounding
                | Attribute::Employees
                | Attribute::Revenue
                | Attribute::TotalAssets
                | Attribute::RdRatio
                | Attribute::Custom(_)
        )
    }

    /// The form code (`division`, `revenue`, `custom:出口额` …).
    pub fn code(&self) -> String {
        match self {
            Attribute::Custom(k) => format!("custom:{k}"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("attr").and_then(|a| a.as_str().map(str::to_owned)))
                .unwrap_or_default(),
        }
    }

    pub fn parse_code(code: &str) -> Option<Attribute> {
        if let Some(k) = code.strip_prefix("custom:") {
            let k = k.trim();
            return (!k.is_empty() && k.chars().count() <= 20).then(|| Attribute::Custom(k.to_owned()));
        }
        serde_json::from_value(serde_json::json!({ "attr": code })).ok()
    }

    pub const BUILT_IN: [Attribute; 11] = [
        Attribute::Division,
        Attribute::Industry,
        Attribute::SizeClass,
        Attribute::AboveDesignatedSize,
        Attribute::YearsSinceFounding,
        Attribute::Employees,
        Attribute::Revenue,
        Attribute::TotalAssets,
        Attribute::RdRatio,
        Attribute::Qualification,
        Attribute::CreditStanding,
    ];
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal (text or number).
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    /// Between two numbers, both included.
    Between,
    /// One of a list.
    In,
    NotIn,
    /// Starts with one of the listed prefixes (industry codes).
    PrefixIn,
    /// Holds (a qualification; true for yes/no attributes).
    Has,
    /// Does not hold.
    NotHas,
}

impl Op {
    pub const ALL: [Op; 12] =
        [Op::Eq, Op::Ne, Op::Gt, Op::Ge, Op::Lt, Op::Le, Op::Between, Op::In, Op::NotIn, Op::PrefixIn, Op::Has, Op::NotHas];

    pub fn label(self) -> &'static str {
        match self {
            Op::Eq => "等于",
            Op::Ne => "不等于",
            Op::Gt => "大于",
            Op::Ge => "不低于",
            Op::Lt => "小于",
            Op::Le => "不超过",
            Op::Between => "介于",
            Op::In => "属于",
            Op::NotIn => "不属于",
            Op::PrefixIn => "代码以下列开头",
            Op::Has => "具有",
            Op::NotHas => "不具有",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::Between => "between",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::PrefixIn => "prefix_in",
            Op::Has => "has",
            Op::NotHas => "not_has",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.code() == s)
    }
}

/// One condition: attribute, operator and the value(s) compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    #[serde(flatten)]
    pub attr: Attribute,
    pub op: Op,
    /// Text values (lists for in / not_in / prefix_in, the qualification for has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texts: Vec<String>,
    /// Numbers, in the attribute's unit (one, or two for between).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<f64>,
}

/// A rule: a condition, or a combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    All { rules: Vec<Rule> },
    Any { rules: Vec<Rule> },
    Not { rule: Box<Rule> },
    Cond { cond: Condition },
}

/// A value as the enterprise has it (borrowed: matching runs millions of times).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Have<'a> {
    Text(&'a str),
    Number(f64),
    Flag(bool),
    Set(&'a [String]),
}

impl Profile {
    fn get(&self, a: &Attribute) -> Option<Have<'_>> {
        match a {
            Attribute::Division => self.division.as_deref().map(Have::Text),
            Attribute::Industry => self.industry.as_deref().map(Have::Text),
            Attribute::SizeClass => self.size_class.as_deref().map(Have::Text),
            Attribute::AboveDesignatedSize => self.above_designated_size.map(Have::Flag),
            Attribute::YearsSinceFounding => self.years_since_founding.map(Have::Number),
            Attribute::Employees => self.employees.map(Have::Number),
            Attribute::Revenue => self.revenue.map(Have::Number),
            Attribute::TotalAssets => self.total_assets.map(Have::Number),
            Attribute::RdRatio => self.rd_ratio.map(Have::Number),
            Attribute::Qualification => self.qualifications.as_deref().map(Have::Set),
            Attribute::CreditStanding => self.credit_standing.as_deref().map(Have::Text),
            Attribute::Certified => self.certified.map(Have::Flag),
            Attribute::Custom(k) => self.custom.get(k).copied().map(Have::Number),
        }
    }
}

/// The verdict of one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Check {
    Met,
    /// Not met; for numbers, how far off in the attribute's unit and relative to the bound.
    NotMet {
        gap: Option<f64>,
        relative: Option<f64>,
    },
    /// The enterprise has not given the attribute.
    Missing,
}

/// One line of the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceLine {
    /// "年营业收入 不低于 2000万元"
    pub condition: String,
    /// "1800万元", or "未填写"
    pub value: String,
    pub check: Check,
    /// Whether this condition sits under a "not".
    pub negated: bool,
    /// The attribute's form code, so a missing value can be asked for.
    pub attr: String,
    /// False for a condition that did not matter: an unmet alternative of an
    /// "any" that another alternative met.
    #[serde(default = "yes")]
    pub decisive: bool,
}

fn yes() -> bool {
    true
}

stored_enum! {
    /// The overall result.
    pub enum Verdict in ["policy_matches.verdict"] {
        Eligible = "eligible" => "符合",
        Near = "near" => "接近",
        Incomplete = "incomplete" => "待完善",
        Ineligible = "ineligible" => "不符合",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: Verdict,
    pub trace: Vec<TraceLine>,
}

/// Relative gap up to which a failed number still counts as near (20 %).
pub const NEAR_RELATIVE: f64 = 0.2;
/// At most this many failed conditions for a near miss.
pub const NEAR_MAX_FAILS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

fn fmt_num(n: f64) -> String {
    if (n - n.round()).abs() < 1e-9 {
        format!("{}", n.round() as i64)
    } else {
        format!("{n:.2}").trim_end_matches('0').to_owned()
    }
}

impl Condition {
    /// "年营业收入 不低于 2000万元"
    pub fn describe(&self) -> String {
        let unit = self.attr.unit();
        let what = match self.op {
            Op::Has | Op::NotHas if self.texts.is_empty() => String::new(),
            Op::Between => match self.numbers.as_slice() {
                [a, b] => format!("{}–{}{unit}", fmt_num(*a), fmt_num(*b)),
                _ => "（未设置）".into(),
            },
            _ if !self.numbers.is_empty() => format!("{}{unit}", fmt_num(self.numbers[0])),
            _ => self.texts.iter().map(|t| display_text(&self.attr, t)).collect::<Vec<_>>().join("、"),
        };
        format!("{} {} {}", self.attr.label(), self.op.label(), what).trim_end().to_owned()
    }

    /// Whether the enterprise's text `v` matches the condition's `t`: equal, or
    /// (for `prefix`) starting with it. For the industry, a GB/T 4754 section
    /// letter (`C` 制造业) matches every code of that section.
    fn text_matches(&self, t: &str, v: &str, prefix: bool) -> bool {
        if t.is_empty() {
            return false;
        }
        if self.attr == Attribute::Industry && t.len() == 1 && t.bytes().all(|b| b.is_ascii_uppercase()) {
            return v == t || crate::reference::industry::find(v).is_some_and(|i| i.section == t);
        }
        if prefix { v.starts_with(t) } else { t == v }
    }

    fn check(&self, have: Option<Have<'_>>) -> Check {
        let Some(have) = have else { return Check::Missing };
        let ok = |b: bool| if b { Check::Met } else { Check::NotMet { gap: None, relative: None } };
        match (self.op, have) {
            (Op::Has, Have::Set(s)) => ok(self.texts.iter().all(|t| s.contains(t))),
            (Op::NotHas, Have::Set(s)) => ok(!self.texts.iter().any(|t| s.contains(t))),
            (Op::Has, Have::Flag(f)) => ok(f),
            (Op::NotHas, Have::Flag(f)) => ok(!f),
            (Op::Eq, Have::Flag(f)) => ok(self.texts.first().is_some_and(|t| (t == "是") == f)),
            (Op::Eq | Op::In, Have::Text(v)) => ok(self.texts.iter().any(|t| self.text_matches(t, v, false))),
            (Op::Ne | Op::NotIn, Have::Text(v)) => ok(!self.texts.iter().any(|t| self.text_matches(t, v, false))),
            (Op::PrefixIn, Have::Text(v)) => ok(self.texts.iter().any(|p| self.text_matches(p, v, true))),
            (op, Have::Number(v)) => number_check(op, v, &self.numbers),
            _ => Check::NotMet { gap: None, relative: None },
        }
    }
}

fn number_check(op: Op, v: f64, numbers: &[f64]) -> Check {
    let Some(&t) = numbers.first() else { return Check::NotMet { gap: None, relative: None } };
    let miss = |gap: f64, bound: f64| Check::NotMet {
        gap: Some(gap.abs()),
        relative: Some(if bound.abs() > f64::EPSILON { gap.abs() / bound.abs() } else { 1.0 }),
    };
    match op {
        Op::Eq => {
            if (v - t).abs() < 1e-9 {
                Check::Met
            } else {
                miss(v - t, t)
            }
        }
        Op::Ne => {
            if (v - t).abs() >= 1e-9 {
                Check::Met
            } else {
                Check::NotMet { gap: None, relative: None }
            }
        }
        Op::Gt => {
            if v > t {
                Check::Met
            } else {
                miss(t - v, t)
            }
        }
        Op::Ge => {
            if v >= t {
                Check::Met
            } else {
                miss(t - v, t)
            }
        }
        Op::Lt => {
            if v < t {
                Check::Met
            } else {
                miss(v - t, t)
            }
        }
        Op::Le => {
            if v <= t {
                Check::Met
            } else {
                miss(v - t, t)
            }
        }
        Op::Between => {
            let hi = numbers.get(1).copied().unwrap_or(t);
            if v < t {
                miss(t - v, t)
            } else if v > hi {
                miss(v - hi, hi)
            } else {
                Check::Met
            }
        }
        _ => Check::NotMet { gap: None, relative: None },
    }
}

fn display_text(attr: &Attribute, t: &str) -> String {
    match attr {
        Attribute::SizeClass => {
            crate::profiles::SizeClass::parse(t).map(|c| c.label().to_owned()).unwrap_or_else(|| t.to_owned())
        }
        Attribute::Division if t == "110112" => "通州区".to_owned(),
        Attribute::Division => crate::reference::division::street(t).map(|s| s.name.to_owned()).unwrap_or_else(|| t.to_owned()),
        _ => t.to_owned(),
    }
}

fn display_have(attr: &Attribute, h: &Option<Have<'_>>) -> String {
    match h {
        None => "未填写".into(),
        Some(Have::Text(t)) => display_text(attr, t),
        Some(Have::Number(n)) => format!("{}{}", fmt_num(*n), attr.unit()),
        Some(Have::Flag(f)) => if *f { "是" } else { "否" }.into(),
        Some(Have::Set([])) => "无".into(),
        Some(Have::Set(s)) => s.join("、"),
    }
}

fn eval(rule: &Rule, p: &Profile, negated: bool, trace: &mut Vec<TraceLine>) -> Tri {
    match rule {
        Rule::Cond { cond } => {
            let have = p.get(&cond.attr);
            let mut check = cond.check(have);
            let tri = match &check {
                Check::Met => Tri::Yes,
                Check::NotMet { .. } => Tri::No,
                Check::Missing => Tri::Unknown,
            };
            // Under a "not", the line shows whether the negated condition holds.
            let shown = if negated {
                match tri {
                    Tri::Yes => {
                        check = Check::NotMet { gap: None, relative: None };
                        Tri::No
                    }
                    Tri::No => {
                        check = Check::Met;
                        Tri::Yes
                    }
                    Tri::Unknown => Tri::Unknown,
                }
            } else {
                tri
            };
            let _ = shown;
            trace.push(TraceLine {
                condition: if negated { format!("不满足：{}", cond.describe()) } else { cond.describe() },
                value: display_have(&cond.attr, &have),
                check,
                negated,
                attr: cond.attr.code(),
                decisive: true,
            });
            tri
        }
        Rule::All { rules } => {
            let vals: Vec<Tri> = rules.iter().map(|r| eval(r, p, negated, trace)).collect();
            if vals.contains(&Tri::No) {
                Tri::No
            } else if vals.contains(&Tri::Unknown) {
                Tri::Unknown
            } else {
                Tri::Yes
            }
        }
        Rule::Any { rules } => {
            if rules.is_empty() {
                return Tri::Yes;
            }
            let mut spans = Vec::with_capacity(rules.len());
            for r in rules {
                let start = trace.len();
                let v = eval(r, p, negated, trace);
                spans.push((start, trace.len(), v));
            }
            if spans.iter().any(|s| s.2 == Tri::Yes) {
                for &(a, b, v) in &spans {
                    if v != Tri::Yes {
                        trace[a..b].iter_mut().for_each(|t| t.decisive = false);
                    }
                }
                Tri::Yes
            } else if spans.iter().any(|s| s.2 == Tri::Unknown) {
                Tri::Unknown
            } else {
                Tri::No
            }
        }
        Rule::Not { rule } => match eval(rule, p, !negated, trace) {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            Tri::Unknown => Tri::Unknown,
        },
    }
}

/// Matches one enterprise against one rule.
pub fn evaluate(rule: &Rule, p: &Profile) -> Outcome {
    let mut trace = Vec::new();
    let verdict = match eval(rule, p, false, &mut trace) {
        Tri::Yes => Verdict::Eligible,
        Tri::Unknown => Verdict::Incomplete,
        Tri::No => {
            let failed: Vec<&TraceLine> =
                trace.iter().filter(|t| t.decisive && matches!(t.check, Check::NotMet { .. })).collect();
            let near = !failed.is_empty()
                && failed.len() <= NEAR_MAX_FAILS
                && failed.iter().all(|t| matches!(t.check, Check::NotMet { relative: Some(r), .. } if r <= NEAR_RELATIVE));
            if near { Verdict::Near } else { Verdict::Ineligible }
        }
    };
    Outcome { verdict, trace }
}

/// The verdict alone, without building the trace: for batch matching, where
/// only eligible (and near) results are kept with their trace. Agrees with
/// [`evaluate`] on every input.
pub fn verdict(rule: &Rule, p: &Profile) -> Verdict {
    #[derive(Default)]
    struct Fails {
        n: usize,
        all_near: bool,
    }
    fn go(rule: &Rule, p: &Profile, negated: bool, f: &mut Fails) -> Tri {
        match rule {
            Rule::Cond { cond } => {
                let check = cond.check(p.get(&cond.attr));
                let (tri, shown_fail_near) = match check {
                    Check::Met => (Tri::Yes, if negated { Some(false) } else { None }),
                    Check::NotMet { relative, .. } => {
                        (Tri::No, if negated { None } else { Some(relative.is_some_and(|r| r <= NEAR_RELATIVE)) })
                    }
                    Check::Missing => (Tri::Unknown, None),
                };
                if let Some(near) = shown_fail_near {
                    f.n += 1;
                    f.all_near &= near;
                }
                tri
            }
            Rule::All { rules } => {
                let mut out = Tri::Yes;
                for r in rules {
                    match go(r, p, negated, f) {
                        Tri::No => {
                            out = Tri::No;
                            // No further condition can change the result or make it near.
                            if !negated && (f.n > NEAR_MAX_FAILS || !f.all_near) {
                                return Tri::No;
                            }
                        }
                        Tri::Unknown if out == Tri::Yes => out = Tri::Unknown,
                        _ => {}
                    }
                }
                out
            }
            Rule::Any { rules } => {
                if rules.is_empty() {
                    return Tri::Yes;
                }
                let mut local = Fails { n: 0, all_near: true };
                let mut any_yes = false;
                let mut any_unknown = false;
                for r in rules {
                    match go(r, p, negated, &mut local) {
                        Tri::Yes => any_yes = true,
                        Tri::Unknown => any_unknown = true,
                        Tri::No => {}
                    }
                }
                if any_yes {
                    // Unmet alternatives did not matter.
                    Tri::Yes
                } else {
                    f.n += local.n;
                    f.all_near &= local.all_near;
                    if any_unknown { Tri::Unknown } else { Tri::No }
                }
            }
            Rule::Not { rule } => match go(rule, p, !negated, f) {
                Tri::Yes => Tri::No,
                Tri::No => Tri::Yes,
                Tri::Unknown => Tri::Unknown,
            },
        }
    }
    let mut f = Fails { n: 0, all_near: true };
    match go(rule, p, false, &mut f) {
        Tri::Yes => Verdict::Eligible,
        Tri::Unknown => Verdict::Incomplete,
        Tri::No if f.n > 0 && f.n <= NEAR_MAX_FAILS && f.all_near => Verdict::Near,
        Tri::No => Verdict::Ineligible,
    }
}

/// Every condition of a rule, in order.
pub fn conditions(rule: &Rule) -> Vec<&Condition> {
    match rule {
        Rule::Cond { cond } => vec![cond],
        Rule::All { rules } | Rule::Any { rules } => rules.iter().flat_map(conditions).collect(),
        Rule::Not { rule } => conditions(rule),
    }
}

/// Qualifications the platform knows; the operator may add others.
pub const QUALIFICATIONS: &[&str] = &["高新技术企业", "专精特新中小企业", "专精特新“小巨人”", "科技型中小企业", "创新型中小企业"];

#[cfg(test)]
mod tests;
