//! Layout data every page shares: the portal chrome, the back office's side
//! menu, the signed-in user's badge, and the error page.

use crate::AppState;
use crate::error::WebError;
use crate::extract::Viewer;
use askama::Template;
use qifu_app::Settings;
use qifu_app::accounts::MenuNode;
use qifu_app::actor::Actor;
use std::sync::Arc;

/// The signed-in user as the header shows them.
#[derive(Clone, Debug)]
pub struct UserBadge {
    pub display_name: String,
    pub org_name: String,
    pub roles: String,
    pub back_office: bool,
}

/// Layout data shared by every page.
#[derive(Clone, Debug)]
pub struct PageChrome {
    pub settings: Arc<Settings>,
    pub title: String,
    pub nav: &'static str,
    pub css: String,
    pub js: String,
    pub emblem: String,
    pub user: Option<UserBadge>,
    pub csrf: String,
    /// One per rendered page: a form sent twice with it (a double click, a
    /// retry after a dropped connection) is carried out once (`middleware::form_once`).
    pub once: String,
    pub a11y: bool,
    pub here: String,
    pub q: String,
    pub unread: u64,
}

impl PageChrome {
    pub fn new(st: &AppState, v: &Viewer, title: &str, nav: &'static str) -> Self {
        let mut c = Self::bare(st, v.a11y, title);
        c.nav = nav;
        c.user = v.actor().map(|a| UserBadge {
            display_name: a.display_name.clone(),
            org_name: a.org_name.clone(),
            roles: a.role_labels(),
            back_office: a.can_use_back_office(),
        });
        c.csrf = v.form_token().to_owned();
        c.here = v.here.clone();
        c.unread = v.unread;
        c
    }

    /// For pages rendered without a visitor (error pages).
    pub fn bare(st: &AppState, a11y: bool, title: &str) -> Self {
        PageChrome {
            settings: st.ctx.settings.clone(),
            title: title.to_owned(),
            nav: "",
            css: st.assets.url("app.css").to_owned(),
            js: st.assets.url("app.js").to_owned(),
            emblem: st.assets.url("emblem.svg").to_owned(),
            user: None,
            csrf: String::new(),
            once: uuid::Uuid::new_v4().simple().to_string(),
            a11y,
            here: "/".to_owned(),
            q: String::new(),
            unread: 0,
        }
    }

    pub fn is(&self, nav: &str) -> bool {
        self.nav == nav
    }

    /// Link that toggles the large-text mode and returns here.
    pub fn a11y_href(&self) -> String {
        let to = if self.a11y { "0" } else { "1" };
        format!("/a11y?on={to}&back={}", crate::error::urlencode(&self.here))
    }
}

/// Back-office layout data: the portal chrome plus the side menu.
#[derive(Clone, Debug)]
pub struct AdminChrome {
    pub base: PageChrome,
    pub menu: Vec<MenuNode>,
    pub active: &'static str,
}

impl AdminChrome {
    /// The layout of a back-office page: `active` is the side-menu entry shown as current.
    pub async fn new(st: &AppState, v: &Viewer, actor: &Actor, title: &str, active: &'static str) -> Result<Self, WebError> {
        let menu = qifu_app::accounts::back_office_menu(&st.ctx, actor).await?;
        Ok(AdminChrome { base: PageChrome::new(st, v, title, ""), menu, active })
    }
}

/// The Chinese error page, with the request id to quote.
#[derive(Template)]
#[template(path = "layout/error.html")]
pub struct ErrorPage {
    pub chrome: PageChrome,
    pub status: u16,
    pub message: String,
    pub request_id: String,
}
