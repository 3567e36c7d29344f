//! The back office's users: list, create, disable/enable, unlock, reset password.

use super::{NewUserForm, SubAccountForm, done_notice, form_notice};
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, FieldErrors, Pager, form, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, NewSubAccount, UserFilter};
use qifu_domain::accounts::{AccountStatus, OrgKind};
use serde::Deserialize;

type Manager = Staff<perm::UserManage>;

#[derive(Template)]
#[template(path = "accounts/admin_users.html")]
pub struct UsersPage {
    pub admin: AdminChrome,
    pub users: Vec<accounts::UserRow>,
    pub pager: Pager,
    pub q: String,
    pub status: Option<AccountStatus>,
    pub org_kind: Option<OrgKind>,
    pub form: NewUserForm,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub all_orgs: bool,
    /// The roles the actor may give (the choice is required).
    pub roles: Vec<accounts::RoleChoice>,
}

#[derive(Debug, Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    org_kind: String,
    #[serde(default)]
    done: String,
}

async fn users_page(
    st: &AppState,
    staff: &Manager,
    q: &UsersQuery,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<UsersPage, WebError> {
    let term: String = q.q.trim().chars().take(64).collect();
    let (status, org_kind) = (AccountStatus::parse(&q.status), OrgKind::parse(&q.org_kind));
    let f = UserFilter { q: term.clone(), status, org_kind };
    let (users, total) = accounts::list_users(&st.ctx, &staff.actor, &f, q.page).await?;
    let base = format!(
        "/admin/users?{}",
        serde_urlencoded::to_string([
            ("q", term.as_str()),
            ("status", status.map_or("", AccountStatus::code)),
            ("org_kind", org_kind.map_or("", OrgKind::code)),
        ])
        .unwrap_or_default()
    );
    Ok(UsersPage {
        admin: staff.chrome(st, "用户管理", "users").await?,
        users,
        pager: Pager::new(q.page, 20, total, base),
        q: term,
        status,
        org_kind,
        form,
        errors,
        notice: notice.or_else(|| done_notice(&q.done)),
        all_orgs: staff.grant.is_all(),
        roles: accounts::grantable_roles(&st.ctx, &staff.actor).await?,
    })
}

pub async fn list_users(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<UsersQuery>,
) -> Result<Html<String>, WebError> {
    kit::render(&users_page(&st, &staff, &q, NewUserForm::default(), FieldErrors::default(), None).await?)
}

pub async fn create_user(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<SubAccountForm>,
) -> Result<Response, WebError> {
    let n = NewSubAccount {
        org_id: form.org_id.trim().parse::<i64>().ok(),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        phone: form.phone.clone(),
        role_id: form.role.trim().parse::<i64>().ok(),
    };
    let keep = form.keep();
    let q = UsersQuery::default();
    match accounts::create_sub_account(&st.ctx, &staff.actor, &staff.viewer.meta, &n).await {
        Ok((_, password)) => {
            let notice = format!("账号 {} 已创建，初始密码：{password}（仅显示这一次，首次登录须修改）", keep.username);
            let page = users_page(&st, &staff, &q, NewUserForm::default(), FieldErrors::default(), Some(notice)).await?;
            Ok(kit::render(&page)?.into_response())
        }
        Err(e) => {
            let errors = form::errors(e)?;
            let notice = form_notice(&errors);
            form::invalid(&users_page(&st, &staff, &q, keep, errors, notice).await?)
        }
    }
}

/// What an action on a user did.
enum Done {
    /// Back to the list, with this `?done=` code.
    Code(&'static str),
    /// A new initial password, shown once.
    Password(String),
}

pub async fn user_action(
    State(st): State<AppState>,
    staff: Manager,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let (ctx, actor, meta) = (&st.ctx, &staff.actor, &staff.viewer.meta);
    let result = match action.as_str() {
        "disable" => accounts::set_user_status(ctx, actor, meta, id, false).await.map(|_| Done::Code("disabled")),
        "enable" => accounts::set_user_status(ctx, actor, meta, id, true).await.map(|_| Done::Code("enabled")),
        "unlock" => accounts::unlock_user(ctx, actor, meta, id).await.map(|_| Done::Code("unlocked")),
        "reset-password" => accounts::reset_user_password(ctx, actor, meta, id).await.map(Done::Password),
        _ => return Err(WebError::NotFound),
    };
    let q = UsersQuery::default();
    match result {
        Ok(Done::Code(done)) => Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response()),
        Ok(Done::Password(password)) => {
            let notice = format!("密码已重置，新的初始密码：{password}（仅显示这一次，首次登录须修改）");
            let page = users_page(&st, &staff, &q, NewUserForm::default(), FieldErrors::default(), Some(notice)).await?;
            Ok(kit::render(&page)?.into_response())
        }
        Err(e) => {
            let notice = form_notice(&form::errors(e)?);
            form::invalid(&users_page(&st, &staff, &q, NewUserForm::default(), FieldErrors::default(), notice).await?)
        }
    }
}
