//! The back office's organisations: list, enable/disable, and registering a
//! service institution with its administrator.

use super::done_notice;
use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, FieldErrors, Pager, form, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts;
use qifu_domain::accounts::{InstitutionKind, OrgKind};
use serde::Deserialize;

type Manager = Staff<perm::OrgManage>;

#[derive(Template)]
#[template(path = "accounts/admin_orgs.html")]
pub struct OrgsPage {
    pub admin: AdminChrome,
    pub orgs: Vec<accounts::OrgRow>,
    pub pager: Pager,
    pub q: String,
    pub kind: Option<OrgKind>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/admin_institution_new.html")]
pub struct InstitutionNewPage {
    pub admin: AdminChrome,
    pub f: InstitutionForm,
    pub errors: FieldErrors,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct InstitutionForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub intro: String,
    #[serde(default)]
    pub admin_username: String,
    #[serde(default)]
    pub admin_name: String,
    #[serde(default)]
    pub admin_phone: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct OrgsQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    done: String,
}

pub async fn list_orgs(State(st): State<AppState>, staff: Manager, Query(q): Query<OrgsQuery>) -> Result<Html<String>, WebError> {
    let term: String = q.q.trim().chars().take(100).collect();
    let kind = OrgKind::parse(&q.kind);
    let (orgs, total) = accounts::list_orgs(&st.ctx, &staff.actor, kind, &term, q.page).await?;
    let base = format!(
        "/admin/orgs?{}",
        serde_urlencoded::to_string([("q", term.as_str()), ("kind", kind.map_or("", OrgKind::code))]).unwrap_or_default()
    );
    kit::render(&OrgsPage {
        admin: staff.chrome(&st, "组织管理", "orgs").await?,
        orgs,
        pager: Pager::new(q.page, 20, total, base),
        q: term,
        kind,
        notice: done_notice(&q.done),
    })
}

pub async fn org_action(
    State(st): State<AppState>,
    staff: Manager,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let active = match action.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(WebError::NotFound),
    };
    accounts::set_org_status(&st.ctx, &staff.actor, &staff.viewer.meta, id, active).await?;
    Ok(Redirect::to(if active { "/admin/orgs?done=org_enabled" } else { "/admin/orgs?done=org_disabled" }).into_response())
}

async fn new_page(
    st: &AppState,
    staff: &Manager,
    f: InstitutionForm,
    errors: FieldErrors,
) -> Result<InstitutionNewPage, WebError> {
    Ok(InstitutionNewPage { admin: staff.chrome(st, "注册机构账号", "orgs").await?, f, errors })
}

pub async fn show_new_institution(State(st): State<AppState>, staff: Manager) -> Result<Html<String>, WebError> {
    kit::render(&new_page(&st, &staff, InstitutionForm::default(), FieldErrors::default()).await?)
}

pub async fn create_institution(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<InstitutionForm>,
) -> Result<Response, WebError> {
    let n = accounts::NewInstitution {
        name: form.name.clone(),
        credit_code: form.credit_code.clone(),
        kind: form.kind.clone(),
        intro: form.intro.clone(),
        admin_username: form.admin_username.clone(),
        admin_name: form.admin_name.clone(),
        admin_phone: form.admin_phone.clone(),
    };
    match accounts::create_institution(&st.ctx, &staff.actor, &staff.viewer.meta, &n).await {
        Ok((_, username, password)) => {
            let (orgs, total) = accounts::list_orgs(&st.ctx, &staff.actor, Some(OrgKind::Institution), "", 1).await?;
            let page = OrgsPage {
                admin: staff.chrome(&st, "组织管理", "orgs").await?,
                orgs,
                pager: Pager::new(1, 20, total, "/admin/orgs?kind=institution".to_owned()),
                q: String::new(),
                kind: Some(OrgKind::Institution),
                notice: Some(format!(
                    "机构账号已注册。管理员用户名：{username}，初始密码：{password}（仅显示这一次，首次登录须修改）"
                )),
            };
            Ok(kit::render(&page)?.into_response())
        }
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&new_page(&st, &staff, form, errors).await?)
        }
    }
}
