//! Named permissions, their data scopes, and the separation-of-duties rule.

use serde::{Deserialize, Serialize};

/// Everything a role can grant. Codes are stable and stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    BackOffice,
    EnterpriseView,
    UserManage,
    OrgManage,
    RoleManage,
    MenuManage,
    SessionOnline,
    LoginLogView,
    OperationLogView,
    AuditView,
    SmsOutboxView,
    JobView,
    CertificationReview,
    CatalogManage,
    ProductManage,
    DemandOversee,
    PolicyManage,
    MessageManage,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::BackOffice,
        Permission::EnterpriseView,
        Permission::UserManage,
        Permission::OrgManage,
        Permission::RoleManage,
        Permission::MenuManage,
        Permission::SessionOnline,
        Permission::LoginLogView,
        Permission::OperationLogView,
        Permission::AuditView,
        Permission::SmsOutboxView,
        Permission::JobView,
        Permission::CertificationReview,
        Permission::CatalogManage,
        Permission::ProductManage,
        Permission::DemandOversee,
        Permission::PolicyManage,
        Permission::MessageManage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Permission::BackOffice => "back_office",
            Permission::EnterpriseView => "enterprise.view",
            Permission::UserManage => "user.manage",
            Permission::OrgManage => "org.manage",
            Permission::RoleManage => "role.manage",
            Permission::MenuManage => "menu.manage",
            Permission::SessionOnline => "session.online",
            Permission::LoginLogView => "log.login",
            Permission::OperationLogView => "log.operation",
            Permission::AuditView => "audit.view",
            Permission::SmsOutboxView => "sms.outbox",
            Permission::JobView => "job.view",
            Permission::CertificationReview => "certification.review",
            Permission::CatalogManage => "catalog.manage",
            Permission::ProductManage => "product.manage",
            Permission::DemandOversee => "demand.oversee",
            Permission::PolicyManage => "policy.manage",
            Permission::MessageManage => "message.manage",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Permission::BackOffice => "进入管理后台",
            Permission::EnterpriseView => "查看企业",
            Permission::UserManage => "管理用户和子账号",
            Permission::OrgManage => "管理组织和机构账号",
            Permission::RoleManage => "管理角色",
            Permission::MenuManage => "管理菜单",
            Permission::SessionOnline => "查看在线用户和强制下线",
            Permission::LoginLogView => "查看登录日志",
            Permission::OperationLogView => "查看操作日志",
            Permission::AuditView => "查看审计日志",
            Permission::SmsOutboxView => "查看短信发件箱",
            Permission::JobView => "查看任务队列",
            Permission::CertificationReview => "审核企业实名认证",
            Permission::CatalogManage => "管理产品分类并审核产品",
            Permission::ProductManage => "发布和管理本机构服务产品",
            Permission::DemandOversee => "监督全部服务需求并改派",
            Permission::PolicyManage => "发布政策并维护申报条件",
            Permission::MessageManage => "管理消息模板、群发消息和公众号",
        }
    }

    /// The data scopes the role editor offers for this permission. A permission
    /// that only ever reaches every record (a flag) offers just 全部.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Permission::UserManage => &[Scope::Org, Scope::All],
            Permission::SessionOnline | Permission::LoginLogView | Permission::OperationLogView => {
                &[Scope::Own, Scope::Org, Scope::All]
            }
            Permission::ProductManage => &[Scope::Org, Scope::All],
            _ => &[Scope::All],
        }
    }

    /// Whether the scope of this permission changes nothing (only 全部 is offered).
    pub fn is_flag(self) -> bool {
        self.scopes() == [Scope::All]
    }

    /// The scope a held grant works with: itself when offered; for a flag, 全部;
    /// otherwise the widest offered scope not wider than the one held, or the
    /// narrowest offered.
    pub fn effective_scope(self, held: Scope) -> Scope {
        let offered = self.scopes();
        if offered.contains(&held) {
            return held;
        }
        offered.iter().rev().copied().find(|s| *s <= held).unwrap_or(offered[0])
    }

    /// The duty a permission belongs to, for separation of duties (三权分立).
    pub fn duty(self) -> Option<Duty> {
        match self {
            Permission::RoleManage | Permission::MenuManage => Some(Duty::System),
            Permission::SessionOnline | Permission::LoginLogView | Permission::OperationLogView => Some(Duty::Security),
            Permission::AuditView => Some(Duty::Audit),
            _ => None,
        }
    }
}

/// The three duties that must never all sit with one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Duty {
    /// 系统管理
    System,
    /// 安全管理
    Security,
    /// 安全审计
    Audit,
}

/// Which records a permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Only the user's own records.
    Own,
    /// Records of the user's organisation.
    Org,
    /// Every record.
    All,
}

impl Scope {
    pub fn code(self) -> &'static str {
        match self {
            Scope::Own => "own",
            Scope::Org => "org",
            Scope::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Scope::Own, Scope::Org, Scope::All].into_iter().find(|x| x.code() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Own => "本人",
            Scope::Org => "本组织",
            Scope::All => "全部",
        }
    }
}

/// Separation of duties: a set of permissions may not cover all three duties.
pub fn check_separation<I: IntoIterator<Item = Permission>>(perms: I) -> Result<(), &'static str> {
    let mut seen = [false; 3];
    for p in perms {
        match p.duty() {
            Some(Duty::System) => seen[0] = true,
            Some(Duty::Security) => seen[1] = true,
            Some(Duty::Audit) => seen[2] = true,
            None => {}
        }
    }
    if seen.iter().all(|&b| b) {
        Err("三权分立：同一角色（或同一用户）不能同时拥有系统管理、安全管理和安全审计三类权限")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.code()), Some(p));
        }
    }

    #[test]
    fn offered_scopes() {
        for p in Permission::ALL {
            let offered = p.scopes();
            assert!(!offered.is_empty());
            for s in [Scope::Own, Scope::Org, Scope::All] {
                assert!(offered.contains(&p.effective_scope(s)), "{p:?} {s:?}");
            }
        }
        assert_eq!(Permission::OrgManage.effective_scope(Scope::Org), Scope::All);
        assert_eq!(Permission::UserManage.effective_scope(Scope::Own), Scope::Org);
        assert_eq!(Permission::SessionOnline.effective_scope(Scope::Own), Scope::Own);
    }

    #[test]
    fn builtin_grants_use_offered_scopes() {
        for r in crate::accounts::BuiltinRole::ALL {
            for (p, s) in r.grants() {
                assert!(p.scopes().contains(s), "{r:?} grants {p:?} with {s:?}");
            }
        }
    }

    #[test]
    fn separation_of_duties() {
        use Permission::*;
        assert!(check_separation([RoleManage, SessionOnline]).is_ok());
        assert!(check_separation([AuditView, LoginLogView]).is_ok());
        assert!(check_separation([RoleManage, SessionOnline, AuditView]).is_err());
        assert!(check_separation(Permission::ALL).is_err());
    }
}
