//! "My account" (我的账号): profile, own sessions, password change, and the
//! enterprise administrator's sub-accounts.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::view::{AccountPage, FieldErrors, NewUserForm, PageChrome, PasswordPage, SubAccountsPage};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, NewSubAccount, UserError, UserFilter};
use qifu_db::entity::user;
use sea_orm::EntityTrait;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    done: Option<String>,
}

fn done_notice(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "password" => "密码已修改。",
            "session" => "已退出该设备。",
            _ => return None,
        }
        .to_owned(),
    )
}

pub async fn show_account(State(st): State<AppState>, v: Viewer, Query(q): Query<NoticeQuery>) -> Result<Html<String>, WebError> {
    let actor = v.require()?;
    let current = v.session.as_ref().map(|s| s.id.clone()).unwrap_or_default();
    let sessions = accounts::list_own_sessions(&st.ctx, actor, &current).await?;
    let u = user::Entity::find_by_id(actor.user_id).one(&st.ctx.db).await?.ok_or(WebError::NotFound)?;
    let page = AccountPage {
        chrome: PageChrome::new(&st, &v, "我的账号", ""),
        username: actor.username.clone(),
        display_name: actor.display_name.clone(),
        org_name: actor.org_name.clone(),
        roles: actor.role_labels(),
        phone: u.phone_masked.unwrap_or_else(|| "未绑定".to_owned()),
        is_org_admin: actor.is_org_admin && actor.org_kind == qifu_domain::accounts::OrgKind::Enterprise,
        is_enterprise: actor.org_kind == qifu_domain::accounts::OrgKind::Enterprise,
        is_staff: actor.is_staff(),
        sessions,
        notice: done_notice(q.done.as_deref()),
    };
    Ok(Html(page.render()?))
}

pub async fn show_password(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let actor = v.require()?;
    let page = PasswordPage {
        chrome: PageChrome::new(&st, &v, "修改密码", ""),
        forced: actor.must_change_password,
        errors: FieldErrors::default(),
    };
    Ok(Html(page.render()?))
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
    CsrfForm { viewer, form }: CsrfForm<PasswordForm>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    match accounts::change_password(&st.ctx, actor, &viewer.meta, &form.old, &form.new, &form.confirm).await {
        Ok(()) => Ok(Redirect::to("/account?done=password").into_response()),
        Err(accounts::PasswordError::Db(e)) => Err(e.into()),
        Err(accounts::PasswordError::Field(f, m)) => {
            let mut errors = FieldErrors::default();
            errors.add(f, m.to_owned());
            let page = PasswordPage {
                chrome: PageChrome::new(&st, &viewer, "修改密码", ""),
                forced: actor.must_change_password,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn end_session(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    accounts::end_own_session(&st.ctx, actor, &viewer.meta, &id).await?;
    Ok(Redirect::to("/account?done=session").into_response())
}

async fn subaccounts_page(
    st: &AppState,
    v: &Viewer,
    form: NewUserForm,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = v.require()?;
    let (users, _) = accounts::list_users(&st.ctx, actor, &UserFilter::default(), 1).await?;
    Ok(SubAccountsPage { chrome: PageChrome::new(st, v, "子账号管理", ""), users, form, errors, notice }.render()?)
}

pub async fn show_subaccounts(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    Ok(Html(subaccounts_page(&st, &v, NewUserForm::default(), FieldErrors::default(), None).await?))
}

#[derive(Debug, Deserialize, Default)]
pub struct SubAccountForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub org_id: String,
}

/// Maps a user-management error to the form's field errors, or a web error.
pub fn user_error_fields(e: UserError) -> Result<FieldErrors, WebError> {
    match e {
        UserError::Fields(list) => Ok(FieldErrors::from(list)),
        UserError::Invalid(m) => {
            let mut f = FieldErrors::default();
            f.add("form", m);
            Ok(f)
        }
        UserError::Access(a) => Err(a.into()),
    }
}

pub async fn create_subaccount(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<SubAccountForm>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    let n = NewSubAccount {
        org_id: None,
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        phone: form.phone.clone(),
        role_id: None,
    };
    let keep = NewUserForm { username: form.username, display_name: form.display_name, phone: form.phone, org_id: String::new() };
    match accounts::create_sub_account(&st.ctx, actor, &viewer.meta, &n).await {
        Ok((_, password)) => {
            let notice =
                format!("子账号 {} 已创建，初始密码：{password}（仅显示这一次，请转告本人，首次登录须修改）", keep.username);
            Ok(Html(subaccounts_page(&st, &viewer, NewUserForm::default(), FieldErrors::default(), Some(notice)).await?)
                .into_response())
        }
        Err(e) => {
            let errors = user_error_fields(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(subaccounts_page(&st, &viewer, keep, errors, None).await?))
                .into_response())
        }
    }
}

pub async fn set_subaccount_status(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    let id = crate::pages::portal::parse_id(&id)?;
    let active = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(WebError::NotFound),
    };
    match accounts::set_user_status(&st.ctx, actor, &viewer.meta, id, active).await {
        Ok(()) => Ok(Redirect::to("/account/users").into_response()),
        Err(e) => {
            let errors = user_error_fields(e)?;
            let notice = errors.get("form").map(str::to_owned);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(subaccounts_page(&st, &viewer, NewUserForm::default(), FieldErrors::default(), notice).await?),
            )
                .into_response())
        }
    }
}

// ---- authenticator app (TOTP) ----

use crate::view::TotpPage;

async fn totp_page(
    st: &AppState,
    v: &Viewer,
    notice: Option<String>,
    error: Option<String>,
    keep: Option<qifu_app::accounts::totp::Enrolment>,
) -> Result<String, WebError> {
    let actor = v.require()?;
    if !actor.is_staff() {
        return Err(WebError::Forbidden);
    }
    let enrolled = qifu_app::accounts::totp::enrolled(&st.ctx, actor.user_id).await?;
    let enrolment =
        if enrolled { None } else { Some(keep.unwrap_or_else(|| qifu_app::accounts::totp::start_enrolment(&st.ctx, actor))) };
    Ok(TotpPage { chrome: PageChrome::new(st, v, "动态口令", ""), enrolled, enrolment, error, notice }.render()?)
}

pub async fn show_totp(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    Ok(Html(totp_page(&st, &v, None, None, None).await?))
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    sealed: String,
    #[serde(default)]
    code: String,
}

pub async fn post_totp(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<TotpForm>) -> Result<Response, WebError> {
    use qifu_app::accounts::totp;
    let actor = viewer.require()?;
    if !actor.is_staff() {
        return Err(WebError::Forbidden);
    }
    let result = match form.action.as_str() {
        "remove" => totp::remove(&st.ctx, actor, &viewer.meta).await.map(|_| "已解除绑定。"),
        _ => totp::confirm_enrolment(&st.ctx, actor, &viewer.meta, &form.sealed, &form.code)
            .await
            .map(|_| "绑定成功，下次登录可使用动态口令。"),
    };
    match result {
        Ok(n) => Ok(Html(totp_page(&st, &viewer, Some(n.to_owned()), None, None).await?).into_response()),
        Err(totp::TotpError::Db(e)) => Err(e.into()),
        Err(e) => {
            // Keep the same secret so the user can retry with the app as already set up.
            let keep = totp::resume_enrolment(&st.ctx, actor, &form.sealed);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(totp_page(&st, &viewer, None, Some(e.to_string()), keep).await?))
                .into_response())
        }
    }
}
