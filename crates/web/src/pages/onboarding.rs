//! Institution self-application (机构入驻): the portal form and the operator's review.

use super::admin::{chrome, institution_kinds, staff};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm, Viewer, check_csrf};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, InstitutionApplicationForm, OnboardingError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct ApplyQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    no: u64,
}

async fn apply_page(
    st: &AppState,
    v: &Viewer,
    f: InstitutionApplyView,
    errors: FieldErrors,
    submitted: Option<i64>,
) -> Result<String, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    let chrome = PageChrome::new(st, v, "服务机构入驻申请", "products");
    Ok(InstitutionApplyPage { chrome, f, errors, kinds: institution_kinds(), captcha, submitted }.render()?)
}

pub async fn show_apply(State(st): State<AppState>, v: Viewer, Query(q): Query<ApplyQuery>) -> Result<Html<String>, WebError> {
    let submitted = (q.no > 0).then(|| i64::try_from(q.no).unwrap_or(0));
    Ok(Html(apply_page(&st, &v, InstitutionApplyView::default(), FieldErrors::default(), submitted).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Secrets {
    password: String,
    confirm: String,
    captcha_id: String,
    captcha: String,
}

pub async fn submit_apply(State(st): State<AppState>, v: Viewer, mp: Multipart) -> Result<Response, WebError> {
    let mp = MultipartForm::read(mp, "licence", qifu_app::files::LICENCE_MAX_BYTES).await?;
    check_csrf(&v, &mp.csrf)?;
    let keep: InstitutionApplyView = mp.form()?;
    let s: Secrets = mp.form()?;
    let f = InstitutionApplicationForm {
        name: keep.name.clone(),
        credit_code: keep.credit_code.clone(),
        kind: keep.kind.clone(),
        intro: keep.intro.clone(),
        qualifications: keep.qualifications.clone(),
        contact_name: keep.contact_name.clone(),
        phone: keep.phone.clone(),
        password: s.password,
        confirm: s.confirm,
        captcha_id: s.captcha_id,
        captcha: s.captcha,
    };
    match accounts::apply_institution(&st.ctx, &v.meta, &f, &mp.file).await {
        Ok(id) => Ok(Redirect::to(&format!("/institutions/apply?no={id}")).into_response()),
        Err(OnboardingError::Access(a)) => Err(a.into()),
        Err(e) => {
            let errors = match e {
                OnboardingError::Fields(list) => FieldErrors::from(list),
                other => FieldErrors::from(vec![("form", other.to_string())]),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(apply_page(&st, &v, keep, errors, None).await?)).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    done: String,
}

pub async fn list_applications(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let status = if q.status.is_empty() { "submitted".to_owned() } else { q.status.clone() };
    let (rows, total) = accounts::list_institution_applications(&st.ctx, actor, &status, q.page).await?;
    let notice = match q.done.as_str() {
        "approved" => Some("已通过，机构账号已开通，申请人将收到短信通知。".to_owned()),
        "rejected" => Some("已审核为不通过，申请人将收到短信通知。".to_owned()),
        _ => None,
    };
    let page = InstitutionApplicationsPage {
        admin: chrome(&st, &v, actor, "机构入驻审核", "institution_applications").await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/institution-applications?status={status}")),
        status,
        notice,
    };
    Ok(Html(page.render()?))
}

async fn detail(st: &AppState, v: &Viewer, id: i64, errors: FieldErrors) -> Result<String, WebError> {
    let actor = staff(v)?;
    let (a, licence) = accounts::institution_application(&st.ctx, actor, id).await?;
    let admin = chrome(st, v, actor, "机构入驻审核", "institution_applications").await?;
    Ok(InstitutionApplicationPage { admin, a, licence, errors }.render()?)
}

pub async fn show_application(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    Ok(Html(detail(&st, &v, parse_id(&id)?, FieldErrors::default()).await?))
}

pub async fn licence(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let actor = staff(&v)?;
    let (f, bytes) = accounts::institution_application_licence(&st.ctx, actor, parse_id(&id)?).await?;
    Ok(super::file_response(&f, bytes))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    reason: String,
}

pub async fn review(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<DecisionForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    qifu_app::actor::require(actor, qifu_domain::accounts::Permission::OrgManage)?;
    let id = parse_id(&id)?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(WebError::BadRequest("请选择通过或不通过".to_owned())),
    };
    match accounts::review_institution_application(&st.ctx, actor, &viewer.meta, id, approve, &form.reason).await {
        Ok(_) => Ok(Redirect::to(if approve {
            "/admin/institution-applications?done=approved"
        } else {
            "/admin/institution-applications?done=rejected"
        })
        .into_response()),
        Err(OnboardingError::Access(a)) => Err(a.into()),
        Err(e) => {
            let errors = match e {
                OnboardingError::Fields(list) => FieldErrors::from(list),
                other => FieldErrors::from(vec![("form", other.to_string())]),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(detail(&st, &viewer, id, errors).await?)).into_response())
        }
    }
}
