//! Certification (企业实名认证): the enterprise's request with its licence, the
//! operator's review queue, and uploaded files for their organisation or a reviewer.

mod request;
mod review;

use crate::AppState;
use crate::error::WebError;
use crate::guard::{SignedIn, Staff};
use crate::kit::files::file_response;
use crate::kit::parse_id;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use qifu_app::actor::Actor;
use qifu_app::certification::CertError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/certification", get(request::show_certification).post(request::submit_certification))
        .route("/account/files/{id}", get(show_own_file))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/certifications", get(review::list_certifications))
        .route("/admin/certifications/{id}", get(review::show_certification).post(review::decide_certification))
        .route("/admin/files/{id}", get(show_file))
}

impl From<CertError> for WebError {
    fn from(e: CertError) -> Self {
        match e {
            CertError::Fields(list) => WebError::Invalid(list.into()),
            CertError::State(m) => WebError::Conflict(m.to_owned()),
            CertError::Access(a) => a.into(),
        }
    }
}

async fn file(st: &AppState, actor: &Actor, meta: &qifu_app::Meta, id: &str) -> Result<Response, WebError> {
    let (f, bytes) = qifu_app::files::read(&st.ctx, actor, meta, parse_id(id)?).await?;
    Ok(file_response(&f, bytes))
}

/// An uploaded file of the user's organisation.
pub async fn show_own_file(State(st): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Response, WebError> {
    file(&st, &me.actor, &me.viewer.meta, &id).await
}

/// An uploaded file, for a reviewer (the app decides who reviews what).
pub async fn show_file(State(st): State<AppState>, staff: Staff, Path(id): Path<String>) -> Result<Response, WebError> {
    file(&st, &staff.actor, &staff.viewer.meta, &id).await
}
