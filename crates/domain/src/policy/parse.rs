//! Proposing conditions from a policy's text (政策解析): common phrasings of
//! eligibility — 注册地在通州区, 年营业收入2000万元以上, 从业人员300人以下,
//! 成立满1年, 研发费用占比不低于5%, 高新技术企业 … — become suggested
//! conditions, each with the words it came from, for the operator to confirm
//! or edit. Nothing is applied without the operator.

use crate::eligibility::{Attribute, Condition, Op};
use regex::Regex;
use std::sync::LazyLock;

/// One proposed condition and the text that suggested it.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub condition: Condition,
    pub evidence: String,
}

/// Full-width digits, percent signs and spaces as ASCII; Chinese numerals up to 99.
fn normalise(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '％' => '%',
            '．' => '.',
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    static CN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"([一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])(年|人|个月)")
            .unwrap_or_else(|_| unreachable_regex())
    });
    s = CN
        .replace_all(&s, |c: &regex::Captures| {
            let digit =
                |ch: char| "零一二三四五六七八九".chars().position(|d| d == ch).or(if ch == '两' { Some(2) } else { None });
            let w = &c[1];
            let n = if let Some(i) = w.find('十') {
                let tens = w[..i].chars().next().and_then(digit).unwrap_or(1);
                let ones = w[i + '十'.len_utf8()..].chars().next().and_then(digit).unwrap_or(0);
                tens * 10 + ones
            } else {
                w.chars().next().and_then(digit).unwrap_or(0)
            };
            format!("{n}{}", &c[2])
        })
        .into_owned();
    s
}

/// A regex that never matches (the patterns below are constants and compile).
fn unreachable_regex() -> Regex {
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| std::process::abort())
}

fn re(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|_| unreachable_regex())
}

const MORE: &str = "超过|高于|大于|不低于|不少于|不小于|达到|达|在";
const LESS: &str = "不超过|不高于|不大于|低于|少于|小于";

/// The operator from the words around a number.
fn op_of(before: &str, after: &str) -> Op {
    match (before, after) {
        (_, "以上" | "及以上" | "(含)以上" | "（含）以上") => Op::Ge,
        (_, "以下" | "及以下" | "以内" | "（含）以下" | "(含)以下") => Op::Le,
        ("超过" | "高于" | "大于", _) => Op::Gt,
        ("低于" | "少于" | "小于", _) => Op::Lt,
        ("不超过" | "不高于" | "不大于", _) => Op::Le,
        _ => Op::Ge,
    }
}

fn number(attr: Attribute, op: Op, n: f64, evidence: &str) -> Suggestion {
    Suggestion { condition: Condition { attr, op, texts: vec![], numbers: vec![n] }, evidence: evidence.trim().to_owned() }
}

fn texts(attr: Attribute, op: Op, t: &[&str], evidence: &str) -> Suggestion {
    Suggestion {
        condition: Condition { attr, op, texts: t.iter().map(|s| s.to_string()).collect(), numbers: vec![] },
        evidence: evidence.trim().to_owned(),
    }
}

