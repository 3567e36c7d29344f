//! Data governance (数据治理) of the enterprise base: the fields of an
//! enterprise record and where each value came from; cleaning (normalising and
//! validating what an import or a form brings); duplicates; and data quality in
//! the tender's five dimensions (完整性, 一致性, 准确性, 及时性, 唯一性).

use crate::certification::CreditCode;
use crate::stored::stored_enum;
use chrono::NaiveDate;

stored_enum! {
    /// A field of the enterprise record (一企一档) that is governed: it has a
    /// source per value and quality rules.
    pub enum EnterpriseField in ["enterprise_field_sources.field", "quality_rules.field", "import_mappings.field", "merge_reviews.field"] {
        Name = "name" => "企业名称",
        CreditCode = "credit_code" => "统一社会信用代码",
        LegalRep = "legal_rep_name" => "法定代表人",
        EntityType = "entity_type" => "企业类型",
        FoundedOn = "founded_on" => "成立日期",
        RegisteredCapital = "registered_capital" => "注册资本（万元）",
        Address = "address" => "住所",
        Division = "division_code" => "所属街道乡镇",
        Industry = "industry_code" => "国民经济行业",
        RegistryStatus = "registry_status" => "登记状态",
        Employees = "employees" => "从业人员（人）",
        Revenue = "revenue" => "营业收入（万元）",
        TotalAssets = "total_assets" => "资产总额（万元）",
        AboveDesignatedSize = "above_designated_size" => "规模以上",
        Phone = "contact_phone" => "联系电话",
    }
}

stored_enum! {
    /// Where a value of the record came from.
    pub enum FieldSource in ["enterprise_field_sources.source", "import_batches.kind"] {
        Registry = "registry" => "登记信息",
        Review = "review" => "认证审核",
        Enterprise = "enterprise" => "企业填报",
        Operator = "operator" => "运营人员",
        Import = "import" => "数据导入",
    }
}

stored_enum! {
    /// A rule's quality dimension.
    pub enum Dimension in ["quality_rules.dimension"] {
        Completeness = "completeness" => "完整性",
        Consistency = "consistency" => "一致性",
        Accuracy = "accuracy" => "准确性",
        Timeliness = "timeliness" => "及时性",
        Uniqueness = "uniqueness" => "唯一性",
    }
}

stored_enum! {
    /// What a quality rule checks.
    pub enum RuleKind in ["quality_rules.kind"] {
        /// The field has a value.
        Required = "required" => "必填",
        /// The value passes the field's format check (credit-code check digit, a real date …).
        Valid = "valid" => "格式正确",
        /// A number within [min, max].
        Range = "range" => "数值范围",
        /// The value is in the reference table (GB/T 4754 industry, Tongzhou division).
        Reference = "reference" => "符合代码表",
        /// Cross-field: the size class agrees with the figures; founding before today.
        CrossField = "cross_field" => "字段间一致",
        /// Updated within `max` days.
        Fresh = "fresh" => "更新及时",
        /// No other record has the same value.
        Unique = "unique" => "不重复",
    }
}

stored_enum! {
    /// The state of an import batch.
    pub enum BatchState in ["import_batches.status"] {
        /// Read and checked; nothing written to the records yet.
        Staged = "staged" => "待确认",
        /// Being written to the records by the job; the counts grow chunk by chunk.
        Committing = "committing" => "写入中",
        Committed = "committed" => "已导入",
        Discarded = "discarded" => "已放弃",
    }
}

stored_enum! {
    /// A conflict between sources waiting for a data clerk.
    pub enum ReviewState in ["merge_reviews.status"] {
        Open = "open" => "待处理",
        Accepted = "accepted" => "已采纳新值",
        Kept = "kept" => "保留原值",
    }
}

stored_enum! {
    /// Which value wins when two sources disagree on a field (survivorship).
    pub enum Survivorship in ["field_policies.rule"] {
        /// The newest value wins.
        MostRecent = "most_recent" => "最新值优先",
        /// The value from the most trusted source wins (registry > review > import > enterprise).
        MostTrusted = "most_trusted" => "可信来源优先",
        /// A data clerk decides (the review queue).
        Manual = "manual" => "人工确认",
    }
}

impl FieldSource {
    /// Trust rank: higher wins under [`Survivorship::MostTrusted`].
    pub fn trust(self) -> u8 {
        match self {
            FieldSource::Registry => 5,
            FieldSource::Review => 4,
            FieldSource::Operator => 4,
            FieldSource::Import => 3,
            FieldSource::Enterprise => 2,
        }
    }
}

