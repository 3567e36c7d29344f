//! The back-office side menu, decided from the actor's roles.

use super::Actor;
use qifu_domain::accounts::{BuiltinRole, OrgKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub key: &'static str,
    pub label: &'static str,
    pub href: &'static str,
}

/// What the back office offers this actor.
pub fn back_office_menu(actor: &Actor) -> Vec<MenuEntry> {
    let mut m = vec![MenuEntry {
        key: "dashboard",
        label: "工作台",
        href: "/admin",
    }];
    if can_view_enterprises(actor) {
        m.push(MenuEntry {
            key: "enterprises",
            label: "企业管理",
            href: "/admin/enterprises",
        });
    }
    if can_view_jobs(actor) {
        m.push(MenuEntry {
            key: "jobs",
            label: "任务队列",
            href: "/admin/jobs",
        });
    }
    m
}

/// Operator and government staff see every enterprise.
pub fn can_view_enterprises(actor: &Actor) -> bool {
    matches!(actor.org_kind, OrgKind::Operator | OrgKind::Government)
        && (actor.has_role(BuiltinRole::OperatorAdmin)
            || actor.has_role(BuiltinRole::GovernmentViewer))
}

/// Operations and system administrators watch the job queue.
pub fn can_view_jobs(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Operator
        && (actor.has_role(BuiltinRole::OperatorAdmin) || actor.has_role(BuiltinRole::SystemAdmin))
}

/// Only organisation kinds with back-office work may enter it.
pub fn require_back_office(actor: &Actor) -> Result<(), crate::access::AccessError> {
    if actor.can_use_back_office() {
        Ok(())
    } else {
        Err(crate::access::AccessError::Forbidden)
    }
}
