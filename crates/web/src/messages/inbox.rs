//! The in-site inbox (站内信), on the portal and in the back office.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{SignedIn, Staff};
use crate::kit::{self, AdminChrome, Empty, PageChrome, PageQuery, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages;
use qifu_db::entity::message;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "messages/messages.html")]
pub struct MessagesPage {
    pub chrome: PageChrome,
    pub items: Vec<message::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "messages/message.html")]
pub struct MessagePage {
    pub chrome: PageChrome,
    pub m: message::Model,
}

#[derive(Template)]
#[template(path = "messages/admin_messages.html")]
pub struct AdminMessagesPage {
    pub admin: AdminChrome,
    pub items: Vec<message::Model>,
    pub pager: Pager,
    pub open: Option<message::Model>,
}

pub async fn list_messages(
    State(st): State<AppState>,
    me: SignedIn,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, WebError> {
    let (items, total) = messages::list(&st.ctx, &me.actor, q.page).await?;
    kit::render(&MessagesPage {
        chrome: PageChrome::new(&st, &me.viewer, "站内信", ""),
        items,
        pager: Pager::new(q.page, 20, total, "/account/messages".to_owned()),
    })
}

pub async fn read_all(State(st): State<AppState>, me: SignedIn, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    messages::mark_all_read(&st.ctx, &me.actor).await?;
    Ok(Redirect::to("/account/messages").into_response())
}

pub async fn show_message(State(st): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let m = messages::read(&st.ctx, &me.actor, parse_id(&id)?).await?;
    // The header's unread count was taken before this read.
    let mut chrome = PageChrome::new(&st, &me.viewer, &m.title.clone(), "");
    chrome.unread = chrome.unread.saturating_sub(1);
    kit::render(&MessagePage { chrome, m })
}

pub async fn delete_message(
    State(st): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    messages::delete(&st.ctx, &me.actor, parse_id(&id)?).await?;
    let back = if me.actor.can_use_back_office() && me.viewer.here.starts_with("/admin") {
        "/admin/messages"
    } else {
        "/account/messages"
    };
    Ok(Redirect::to(back).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    open: String,
}

/// Every staff member's own inbox, with the message asked for opened.
pub async fn admin_inbox(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<InboxQuery>,
) -> Result<Html<String>, WebError> {
    let actor = &staff.actor;
    let open = if q.open.is_empty() { None } else { Some(messages::read(&st.ctx, actor, parse_id(&q.open)?).await?) };
    let (items, total) = messages::list(&st.ctx, actor, q.page).await?;
    let mut admin = staff.chrome(&st, "我的站内信", "inbox").await?;
    if open.as_ref().is_some_and(|_| admin.base.unread > 0) {
        admin.base.unread = messages::unread_count(&st.ctx, actor).await?;
    }
    let pager = Pager::new(q.page, 20, total, "/admin/messages".to_owned());
    kit::render(&AdminMessagesPage { admin, items, pager, open })
}

pub async fn admin_read_all(State(st): State<AppState>, staff: Staff, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    messages::mark_all_read(&st.ctx, &staff.actor).await?;
    Ok(Redirect::to("/admin/messages").into_response())
}

pub async fn admin_delete_message(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    messages::delete(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/messages").into_response())
}
