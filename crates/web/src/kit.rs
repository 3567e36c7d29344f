//! What every area shares: the layout chrome, the pager, form helpers, file
//! responses, review decisions and display formats. Its templates are
//! `templates/layout/` and `templates/partials/`. The kit knows no area.

pub mod chrome;
pub mod files;
pub mod fmt;
pub mod form;
pub mod labels;
pub mod pager;
pub mod radar;
pub mod review;

pub use chrome::{AdminChrome, ErrorPage, PageChrome};
pub use form::{Empty, FieldErrors};
pub use pager::{PageQuery, Pager, lenient_u64};

use crate::error::WebError;
use askama::Template;
use axum::response::Html;

/// Ids in URLs are positive integers; anything else is simply not found.
pub fn parse_id(s: &str) -> Result<i64, WebError> {
    s.parse::<i64>().ok().filter(|n| *n > 0).ok_or(WebError::NotFound)
}

/// A page, rendered (200).
pub fn render<T: Template>(page: &T) -> Result<Html<String>, WebError> {
    Ok(Html(page.render()?))
}

/// A `?done=` code after a redirect, as the notice it stands for.
pub fn notice(done: &str, notices: &[(&str, &str)]) -> Option<String> {
    notices.iter().find(|(code, _)| *code == done).map(|(_, n)| (*n).to_owned())
}
