//! The WeChat official account: the server endpoint WeChat calls, the back
//! office's auto-replies and menu, and binding a user by web OAuth.

use super::Manager;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::guard::SignedIn;
use crate::kit::{self, AdminChrome, Empty, form, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages::center;
use qifu_app::messages::wechat::{self as wxs, ServerError, ServerErrorForm, WxQuery};
use qifu_db::entity::{wechat_auto_reply, wechat_log};
use qifu_domain::messages::{ReplyKind, ReplyMatch, WechatLogKind};
use serde::Deserialize;

// ---- back office ----

#[derive(Template)]
#[template(path = "messages/admin_wechat.html")]
pub struct WechatAdminPage {
    pub admin: AdminChrome,
    pub replies: Vec<wechat_auto_reply::Model>,
    pub menu_text: String,
    pub menu_status: Option<String>,
    pub logs: Vec<wechat_log::Model>,
    pub server_ready: bool,
    pub safe_mode: bool,
    /// The WeChat API is configured (not the record-only provider).
    pub connected: bool,
    pub reply_form: wxs::AutoReplyForm,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The "试一试" box: what was typed, the rule hit, the reply.
    pub tried: Option<(String, Option<String>, Vec<String>)>,
}

const MENU_EXAMPLE: &str = "政策服务\n- 最新政策 | click | 政策\n- 政策计算器 | view | https://qifu.example.gov.cn/policies/calculator\n服务市场 | view | https://qifu.example.gov.cn/products\n我的 | view | https://qifu.example.gov.cn/account";

/// What the WeChat page shows besides the saved state.
#[derive(Default)]
struct Shown {
    reply_form: wxs::AutoReplyForm,
    /// The menu as submitted (instead of the saved one).
    menu_text: Option<String>,
    error: Option<String>,
    notice: Option<String>,
    /// A message to try the auto-replies with.
    tried: Option<String>,
}

fn blank_reply() -> wxs::AutoReplyForm {
    wxs::AutoReplyForm { match_kind: "exact".to_owned(), reply_kind: "text".to_owned(), ..Default::default() }
}

async fn wechat_page(st: &AppState, staff: &Manager, shown: Shown) -> Result<WechatAdminPage, WebError> {
    let actor = &staff.actor;
    let tried = match shown.tried.filter(|t| !t.trim().is_empty()) {
        Some(t) => {
            let (rule, lines) = wxs::try_reply(&st.ctx, actor, &t).await?;
            Some((t.chars().take(60).collect(), rule, lines))
        }
        None => None,
    };
    let replies = wxs::list_auto_replies(&st.ctx, actor).await?;
    let menu = wxs::current_menu(&st.ctx, actor).await?;
    let logs = wxs::recent_logs(&st.ctx, actor).await?;
    let w = &st.ctx.settings.wechat;
    let admin = staff.chrome(st, "微信公众号", "wechat").await?;
    Ok(WechatAdminPage {
        admin,
        replies,
        menu_text: shown.menu_text.unwrap_or_else(|| menu.as_ref().map_or_else(|| MENU_EXAMPLE.to_owned(), |m| m.body.clone())),
        menu_status: menu.and_then(|m| m.publish_status),
        logs,
        server_ready: !w.token.is_empty(),
        safe_mode: !w.aes_key.is_empty(),
        connected: !st.ctx.wechat.records_only(),
        reply_form: shown.reply_form,
        error: shown.error,
        notice: shown.notice,
        tried,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WechatQuery {
    done: String,
    #[serde(rename = "try")]
    try_text: String,
}

pub async fn show_wechat(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<WechatQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(&q.done, &[("added", "自动回复已添加。"), ("deleted", "自动回复已删除。")]);
    kit::render(
        &wechat_page(&st, &staff, Shown { reply_form: blank_reply(), notice, tried: Some(q.try_text), ..Default::default() })
            .await?,
    )
}

pub async fn add_auto_reply(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<wxs::AutoReplyForm>,
) -> Result<Response, WebError> {
    match wxs::add_auto_reply(&st.ctx, &staff.actor, &staff.viewer.meta, &form).await {
        Ok(_) => Ok(Redirect::to("/admin/wechat?done=added").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            let reply_form = wxs::AutoReplyForm {
                keyword: form.keyword.chars().take(30).collect(),
                content: form.content.chars().take(600).collect(),
                ..form
            };
            form::invalid(&wechat_page(&st, &staff, Shown { reply_form, error: Some(error), ..Default::default() }).await?)
        }
    }
}

pub async fn delete_auto_reply(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    wxs::delete_auto_reply(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/wechat?done=deleted").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct MenuForm {
    #[serde(default)]
    menu: String,
}

pub async fn save_menu(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<MenuForm>,
) -> Result<Response, WebError> {
    match wxs::save_menu(&st.ctx, &staff.actor, &staff.viewer.meta, &form.menu).await {
        Ok(status) => {
            let shown = Shown { reply_form: blank_reply(), notice: Some(format!("菜单{status}")), ..Default::default() };
            Ok(kit::render(&wechat_page(&st, &staff, shown).await?)?.into_response())
        }
        Err(e) => {
            let error = form::errors(e)?.summary();
            let menu_text = Some(form.menu.chars().take(4000).collect());
            let shown = Shown { reply_form: blank_reply(), menu_text, error: Some(error), ..Default::default() };
            form::invalid(&wechat_page(&st, &staff, shown).await?)
        }
    }
}

// ---- the server endpoint ----

/// A request WeChat's server made that cannot be answered: said with the
/// status only (the body is the plain error page; nothing of the cause).
fn unreadable() -> WebError {
    WebError::BadRequest("提交的内容格式不正确，请检查后重试。".to_owned())
}

impl From<ServerError> for WebError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::Forbidden => WebError::Forbidden,
            ServerError::BadRequest(m) => {
                tracing::info!(error = %m, "wechat: bad request");
                unreadable()
            }
            ServerError::NotConfigured => WebError::NotFound,
            ServerError::Db(d) => d.into(),
        }
    }
}

fn wx_query(raw: Option<&str>) -> Result<WxQuery, WebError> {
    serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|_| unreadable())
}

/// WeChat's URL check: echo `echostr` when the signature holds.
pub async fn server_get(State(st): State<AppState>, uri: axum::http::Uri) -> Result<Response, WebError> {
    let echo = wxs::verify_url(&st.ctx, &wx_query(uri.query())?).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response())
}

