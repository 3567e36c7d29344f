//! News and announcements, activities and trainings, and the about page.

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use crate::kit::{self, PageChrome, PageQuery, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use qifu_db::entity::{activity, article};
use qifu_domain::content::ArticleKind;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/news", get(list_news))
        .route("/news/{id}", get(show_news))
        .route("/activities", get(list_activities))
        .route("/activities/{id}", get(show_activity))
        .route("/about", get(show_about))
}

type Page = Result<Html<String>, WebError>;

#[derive(Template)]
#[template(path = "content/articles.html")]
pub struct ArticlesPage {
    pub chrome: PageChrome,
    pub items: Vec<article::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "content/article.html")]
pub struct ArticlePage {
    pub chrome: PageChrome,
    pub article: article::Model,
}

#[derive(Template)]
#[template(path = "content/activities.html")]
pub struct ActivitiesPage {
    pub chrome: PageChrome,
    pub items: Vec<activity::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "content/activity.html")]
pub struct ActivityPage {
    pub chrome: PageChrome,
    pub activity: activity::Model,
}

#[derive(Template)]
#[template(path = "content/about.html")]
pub struct AboutPage {
    pub chrome: PageChrome,
}

#[derive(Debug, Deserialize)]
pub struct NewsQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    kind: Option<String>,
}

pub async fn list_news(State(st): State<AppState>, v: Viewer, Query(q): Query<NewsQuery>) -> Page {
    let kind = q.kind.as_deref().and_then(ArticleKind::parse);
    let page = qifu_db::read::published_articles(&st.ctx.db, kind, q.page).await?;
    let base = match kind {
        Some(k) => format!("/news?kind={}", k.code()),
        None => "/news".to_owned(),
    };
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, base);
    kit::render(&ArticlesPage { chrome: PageChrome::new(&st, &v, "资讯", "news"), items: page.items, pager })
}

pub async fn show_news(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let article = qifu_db::read::public_article(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let chrome = PageChrome::new(&st, &v, &article.title, "news");
    kit::render(&ArticlePage { chrome, article })
}

pub async fn list_activities(State(st): State<AppState>, v: Viewer, Query(q): Query<PageQuery>) -> Page {
    let page = qifu_db::read::published_activities(&st.ctx.db, q.page).await?;
    let pager = Pager::new(q.page, qifu_db::read::PER_PAGE, page.total, "/activities".to_owned());
    kit::render(&ActivitiesPage { chrome: PageChrome::new(&st, &v, "活动", "activities"), items: page.items, pager })
}

pub async fn show_activity(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Page {
    let id = parse_id(&id)?;
    let activity = qifu_db::read::public_activity(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let chrome = PageChrome::new(&st, &v, &activity.title, "activities");
    kit::render(&ActivityPage { chrome, activity })
}

pub async fn show_about(State(st): State<AppState>, v: Viewer) -> Page {
    kit::render(&AboutPage { chrome: PageChrome::new(&st, &v, "关于我们", "about") })
}
