//! Enterprise profiles in the back office: the enterprise list and its xlsx export.

use crate::AppState;
use crate::error::WebError;
use crate::guard::{Staff, perm};
use crate::kit::files::xlsx_headers;
use crate::kit::{AdminChrome, Pager, lenient_u64};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use qifu_app::actor::Actor;
use qifu_app::profiles::{EnterpriseFilter, ExportError};
use qifu_db::entity::enterprise;
use qifu_domain::profiles::SizeClass;
use serde::Deserialize;

pub fn admin_routes() -> Router<AppState> {
    Router::new().route("/admin/enterprises", get(list_enterprises))
}

impl From<ExportError> for WebError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Access(a) => a.into(),
            e @ ExportError::Xlsx(_) => WebError::Internal(e.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "profiles/admin_enterprises.html")]
pub struct EnterprisesPage {
    pub admin: AdminChrome,
    pub items: Vec<enterprise::Model>,
    pub pager: Pager,
    pub q: String,
    pub size: Option<SizeClass>,
    pub street: String,
    pub streets: &'static [qifu_domain::reference::division::Street],
}

pub fn size_label(s: &Option<SizeClass>) -> &'static str {
    s.map_or("—", |c| c.label())
}

pub fn street_name(code: &str) -> &'static str {
    qifu_domain::reference::division::street(code).map(|s| s.name).unwrap_or("—")
}

pub fn industry_name(code: &str) -> &'static str {
    qifu_domain::reference::industry::find(code).map(|i| i.name).unwrap_or("—")
}

#[derive(Debug, Deserialize)]
pub struct EnterpriseQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    export: String,
}

pub async fn list_enterprises(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseView>,
    Query(q): Query<EnterpriseQuery>,
) -> Result<Response, WebError> {
    let term: String = q.q.trim().chars().take(100).collect();
    let size = SizeClass::parse(&q.size);
    let filter = EnterpriseFilter { q: term.clone(), size_class: size, division_code: Some(q.street.clone()) };
    if q.export == "xlsx" {
        return export_enterprises(&st, &staff.actor, &filter).await;
    }
    let page = qifu_app::profiles::list_enterprises(&st.ctx, &staff.actor, &filter, q.page, 20).await?;
    let base = format!(
        "/admin/enterprises?{}",
        serde_urlencoded::to_string([
            ("q", term.as_str()),
            ("size", size.map_or("", SizeClass::code)),
            ("street", q.street.as_str())
        ])
        .unwrap_or_default()
    );
    let pager = Pager::new(page.page, page.per_page, page.total, base);
    let page = EnterprisesPage {
        admin: staff.chrome(&st, "企业管理", "enterprises").await?,
        items: page.items,
        pager,
        q: term,
        size,
        street: q.street,
        streets: qifu_domain::reference::division::tongzhou_streets(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The enterprise list as xlsx, written to a temporary file in constant memory
/// and streamed from it (130,000 rows never sit in memory at once).
async fn export_enterprises(st: &AppState, actor: &Actor, filter: &EnterpriseFilter) -> Result<Response, WebError> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| WebError::Internal(e.into()))?;
    // Writing 130,000 rows and zipping them is seconds of CPU: it runs on a
    // blocking thread (driving its database reads from there), not on the
    // workers that serve everyone else's pages.
    let (ctx, who, f, path) = (st.ctx.clone(), actor.clone(), filter.clone(), tmp.path().to_owned());
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(qifu_app::profiles::export_enterprises(&ctx, &who, &f, &path)))
        .await
        .map_err(|e| WebError::Internal(anyhow::anyhow!("导出任务异常结束：{e}")))??;
    // Unlinked now; the open handle keeps the data readable until the stream ends.
    let file = tokio::fs::File::from_std(tmp.reopen().map_err(|e| WebError::Internal(e.into()))?);
    drop(tmp);
    let mut r = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    xlsx_headers(&mut r, "enterprises");
    Ok(r)
}