// ---------------------------------------------------------------- cleaning

/// Full-width to half-width, ideographic spaces removed, runs of spaces to one, trimmed.
pub fn clean_text(s: &str) -> String {
    let half = crate::text::to_half_width(s);
    half.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A company name for storing: cleaned, with half-width brackets kept as the
/// registry writes them (全角括号).
pub fn clean_name(s: &str) -> String {
    clean_text(s).replace('(', "（").replace(')', "）").replace(' ', "")
}

/// A name reduced for comparing spellings: no brackets, spaces or the legal
/// form (有限公司 / 有限责任公司 / 股份有限公司 …).
pub fn name_key(s: &str) -> String {
    let mut n = clean_name(s);
    for suffix in ["股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司"] {
        if let Some(stripped) = n.strip_suffix(suffix) {
            n = stripped.to_owned();
            break;
        }
    }
    n.chars().filter(|c| !matches!(c, '（' | '）' | '(' | ')' | '·' | '.' | '-')).collect()
}

/// A date as people and spreadsheets write it: `2020-01-02`, `2020/1/2`,
/// `2020.1.2`, `2020年1月2日`, `20200102`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = clean_text(s).replace(['年', '月', '/', '.'], "-").replace('日', "");
    let t = t.trim().trim_end_matches('-');
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(t, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = t.split('-').collect();
    if parts.len() != 3 {
        return None;
    }
    let (y, m, d) = (parts[0].parse().ok()?, parts[1].parse().ok()?, parts[2].parse().ok()?);
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A number as written, in the field's unit: `1,200`, `１２００`, `1200万元`, `1200.5`.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = clean_text(s).replace([',', '，'], "");
    let t = t.trim_end_matches("万元").trim_end_matches('元').trim_end_matches('人').trim();
    t.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0)
}

/// A GB/T 4754-2017 class code (2–4 digits, or with its section letter: `I6513`);
/// `None` when it is not in the classification.
pub fn clean_industry(s: &str) -> Option<String> {
    let t = clean_text(s).to_uppercase();
    let code = t.trim_start_matches(|c: char| c.is_ascii_uppercase()).to_owned();
    let found = crate::reference::industry::find(&code)?;
    // A letter given must be the code's own section.
    match t.chars().next().filter(|c| c.is_ascii_uppercase()) {
        Some(letter) if found.section != letter.to_string() => None,
        _ => Some(found.code.to_owned()),
    }
}

/// A Tongzhou street or town: its 9-digit code, or its name (`永顺镇`).
pub fn clean_division(s: &str) -> Option<String> {
    let t = clean_text(s);
    if let Some(d) = crate::reference::division::street(&t) {
        return Some(d.code.to_owned());
    }
    crate::reference::division::tongzhou_streets().iter().find(|d| d.name == t || t.ends_with(d.name)).map(|d| d.code.to_owned())
}

/// Money in 万元 as typed, to fen.
pub fn wan_to_fen(wan: f64) -> i64 {
    (wan * crate::money::FEN_PER_WAN as f64).round() as i64
}

/// One row of enterprise base data after cleaning, every field optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanRow {
    pub name: Option<String>,
    pub credit_code: Option<String>,
    pub legal_rep_name: Option<String>,
    pub entity_type: Option<String>,
    pub founded_on: Option<NaiveDate>,
    pub registered_capital_fen: Option<i64>,
    pub address: Option<String>,
    pub division_code: Option<String>,
    pub industry_code: Option<String>,
    pub registry_status: Option<String>,
    pub employees: Option<i32>,
    pub revenue_fen: Option<i64>,
    pub total_assets_fen: Option<i64>,
    pub above_designated_size: Option<bool>,
}

/// A refused value of a row, for the error file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub field: EnterpriseField,
    pub value: String,
    pub message: String,
}

/// What cleaning did to a row: the clean values, the errors, and how many
/// values it had to normalise (full-width, spaces, formats).
#[derive(Debug, Clone, Default)]
pub struct Cleaned {
    pub row: CleanRow,
    pub errors: Vec<RowError>,
    pub normalised: usize,
}

impl Cleaned {
    /// Whether the row can be committed: a valid credit code and a name, and no error.
    pub fn accepted(&self) -> bool {
        self.errors.is_empty() && self.row.credit_code.is_some() && self.row.name.is_some()
    }
}

