//! The portal home, the large-text switch, and the page for unknown addresses.

use crate::AppState;
use crate::error::{WebError, safe_next};
use crate::extract::{A11Y_COOKIE, Viewer};
use crate::kit::{self, PageChrome};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(show_home)).route("/a11y", get(toggle_a11y))
}

#[derive(Template)]
#[template(path = "home/home.html")]
pub struct HomePage {
    pub chrome: PageChrome,
    pub home: qifu_db::read::Home,
    pub recommendations: Vec<qifu_app::catalog::Recommendation>,
}

pub async fn show_home(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let counts = st.home_counts().await?;
    let home = qifu_db::read::home_with(&st.ctx.db, st.ctx.now(), counts).await?;
    let recommendations = match v.actor() {
        Some(a) => qifu_app::catalog::recommend(&st.ctx, a, 6).await?,
        None => Vec::new(),
    };
    let chrome = PageChrome::new(&st, &v, "首页", "home");
    kit::render(&HomePage { chrome, home, recommendations })
}

#[derive(Debug, Deserialize)]
pub struct A11yQuery {
    on: Option<String>,
    back: Option<String>,
}

/// Switches the large-text, high-contrast mode for this browser.
pub async fn toggle_a11y(State(st): State<AppState>, Query(q): Query<A11yQuery>) -> Response {
    let on = q.on.as_deref() == Some("1");
    let back = safe_next(q.back.as_deref()).unwrap_or_else(|| "/".to_owned());
    let secure = if st.ctx.settings.web.secure_cookies { "; Secure" } else { "" };
    let cookie = if on {
        format!("{A11Y_COOKIE}=1; Path=/; Max-Age=31536000; SameSite=Lax{secure}")
    } else {
        format!("{A11Y_COOKIE}=0; Path=/; Max-Age=0; SameSite=Lax{secure}")
    };
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Any address no route knows: the 404 page.
pub async fn not_found() -> WebError {
    WebError::NotFound
}
