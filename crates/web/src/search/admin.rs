//! Back-office search settings: this node's index and the synonym groups.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::search;
use serde::Deserialize;

type Manager = Staff<perm::CatalogManage>;

#[derive(Template)]
#[template(path = "search/admin_search.html")]
pub struct SearchAdminPage {
    pub admin: AdminChrome,
    pub status: search::IndexStatus,
    pub synonyms: Vec<qifu_db::entity::search_synonym::Model>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub words: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn page(
    st: &AppState,
    staff: &Manager,
    notice: Option<String>,
    error: Option<String>,
    words: String,
) -> Result<SearchAdminPage, WebError> {
    let status = search::status(&st.ctx, &staff.actor).await?;
    let synonyms = search::list_synonyms(&st.ctx, &staff.actor).await?;
    let admin = staff.chrome(st, "搜索设置", "search").await?;
    Ok(SearchAdminPage { admin, status, synonyms, notice, error, words })
}

pub async fn show_settings(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(
        &q.done,
        &[
            ("added", "同义词已添加，下一次搜索即生效。"),
            ("deleted", "同义词已删除。"),
            (
                "rebuild",
                "已通知各节点重建索引：各节点在几秒内开始，在新目录中建好后整体替换旧索引，期间搜索照常可用。重建完成后，下方“上次重建”会显示时间和文档数。",
            ),
        ],
    );
    kit::render(&page(&st, &staff, notice, None, String::new()).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SynonymForm {
    words: String,
}

pub async fn add_synonyms(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<SynonymForm>,
) -> Result<Response, WebError> {
    match search::add_synonyms(&st.ctx, &staff.actor, &staff.viewer.meta, &form.words).await {
        Ok(_) => Ok(Redirect::to("/admin/search?done=added").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            let words: String = form.words.chars().take(200).collect();
            form::invalid(&page(&st, &staff, None, Some(error), words).await?)
        }
    }
}

pub async fn delete_synonyms(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    search::delete_synonyms(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/search?done=deleted").into_response())
}

pub async fn rebuild_index(State(st): State<AppState>, staff: Manager, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    search::rebuild_by(&st.ctx, &staff.actor, &staff.viewer.meta).await?;
    Ok(Redirect::to("/admin/search?done=rebuild").into_response())
}
