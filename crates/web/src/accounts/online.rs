//! Online users: the sessions the staff member may see, and forcing one out.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, PageQuery, Pager};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts;

#[derive(Template)]
#[template(path = "accounts/admin_online.html")]
pub struct OnlinePage {
    pub admin: AdminChrome,
    pub sessions: Vec<accounts::SessionRow>,
    pub pager: Pager,
}

pub async fn list_online(
    State(st): State<AppState>,
    staff: Staff<perm::SessionOnline>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, WebError> {
    let (sessions, total) = accounts::list_online(&st.ctx, &staff.actor, q.page).await?;
    kit::render(&OnlinePage {
        admin: staff.chrome(&st, "在线用户", "online").await?,
        sessions,
        pager: Pager::new(q.page, 50, total, "/admin/online".to_owned()),
    })
}

pub async fn force_out(
    State(st): State<AppState>,
    staff: Staff<perm::SessionOnline>,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(WebError::NotFound);
    }
    accounts::force_out(&st.ctx, &staff.actor, &staff.viewer.meta, &id).await?;
    Ok(Redirect::to("/admin/online").into_response())
}
