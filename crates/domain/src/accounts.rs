//! Accounts: organisation kinds, institution kinds, built-in roles and their
//! permissions, phone numbers, password rules.

mod permission;
mod phone;

pub use permission::{Duty, Permission, Scope, check_separation, duties};
pub use phone::{Phone, PhoneError};

use crate::stored::stored_enum;
use serde::{Deserialize, Serialize};

stored_enum! {
    /// The kinds of organisation that share the platform.
    pub enum OrgKind in ["organisations.kind", "roles.org_kind"] {
        Enterprise = "enterprise" => "企业",
        Institution = "institution" => "服务机构",
        /// 政府 / 主管部门
        Government = "government" => "政府",
        Operator = "operator" => "运营方",
    }
}

impl OrgKind {
    /// Staff organisations work in the back office and need a second factor.
    pub fn is_staff(self) -> bool {
        matches!(self, OrgKind::Government | OrgKind::Operator)
    }
}

stored_enum! {
    /// Kinds of service institution.
    pub enum InstitutionKind in ["institutions.kind", "institution_applications.kind"] {
        Bank = "bank" => "银行",
        Guarantor = "guarantor" => "担保机构",
        Insurer = "insurer" => "保险机构",
        LawFirm = "law_firm" => "律师事务所",
        TaxAccounting = "tax_accounting" => "财税服务机构",
        HumanResources = "human_resources" => "人力资源服务机构",
        IntellectualProperty = "intellectual_property" => "知识产权代理机构",
        Certification = "certification" => "认证机构",
        DigitalService = "digital_service" => "数字化服务商",
        TechnologyService = "technology_service" => "科技服务机构",
    }
}

impl InstitutionKind {
    /// 金融机构: institutions that offer financing products.
    pub fn is_financial(self) -> bool {
        matches!(self, InstitutionKind::Bank | InstitutionKind::Guarantor | InstitutionKind::Insurer)
    }
}

stored_enum! {
    /// Whether a user or an organisation may sign in.
    pub enum AccountStatus in ["users.status", "organisations.status"] {
        Active = "active" => "正常",
        Disabled = "disabled" => "已停用",
    }
}

impl AccountStatus {
    pub fn is_active(self) -> bool {
        self == AccountStatus::Active
    }
}

stored_enum! {
    /// How far a session has signed in: fully, or waiting for the second factor.
    pub enum SessionStage in ["sessions.stage"] {
        Full = "full" => "已登录",
        Mfa = "mfa" => "待第二因素验证",
    }
}

stored_enum! {
    /// What a text-message code was sent for.
    pub enum SmsPurpose in ["sms_codes.purpose"] {
        Register = "register" => "注册",
        Login = "login" => "登录",
        ResetPassword = "reset" => "找回密码",
    }
}

stored_enum! {
    /// The result of a sign-in attempt.
    pub enum LoginResult in ["login_log.result"] {
        Success = "success" => "成功",
        Failure = "failure" => "失败",
    }
}

stored_enum! {
    /// Where an institution's application to join (机构入驻) is.
    pub enum ApplicationStatus in ["institution_applications.status"] {
        Submitted = "submitted" => "待审核",
        Approved = "approved" => "已通过",
        Rejected = "rejected" => "未通过",
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
                (EnterpriseManage, All),
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
            // User management too: only the security administrator manages the
            // accounts that hold the security or audit duty (三权分立).
            BuiltinRole::SecurityAdmin => {
                &[(BackOffice, All), (UserManage, All), (SessionOnline, All), (LoginLogView, All), (OperationLogView, All)]
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
            assert_eq!(OrgKind::parse(k.code()), Some(k));
        }
        for k in InstitutionKind::ALL {
            assert_eq!(InstitutionKind::parse(k.code()), Some(k));
        }
        for s in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(s.code()), Some(s));
        }
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.code()), Some(s));
        }
        for p in SmsPurpose::ALL {
            assert_eq!(SmsPurpose::parse(p.code()), Some(p));
        }
        for r in BuiltinRole::ALL {
            assert_eq!(BuiltinRole::parse(r.code()), Some(r));
        }
    }

    #[test]
    fn builtin_roles_respect_separation_of_duties() {
        for s in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(s.code()), Some(s));
        }
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.code()), Some(s));
        }
        for p in SmsPurpose::ALL {
            assert_eq!(SmsPurpose::parse(p.code()), Some(p));
        }
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

fn common_set() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| COMMON_PASSWORDS.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect())
}

/// Lower case with leetspeak undone (`P@ssw0rd` → `password`).
pub fn unleet(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '$' | '5' => 's',
            '7' | '+' => 't',
            '9' => 'g',
            c => c,
        })
        .collect()
}

