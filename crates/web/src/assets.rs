//! CSS, JS and images embedded in the binary, served under names that carry a
//! hash of their content so they can be cached for a year.

use crate::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sm3::{Digest, Sm3};

pub struct Asset {
    pub logical: &'static str,
    pub url: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

pub struct Assets {
    pub list: Vec<Asset>,
}

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../static/app.js")),
    ("emblem.svg", "image/svg+xml", include_bytes!("../static/emblem.svg")),
];

impl Assets {
    pub fn load() -> Self {
        let list = FILES
            .iter()
            .map(|&(logical, content_type, bytes)| {
                let hash = hex::encode(Sm3::digest(bytes));
                let (stem, ext) = logical.rsplit_once('.').unwrap_or((logical, ""));
                Asset { logical, url: format!("/static/{stem}.{}.{ext}", &hash[..12]), content_type, bytes }
            })
            .collect();
        Assets { list }
    }

    /// The versioned URL of a logical file name.
    pub fn url(&self, logical: &str) -> &str {
        self.list.iter().find(|a| a.logical == logical).map(|a| a.url.as_str()).unwrap_or("/static/missing")
    }

    pub fn by_path(&self, path: &str) -> Option<&Asset> {
        self.list.iter().find(|a| a.url == path)
    }

    pub fn by_logical(&self, logical: &str) -> Option<&Asset> {
        self.list.iter().find(|a| a.logical == logical)
    }
}

/// `/static/{file}` (versioned names, cached for a year) and `/favicon.ico`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/static/{file}", get(static_file)).route("/favicon.ico", get(favicon))
}

async fn static_file(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    match st.assets.by_path(&format!("/static/{file}")) {
        Some(a) => asset_response(a, "public, max-age=31536000, immutable"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn favicon(State(st): State<AppState>) -> Response {
    match st.assets.by_logical("emblem.svg") {
        Some(a) => asset_response(a, "public, max-age=86400"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn asset_response(a: &Asset, cache: &'static str) -> Response {
    let mut r = a.bytes.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
