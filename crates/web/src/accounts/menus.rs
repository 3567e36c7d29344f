//! The back office's side menu: labels, order, visibility and the permission
//! each entry needs.

use super::{DoneQuery, done_notice};
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts;
use qifu_domain::accounts::Permission;
use serde::Deserialize;

type Manager = Staff<perm::MenuManage>;

#[derive(Template)]
#[template(path = "accounts/admin_menus.html")]
pub struct MenusPage {
    pub admin: AdminChrome,
    pub menus: Vec<qifu_db::entity::menu::Model>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

async fn menus_page(
    st: &AppState,
    staff: &Manager,
    notice: Option<String>,
    error: Option<String>,
) -> Result<MenusPage, WebError> {
    let menus = accounts::list_menus(&st.ctx, &staff.actor).await?;
    Ok(MenusPage { admin: staff.chrome(st, "菜单管理", "menus").await?, menus, notice, error })
}

pub async fn list_menus(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    kit::render(&menus_page(&st, &staff, done_notice(&q.done), None).await?)
}

#[derive(Debug, Deserialize)]
pub struct MenuForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    visible: String,
}

pub async fn update_menu(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<MenuForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let upd = accounts::MenuUpdate {
        label: form.label,
        sort: form.sort.trim().parse().unwrap_or(0),
        visible: form.visible != "0",
        permission: form.permission,
    };
    match accounts::update_menu(&st.ctx, &staff.actor, &staff.viewer.meta, id, upd).await {
        Ok(()) => Ok(Redirect::to("/admin/menus?done=saved").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            form::invalid(&menus_page(&st, &staff, None, Some(error)).await?)
        }
    }
}
