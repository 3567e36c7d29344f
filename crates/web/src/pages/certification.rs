//! Certification pages: the enterprise's request, the operator's review queue,
//! the licence image, and the in-site inbox.

use super::PageQuery;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm, Viewer, check_csrf};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::certification::{self, CertError, CertForm, Outcome};
use qifu_domain::accounts::{OrgKind, Permission};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn cert_page(
    st: &AppState,
    v: &Viewer,
    form: CertFormView,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = v.require()?;
    if actor.org_kind != OrgKind::Enterprise {
        return Err(WebError::Forbidden);
    }
    let (latest, org) = certification::status(&st.ctx, actor).await?;
    let certified = org.as_ref().is_some_and(|o| o.certified_at.is_some());
    let can_submit = !certified && actor.is_org_admin && latest.as_ref().is_none_or(|c| c.status != certification::REVIEW);
    Ok(CertificationPage {
        chrome: PageChrome::new(st, v, "企业实名认证", ""),
        latest,
        certified,
        org_name: org.map(|o| o.name).unwrap_or_default(),
        form,
        errors,
        notice,
        can_submit,
    }
    .render()?)
}

pub async fn show_certification(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_deref() {
        Some("certified") => Some("认证信息与登记信息一致，企业实名认证已通过。".to_owned()),
        Some("review") => Some("认证信息已提交，因未能与登记信息自动核对一致，已转人工审核。".to_owned()),
        _ => None,
    };
    let actor = v.require()?;
    let form = CertFormView { name: actor.org_name.clone(), ..Default::default() };
    Ok(Html(cert_page(&st, &v, form, FieldErrors::default(), notice).await?))
}

/// The text fields of the certification form.
#[derive(Debug, Default, Deserialize)]
struct CertFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credit_code: String,
    #[serde(default)]
    legal_rep_name: String,
    #[serde(default)]
    legal_rep_id: String,
}

pub async fn submit_certification(State(st): State<AppState>, v: Viewer, mp: Multipart) -> Result<Response, WebError> {
    let mp = MultipartForm::read(mp, "licence", qifu_app::files::LICENCE_MAX_BYTES).await?;
    check_csrf(&v, &mp.csrf)?;
    let c: CertFields = mp.form()?;
    let f = CertForm { name: c.name, credit_code: c.credit_code, legal_rep_name: c.legal_rep_name, legal_rep_id: c.legal_rep_id };
    let up = mp.file;
    let actor = v.require()?;
    let keep =
        CertFormView { name: f.name.clone(), credit_code: f.credit_code.clone(), legal_rep_name: f.legal_rep_name.clone() };
    match certification::submit(&st.ctx, actor, &v.meta, &f, &up).await {
        Ok(Outcome::Certified) => Ok(Redirect::to("/account/certification?done=certified").into_response()),
        Ok(Outcome::InReview) => Ok(Redirect::to("/account/certification?done=review").into_response()),
        Err(CertError::Access(a)) => Err(a.into()),
        Err(CertError::Fields(list)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(cert_page(&st, &v, keep, FieldErrors::from(list), None).await?))
                .into_response())
        }
        Err(CertError::State(m)) => {
            let mut e = FieldErrors::default();
            e.add("form", m.to_owned());
            Ok((StatusCode::CONFLICT, Html(cert_page(&st, &v, keep, e, None).await?)).into_response())
        }
    }
}

pub async fn show_messages(State(st): State<AppState>, v: Viewer, Query(q): Query<PageQuery>) -> Result<Html<String>, WebError> {
    let actor = v.require()?;
    let (items, total) = qifu_app::messages::list(&st.ctx, actor, q.page).await?;
    let page = MessagesPage {
        chrome: PageChrome::new(&st, &v, "站内信", ""),
        items,
        pager: Pager::new(q.page, 20, total, "/account/messages".to_owned()),
    };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn read_all_messages(
    State(st): State<AppState>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    qifu_app::messages::mark_all_read(&st.ctx, actor).await?;
    Ok(Redirect::to("/account/messages").into_response())
}

// ---- back office ----

fn staff(v: &Viewer) -> Result<&qifu_app::actor::Actor, WebError> {
    let actor = v.require()?;
    qifu_app::actor::require(actor, Permission::BackOffice)?;
    Ok(actor)
}

async fn admin_chrome(st: &AppState, v: &Viewer, actor: &qifu_app::actor::Actor, title: &str) -> Result<AdminChrome, WebError> {
    Ok(AdminChrome {
        base: PageChrome::new(st, v, title, ""),
        menu: qifu_app::accounts::back_office_menu(&st.ctx, actor).await?,
        active: "certifications",
    })
}

#[derive(Debug, Deserialize)]
pub struct ReviewQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    done: String,
}

pub async fn list_certifications(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<ReviewQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let status = if q.status.is_empty() { "review".to_owned() } else { q.status.clone() };
    let (rows, total) = certification::list_reviews(&st.ctx, actor, &status, q.page).await?;
    let notice = match q.done.as_str() {
        "approved" => Some("已通过，企业已收到站内信。".to_owned()),
        "rejected" => Some("已驳回，企业已收到站内信，可修改后重新提交。".to_owned()),
        _ => None,
    };
    let page = CertificationsPage {
        admin: admin_chrome(&st, &v, actor, "实名认证审核").await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/certifications?status={status}")),
        status,
        notice,
    };
    Ok(Html(page.render()?))
}

pub async fn show_certification_review(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let row = certification::review_detail(&st.ctx, actor, parse_id(&id)?).await?;
    let page =
        CertificationDetailPage {
            admin: admin_chrome(&st, &v, actor, "认证审核").await?, row, errors: FieldErrors::default()
        };
    Ok(Html(page.render()?))
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide_certification(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<DecisionForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::BadRequest("请选择通过或驳回".to_owned())),
    };
    match certification::decide(&st.ctx, actor, &viewer.meta, id, approve, &form.reason).await {
        Ok(()) => {
            Ok(Redirect::to(if approve { "/admin/certifications?done=approved" } else { "/admin/certifications?done=rejected" })
                .into_response())
        }
        Err(CertError::Access(a)) => Err(a.into()),
        Err(e) => {
            let errors = match e {
                CertError::Fields(list) => FieldErrors::from(list),
                other => {
                    let mut f = FieldErrors::default();
                    f.add("form", other.to_string());
                    f
                }
            };
            let row = certification::review_detail(&st.ctx, actor, id).await?;
            let page = CertificationDetailPage { admin: admin_chrome(&st, &viewer, actor, "认证审核").await?, row, errors };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

/// An uploaded file, for its organisation or a reviewer.
pub async fn show_file(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let actor = v.require()?;
    let (f, bytes) = qifu_app::files::read(&st.ctx, actor, parse_id(&id)?).await?;
    Ok(super::file_response(&f, bytes))
}
