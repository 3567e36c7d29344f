//! Accounts: organisation kinds, institution kinds, built-in roles and their
//! permissions, phone numbers, password rules.

mod permission;
mod phone;

pub use permission::{Duty, Permission, Scope, check_separation};
pub use phone::{Phone, PhoneError};

use serde::{Deserialize, Serialize};

/// The kinds of organisation that share the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 企业
    Enterprise,
    /// 服务机构
    Institution,
    /// 政府 / 主管部门
    Government,
    /// 运营方
    Operator,
}

impl OrgKind {
    pub const ALL: [OrgKind; 4] = [OrgKind::Enterprise, OrgKind::Institution, OrgKind::Government, OrgKind::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Enterprise => "enterprise",
            OrgKind::Institution => "institution",
            OrgKind::Government => "government",
            OrgKind::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgKind::Enterprise => "企业",
            OrgKind::Institution => "服务机构",
            OrgKind::Government => "政府",
            OrgKind::Operator => "运营方",
        }
    }

    /// Staff organisations work in the back office and need a second factor.
    pub fn is_staff(self) -> bool {
        matches!(self, OrgKind::Government | OrgKind::Operator)
    }
}

/// Kinds of service institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    Bank,
    Guarantor,
    Insurer,
    LawFirm,
    TaxAccounting,
    HumanResources,
    IntellectualProperty,
    Certification,
    DigitalService,
    TechnologyService,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 10] = [
        InstitutionKind::Bank,
        InstitutionKind::Guarantor,
        InstitutionKind::Insurer,
        InstitutionKind::LawFirm,
        InstitutionKind::TaxAccounting,
        InstitutionKind::HumanResources,
        InstitutionKind::IntellectualProperty,
        InstitutionKind::Certification,
        InstitutionKind::DigitalService,
        InstitutionKind::TechnologyService,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstitutionKind::Bank => "bank",
            InstitutionKind::Guarantor => "guarantor",
            InstitutionKind::Insurer => "insurer",
            InstitutionKind::LawFirm => "law_firm",
            InstitutionKind::TaxAccounting => "tax_accounting",
            InstitutionKind::HumanResources => "human_resources",
            InstitutionKind::IntellectualProperty => "intellectual_property",
            InstitutionKind::Certification => "certification",
            InstitutionKind::DigitalService => "digital_service",
            InstitutionKind::TechnologyService => "technology_service",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            InstitutionKind::Bank => "银行",
            InstitutionKind::Guarantor => "担保机构",
            InstitutionKind::Insurer => "保险机构",
            InstitutionKind::LawFirm => "律师事务所",
            InstitutionKind::TaxAccounting => "财税服务机构",
            InstitutionKind::HumanResources => "人力资源服务机构",
            InstitutionKind::IntellectualProperty => "知识产权代理机构",
            InstitutionKind::Certification => "认证机构",
            InstitutionKind::DigitalService => "数字化服务商",
            InstitutionKind::TechnologyService => "科技服务机构",
        }
    }

    /// 金融机构: institutions that offer financing products.
    pub fn is_financial(self) -> bool {
        matches!(self, InstitutionKind::Bank | InstitutionKind::Guarantor | InstitutionKind::Insurer)
    }
}

