//! Back-office pages. Who may see what is decided in `app`.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, Actor};
use serde::Deserialize;

fn chrome(
    st: &AppState,
    v: &Viewer,
    actor: &Actor,
    title: &str,
    active: &'static str,
) -> AdminChrome {
    AdminChrome {
        base: PageChrome::new(st, v, title, ""),
        menu: accounts::back_office_menu(actor),
        active,
    }
}

fn staff(v: &Viewer) -> Result<&Actor, WebError> {
    let actor = v.require()?;
    accounts::require_back_office(actor)?;
    Ok(actor)
}

pub async fn show_dashboard(
    State(st): State<AppState>,
    v: Viewer,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let home = qifu_db::read::home(&st.ctx.db, st.ctx.now()).await?;
    let jobs = if accounts::can_view_jobs(actor) {
        Some(qifu_db::jobs::stats(&st.ctx.db).await?)
    } else {
        None
    };
    let page = DashboardPage {
        admin: chrome(&st, &v, actor, "工作台", "dashboard"),
        counts: home.counts,
        jobs,
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct EnterpriseQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    street: String,
}

pub async fn list_enterprises(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<EnterpriseQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let term: String = q.q.trim().chars().take(100).collect();
    let filter = qifu_app::profiles::EnterpriseFilter {
        q: term.clone(),
        size_class: Some(q.size.clone()),
        division_code: Some(q.street.clone()),
    };
    let page = qifu_app::profiles::list_enterprises(&st.ctx, actor, &filter, q.page, 20).await?;
    let base = format!(
        "/admin/enterprises?{}",
        serde_urlencoded::to_string([
            ("q", term.as_str()),
            ("size", q.size.as_str()),
            ("street", q.street.as_str())
        ])
        .unwrap_or_default()
    );
    let pager = Pager::new(page.page, page.per_page, page.total, base);
    let page = EnterprisesPage {
        admin: chrome(&st, &v, actor, "企业管理", "enterprises"),
        items: page.items,
        pager,
        q: term,
        size: q.size,
        street: q.street,
        streets: qifu_domain::reference::division::tongzhou_streets(),
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct JobQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
}

pub async fn list_jobs(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<JobQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let status = Some(q.status.as_str()).filter(|s| !s.is_empty());
    let overview = qifu_app::system::job_overview(&st.ctx, actor, status, q.page).await?;
    let status = if ["queued", "running", "done", "dead"].contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        String::new()
    };
    let base = if status.is_empty() {
        "/admin/jobs".to_owned()
    } else {
        format!("/admin/jobs?status={status}")
    };
    let pager = Pager::new(q.page, 50, overview.total, base);
    let page = JobsPage {
        admin: chrome(&st, &v, actor, "任务队列", "jobs"),
        overview,
        status,
        pager,
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn retry_job(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    qifu_app::system::retry_job(&st.ctx, actor, id).await?;
    Ok(Redirect::to("/admin/jobs?status=queued").into_response())
}
