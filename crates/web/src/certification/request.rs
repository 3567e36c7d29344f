//! The enterprise's certification request: the form with the licence, and its status.

use crate::AppState;
use crate::error::WebError;
use crate::extract::MultipartForm;
use crate::guard::EnterpriseUser;
use crate::kit::{self, FieldErrors, PageChrome, form};
use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::certification::{self, CertForm, Outcome};
use qifu_domain::certification::CertificationStatus;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "certification/certification.html")]
pub struct CertificationPage {
    pub chrome: PageChrome,
    pub latest: Option<qifu_db::entity::certification::Model>,
    pub certified: bool,
    pub org_name: String,
    pub form: CertFormView,
    pub errors: FieldErrors,
    pub notice: Option<String>,
    pub can_submit: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CertFormView {
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn cert_page(
    st: &AppState,
    me: &EnterpriseUser,
    form: CertFormView,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<CertificationPage, WebError> {
    let actor = &me.actor;
    let (latest, org) = certification::status(&st.ctx, actor).await?;
    let certified = org.as_ref().is_some_and(|o| o.certified_at.is_some());
    let can_submit = !certified && actor.is_org_admin && latest.as_ref().is_none_or(|c| c.status != CertificationStatus::Review);
    Ok(CertificationPage {
        chrome: PageChrome::new(st, &me.viewer, "企业实名认证", ""),
        latest,
        certified,
        org_name: org.map(|o| o.name).unwrap_or_default(),
        form,
        errors,
        notice,
        can_submit,
    })
}

pub async fn show_certification(
    State(st): State<AppState>,
    me: EnterpriseUser,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(
        q.done.as_deref().unwrap_or(""),
        &[
            ("certified", "认证信息与登记信息一致，企业实名认证已通过。"),
            ("review", "认证信息已提交，因未能与登记信息自动核对一致，已转人工审核。"),
        ],
    );
    let form = CertFormView { name: me.actor.org_name.clone(), ..Default::default() };
    kit::render(&cert_page(&st, &me, form, FieldErrors::default(), notice).await?)
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

pub async fn submit_certification(State(st): State<AppState>, me: EnterpriseUser, mp: Multipart) -> Result<Response, WebError> {
    let mp = MultipartForm::read_for(&me.viewer, mp, "licence", qifu_app::files::LICENCE_MAX_BYTES).await?;
    let c: CertFields = mp.form()?;
    let f = CertForm { name: c.name, credit_code: c.credit_code, legal_rep_name: c.legal_rep_name, legal_rep_id: c.legal_rep_id };
    let keep =
        CertFormView { name: f.name.clone(), credit_code: f.credit_code.clone(), legal_rep_name: f.legal_rep_name.clone() };
    match certification::submit(&st.ctx, &me.actor, &me.viewer.meta, &f, &mp.file).await {
        Ok(Outcome::Certified) => Ok(Redirect::to("/account/certification?done=certified").into_response()),
        Ok(Outcome::InReview) => Ok(Redirect::to("/account/certification?done=review").into_response()),
        Err(e) => {
            let (status, errors) = form::refusal(e)?;
            form::with_status(status, &cert_page(&st, &me, keep, errors, None).await?)
        }
    }
}