/// Built-in roles. Issue-level permissions refine these later; the codes are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    EnterpriseAdmin,
    InstitutionAdmin,
    OperatorAdmin,
    GovernmentViewer,
    SystemAdmin,
    SecurityAdmin,
    Auditor,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 7] = [
        BuiltinRole::EnterpriseAdmin,
        BuiltinRole::InstitutionAdmin,
        BuiltinRole::OperatorAdmin,
        BuiltinRole::GovernmentViewer,
        BuiltinRole::SystemAdmin,
        BuiltinRole::SecurityAdmin,
        BuiltinRole::Auditor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BuiltinRole::EnterpriseAdmin => "enterprise_admin",
            BuiltinRole::InstitutionAdmin => "institution_admin",
            BuiltinRole::OperatorAdmin => "operator_admin",
            BuiltinRole::GovernmentViewer => "government_viewer",
            BuiltinRole::SystemAdmin => "system_admin",
            BuiltinRole::SecurityAdmin => "security_admin",
            BuiltinRole::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            BuiltinRole::EnterpriseAdmin => "企业管理员",
            BuiltinRole::InstitutionAdmin => "机构管理员",
            BuiltinRole::OperatorAdmin => "运营管理员",
            BuiltinRole::GovernmentViewer => "政府监管人员",
            BuiltinRole::SystemAdmin => "系统管理员",
            BuiltinRole::SecurityAdmin => "安全管理员",
            BuiltinRole::Auditor => "审计员",
        }
    }

    /// The organisation kind a role belongs to.
    pub fn org_kind(self) -> OrgKind {
        match self {
            BuiltinRole::EnterpriseAdmin => OrgKind::Enterprise,
            BuiltinRole::InstitutionAdmin => OrgKind::Institution,
            BuiltinRole::GovernmentViewer => OrgKind::Government,
            BuiltinRole::OperatorAdmin | BuiltinRole::SystemAdmin | BuiltinRole::SecurityAdmin | BuiltinRole::Auditor => {
                OrgKind::Operator
            }
        }
    }
}

impl BuiltinRole {
    /// What the role grants, with the data scope of each grant.
    pub fn grants(self) -> &'static [(Permission, Scope)] {
        use Permission::*;
        use Scope::*;
        match self {
            BuiltinRole::EnterpriseAdmin => &[(UserManage, Org)],
            BuiltinRole::InstitutionAdmin => &[(BackOffice, All), (UserManage, Org), (ProductManage, Org)],
            BuiltinRole::OperatorAdmin => &[
                (BackOffice, All),
                (EnterpriseView, All),
                (UserManage, All),
                (OrgManage, All),
                (SmsOutboxView, All),
                (JobView, All),
                (CertificationReview, All),
                (CatalogManage, All),
                (DemandOversee, All),
                (PolicyManage, All),
                (MessageManage, All),
            ],
            BuiltinRole::GovernmentViewer => &[(BackOffice, All), (EnterpriseView, All), (DemandOversee, All)],
            BuiltinRole::SystemAdmin => &[
                (BackOffice, All),
                (UserManage, All),
                (RoleManage, All),
                (MenuManage, All),
                (JobView, All),
                (SmsOutboxView, All),
            ],
            BuiltinRole::SecurityAdmin => {
                &[(BackOffice, All), (SessionOnline, All), (LoginLogView, All), (OperationLogView, All)]
            }
            BuiltinRole::Auditor => &[(BackOffice, All), (AuditView, All)],
        }
    }
}

/// Characters that never occur in a name and only serve markup or injection.
pub fn has_markup(s: &str) -> bool {
    s.chars().any(|c| matches!(c, '<' | '>' | '"' | '\'' | '\\' | '`') || c.is_control())
}

/// Validates a display name of a person.
pub fn check_person_name(s: &str) -> Result<(), &'static str> {
    let n = s.chars().count();
    if n == 0 {
        return Err("请填写联系人姓名");
    }
    if !(2..=32).contains(&n) {
        return Err("姓名应为2到32个字");
    }
    if has_markup(s) || s.chars().any(|c| c.is_ascii_digit()) {
        return Err("姓名包含不允许的字符");
    }
    Ok(())
}

pub fn check_org_name(s: &str) -> Result<(), &'static str> {
    let n = s.chars().count();
    if n == 0 {
        return Err("请填写企业名称");
    }
    if !(4..=100).contains(&n) {
        return Err("企业名称应为4到100个字");
    }
    if has_markup(s) {
        return Err("企业名称包含不允许的字符");
    }
    Ok(())
}

