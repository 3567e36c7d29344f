//! Policy aggregation (政策归集): the crawl sources and their logs.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::crawl::{self, SourceForm};
use qifu_db::entity::{crawl_log, crawl_source};
use qifu_domain::policy::{CrawlLogLevel, PolicyLevel};
use serde::Deserialize;

type Manager = Staff<perm::PolicyManage>;

#[derive(Template)]
#[template(path = "policies/admin_crawl_sources.html")]
pub struct CrawlSourcesPage {
    pub admin: AdminChrome,
    pub sources: Vec<crawl_source::Model>,
    pub f: SourceForm,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "policies/admin_crawl_source.html")]
pub struct CrawlSourcePage {
    pub admin: AdminChrome,
    pub s: crawl_source::Model,
    pub logs: Vec<crawl_log::Model>,
    pub notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn sources_page(
    st: &AppState,
    staff: &Manager,
    f: SourceForm,
    notice: Option<String>,
    error: Option<String>,
) -> Result<CrawlSourcesPage, WebError> {
    let sources = crawl::list_sources(&st.ctx, &staff.actor).await?;
    Ok(CrawlSourcesPage { admin: staff.chrome(st, "政策归集", "crawl").await?, sources, f, notice, error })
}

pub async fn list_sources(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice =
        kit::notice(&q.done, &[("created", "采集来源已保存。"), ("run", "已加入任务队列，几秒后开始采集；结果见日志。")]);
    kit::render(&sources_page(&st, &staff, Default::default(), notice, None).await?)
}

pub async fn create_source(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<SourceForm>,
) -> Result<Response, WebError> {
    match crawl::create_source(&st.ctx, &staff.actor, &staff.viewer.meta, &form).await {
        Ok(_) => Ok(Redirect::to("/admin/crawl-sources?done=created").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            form::invalid(&sources_page(&st, &staff, form, None, Some(error)).await?)
        }
    }
}

pub async fn show_source(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let (s, logs) = crawl::source(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    let notice = (q.done == "run").then(|| "已加入任务队列，几秒后开始采集；刷新页面查看日志。".to_owned());
    kit::render(&CrawlSourcePage { admin: staff.chrome(&st, "采集日志", "crawl").await?, s, logs, notice })
}

pub async fn run_source(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    crawl::request_run(&st.ctx, &staff.actor, &staff.viewer.meta, id).await?;
    Ok(Redirect::to(&format!("/admin/crawl-sources/{id}?done=run")).into_response())
}
