//! The enterprise portrait (企业画像): five scores from 0 to 100 — innovation,
//! growth, compliance, digitalisation and financing need — computed from the
//! profile and a few signals the platform holds, each with the reasons that
//! produced it (every point is accounted for).

use super::{Profile, is_it_services};

/// One axis of the portrait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Innovation,
    Growth,
    Compliance,
    Digital,
    Financing,
}

impl Axis {
    pub const ALL: [Axis; 5] = [Axis::Innovation, Axis::Growth, Axis::Compliance, Axis::Digital, Axis::Financing];

    pub fn label(self) -> &'static str {
        match self {
            Axis::Innovation => "创新能力",
            Axis::Growth => "成长性",
            Axis::Compliance => "合规经营",
            Axis::Digital => "数字化水平",
            Axis::Financing => "融资需求",
        }
    }
}

/// What the platform knows beyond the profile.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// 登记状态 from the registry (存续, 在业, 吊销, 注销).
    pub registry_status: Option<String>,
    /// Demands the enterprise submitted for financing products.
    pub financing_demands: u32,
    /// Demands for digital-empowerment (数字化) products.
    pub digital_demands: u32,
    /// Operator tags.
    pub tags: Vec<String>,
}

/// A reason: what was seen and the points it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub points: u8,
    pub text: String,
}

/// One axis scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub axis: Axis,
    /// 0–100: the sum of the reasons' points, capped at 100.
    pub value: u8,
    pub reasons: Vec<Reason>,
    /// What is missing that would make the score more telling.
    pub missing: Vec<&'static str>,
}

struct Acc {
    axis: Axis,
    reasons: Vec<Reason>,
    missing: Vec<&'static str>,
}

impl Acc {
    fn new(axis: Axis) -> Self {
        Acc { axis, reasons: Vec::new(), missing: Vec::new() }
    }
    fn add(&mut self, points: u8, text: impl Into<String>) {
        self.reasons.push(Reason { points, text: text.into() });
    }
    fn done(self) -> Score {
        let sum: u32 = self.reasons.iter().map(|r| u32::from(r.points)).sum();
        Score { axis: self.axis, value: sum.min(100) as u8, reasons: self.reasons, missing: self.missing }
    }
}

fn has_qual(p: &Profile, needle: &str) -> bool {
    p.qualifications.as_ref().is_some_and(|q| q.iter().any(|x| x.contains(needle)))
}

fn innovation(p: &Profile) -> Score {
    let mut a = Acc::new(Axis::Innovation);
    match p.rd_ratio {
        Some(r) if r >= 5.0 => a.add(40, format!("研发费用占营业收入 {r:.1}%，不低于 5%")),
        Some(r) if r >= 3.0 => a.add(30, format!("研发费用占营业收入 {r:.1}%，不低于 3%")),
        Some(r) if r > 0.0 => a.add(15, format!("有研发投入（占营业收入 {r:.1}%）")),
        Some(_) => {}
        None => a.missing.push("研发费用占比"),
    }
    if has_qual(p, "高新技术企业") {
        a.add(25, "高新技术企业");
    }
    if has_qual(p, "小巨人") {
        a.add(25, "专精特新“小巨人”企业");
    } else if has_qual(p, "专精特新") {
        a.add(20, "专精特新中小企业");
    }
    if has_qual(p, "科技型中小企业") {
        a.add(15, "科技型中小企业");
    }
    if has_qual(p, "创新型中小企业") {
        a.add(10, "创新型中小企业");
    }
    if p.qualifications.is_none() {
        a.missing.push("资质");
    }
    let industry = p.industry.as_deref().unwrap_or("");
    if is_it_services(industry) || industry.starts_with("73") {
        a.add(15, "所属行业为软件和信息技术服务或研究和试验发展");
    }
    a.done()
}

fn growth(p: &Profile) -> Score {
    let mut a = Acc::new(Axis::Growth);
    match p.years_since_founding {
        Some(y) if y < 3.0 => a.add(30, "成立不满 3 年，处于初创期"),
        Some(y) if y < 10.0 => a.add(20, format!("成立 {y:.0} 年，处于成长期")),
        Some(y) => a.add(10, format!("成立 {y:.0} 年，经营稳定")),
        None => a.missing.push("成立日期"),
    }
    match p.revenue {
        Some(r) if r >= 2000.0 => a.add(30, format!("年营业收入 {r:.0} 万元，不低于 2000 万元")),
        Some(r) if r >= 500.0 => a.add(20, format!("年营业收入 {r:.0} 万元，不低于 500 万元")),
        Some(r) if r > 0.0 => a.add(10, format!("年营业收入 {r:.0} 万元")),
        Some(_) => {}
        None => a.missing.push("年营业收入"),
    }
    match p.employees {
        Some(n) if n >= 50.0 => a.add(20, format!("从业人员 {n:.0} 人，不少于 50 人")),
        Some(n) if n >= 10.0 => a.add(10, format!("从业人员 {n:.0} 人，不少于 10 人")),
        Some(_) => {}
        None => a.missing.push("从业人员"),
    }
    if p.above_designated_size == Some(true) {
        a.add(20, "规模以上企业");
    }
    a.done()
}