/// Username rules: 3–32 characters of ASCII letters, digits, `_`, `-`, `.`.
pub fn check_username(s: &str) -> Result<(), &'static str> {
    let n = s.chars().count();
    if n == 0 {
        return Err("请填写用户名");
    }
    if !(3..=32).contains(&n) {
        return Err("用户名长度应为3到32个字符");
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("用户名只能包含字母、数字、下划线、短横线和点");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Some(k));
        }
        for k in InstitutionKind::ALL {
            assert_eq!(InstitutionKind::parse(k.as_str()), Some(k));
        }
        for r in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::parse(r.code()), Some(r));
        }
    }

    #[test]
    fn builtin_roles_respect_separation_of_duties() {
        for r in BuiltinRole::ALL {
            assert!(check_separation(r.grants().iter().map(|(p, _)| *p)).is_ok(), "{r:?}");
        }
    }

    #[test]
    fn usernames() {
        assert!(check_username("operator").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("ab").is_err());
        assert!(check_username("a b c").is_err());
        assert!(check_username("<script>").is_err());
    }
}

/// Password rules: at least 10 characters from at least 3 of the classes
/// lower case, upper case, digits and symbols; at most 128 characters.
pub fn check_password_strength(pw: &str) -> Result<(), &'static str> {
    let n = pw.chars().count();
    if n == 0 {
        return Err("请填写密码");
    }
    if n < 10 {
        return Err("密码至少10个字符");
    }
    if n > 128 {
        return Err("密码不能超过128个字符");
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|&&b| b).count() < 3 {
        return Err("密码须包含大写字母、小写字母、数字、符号中的至少三类");
    }
    Ok(())
}

#[cfg(test)]
mod password_tests {
    use super::check_password_strength as check;

    #[test]
    fn strength() {
        assert!(check("Qifu@2026demo").is_ok());
        assert!(check("short1A!").is_err());
        assert!(check("alllowercaseletters").is_err());
        assert!(check("lowercase123456").is_err());
        assert!(check("Lowercase123456").is_ok());
        assert!(check(&"Aa1!".repeat(40)).is_err());
    }
}

const COMMON_PASSWORDS: &str = include_str!("../data/common_passwords.txt");

/// Whether a password is on the shipped list of common passwords, or is a
/// common base word padded with digits and symbols (e.g. `Password2026!`).
pub fn is_common_password(pw: &str) -> bool {
    let lower = pw.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|l| !l.starts_with('#') && l.trim() == lower) {
        return true;
    }
    let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    const BASES: &[&str] = &[
        "password",
        "passw",
        "admin",
        "administrator",
        "qwerty",
        "qwer",
        "qwertyuiop",
        "welcome",
        "root",
        "test",
        "huawei",
        "woaini",
        "iloveyou",
        "abc",
        "abcd",
        "asdf",
        "zxcv",
        "qaz",
        "qazwsx",
        "qazwsxedc",
        "qweasdzxc",
        "qwe",
        "qweasd",
        "changeme",
        "letmein",
        "default",
        "beijing",
        "china",
        "tongzhou",
        "aa",
        "a",
        "pssw",
    ];
    BASES.contains(&letters.as_str())
}

/// The full password policy: strength, not the phone number or username, not common.
pub fn check_password(pw: &str, username: Option<&str>, phone: Option<&str>) -> Result<(), &'static str> {
    check_password_strength(pw)?;
    if phone.is_some_and(|p| !p.is_empty() && pw.contains(p)) {
        return Err("密码不能包含手机号码");
    }
    if username.is_some_and(|u| u.len() >= 3 && pw.to_lowercase().contains(&u.to_lowercase())) {
        return Err("密码不能包含用户名");
    }
    if is_common_password(pw) {
        return Err("密码过于常见，容易被猜到，请换一个");
    }
    Ok(())
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn common_and_personal_passwords_are_refused() {
        assert!(is_common_password("P@ssw0rd123"));
        assert!(is_common_password("Password2026!"));
        assert!(is_common_password("Admin@12345"));
        assert!(is_common_password("Woaini1314!"));
        assert!(!is_common_password("Canal-Bridge-7"));
        assert_eq!(check_password("Xq8!13800138000", None, Some("13800138000")), Err("密码不能包含手机号码"));
        assert_eq!(check_password("zhangsan@Home9", Some("zhangsan"), None), Err("密码不能包含用户名"));
        assert!(check_password("Canal-Bridge-7", Some("zhangsan"), Some("13800138000")).is_ok());
        assert!(check_password("Demo@2026qifu", None, None).is_ok());
    }
}
