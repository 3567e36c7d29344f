//! Institution self-application (机构入驻): the portal form and the operator's review.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm, Viewer};
use crate::guard::{Staff, perm};
use crate::kit::files::file_response;
use crate::kit::review::{Decision, QueueQuery};
use crate::kit::{self, AdminChrome, FieldErrors, PageChrome, Pager, form, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::accounts::{self, InstitutionApplicationForm};
use qifu_db::entity::{file, institution_application};
use qifu_domain::accounts::{ApplicationStatus, InstitutionKind};
use serde::Deserialize;

type Reviewer = Staff<perm::OrgManage>;

#[derive(Template)]
#[template(path = "accounts/institution_apply.html")]
pub struct InstitutionApplyPage {
    pub chrome: PageChrome,
    pub f: InstitutionApplyView,
    pub errors: FieldErrors,
    pub captcha: accounts::Captcha,
    /// The application number once submitted.
    pub submitted: Option<i64>,
}

/// The text fields of the application form kept across a failed submission (never the password).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct InstitutionApplyView {
    pub name: String,
    pub credit_code: String,
    pub kind: String,
    pub intro: String,
    pub qualifications: String,
    pub contact_name: String,
    pub phone: String,
}

#[derive(Template)]
#[template(path = "accounts/admin_institution_applications.html")]
pub struct InstitutionApplicationsPage {
    pub admin: AdminChrome,
    pub rows: Vec<institution_application::Model>,
    /// The tab: one state, or `None` for 全部.
    pub status: Option<ApplicationStatus>,
    pub pager: Pager,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/admin_institution_application.html")]
pub struct InstitutionApplicationPage {
    pub admin: AdminChrome,
    pub a: institution_application::Model,
    pub licence: Option<file::Model>,
    pub errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
pub struct ApplyQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    no: u64,
}

async fn apply_page(
    st: &AppState,
    v: &Viewer,
    f: InstitutionApplyView,
    errors: FieldErrors,
    submitted: Option<i64>,
) -> Result<InstitutionApplyPage, WebError> {
    let captcha = accounts::new_captcha(&st.ctx.db, &st.ctx).await?;
    let chrome = PageChrome::new(st, v, "服务机构入驻申请", "products");
    Ok(InstitutionApplyPage { chrome, f, errors, captcha, submitted })
}

pub async fn show_apply(State(st): State<AppState>, v: Viewer, Query(q): Query<ApplyQuery>) -> Result<Html<String>, WebError> {
    let submitted = (q.no > 0).then(|| i64::try_from(q.no).unwrap_or(0));
    kit::render(&apply_page(&st, &v, InstitutionApplyView::default(), FieldErrors::default(), submitted).await?)
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
    let mp = MultipartForm::read_for(&v, mp, "licence", qifu_app::files::LICENCE_MAX_BYTES).await?;
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
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&apply_page(&st, &v, keep, errors, None).await?)
        }
    }
}

pub async fn list_applications(
    State(st): State<AppState>,
    staff: Reviewer,
    Query(q): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let status = q.status_or(ApplicationStatus::Submitted, ApplicationStatus::parse);
    let (rows, total) = accounts::list_institution_applications(&st.ctx, &staff.actor, status, q.page).await?;
    let notice = kit::notice(
        &q.done,
        &[("approved", "已通过，机构账号已开通，申请人将收到短信通知。"), ("rejected", "已审核为不通过，申请人将收到短信通知。")],
    );
    kit::render(&InstitutionApplicationsPage {
        admin: staff.chrome(&st, "机构入驻审核", "institution_applications").await?,
        rows,
        pager: Pager::new(
            q.page,
            20,
            total,
            format!("/admin/institution-applications?status={}", kit::review::tab_code(status.map(ApplicationStatus::code))),
        ),
        status,
        notice,
    })
}

async fn detail(st: &AppState, staff: &Reviewer, id: i64, errors: FieldErrors) -> Result<InstitutionApplicationPage, WebError> {
    let (a, licence) = accounts::institution_application(&st.ctx, &staff.actor, id).await?;
    let admin = staff.chrome(st, "机构入驻审核", "institution_applications").await?;
    Ok(InstitutionApplicationPage { admin, a, licence, errors })
}

pub async fn show_application(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
) -> Result<Html<String>, WebError> {
    kit::render(&detail(&st, &staff, parse_id(&id)?, FieldErrors::default()).await?)
}

pub async fn show_licence(State(st): State<AppState>, staff: Reviewer, Path(id): Path<String>) -> Result<Response, WebError> {
    let (f, bytes) = accounts::institution_application_licence(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    Ok(file_response(&f, bytes))
}

pub async fn review_application(
    State(st): State<AppState>,
    staff: Reviewer,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<Decision>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let approve = form.approve("不通过")?;
    match accounts::review_institution_application(&st.ctx, &staff.actor, &staff.viewer.meta, id, approve, &form.reason).await {
        Ok(_) => Ok(Redirect::to(if approve {
            "/admin/institution-applications?done=approved"
        } else {
            "/admin/institution-applications?done=rejected"
        })
        .into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            form::invalid(&detail(&st, &staff, id, errors).await?)
        }
    }
}