/// Cleans one row given as (field, raw text) pairs; `today` bounds dates.
pub fn clean_row(raw: &[(EnterpriseField, String)], today: NaiveDate) -> Cleaned {
    let mut out = Cleaned::default();
    for (field, value) in raw {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let cleaned_text = clean_text(v);
        if cleaned_text != v {
            out.normalised += 1;
        }
        let mut err = |m: &str| out.errors.push(RowError { field: *field, value: v.to_owned(), message: m.to_owned() });
        match field {
            EnterpriseField::Name => match crate::accounts::check_org_name(&clean_name(v)) {
                Ok(()) => out.row.name = Some(clean_name(v)),
                Err(m) => err(m),
            },
            EnterpriseField::CreditCode => match CreditCode::parse(v) {
                Ok(c) => out.row.credit_code = Some(c.as_str().to_owned()),
                Err(e) => err(&e.to_string()),
            },
            EnterpriseField::LegalRep => match crate::accounts::check_person_name(&cleaned_text) {
                Ok(()) => out.row.legal_rep_name = Some(cleaned_text),
                Err(_) => err("法定代表人姓名应为2到32个字，不含数字和符号"),
            },
            EnterpriseField::EntityType => out.row.entity_type = Some(cleaned_text.chars().take(50).collect()),
            EnterpriseField::FoundedOn => match parse_date(v) {
                Some(d) if d <= today && d.year_ce().1 >= 1949 => out.row.founded_on = Some(d),
                Some(_) => err("成立日期不可能：晚于今天或早于1949年"),
                None => err("成立日期不是有效的日期（如 2020-01-02）"),
            },
            EnterpriseField::RegisteredCapital => match parse_number(v) {
                Some(n) => out.row.registered_capital_fen = Some(wan_to_fen(n)),
                None => err("注册资本应为不小于0的数字（万元）"),
            },
            EnterpriseField::Address => out.row.address = Some(cleaned_text.chars().take(200).collect()),
            EnterpriseField::Division => match clean_division(v) {
                Some(c) => out.row.division_code = Some(c),
                None => err("不是通州区的街道或乡镇"),
            },
            EnterpriseField::Industry => match clean_industry(v) {
                Some(c) => out.row.industry_code = Some(c),
                None => err("不是 GB/T 4754-2017 的行业代码"),
            },
            EnterpriseField::RegistryStatus => out.row.registry_status = Some(cleaned_text.chars().take(20).collect()),
            EnterpriseField::Employees => match parse_number(v).filter(|n| *n <= 10_000_000.0) {
                Some(n) => out.row.employees = i32::try_from(n.round() as i64).ok(),
                None => err("从业人员应为不小于0的整数"),
            },
            EnterpriseField::Revenue => match parse_number(v) {
                Some(n) => out.row.revenue_fen = Some(wan_to_fen(n)),
                None => err("营业收入应为不小于0的数字（万元）"),
            },
            EnterpriseField::TotalAssets => match parse_number(v) {
                Some(n) => out.row.total_assets_fen = Some(wan_to_fen(n)),
                None => err("资产总额应为不小于0的数字（万元）"),
            },
            EnterpriseField::AboveDesignatedSize => match cleaned_text.as_str() {
                "是" | "Y" | "y" | "1" | "true" | "规上" | "规模以上" => out.row.above_designated_size = Some(true),
                "否" | "N" | "n" | "0" | "false" | "规下" | "规模以下" => out.row.above_designated_size = Some(false),
                _ => err("规模以上应填 是 或 否"),
            },
            EnterpriseField::Phone => {}
        }
    }
    if out.row.credit_code.is_none() && !out.errors.iter().any(|e| e.field == EnterpriseField::CreditCode) {
        out.errors.push(RowError {
            field: EnterpriseField::CreditCode,
            value: String::new(),
            message: "缺少统一社会信用代码".into(),
        });
    }
    if out.row.name.is_none() && !out.errors.iter().any(|e| e.field == EnterpriseField::Name) {
        out.errors.push(RowError { field: EnterpriseField::Name, value: String::new(), message: "缺少企业名称".into() });
    }
    out
}

use chrono::Datelike;

/// Whether two records are probably the same enterprise written differently:
/// the same name once spelling variants are removed, and the same legal
/// representative or address.
pub fn probably_same(
    a_name: &str,
    a_rep: Option<&str>,
    a_addr: Option<&str>,
    b_name: &str,
    b_rep: Option<&str>,
    b_addr: Option<&str>,
) -> bool {
    if name_key(a_name) != name_key(b_name) {
        return false;
    }
    let same = |x: Option<&str>, y: Option<&str>| matches!((x, y), (Some(x), Some(y)) if clean_text(x) == clean_text(y) && !x.trim().is_empty());
    same(a_rep, b_rep) || same(a_addr, b_addr)
}

