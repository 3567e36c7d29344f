//! Broadcasts (群发消息): a message to a segment of enterprises, scheduled,
//! previewed, reported on and exported.

use super::Manager;
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::kit::files::xlsx_response;
use crate::kit::{self, AdminChrome, Empty, PageQuery, Pager, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages::broadcasts::{self, BroadcastForm, Segment};
use qifu_db::entity::broadcast;
use qifu_domain::messages::{BroadcastKind, BroadcastStatus, Channel};
use qifu_domain::profiles::SizeClass;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "messages/admin_broadcasts.html")]
pub struct BroadcastsPage {
    pub admin: AdminChrome,
    pub items: Vec<broadcast::Model>,
    pub pager: Pager,
    pub form: BroadcastFormView,
    pub preview: Option<broadcasts::Preview>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "messages/admin_broadcast.html")]
pub struct BroadcastPage {
    pub admin: AdminChrome,
    pub r: broadcasts::Report,
    pub segment: String,
}

/// The form as typed, for showing it again.
#[derive(Debug, Clone, Default)]
pub struct BroadcastFormView {
    pub title: String,
    pub body: String,
    pub kind: String,
    pub sms: bool,
    pub wechat: bool,
    pub email: bool,
    pub scheduled_at: String,
    pub seg: Segment,
}

impl BroadcastFormView {
    fn of(f: &BroadcastForm) -> Self {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        BroadcastFormView {
            title: cut(&f.title, 60),
            body: cut(&f.body, 2000),
            kind: f.kind.clone(),
            sms: f.ch_sms.is_some(),
            wechat: f.ch_wechat.is_some(),
            email: f.ch_email.is_some(),
            scheduled_at: cut(&f.scheduled_at, 16),
            seg: Segment {
                industry: cut(&f.segment.industry, 8),
                division: cut(&f.segment.division, 12),
                size_class: cut(&f.segment.size_class, 8),
                certified: cut(&f.segment.certified, 3),
                tag: cut(&f.segment.tag, 30),
                policy_id: cut(&f.segment.policy_id, 12),
                channel: cut(&f.segment.channel, 32),
                scene: cut(&f.segment.scene, 64),
            },
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn broadcasts_page(
    st: &AppState,
    staff: &Manager,
    page: u64,
    form: BroadcastFormView,
    preview: Option<broadcasts::Preview>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<BroadcastsPage, WebError> {
    let (items, total) = broadcasts::list(&st.ctx, &staff.actor, page).await?;
    let admin = staff.chrome(st, "群发消息", "broadcasts").await?;
    let pager = Pager::new(page, 20, total, "/admin/broadcasts".to_owned());
    Ok(BroadcastsPage { admin, items, pager, form, preview, error, notice })
}

pub async fn list_broadcasts(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<PageQuery>,
    Query(d): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(&d.done, &[("created", "群发已安排，到时间后由后台任务发送。"), ("cancelled", "群发已取消。")]);
    let form = BroadcastFormView { kind: "notice".to_owned(), wechat: true, ..Default::default() };
    kit::render(&broadcasts_page(&st, &staff, q.page, form, None, None, notice).await?)
}

#[derive(Debug, Deserialize)]
pub struct BroadcastSubmit {
    #[serde(flatten)]
    form: BroadcastForm,
    #[serde(default)]
    action: String,
}

/// Schedules a broadcast, or (`action=preview`) counts who it would reach.
pub async fn create_broadcast(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<BroadcastSubmit>,
) -> Result<Response, WebError> {
    let view = BroadcastFormView::of(&form.form);
    let result = if form.action == "preview" {
        match broadcasts::preview(&st.ctx, &staff.actor, &form.form.segment).await {
            Ok(p) => return Ok(kit::render(&broadcasts_page(&st, &staff, 1, view, Some(p), None, None).await?)?.into_response()),
            Err(e) => e,
        }
    } else {
        match broadcasts::create(&st.ctx, &staff.actor, &staff.viewer.meta, &form.form).await {
            Ok(_) => return Ok(Redirect::to("/admin/broadcasts?done=created").into_response()),
            Err(e) => e,
        }
    };
    let error = form::errors(result)?.summary();
    form::invalid(&broadcasts_page(&st, &staff, 1, view, None, Some(error), None).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    export: String,
}

pub async fn show_broadcast(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    if q.export == "xlsx" {
        let bytes = broadcasts::report_xlsx(&st.ctx, &staff.actor, &staff.viewer.meta, id).await?;
        return Ok(xlsx_response(bytes, &format!("broadcast-{id}")));
    }
    let r = broadcasts::report(&st.ctx, &staff.actor, id).await?;
    let segment = serde_json::from_str::<Segment>(&r.broadcast.segment).unwrap_or_default().describe();
    let admin = staff.chrome(&st, &format!("群发：{}", r.broadcast.title), "broadcasts").await?;
    Ok(kit::render(&BroadcastPage { admin, r, segment })?.into_response())
}

pub async fn cancel_broadcast(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    broadcasts::cancel(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/broadcasts?done=cancelled").into_response())
}