const BASES: &[&str] = &[
    "password",
    "passw",
    "passwd",
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
    "abcdef",
    "abcdefg",
    "asdf",
    "asdfgh",
    "asdfghjkl",
    "zxcv",
    "zxcvb",
    "zxcvbn",
    "zxcvbnm",
    "qaz",
    "qazwsx",
    "qazwsxedc",
    "qweasd",
    "qweasdzxc",
    "qwe",
    "asd",
    "zxc",
    "changeme",
    "letmein",
    "default",
    "beijing",
    "china",
    "tongzhou",
    "aa",
    "a",
    "pssw",
    "psswrd",
    "pwd",
    "guest",
    "user",
    "login",
    "qq",
    "wx",
];

/// Whether a digit string is a run (`123456`, `987654`) or one digit repeated.
fn trivial_digits(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() >= 4
        && (b.windows(2).all(|w| w[1] == w[0])
            || b.windows(2).all(|w| w[1] == w[0] + 1 || (w[0] == b'9' && w[1] == b'0'))
            || b.windows(2).all(|w| w[0] == w[1] + 1))
}

/// Whether a password is on the shipped list of common passwords (a few
/// thousand), or is a common word or keyboard walk (leetspeak undone) padded
/// with digits and symbols (`P@ssw0rd2026`, `Zxcvbnm@123`), or a couple of
/// letters in front of a run of digits (`Qq123456789`).
pub fn is_common_password(pw: &str) -> bool {
    let lower = pw.to_lowercase();
    let set = common_set();
    if set.contains(lower.as_str()) || set.contains(unleet(&lower).as_str()) {
        return true;
    }
    // The core: without the digits and symbols padding either end.
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let core_plain = unleet(core);
    let letters: String = core_plain.chars().filter(|c| c.is_alphabetic()).collect();
    if set.contains(core_plain.as_str()) || BASES.contains(&core_plain.as_str()) || BASES.contains(&letters.as_str()) {
        return true;
    }
    let all_letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
    let digits: String = lower.chars().filter(char::is_ascii_digit).collect();
    all_letters.chars().count() <= 2 && trivial_digits(&digits)
}

/// The full password policy: strength, not the phone number or username, not common.
pub fn check_password(pw: &str, username: Option<&str>, phone: Option<&str>) -> Result<(), &'static str> {
    check_password_with(pw, username, phone, &[])
}

/// The full policy, also refusing the user's own names (person, organisation)
/// inside the password, case-insensitively and with leetspeak undone.
pub fn check_password_with(pw: &str, username: Option<&str>, phone: Option<&str>, names: &[&str]) -> Result<(), &'static str> {
    check_password_strength(pw)?;
    if let Some(p) = phone.filter(|p| p.len() >= 8)
        && (pw.contains(p) || p.get(p.len() - 8..).is_some_and(|tail| pw.contains(tail)))
    {
        return Err("密码不能包含手机号码");
    }
    let plain = unleet(pw);
    if username.is_some_and(|u| u.len() >= 3 && (pw.to_lowercase().contains(&u.to_lowercase()) || plain.contains(&unleet(u)))) {
        return Err("密码不能包含用户名");
    }
    for n in names {
        let n: String = n.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        if n.chars().count() >= 2 && (pw.to_lowercase().contains(&n) || plain.contains(&unleet(&n))) {
            return Err("密码不能包含姓名或单位名称");
        }
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

    #[test]
    fn leetspeak_walks_and_padded_digits_are_common() {
        for pw in ["P@ssw0rd2026", "Zxcvbnm@123", "Qq123456789", "Adm1n@2026!", "1qaz@WSX3edc", "Aa987654321!"] {
            assert!(is_common_password(pw), "{pw}");
            assert!(check_password(pw, None, None).is_err(), "{pw}");
        }
        for pw in ["Canal-Bridge-7", "Demo@2026qifu", "Harbor-Light-91", "7#9kQ2!x8@4Z"] {
            assert!(!is_common_password(pw), "{pw}");
        }
        assert!(common_set().len() > 2000);
    }

    #[test]
    fn own_names_are_refused() {
        assert_eq!(check_password_with("Zh@ngW3i#2026", Some("zw01"), None, &["zhangwei"]), Err("密码不能包含姓名或单位名称"));
        assert_eq!(check_password_with("Tongda-Tech-99", None, None, &["TongDa"]), Err("密码不能包含姓名或单位名称"));
        assert_eq!(check_password_with("Xq8!00138000xy", None, Some("13800138000"), &[]), Err("密码不能包含手机号码"));
        assert_eq!(check_password_with("Z3ngsan#Home9", Some("zengsan"), None, &[]), Err("密码不能包含用户名"));
        assert!(check_password_with("Canal-Bridge-7", Some("zhangsan"), Some("13800138000"), &["张伟", "通州科技"]).is_ok());
    }
}
