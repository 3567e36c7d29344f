//! "My account" (我的账号): profile, own sessions, password change, and the
//! enterprise administrator's sub-accounts.

use super::{NewUserForm, SubAccountForm, form_notice};
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::SignedIn;
use crate::kit::{self, Empty, FieldErrors, PageChrome, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, NewSubAccount, UserFilter};
use qifu_db::entity::user;
use qifu_domain::accounts::OrgKind;
use sea_orm::EntityTrait;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    pub chrome: PageChrome,
    pub username: String,
    pub display_name: String,
    pub org_name: String,
    pub roles: String,
    pub phone: String,
    pub is_org_admin: bool,
    pub is_enterprise: bool,
    pub is_staff: bool,
    pub sessions: Vec<accounts::SessionRow>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
pub struct PasswordPage {
    pub chrome: PageChrome,
    pub forced: bool,
    pub errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "accounts/subaccounts.html")]
pub struct SubAccountsPage {
    pub chrome: PageChrome,
    pub users: Vec<accounts::UserRow>,
    pub form: NewUserForm,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    /// The roles the actor may give (the choice is required).
    pub roles: Vec<accounts::RoleChoice>,
}

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

pub async fn show_account(
    State(st): State<AppState>,
    me: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Html<String>, WebError> {
    let SignedIn { viewer, actor } = me;
    let current = viewer.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let sessions = accounts::list_own_sessions(&st.ctx, &actor, &current).await?;
    let u = user::Entity::find_by_id(actor.user_id).one(&st.ctx.db).await?.ok_or(WebError::NotFound)?;
    kit::render(&AccountPage {
        chrome: PageChrome::new(&st, &viewer, "我的账号", ""),
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        org_name: actor.org_name.clone(),
        roles: actor.role_labels(),
        phone: u.phone_masked.unwrap_or_else(|| "未绑定".to_owned()),
        is_org_admin: actor.is_org_admin && actor.org_kind == OrgKind::Enterprise,
        is_enterprise: actor.org_kind == OrgKind::Enterprise,
        is_staff: actor.is_staff(),
        sessions,
        notice: kit::notice(q.done.as_deref().unwrap_or(""), &[("password", "密码已修改。"), ("session", "已退出该设备。")]),
    })
}

fn password_page(st: &AppState, me: &SignedIn, errors: FieldErrors) -> PasswordPage {
    PasswordPage { chrome: PageChrome::new(st, &me.viewer, "修改密码", ""), forced: me.actor.must_change_password, errors }
}

pub async fn show_password(State(st): State<AppState>, me: SignedIn) -> Result<Html<String>, WebError> {
    kit::render(&password_page(&st, &me, FieldErrors::default()))
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    old: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(st): State<AppState>,
    me: SignedIn,
    CsrfForm { form, .. }: CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let current = me.viewer.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    match accounts::change_password(&st.ctx, &me.actor, &me.viewer.meta, &current, &form.old, &form.new, &form.confirm).await {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(e) => form::invalid(&password_page(&st, &me, form::errors(e)?)),
    }
}

pub async fn end_session(
    State(st): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    accounts::end_own_session(&st.ctx, &me.actor, &me.viewer.meta, &id).await?;
    Ok(Redirect::to("/account?done=session").into_response())
}

async fn subaccounts_page(
    st: &AppState,
    me: &SignedIn,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<SubAccountsPage, WebError> {
    let (users, _) = accounts::list_users(&st.ctx, &me.actor, &UserFilter::default(), 1).await?;
    let roles = accounts::grantable_roles(&st.ctx, &me.actor).await?;
    Ok(SubAccountsPage { chrome: PageChrome::new(st, &me.viewer, "子账号管理", ""), users, form, errors, notice, roles })
}

pub async fn show_subaccounts(State(st): State<AppState>, me: SignedIn) -> Result<Html<String>, WebError> {
    kit::render(&subaccounts_page(&st, &me, NewUserForm::default(), FieldErrors::default(), None).await?)
}

pub async fn create_subaccount(
    State(st): State<AppState>,
    me: SignedIn,
    CsrfForm { form, .. }: CsrfForm<SubAccountForm>,
) -> Result<Response, WebError> {
    let n = NewSubAccount {
        org_id: None,
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        phone: form.phone.clone(),
        role_id: form.role.trim().parse::<i64>().ok(),
    };
    let keep = NewUserForm { org_id: String::new(), ..form.keep() };
    match accounts::create_sub_account(&st.ctx, &me.actor, &me.viewer.meta, &n).await {
        Ok((_, password)) => {
            let notice =
                format!("子账号 {} 已创建，初始密码：{password}（仅显示这一次，请转告本人，首次登录须修改）", keep.username);
            let page = subaccounts_page(&st, &me, NewUserForm::default(), FieldErrors::default(), Some(notice)).await?;
            Ok(kit::render(&page)?.into_response())
        }
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&subaccounts_page(&st, &me, keep, errors, None).await?)
        }
    }
}

pub async fn set_subaccount_status(
    State(st): State<AppState>,
    me: SignedIn,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let active = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(WebError::NotFound),
    };
    match accounts::set_user_status(&st.ctx, &me.actor, &me.viewer.meta, id, active).await {
        Ok(()) => Ok(Redirect::to("/account/users").into_response()),
        Err(e) => {
            let notice = form_notice(&form::errors(e)?);
            form::invalid(&subaccounts_page(&st, &me, NewUserForm::default(), FieldErrors::default(), notice).await?)
        }
    }
}