/// Conditions suggested by a policy's text, in the order found, at most one per attribute and operator.
pub fn suggest(text: &str) -> Vec<Suggestion> {
    let s = normalise(text);
    let mut out: Vec<(usize, Suggestion)> = Vec::new();
    let amount = format!(
        r"(?:年度?|上一?年度?)?(?:主营业务收入|营业收入|销售收入|营收)(?:总额)?(?:须|应|需)?({MORE}|{LESS})?\s*(\d+(?:\.\d+)?)\s*(亿元|万元)\s*(\(含\)以上|（含）以上|及以上|以上|\(含\)以下|（含）以下|及以下|以下|以内)?"
    );
    let money = |pattern: &str, attr: Attribute, out: &mut Vec<(usize, Suggestion)>| {
        for c in re(pattern).captures_iter(&s) {
            let Some(m) = c.get(0) else { continue };
            let before = c.get(1).map_or("", |x| x.as_str());
            let mut n: f64 = c[2].parse().unwrap_or(0.0);
            if &c[3] == "亿元" {
                n *= 10_000.0;
            }
            let after = c.get(4).map_or("", |x| x.as_str());
            out.push((m.start(), number(attr.clone(), op_of(before, after), n, m.as_str())));
        }
    };
    money(&amount, Attribute::Revenue, &mut out);
    money(
        &format!(
            r"资产总额(?:须|应|需)?({MORE}|{LESS})?\s*(\d+(?:\.\d+)?)\s*(亿元|万元)\s*(\(含\)以上|（含）以上|及以上|以上|\(含\)以下|（含）以下|及以下|以下|以内)?"
        ),
        Attribute::TotalAssets,
        &mut out,
    );
    // Revenue between two bounds.
    for c in re(r"(?:营业收入|销售收入|营收)(?:在)?\s*(\d+(?:\.\d+)?)\s*万元?\s*(?:至|到|-|～|~)\s*(\d+(?:\.\d+)?)\s*万元")
        .captures_iter(&s)
    {
        let Some(m) = c.get(0) else { continue };
        let (a, b): (f64, f64) = (c[1].parse().unwrap_or(0.0), c[2].parse().unwrap_or(0.0));
        out.retain(|(_, x)| x.condition.attr != Attribute::Revenue);
        out.push((
            m.start(),
            Suggestion {
                condition: Condition {
                    attr: Attribute::Revenue,
                    op: Op::Between,
                    texts: vec![],
                    numbers: vec![a.min(b), a.max(b)],
                },
                evidence: m.as_str().to_owned(),
            },
        ));
    }
    for c in re(&format!(r"(?:从业人员|职工人数|员工人数|从业人数|在职员工|员工)(?:总数)?(?:须|应|需)?({MORE}|{LESS})?\s*(\d+)\s*(?:人|名)\s*(\(含\)以上|（含）以上|及以上|以上|\(含\)以下|（含）以下|及以下|以下|以内)?")).captures_iter(&s) {
        let Some(m) = c.get(0) else { continue };
        let n: f64 = c[2].parse().unwrap_or(0.0);
        out.push((m.start(), number(Attribute::Employees, op_of(c.get(1).map_or("", |x| x.as_str()), c.get(3).map_or("", |x| x.as_str())), n, m.as_str())));
    }
    for c in
        re(r"(?:注册)?成立(?:时间)?(?:满|已满|超过|不少于|不低于|达到)?\s*(\d+)\s*(?:个?周?年)(?:以上|及以上)?").captures_iter(&s)
    {
        let Some(m) = c.get(0) else { continue };
        out.push((m.start(), number(Attribute::YearsSinceFounding, Op::Ge, c[1].parse().unwrap_or(0.0), m.as_str())));
    }
    for c in re(r"研发(?:费用|投入|经费)(?:总额)?占(?:同期)?(?:主营业务收入|营业收入|销售收入|收入)?(?:总额)?(?:的)?(?:比例|比重|比)?(?:须|应)?(?:不低于|不少于|达到|超过|高于|在)?\s*(\d+(?:\.\d+)?)\s*%\s*(?:以上|及以上)?").captures_iter(&s) {
        let Some(m) = c.get(0) else { continue };
        out.push((m.start(), number(Attribute::RdRatio, Op::Ge, c[1].parse().unwrap_or(0.0), m.as_str())));
    }
    for c in re(r"(?:注册地|注册|登记注册|工商注册|税务登记)(?:地址)?(?:在|于|位于|为)?(?:北京市)?通州区|(?:在|于)(?:北京市)?通州区(?:内)?(?:注册|登记注册|依法注册)").find_iter(&s) {
        out.push((c.start(), texts(Attribute::Division, Op::PrefixIn, &["110112"], c.as_str())));
    }
    for (pat, q) in [
        (r"专精特新[“\x22]?小巨人[”\x22]?", "专精特新“小巨人”"),
        (r"专精特新中小企业", "专精特新中小企业"),
        (r"(?:有效期内的|认定为|获得|取得|属于|为)(?:国家级?)?高新技术企业", "高新技术企业"),
        (r"科技型中小企业", "科技型中小企业"),
        (r"创新型中小企业", "创新型中小企业"),
    ] {
        if let Some(m) = re(pat).find(&s) {
            out.push((m.start(), texts(Attribute::Qualification, Op::Has, &[q], m.as_str())));
        }
    }
    if let Some(m) = re(r"规模以上(?:工业|服务业|批发零售业)?企业|规上(?:工业)?企业").find(&s) {
        out.push((m.start(), texts(Attribute::AboveDesignatedSize, Op::Has, &[], m.as_str())));
    }
    if let Some(m) = re(r"中小微企业").find(&s) {
        out.push((m.start(), texts(Attribute::SizeClass, Op::In, &["medium", "small", "micro"], m.as_str())));
    } else if let Some(m) = re(r"小微企业").find(&s) {
        out.push((m.start(), texts(Attribute::SizeClass, Op::In, &["small", "micro"], m.as_str())));
    }
    if let Some(m) = re(r"未被列入(?:严重)?失信|无不良信用记录|信用(?:状况)?良好").find(&s) {
        out.push((m.start(), texts(Attribute::CreditStanding, Op::NotIn, &["D"], m.as_str())));
    }
    out.sort_by_key(|(at, _)| *at);
    let mut seen: Vec<(Attribute, Op, Vec<String>)> = Vec::new();
    let mut result = Vec::new();
    for (_, sug) in out {
        let key = (sug.condition.attr.clone(), sug.condition.op, sug.condition.texts.clone());
        if !seen.contains(&key) {
            seen.push(key);
            result.push(sug);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (paragraph, expected suggestions as described conditions)
    const CASES: &[(&str, &[&str])] = &[
        (
            "支持对象为注册地在通州区、上年度营业收入2000万元以上的规模以上工业企业。",
            &["注册地 代码以下列开头 通州区", "年营业收入 不低于 2000万元", "规模以上企业 具有"],
        ),
        (
            "申请企业应在通州区依法注册，成立满1年，从业人员300人以下，且未被列入严重失信主体名单。",
            &["注册地 代码以下列开头 通州区", "成立年限 不低于 1年", "从业人员 不超过 300人", "信用等级 不属于 D"],
        ),
        ("对年营业收入不超过5000万元的小微企业给予房租补贴。", &["年营业收入 不超过 5000万元", "企业规模 属于 小型、微型"]),
        (
            "企业研发费用占营业收入的比例不低于5%，且为有效期内的高新技术企业。",
            &["研发费用占比 不低于 5%", "资质 具有 高新技术企业"],
        ),
        ("对首次被认定为国家级专精特新“小巨人”企业的，给予一次性奖励100万元。", &["资质 具有 专精特新“小巨人”"]),
        ("申报单位须为已入库的科技型中小企业，注册成立三年以上。", &["资质 具有 科技型中小企业", "成立年限 不低于 3年"]),
        (
            "营业收入在500万元至2000万元之间的中小微企业，可申请贷款贴息。",
            &["年营业收入 介于 500–2000万元", "企业规模 属于 中型、小型、微型"],
        ),
        ("年主营业务收入达到1亿元以上，资产总额不低于5000万元。", &["年营业收入 不低于 10000万元", "资产总额 不低于 5000万元"]),
        ("职工人数不少于２０人，研发投入占比达到３％以上。", &["从业人员 不低于 20人", "研发费用占比 不低于 3%"]),
        (
            "对获得北京市专精特新中小企业认定的企业，信用状况良好的，给予20万元奖励。",
            &["资质 具有 专精特新中小企业", "信用等级 不属于 D"],
        ),
        ("本通知自发布之日起施行，有效期三年。", &[]),
        ("员工人数超过50人的企业，每新增1名就业人员补贴2000元。", &["从业人员 大于 50人"]),
    ];

    #[test]
    fn realistic_paragraphs_give_the_expected_suggestions() {
        for (text, want) in CASES {
            let got: Vec<String> = suggest(text).iter().map(|s| s.condition.describe()).collect();
            assert_eq!(&got, want, "{text}");
            for s in suggest(text) {
                assert!(!s.evidence.is_empty() && normalise(text).contains(&s.evidence), "evidence comes from the text");
            }
        }
    }
}