// ---------------------------------------------------------------- quality

/// Outcome of one rule on one record: passed, failed, or not applicable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Pass,
    Fail,
    NotApplicable,
}

/// A weighted score in 0–100 from (weight, check) pairs; `None` when no rule applied.
pub fn weighted_score(checks: &[(u32, Check)]) -> Option<f64> {
    let applicable: Vec<&(u32, Check)> = checks.iter().filter(|(_, c)| *c != Check::NotApplicable).collect();
    let total: u32 = applicable.iter().map(|(w, _)| *w).sum();
    if total == 0 {
        return None;
    }
    let passed: u32 = applicable.iter().filter(|(_, c)| *c == Check::Pass).map(|(w, _)| *w).sum();
    Some(f64::from(passed) * 100.0 / f64::from(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn dates_as_people_write_them() {
        let d = NaiveDate::from_ymd_opt(2020, 1, 2);
        for s in ["2020-01-02", "2020/1/2", "2020.1.2", "2020年1月2日", "20200102", "２０２０-０１-０２"] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        assert_eq!(parse_date("2020-02-30"), None);
        assert_eq!(parse_date("明天"), None);
    }

    #[test]
    fn names_and_their_spelling_variants() {
        assert_eq!(clean_name("北京运河智造科技有限公司 "), "北京运河智造科技有限公司");
        assert_eq!(clean_name("北京运河(通州)科技有限公司"), "北京运河（通州）科技有限公司");
        assert_eq!(name_key("北京运河智造科技有限公司"), name_key("北京运河智造科技有限责任公司"));
        assert_eq!(name_key("北京运河（通州）科技有限公司"), name_key("北京运河(通州)科技有限公司"));
        assert!(probably_same("北京甲乙科技有限公司", Some("张三"), None, "北京甲乙科技有限责任公司", Some("张三"), None));
        assert!(!probably_same("北京甲乙科技有限公司", Some("张三"), None, "北京甲乙科技有限责任公司", Some("李四"), None));
    }

    #[test]
    fn industry_and_division_codes() {
        assert_eq!(clean_industry("6513").as_deref(), Some("6513"));
        assert_eq!(clean_industry("I6513").as_deref(), Some("6513"));
        assert_eq!(clean_industry("C6513"), None, "the letter must be the code's section");
        assert_eq!(clean_industry("9999"), None);
        assert_eq!(clean_division("110112001").as_deref(), Some("110112001"));
        let first = &crate::reference::division::tongzhou_streets()[0];
        assert_eq!(clean_division(first.name).as_deref(), Some(first.code));
        assert_eq!(clean_division("海淀区中关村街道"), None);
    }

    #[test]
    fn a_row_with_planted_defects_reports_each_on_its_field() {
        use EnterpriseField as F;
        let raw = vec![
            (F::Name, "北京测试科技有限公司".to_owned()),
            (F::CreditCode, "91110112MA01ABCD1X".to_owned()),
            (F::FoundedOn, "2030-01-01".to_owned()),
            (F::Industry, "9999".to_owned()),
            (F::Employees, "１２０".to_owned()),
        ];
        let c = clean_row(&raw, today());
        let fields: Vec<F> = c.errors.iter().map(|e| e.field).collect();
        assert!(fields.contains(&F::CreditCode), "bad check digit: {:?}", c.errors);
        assert!(fields.contains(&F::FoundedOn));
        assert!(fields.contains(&F::Industry));
        assert_eq!(c.row.employees, Some(120), "full-width digits normalised");
        assert!(c.normalised >= 1);
        assert!(!c.accepted());
        let missing = clean_row(&[(F::Employees, "5".to_owned())], today());
        assert!(missing.errors.iter().any(|e| e.message.contains("缺少统一社会信用代码")));
        assert!(missing.errors.iter().any(|e| e.message.contains("缺少企业名称")));
    }

    #[test]
    fn weighted_scores() {
        assert_eq!(weighted_score(&[(2, Check::Pass), (1, Check::Fail), (5, Check::NotApplicable)]), Some(200.0 / 3.0));
        assert_eq!(weighted_score(&[(1, Check::NotApplicable)]), None);
    }
}
