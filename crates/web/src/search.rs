//! Search: the portal's search page and the back office's index and synonym settings.

mod admin;
mod portal;

use crate::AppState;
use crate::error::WebError;
use axum::Router;
use axum::routing::{get, post};
use qifu_app::search::SynonymError;

pub use portal::hit_url;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(portal::search))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/search", get(admin::show_settings))
        .route("/admin/search/synonyms", post(admin::add_synonyms))
        .route("/admin/search/synonyms/{id}/delete", post(admin::delete_synonyms))
        .route("/admin/search/rebuild", post(admin::rebuild_index))
}

impl From<SynonymError> for WebError {
    fn from(e: SynonymError) -> Self {
        match e {
            SynonymError::Invalid(m) => WebError::invalid(m),
            SynonymError::Access(a) => a.into(),
        }
    }
}
