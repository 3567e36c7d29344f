//! The back office's side: an institution's inbox of demands addressed to it,
//! the operator's overview of all, and acting on a demand.

use super::{ActionForm, DoneQuery, done_notice, run_action};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm};
use crate::guard::Staff;
use crate::kit::files::xlsx_response;
use crate::kit::fmt::day_start;
use crate::kit::{self, AdminChrome, FieldErrors, Pager, form, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::demands::{self, ActionInput, DemandFilter};
use qifu_domain::accounts::OrgKind;
use qifu_domain::demands::{DemandEvent, DemandState, Party};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "demands/admin_demands.html")]
pub struct AdminDemandsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::demand::Model>,
    pub pager: Pager,
    pub status: String,
    pub overdue: bool,
    pub from: String,
    pub to: String,
    pub export_href: String,
}

#[derive(Template)]
#[template(path = "demands/admin_demand.html")]
pub struct AdminDemandPage {
    pub admin: AdminChrome,
    pub d: demands::DemandView,
    pub staff: Vec<(i64, String)>,
    pub institutions: Vec<qifu_db::read::InstitutionView>,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    export: String,
}

/// The demands the staff member may see (the app scopes them), or their xlsx export.
pub async fn list_demands(State(st): State<AppState>, staff: Staff, Query(q): Query<InboxQuery>) -> Result<Response, WebError> {
    let actor = &staff.actor;
    let f = DemandFilter {
        status: q.status.clone(),
        product_id: None,
        from: day_start(&q.from),
        to: day_start(&q.to).map(|t| t + chrono::Duration::days(1)),
        overdue_only: q.overdue == "1",
    };
    let keep = |s: &str| if day_start(s).is_some() { s.trim().to_owned() } else { String::new() };
    let qs = serde_urlencoded::to_string([
        ("status", q.status.as_str()),
        ("from", &keep(&q.from)),
        ("to", &keep(&q.to)),
        ("overdue", q.overdue.as_str()),
    ])
    .unwrap_or_default();
    if q.export == "xlsx" {
        return Ok(xlsx_response(demands::export(&st.ctx, actor, &staff.viewer.meta, &f).await?, "demands"));
    }
    let (rows, total) = demands::list(&st.ctx, actor, &f, q.page, 20).await?;
    let title = if actor.org_kind == OrgKind::Institution { "需求受理" } else { "服务需求" };
    let page = AdminDemandsPage {
        admin: staff.chrome(&st, title, "demands").await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/demands?{qs}")),
        status: q.status.clone(),
        overdue: q.overdue == "1",
        from: keep(&q.from),
        to: keep(&q.to),
        export_href: format!("/admin/demands?{qs}&export=xlsx"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn demand_page(
    st: &AppState,
    staff: &Staff,
    id: i64,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<AdminDemandPage, WebError> {
    let d = demands::view(&st.ctx, &staff.actor, id).await?;
    let assignable = demands::assignable_staff(&st.ctx, &staff.actor).await?;
    let institutions = qifu_db::read::active_institutions(&st.ctx.db).await?;
    Ok(AdminDemandPage {
        admin: staff.chrome(st, &format!("需求 {id}"), "demands").await?,
        d,
        staff: assignable,
        institutions,
        errors,
        notice,
    })
}

pub async fn show_demand(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    kit::render(&demand_page(&st, &staff, parse_id(&id)?, FieldErrors::default(), done_notice(&q.done)).await?)
}

/// Delivery with an optional proof file (a multipart form).
pub async fn deliver_demand(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = MultipartForm::read_for(&staff.viewer, mp, "proof", demands::FILE_MAX_BYTES).await?;
    let f: ActionForm = mp.form()?;
    let input = ActionInput { note: f.note, proof: Some(mp.file), ..Default::default() };
    match demands::act(&st.ctx, &staff.actor, &staff.viewer.meta, id, DemandEvent::Deliver, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/demands/{id}?done=done")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&demand_page(&st, &staff, id, errors, None).await?)
        }
    }
}

pub async fn demand_action(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match run_action(&st, &staff.actor, &staff.viewer.meta, id, &action, &form).await {
        Ok(done) => Ok(Redirect::to(&format!("/admin/demands/{id}?done={done}")).into_response()),
        Err(e) => form::invalid(&demand_page(&st, &staff, id, e.into_fields()?, None).await?),
    }
}