fn compliance(p: &Profile, s: &Signals) -> Score {
    let mut a = Acc::new(Axis::Compliance);
    match s.registry_status.as_deref().map(str::trim) {
        Some(st @ ("存续" | "在业" | "开业" | "存续（在营、开业、在册）")) => {
            a.add(40, format!("登记状态为“{st}”"))
        }
        Some(st) if !st.is_empty() => a.add(0, format!("登记状态为“{st}”，不计分")),
        _ => a.missing.push("登记状态"),
    }
    match p.credit_standing.as_deref().map(|c| c.trim().to_uppercase()) {
        Some(c) if c.starts_with('A') => a.add(30, format!("纳税信用等级 {c}")),
        Some(c) if c.starts_with('B') || c.starts_with('M') => a.add(20, format!("纳税信用等级 {c}")),
        Some(c) if !c.is_empty() => a.add(0, format!("纳税信用等级 {c}，不计分")),
        _ => a.missing.push("信用等级"),
    }
    if p.certified == Some(true) {
        a.add(30, "已在平台完成企业实名认证");
    }
    a.done()
}

fn digital(p: &Profile, s: &Signals) -> Score {
    let mut a = Acc::new(Axis::Digital);
    if is_it_services(p.industry.as_deref().unwrap_or("")) {
        a.add(40, "所属行业为软件和信息技术服务业（I63–I65）");
    }
    if s.digital_demands > 0 {
        let pts = (s.digital_demands.min(2) * 20) as u8;
        a.add(pts, format!("在平台申请数字化服务 {} 次", s.digital_demands));
    }
    if s.tags.iter().any(|t| t.contains("数字化") || t.contains("上云") || t.contains("两化融合")) {
        a.add(20, "运营标签含数字化转型");
    }
    if has_qual(p, "高新技术企业") || has_qual(p, "科技型中小企业") {
        a.add(20, "科技类资质");
    }
    a.done()
}

fn financing(p: &Profile, s: &Signals) -> Score {
    let mut a = Acc::new(Axis::Financing);
    if s.financing_demands > 0 {
        let pts = (s.financing_demands.min(2) * 30) as u8;
        a.add(pts, format!("在平台提交融资需求 {} 次", s.financing_demands));
    }
    let young = p.years_since_founding.is_some_and(|y| y < 5.0);
    if young && p.rd_ratio.is_some_and(|r| r >= 3.0) {
        a.add(20, "成立不满 5 年且研发投入不低于 3%，资金需求通常较大");
    } else if young {
        a.add(10, "成立不满 5 年");
    }
    match (p.total_assets, p.revenue) {
        (Some(t), Some(r)) if r > 0.0 && t / r >= 2.0 => a.add(20, format!("资产总额为营业收入的 {:.1} 倍，资产较重", t / r)),
        (Some(_), Some(_)) => {}
        _ => a.missing.push("资产总额与营业收入"),
    }
    a.done()
}

/// The five scores of an enterprise.
pub fn portrait(p: &Profile, s: &Signals) -> Vec<Score> {
    vec![innovation(p), growth(p), compliance(p, s), digital(p, s), financing(p, s)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            industry: Some("6513".into()),
            years_since_founding: Some(2.0),
            employees: Some(60.0),
            revenue: Some(2500.0),
            total_assets: Some(6000.0),
            rd_ratio: Some(6.2),
            qualifications: Some(vec!["高新技术企业".into(), "专精特新中小企业".into()]),
            credit_standing: Some("A".into()),
            certified: Some(true),
            above_designated_size: Some(true),
            ..Profile::default()
        }
    }

    #[test]
    fn every_point_is_explained_and_scores_are_capped() {
        let s = Signals { registry_status: Some("存续".into()), financing_demands: 3, digital_demands: 1, tags: vec![] };
        let scores = portrait(&profile(), &s);
        let by = |a: Axis| scores.iter().find(|x| x.axis == a).unwrap();
        // 40 (rd ≥5%) + 25 (高新) + 20 (专精特新) + 15 (IT) = 100.
        assert_eq!(by(Axis::Innovation).value, 100);
        // 30 + 30 + 20 + 20 = 100.
        assert_eq!(by(Axis::Growth).value, 100);
        assert_eq!(by(Axis::Compliance).value, 100);
        // 40 (IT) + 20 (one digital demand) + 20 (高新) = 80.
        assert_eq!(by(Axis::Digital).value, 80);
        // 60 (demands, capped at two) + 20 (young, rd) + 20 (assets 2.4× revenue) = 100.
        assert_eq!(by(Axis::Financing).value, 100);
        for sc in &scores {
            let sum: u32 = sc.reasons.iter().map(|r| u32::from(r.points)).sum();
            assert_eq!(u32::from(sc.value), sum.min(100), "{:?}", sc.axis);
        }
    }

    #[test]
    fn an_empty_profile_scores_low_and_says_what_is_missing() {
        let scores = portrait(&Profile::default(), &Signals::default());
        assert!(scores.iter().all(|s| s.value == 0), "{scores:?}");
        let innov = &scores[0];
        assert!(innov.missing.contains(&"研发费用占比") && innov.missing.contains(&"资质"));
        assert!(scores[2].missing.contains(&"登记状态"));
    }

    #[test]
    fn a_revoked_registration_gives_no_compliance_points() {
        let s = Signals { registry_status: Some("吊销".into()), ..Signals::default() };
        let p = Profile { credit_standing: Some("D".into()), ..Profile::default() };
        let c = &portrait(&p, &s)[2];
        assert_eq!(c.value, 0);
        assert!(c.reasons.iter().any(|r| r.text.contains("吊销")));
    }
}
