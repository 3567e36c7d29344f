//! The back office's roles: list, and a role's permissions with their scopes.

use super::{DoneQuery, done_notice};
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, FieldErrors, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts;
use qifu_domain::accounts::{OrgKind, Permission, Scope};

type Manager = Staff<perm::RoleManage>;

#[derive(Template)]
#[template(path = "accounts/admin_roles.html")]
pub struct RolesPage {
    pub admin: AdminChrome,
    pub roles: Vec<accounts::RoleRow>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/admin_role_edit.html")]
pub struct RoleEditPage {
    pub admin: AdminChrome,
    pub id: Option<i64>,
    pub code: String,
    pub name: String,
    pub org_kind: Option<OrgKind>,
    pub builtin: bool,
    pub perms: Vec<PermRow>,
    pub errors: FieldErrors,
}

pub async fn list_roles(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let roles = accounts::list_roles(&st.ctx, &staff.actor).await?;
    kit::render(&RolesPage { admin: staff.chrome(&st, "角色管理", "roles").await?, roles, notice: done_notice(&q.done) })
}

/// One permission of the role editor and the scope granted, if any.
pub struct PermRow {
    pub perm: Permission,
    pub scope: Option<Scope>,
}

fn perm_rows(grants: &[(Permission, Scope)]) -> Vec<PermRow> {
    Permission::ALL
        .into_iter()
        .map(|perm| PermRow { perm, scope: grants.iter().find(|(g, _)| *g == perm).map(|(_, s)| *s) })
        .collect()
}

/// The organisation kinds a role may be for, in the editor's order.
pub const ORG_KINDS: [OrgKind; 4] = [OrgKind::Operator, OrgKind::Government, OrgKind::Institution, OrgKind::Enterprise];

pub async fn show_role(State(st): State<AppState>, staff: Manager, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let roles = accounts::list_roles(&st.ctx, &staff.actor).await?;
    let page = if id == "new" {
        RoleEditPage {
            admin: staff.chrome(&st, "新增角色", "roles").await?,
            id: None,
            code: String::new(),
            name: String::new(),
            org_kind: Some(OrgKind::Operator),
            builtin: false,
            perms: perm_rows(&[]),
            errors: FieldErrors::default(),
        }
    } else {
        let id = parse_id(&id)?;
        let r = roles.into_iter().find(|r| r.id == id).ok_or(WebError::NotFound)?;
        RoleEditPage {
            admin: staff.chrome(&st, "编辑角色", "roles").await?,
            id: Some(r.id),
            perms: perm_rows(&r.grants),
            code: r.code,
            name: r.name,
            org_kind: Some(r.org_kind),
            builtin: r.builtin,
            errors: FieldErrors::default(),
        }
    };
    kit::render(&page)
}

/// The editor posts `code`, `name`, `org_kind` and `perm:<code>` = scope.
pub async fn save_role(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let id = if id == "new" { None } else { Some(parse_id(&id)?) };
    let get = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let grants: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("perm:").filter(|_| !v.is_empty()).map(|p| (p.to_owned(), v.clone())))
        .collect();
    let existing = accounts::list_roles(&st.ctx, &staff.actor).await?;
    let current = id.and_then(|i| existing.iter().find(|r| r.id == i));
    if id.is_some() && current.is_none() {
        return Err(WebError::NotFound);
    }
    let rf = accounts::RoleForm {
        code: current.map(|r| r.code.clone()).unwrap_or_else(|| get("code")),
        name: get("name"),
        org_kind: current.map(|r| r.org_kind.code().to_owned()).unwrap_or_else(|| get("org_kind")),
        grants: grants.clone(),
    };
    match accounts::save_role(&st.ctx, &staff.actor, &staff.viewer.meta, id, &rf).await {
        Ok(_) => Ok(Redirect::to("/admin/roles?done=saved").into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            let chosen: Vec<(Permission, Scope)> =
                grants.iter().filter_map(|(p, s)| Some((Permission::parse(p)?, Scope::parse(s)?))).collect();
            form::invalid(&RoleEditPage {
                admin: staff.chrome(&st, if id.is_some() { "编辑角色" } else { "新增角色" }, "roles").await?,
                id,
                code: rf.code,
                name: rf.name,
                org_kind: OrgKind::parse(&rf.org_kind),
                builtin: current.is_some_and(|r| r.builtin),
                perms: perm_rows(&chosen),
                errors,
            })
        }
    }
}
