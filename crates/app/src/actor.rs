//! Kernel: the acting user, permission checks and data scope.
//!
//! `require(actor, permission)` is the only way to obtain a [`Grant`], and every
//! list or read query of a permission-guarded record takes the grant as an
//! argument: a query cannot be written without first checking the permission,
//! and the grant's scope (本人 / 本组织 / 全部) decides which rows it reaches.

use qifu_db::entity::{organisation, role, role_permission, user, user_role};
use qifu_domain::accounts::{AccountStatus, OrgKind, Permission, Scope};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::BTreeMap;

/// Access errors shared by use cases. Records outside the actor's scope are
/// reported as not found, so their existence is not revealed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("记录不存在")]
    NotFound,
    #[error("没有权限")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The user behind a request, with what the rest of `app` needs to decide
/// permission and data scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub org_id: i64,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub role_names: Vec<String>,
    pub grants: BTreeMap<Permission, Scope>,
    pub must_change_password: bool,
    pub is_org_admin: bool,
}

impl Actor {
    /// The scope of a permission the actor holds, if any.
    pub fn scope(&self, p: Permission) -> Option<Scope> {
        self.grants.get(&p).copied()
    }

    pub fn can(&self, p: Permission) -> bool {
        self.grants.contains_key(&p)
    }

    pub fn can_use_back_office(&self) -> bool {
        self.can(Permission::BackOffice)
    }

    pub fn is_staff(&self) -> bool {
        self.org_kind.is_staff()
    }

    pub fn role_labels(&self) -> String {
        self.role_names.join("、")
    }
}

/// A permission the actor holds, with the data scope it reaches. Only
/// [`require`] makes one; queries take it to restrict their rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    permission: Permission,
    scope: Scope,
    user_id: i64,
    org_id: i64,
}

impl Grant {
    pub fn permission(&self) -> Permission {
        self.permission
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Every record, whoever owns it.
    pub fn is_all(&self) -> bool {
        self.scope == Scope::All
    }

    /// The organisation whose records the grant reaches, unless it reaches all.
    pub fn org(&self) -> Option<i64> {
        (self.scope != Scope::All).then_some(self.org_id)
    }

    /// The user whose records the grant reaches under 本人, if that is the scope.
    pub fn own_user(&self) -> Option<i64> {
        (self.scope == Scope::Own).then_some(self.user_id)
    }

    /// The rows the grant reaches, for a table whose rows belong to an
    /// organisation (`org`) and, where there is one, a user (`user`). Under
    /// 本人 a table without a user column reaches nothing.
    pub fn condition<O: ColumnTrait, U: ColumnTrait>(&self, org: O, user: Option<U>) -> Condition {
        match self.scope {
            Scope::All => Condition::all(),
            Scope::Org => Condition::all().add(org.eq(self.org_id)),
            Scope::Own => match user {
                Some(u) => Condition::all().add(u.eq(self.user_id)),
                None => Condition::all().add(org.eq(-1)),
            },
        }
    }

    /// The rows of a table keyed by user only (sessions, login records), given
    /// the users of the grant's organisation when the scope is 本组织.
    pub fn user_condition<U: ColumnTrait>(&self, user: U, org_users: &[i64]) -> Condition {
        match self.scope {
            Scope::All => Condition::all(),
            Scope::Org => Condition::all().add(user.is_in(org_users.to_vec())),
            Scope::Own => Condition::all().add(user.eq(self.user_id)),
        }
    }

    /// Whether one record, owned by `org_id` (and `user_id` where known), is within the grant.
    pub fn covers(&self, org_id: i64, user_id: Option<i64>) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Org => org_id == self.org_id,
            Scope::Own => user_id == Some(self.user_id),
        }
    }
}

/// The actor's grant of `p`, or `Forbidden`. A stored scope the permission does
/// not offer is read as the nearest one it does (a flag permission is always 全部).
pub fn require(actor: &Actor, p: Permission) -> Result<Grant, AccessError> {
    let held = actor.scope(p).ok_or(AccessError::Forbidden)?;
    Ok(Grant { permission: p, scope: p.effective_scope(held), user_id: actor.user_id, org_id: actor.org_id })
}

/// Every active user of the operator's organisations (who hear of escalations and new applications).
pub(crate) async fn operator_users<C: ConnectionTrait>(conn: &C) -> Result<Vec<user::Model>, DbErr> {
    let orgs: Vec<i64> = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::Operator))
        .select_only()
        .column(organisation::Column::Id)
        .into_tuple::<i64>()
        .all(conn)
        .await?;
    user::Entity::find()
        .filter(user::Column::OrgId.is_in(orgs))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .all(conn)
        .await
}

/// The ids of an organisation's users.
pub(crate) async fn org_user_ids<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<Vec<i64>, DbErr> {
    user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .select_only()
        .column(user::Column::Id)
        .into_tuple::<i64>()
        .all(conn)
        .await
}

/// Loads the actor for a user id, if the user and organisation are active.
pub async fn load_actor<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<Option<Actor>, DbErr> {
    let Some(u) = user::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    if !u.status.is_active() {
        return Ok(None);
    }
    let Some(org) = organisation::Entity::find_by_id(u.org_id).one(conn).await? else {
        return Ok(None);
    };
    if !org.status.is_active() {
        return Ok(None);
    }
    let org_kind = org.kind;
    let role_ids: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(u.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect();
    let roles = role::Entity::find().filter(role::Column::Id.is_in(role_ids.clone())).all(conn).await?;
    let perms = role_permission::Entity::find().filter(role_permission::Column::RoleId.is_in(role_ids)).all(conn).await?;
    let mut grants: BTreeMap<Permission, Scope> = BTreeMap::new();
    for p in perms {
        let (perm, scope) = (p.permission, p.scope);
        let e = grants.entry(perm).or_insert(scope);
        if scope > *e {
            *e = scope;
        }
    }
    Ok(Some(Actor {
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        org_id: org.id,
        org_kind,
        org_name: org.name,
        role_names: roles.into_iter().map(|r| r.name).collect(),
        grants,
        must_change_password: u.must_change_password,
        is_org_admin: u.is_org_admin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(p: Permission, s: Scope) -> Actor {
        Actor {
            user_id: 7,
            username: "u".into(),
            display_name: "U".into(),
            org_id: 3,
            org_kind: OrgKind::Institution,
            org_name: "机构".into(),
            role_names: vec![],
            grants: [(p, s)].into_iter().collect(),
            must_change_password: false,
            is_org_admin: false,
        }
    }

    #[test]
    fn grant_covers_by_scope() {
        let own = require(&actor(Permission::SessionOnline, Scope::Own), Permission::SessionOnline).unwrap();
        assert!(own.covers(3, Some(7)) && !own.covers(3, Some(8)) && !own.covers(3, None));
        let org = require(&actor(Permission::SessionOnline, Scope::Org), Permission::SessionOnline).unwrap();
        assert!(org.covers(3, Some(8)) && !org.covers(4, Some(7)));
        let all = require(&actor(Permission::SessionOnline, Scope::All), Permission::SessionOnline).unwrap();
        assert!(all.covers(99, None));
        assert!(require(&actor(Permission::SessionOnline, Scope::All), Permission::AuditView).is_err());
    }

    #[test]
    fn a_flag_permission_is_always_all() {
        let g = require(&actor(Permission::OrgManage, Scope::Own), Permission::OrgManage).unwrap();
        assert_eq!(g.scope(), Scope::All);
    }
}
