//! Forms shown again after a refused submission: the field messages and the
//! status they are sent with.

pub use crate::error::FieldErrors;

use crate::error::WebError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

/// A form with no fields of its own (only the CSRF token).
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

/// The messages a form shows for an app error that refused the submission;
/// access and internal errors end the request instead.
pub fn errors(e: impl Into<WebError>) -> Result<FieldErrors, WebError> {
    e.into().into_fields()
}

/// Like [`errors`], with the status to show the form again with: 409 when the
/// record's state refused the action, 422 for field errors.
pub fn refusal(e: impl Into<WebError>) -> Result<(StatusCode, FieldErrors), WebError> {
    let e = e.into();
    let status = if matches!(e, WebError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, e.into_fields()?))
}

/// The form page again, with its field errors: 422.
pub fn invalid<T: Template>(page: &T) -> Result<Response, WebError> {
    with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// The page again, explaining that the record's state forbids the action: 409.
pub fn conflict<T: Template>(page: &T) -> Result<Response, WebError> {
    with_status(StatusCode::CONFLICT, page)
}

/// A page rendered with `status`.
pub fn with_status<T: Template>(status: StatusCode, page: &T) -> Result<Response, WebError> {
    Ok((status, Html(page.render()?)).into_response())
}
