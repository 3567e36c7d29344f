//! Product categories (产品分类): a two-level tree with product counts.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, FieldErrors, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::catalog::{self, CatalogError, CategoryForm};
use qifu_db::entity::category;
use qifu_domain::catalog::CategoryKind;
use serde::Deserialize;

type Manager = Staff<perm::CatalogManage>;

/// (category, product count, children with counts)
pub type AdminTree = Vec<(category::Model, u64, Vec<(category::Model, u64)>)>;

#[derive(Template)]
#[template(path = "catalog/admin_categories.html")]
pub struct CategoriesPage {
    pub admin: AdminChrome,
    pub tree: AdminTree,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub name: String,
    pub parent: String,
    pub sort: String,
    pub kind: Option<CategoryKind>,
}

/// The new-category form as typed: name, parent, sort, kind.
type Kept = (String, String, String, Option<CategoryKind>);

async fn categories_page(
    st: &AppState,
    staff: &Manager,
    errors: FieldErrors,
    notice: Option<String>,
    keep: Kept,
) -> Result<CategoriesPage, WebError> {
    let tree = catalog::tree_for_admin(&st.ctx, &staff.actor).await?;
    Ok(CategoriesPage {
        admin: staff.chrome(st, "产品分类", "categories").await?,
        tree,
        errors,
        notice,
        name: keep.0,
        parent: keep.1,
        sort: keep.2,
        kind: keep.3,
    })
}

#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub async fn list_categories(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(&q.done, &[("saved", "已保存。")]);
    kit::render(&categories_page(&st, &staff, FieldErrors::default(), notice, Default::default()).await?)
}

#[derive(Debug, Deserialize)]
pub struct CategoryFormInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent_id: String,
    #[serde(default)]
    sort: String,
    /// 服务类 / 融资类, for a top-level category.
    #[serde(default)]
    kind: String,
}

impl CategoryFormInput {
    fn to_form(&self) -> CategoryForm {
        CategoryForm {
            name: self.name.chars().take(100).collect(),
            parent_id: self.parent_id.trim().parse().ok().filter(|n: &i64| *n > 0),
            sort: self.sort.trim().parse().unwrap_or(0),
            kind: CategoryKind::parse(self.kind.trim()),
        }
    }
}

/// Back to the list, or the list again with the refusal: field errors (422,
/// the form kept) or a state conflict such as a category still in use (409).
async fn outcome(st: &AppState, staff: &Manager, r: Result<(), CatalogError>, keep: Kept) -> Result<Response, WebError> {
    match r {
        Ok(()) => Ok(Redirect::to("/admin/categories?done=saved").into_response()),
        Err(e) => {
            let (status, errors) = form::refusal(e)?;
            let keep = if status == axum::http::StatusCode::CONFLICT { Kept::default() } else { keep };
            form::with_status(status, &categories_page(st, staff, errors, None, keep).await?)
        }
    }
}

pub async fn create_category(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<CategoryFormInput>,
) -> Result<Response, WebError> {
    let r = catalog::create_category(&st.ctx, &staff.actor, &staff.viewer.meta, &form.to_form()).await.map(|_| ());
    let kept = (form.name.clone(), form.parent_id.clone(), form.sort.clone(), CategoryKind::parse(form.kind.trim()));
    outcome(&st, &staff, r, kept).await
}

pub async fn update_category(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<CategoryFormInput>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let r = catalog::update_category(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form.to_form()).await;
    outcome(&st, &staff, r, Default::default()).await
}

pub async fn delete_category(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let r = catalog::delete_category(&st.ctx, &staff.actor, &staff.viewer.meta, id).await;
    outcome(&st, &staff, r, Default::default()).await
}