/// A message or event from WeChat; the reply is XML.
pub async fn server_post(State(st): State<AppState>, req: axum::extract::Request) -> Result<Response, WebError> {
    let q = wx_query(req.uri().query())?;
    // Read at most 64 KiB (not the upload limit): more is refused with 400.
    let body = axum::body::to_bytes(req.into_body(), wxs::MAX_BODY).await.map_err(|_| unreadable())?;
    let text = std::str::from_utf8(&body).map_err(|_| unreadable())?;
    let reply = wxs::handle(&st.ctx, &q, text).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], reply).into_response())
}

// ---- binding by web OAuth ----

/// The OAuth `state`: derived from the session's CSRF token (SM3), so the token
/// itself never travels to WeChat or into a callback URL.
fn oauth_state(v: &Viewer) -> String {
    use sm3::{Digest, Sm3};
    hex::encode(Sm3::digest(format!("wechat-oauth:{}", v.form_token()).as_bytes()))[..32].to_owned()
}

/// Sends the signed-in user to WeChat's authorisation page; back at the callback.
pub async fn oauth_start(State(st): State<AppState>, me: SignedIn) -> Result<Response, WebError> {
    let redirect = center::absolute(&st.ctx, "/wechat/oauth/callback");
    match st.ctx.wechat.oauth_url(&redirect, &oauth_state(&me.viewer)) {
        Some(url) => Ok(Redirect::to(&url).into_response()),
        None => Err(WebError::BadRequest("本平台尚未接入微信公众号网页授权。".to_owned())),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OauthBack {
    code: String,
    state: String,
}

pub async fn oauth_callback(State(st): State<AppState>, me: SignedIn, Query(q): Query<OauthBack>) -> Result<Response, WebError> {
    if q.state.is_empty() || q.state != oauth_state(&me.viewer) {
        return Err(WebError::Csrf);
    }
    wxs::bind_by_code(&st.ctx, &me.actor, &me.viewer.meta, &q.code).await.map_err(|e| match e {
        // The code comes from WeChat's redirect, not from a form the user can
        // correct: one WeChat does not accept makes a bad request.
        ServerErrorForm::Invalid(m) => WebError::BadRequest(m),
        e => e.into(),
    })?;
    Ok(Redirect::to("/account/notifications?done=bound").into_response())
}

pub async fn unbind(State(st): State<AppState>, me: SignedIn, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    wxs::unbind(&st.ctx, &me.actor, &me.viewer.meta).await?;
    Ok(Redirect::to("/account/notifications?done=unbound").into_response())
}
