//! Named permissions, their data scopes, and the separation-of-duties rule.

use crate::stored::stored_enum;

stored_enum! {
    /// Everything a role can grant. Codes are stable and stored in the database.
    #[derive(PartialOrd, Ord)]
    pub enum Permission in ["role_permissions.permission", "menus.permission"] {
        BackOffice = "back_office" => "进入管理后台",
        EnterpriseView = "enterprise.view" => "查看企业",
        EnterpriseManage = "enterprise.manage" => "管理企业数据（导入、核对、编辑、标签）",
        UserManage = "user.manage" => "管理用户和子账号",
        OrgManage = "org.manage" => "管理组织和机构账号",
        RoleManage = "role.manage" => "管理角色",
        MenuManage = "menu.manage" => "管理菜单",
        SessionOnline = "session.online" => "查看在线用户和强制下线",
        LoginLogView = "log.login" => "查看登录日志",
        OperationLogView = "log.operation" => "查看操作日志",
        AuditView = "audit.view" => "查看审计日志",
        SmsOutboxView = "sms.outbox" => "查看短信发件箱",
        JobView = "job.view" => "查看任务队列",
        CertificationReview = "certification.review" => "审核企业实名认证",
        CatalogManage = "catalog.manage" => "管理产品分类并审核产品",
        ProductManage = "product.manage" => "发布和管理本机构服务产品",
        DemandOversee = "demand.oversee" => "监督全部服务需求并改派",
        PolicyManage = "policy.manage" => "发布政策并维护申报条件",
        MessageManage = "message.manage" => "管理消息模板、群发消息和公众号",
    }
}

impl Permission {
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

/// The three duties (三权): a role, and a user, holds at most one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Duty {
    /// 系统管理
    System,
    /// 安全管理
    Security,
    /// 安全审计
    Audit,
}

stored_enum! {
    /// Which records a permission reaches.
    #[derive(PartialOrd, Ord)]
    pub enum Scope in ["role_permissions.scope"] {
        /// Only the user's own records.
        Own = "own" => "本人",
        /// Records of the user's organisation.
        Org = "org" => "本组织",
        /// Every record.
        All = "all" => "全部",
    }
}

/// The duties a set of permissions covers.
pub fn duties<I: IntoIterator<Item = Permission>>(perms: I) -> std::collections::BTreeSet<Duty> {
    perms.into_iter().filter_map(Permission::duty).collect()
}

/// Separation of duties (三权分立): a set of permissions (a role's, or all of a
/// user's roles' together) covers at most one of the system, security and
/// audit duties.
pub fn check_separation<I: IntoIterator<Item = Permission>>(perms: I) -> Result<(), &'static str> {
    if duties(perms).len() > 1 {
        Err("三权分立：同一角色（或同一用户）只能承担系统管理、安全管理、安全审计中的一类职责")
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
        assert!(check_separation([RoleManage, MenuManage, BackOffice]).is_ok());
        assert!(check_separation([SessionOnline, LoginLogView, OperationLogView]).is_ok());
        assert!(check_separation([AuditView, BackOffice]).is_ok());
        assert!(check_separation([RoleManage, SessionOnline]).is_err());
        assert!(check_separation([AuditView, LoginLogView]).is_err());
        assert!(check_separation([RoleManage, SessionOnline, AuditView]).is_err());
        for r in crate::accounts::BuiltinRole::ALL {
            assert!(check_separation(r.grants().iter().map(|(p, _)| *p)).is_ok(), "{r:?}");
        }
        assert!(check_separation(Permission::ALL).is_err());
    }
}
