//! Who may reach a handler, decided by its arguments: a handler that takes
//! `Staff<perm::UserManage>` cannot run for anyone who is not signed in, allowed
//! into the back office and holding 管理用户和子账号. The `/admin` tree is also
//! behind [`back_office`], a route layer that refuses anyone but staff before
//! any handler runs, so a back-office route that forgot its guard still refuses.
//!
//! `app` checks the same permission again and applies its scope; these guards
//! make the first refusal early and uniform (login redirect, forced password
//! change, 403 page).

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::kit::AdminChrome;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use qifu_app::actor::{Actor, Grant};
use qifu_domain::accounts::{OrgKind, Permission};
use std::marker::PhantomData;

/// A permission named as a type, for [`Staff`].
pub trait Needs: Send + Sync + 'static {
    const PERMISSION: Permission;
}

/// One marker type per permission.
pub mod perm {
    use super::Needs;
    use qifu_domain::accounts::Permission;

    macro_rules! markers {
        ($($name:ident),* $(,)?) => {
            $(
                #[derive(Debug, Clone, Copy)]
                pub struct $name;
                impl Needs for $name {
                    const PERMISSION: Permission = Permission::$name;
                }
            )*
        };
    }

    markers!(
        BackOffice,
        EnterpriseView,
        EnterpriseManage,
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
    );
}

/// The signed-in actor of a request (every factor passed, initial password
/// changed), or a redirect to the login page (or to the password change).
fn signed_in(v: &Viewer) -> Result<Actor, WebError> {
    let a = v.actor().ok_or_else(|| WebError::LoginRequired { next: v.here.clone() })?;
    if a.must_change_password && !v.here.starts_with("/account/password") {
        return Err(WebError::MustChangePassword);
    }
    Ok(a.clone())
}

/// Any signed-in user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub viewer: Viewer,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, st).await?;
        let actor = signed_in(&viewer)?;
        Ok(SignedIn { viewer, actor })
    }
}

/// A signed-in user of an enterprise (企业用户).
#[derive(Debug, Clone)]
pub struct EnterpriseUser {
    pub viewer: Viewer,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for EnterpriseUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, st).await?;
        let actor = signed_in(&viewer)?;
        if actor.org_kind != OrgKind::Enterprise {
            return Err(WebError::ForbiddenBecause("此功能仅面向企业用户，请使用企业账号登录。".to_owned()));
        }
        Ok(EnterpriseUser { viewer, actor })
    }
}

/// A signed-in user of a service institution (服务机构).
#[derive(Debug, Clone)]
pub struct InstitutionUser {
    pub viewer: Viewer,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for InstitutionUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, st).await?;
        let actor = signed_in(&viewer)?;
        if actor.org_kind != OrgKind::Institution {
            return Err(WebError::ForbiddenBecause("此功能仅面向服务机构用户。".to_owned()));
        }
        Ok(InstitutionUser { viewer, actor })
    }
}

/// A signed-in user of the operator or a government organisation (工作人员),
/// whatever their back-office permissions (an institution's staff use the back
/// office too, but are not 工作人员).
#[derive(Debug, Clone)]
pub struct StaffOrgUser {
    pub viewer: Viewer,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for StaffOrgUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, st).await?;
        let actor = signed_in(&viewer)?;
        if !actor.org_kind.is_staff() {
            return Err(WebError::ForbiddenBecause("此功能仅面向平台运营和政府部门工作人员。".to_owned()));
        }
        Ok(StaffOrgUser { viewer, actor })
    }
}

/// Staff: signed in and allowed into the back office (进入管理后台), holding
/// permission `P` too; `grant` carries the scope of `P`.
#[derive(Debug, Clone)]
pub struct Staff<P: Needs = perm::BackOffice> {
    pub viewer: Viewer,
    pub actor: Actor,
    pub grant: Grant,
    _p: PhantomData<P>,
}

impl<P: Needs> FromRequestParts<AppState> for Staff<P> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, st).await?;
        let actor = signed_in(&viewer)?;
        qifu_app::actor::require(&actor, Permission::BackOffice).map_err(|e| WebError::denied(e, Permission::BackOffice))?;
        let grant = qifu_app::actor::require(&actor, P::PERMISSION).map_err(|e| WebError::denied(e, P::PERMISSION))?;
        Ok(Staff { viewer, actor, grant, _p: PhantomData })
    }
}

impl<P: Needs> Staff<P> {
    /// The back-office layout for a page of this staff member: its title and
    /// the side-menu entry shown as current.
    pub async fn chrome(&self, st: &AppState, title: &str, active: &'static str) -> Result<AdminChrome, WebError> {
        AdminChrome::new(st, &self.viewer, &self.actor, title, active).await
    }
}

/// Puts `routes` behind the staff check: anyone not signed in goes to the login
/// page, anyone without 进入管理后台 gets the 403 page, before any handler runs.
pub fn back_office(routes: Router<AppState>, st: &AppState) -> Router<AppState> {
    routes.route_layer(axum::middleware::from_fn_with_state(st.clone(), require_staff))
}

async fn require_staff(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(e) = Staff::<perm::BackOffice>::from_request_parts(&mut parts, &st).await {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
