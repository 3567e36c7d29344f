//! Back-office search settings: this node's index and the synonym groups.

use super::admin::{Empty, chrome, staff};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::search::{self, SynonymError};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn page(
    st: &AppState,
    v: &Viewer,
    notice: Option<String>,
    error: Option<String>,
    words: String,
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let status = search::status(&st.ctx, actor).await?;
    let synonyms = search::list_synonyms(&st.ctx, actor).await?;
    let admin = chrome(st, v, actor, "搜索设置", "search").await?;
    Ok(SearchAdminPage { admin, status, synonyms, notice, error, words }.render()?)
}

pub async fn show(State(st): State<AppState>, v: Viewer, Query(q): Query<DoneQuery>) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_str() {
        "added" => Some("同义词已添加，下一次搜索即生效。".to_owned()),
        "deleted" => Some("同义词已删除。".to_owned()),
        "rebuild" => Some("已通知各节点重建索引，几秒内开始。".to_owned()),
        _ => None,
    };
    Ok(Html(page(&st, &v, notice, None, String::new()).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SynonymForm {
    words: String,
}

pub async fn add_synonyms(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<SynonymForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match search::add_synonyms(&st.ctx, actor, &viewer.meta, &form.words).await {
        Ok(_) => Ok(Redirect::to("/admin/search?done=added").into_response()),
        Err(SynonymError::Access(a)) => Err(a.into()),
        Err(SynonymError::Invalid(m)) => {
            let words: String = form.words.chars().take(200).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page(&st, &viewer, None, Some(m), words).await?)).into_response())
        }
    }
}

pub async fn delete_synonyms(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match search::delete_synonyms(&st.ctx, actor, &viewer.meta, parse_id(&id)?).await {
        Ok(()) => Ok(Redirect::to("/admin/search?done=deleted").into_response()),
        Err(SynonymError::Access(a)) => Err(a.into()),
        Err(SynonymError::Invalid(m)) => Err(WebError::BadRequest(m)),
    }
}

pub async fn rebuild(State(st): State<AppState>, CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    search::rebuild_by(&st.ctx, actor, &viewer.meta).await?;
    Ok(Redirect::to("/admin/search?done=rebuild").into_response())
}
