//! The message center's pages: the inbox (portal and back office), message
//! settings, templates, the delivery log, broadcasts, and the WeChat official
//! account (its server endpoint, auto-replies, menu and OAuth binding).

use super::admin::{Empty, chrome, staff, xlsx_response};
use super::{PageQuery, lenient_u64};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages::broadcasts::{self, BroadcastError, BroadcastForm, Segment};
use qifu_app::messages::center::{self, CATEGORIES, OUTSIDE};
use qifu_app::messages::settings::{self as msettings, SettingsError, SettingsForm};
use qifu_app::messages::templates::{self, TemplateError, TemplateForm};
use qifu_app::messages::wechat::{self as wxs, ServerError, ServerErrorForm, WxQuery};
use qifu_db::entity::{broadcast, delivery, delivery_attempt, message, message_template, wechat_auto_reply, wechat_log};
use serde::Deserialize;
use std::collections::HashMap;

// ---- inbox ----

#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct MessagePage {
    pub chrome: PageChrome,
    pub m: message::Model,
}

#[derive(Template)]
#[template(path = "admin/messages.html")]
pub struct AdminMessagesPage {
    pub admin: AdminChrome,
    pub items: Vec<message::Model>,
    pub pager: Pager,
    pub open: Option<message::Model>,
}

pub async fn show_message(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let actor = v.require()?;
    let m = qifu_app::messages::read(&st.ctx, actor, parse_id(&id)?).await?;
    // The header's unread count was taken before this read.
    let mut chrome = PageChrome::new(&st, &v, &m.title.clone(), "");
    chrome.unread = chrome.unread.saturating_sub(1);
    Ok(Html(MessagePage { chrome, m }.render()?))
}

pub async fn delete_message(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    qifu_app::messages::delete(&st.ctx, actor, parse_id(&id)?).await?;
    let back =
        if actor.can_use_back_office() && viewer.here.starts_with("/admin") { "/admin/messages" } else { "/account/messages" };
    Ok(Redirect::to(back).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    open: String,
}

pub async fn admin_inbox(State(st): State<AppState>, v: Viewer, Query(q): Query<InboxQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let open = if q.open.is_empty() { None } else { Some(qifu_app::messages::read(&st.ctx, actor, parse_id(&q.open)?).await?) };
    let (items, total) = qifu_app::messages::list(&st.ctx, actor, q.page).await?;
    let mut admin = chrome(&st, &v, actor, "我的站内信", "inbox").await?;
    if open.as_ref().is_some_and(|_| admin.base.unread > 0) {
        admin.base.unread = qifu_app::messages::unread_count(&st.ctx, actor).await?;
    }
    let pager = Pager::new(q.page, 20, total, "/admin/messages".to_owned());
    Ok(Html(AdminMessagesPage { admin, items, pager, open }.render()?))
}

pub async fn admin_read_all(State(st): State<AppState>, CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    qifu_app::messages::mark_all_read(&st.ctx, actor).await?;
    Ok(Redirect::to("/admin/messages").into_response())
}

pub async fn admin_delete_message(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    qifu_app::messages::delete(&st.ctx, actor, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/messages").into_response())
}

// ---- message settings ----

/// One row of the settings table.
pub struct PrefRow {
    pub code: &'static str,
    pub label: &'static str,
    pub marketing: bool,
    /// (channel, label, checked)
    pub cells: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "portal/notifications.html")]
pub struct NotificationsPage {
    pub chrome: PageChrome,
    pub rows: Vec<PrefRow>,
    pub quiet_start: String,
    pub quiet_end: String,
    pub email: String,
    pub marketing_opt_out: bool,
    pub wechat: Option<qifu_db::entity::wechat_binding::Model>,
    pub wechat_oauth: bool,
    pub notice: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn notifications_page(
    st: &AppState,
    v: &Viewer,
    form: Option<&SettingsForm>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<String, WebError> {
    let actor = v.require()?;
    let s = msettings::get(&st.ctx, actor).await?;
    let rows = CATEGORIES
        .iter()
        .map(|c| PrefRow {
            code: c.code,
            label: c.label,
            marketing: c.marketing,
            cells: OUTSIDE
                .iter()
                .map(|ch| {
                    let on = match form {
                        Some(f) => f.checked.iter().any(|(a, b)| a == c.code && b == ch),
                        None => s.wants(c, ch),
                    };
                    (*ch, center::channel_label(ch), on)
                })
                .collect(),
        })
        .collect();
    let wechat = wxs::binding_of(&st.ctx, actor.user_id).await?;
    let page = NotificationsPage {
        chrome: PageChrome::new(st, v, "消息设置", ""),
        rows,
        quiet_start: form.map_or_else(|| msettings::hhmm(s.quiet_start), |f| f.quiet_start.chars().take(5).collect()),
        quiet_end: form.map_or_else(|| msettings::hhmm(s.quiet_end), |f| f.quiet_end.chars().take(5).collect()),
        email: form.map_or_else(|| s.email.clone().unwrap_or_default(), |f| f.email.chars().take(120).collect()),
        marketing_opt_out: form.map_or(s.marketing_opt_out, |f| f.marketing_opt_out),
        wechat,
        wechat_oauth: st.ctx.wechat.oauth_url("x", "x").is_some(),
        notice,
        error,
    };
    Ok(page.render()?)
}

pub async fn show_notifications(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_str() {
        "saved" => Some("消息设置已保存。".to_owned()),
        "unsubscribed" => Some("已退订活动推广消息。".to_owned()),
        "bound" => Some("微信已绑定，之后的通知可以通过公众号发给您。".to_owned()),
        "unbound" => Some("已解除微信绑定。".to_owned()),
        _ => None,
    };
    Ok(Html(notifications_page(&st, &v, None, notice, None).await?))
}

pub async fn save_notifications(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    let f = SettingsForm::from_pairs(&form);
    match msettings::save(&st.ctx, actor, &viewer.meta, &f).await {
        Ok(()) => Ok(Redirect::to("/account/notifications?done=saved").into_response()),
        Err(SettingsError::Db(e)) => Err(e.into()),
        Err(SettingsError::Invalid(m)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(notifications_page(&st, &viewer, Some(&f), None, Some(m)).await?))
                .into_response())
        }
    }
}

pub async fn unsubscribe(State(st): State<AppState>, CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    match msettings::unsubscribe(&st.ctx, actor, &viewer.meta).await {
        Ok(()) => Ok(Redirect::to("/account/notifications?done=unsubscribed").into_response()),
        Err(SettingsError::Db(e)) => Err(e.into()),
        Err(SettingsError::Invalid(m)) => Err(WebError::BadRequest(m)),
    }
}

// ---- templates ----

#[derive(Template)]
#[template(path = "admin/message_templates.html")]
pub struct TemplatesPage {
    pub admin: AdminChrome,
    pub items: Vec<message_template::Model>,
}

#[derive(Template)]
#[template(path = "admin/message_template.html")]
pub struct TemplatePage {
    pub admin: AdminChrome,
    pub t: message_template::Model,
    pub form: TemplateForm,
    pub preview: templates::Rendered,
    pub vars: Vec<String>,
    pub errors: Vec<String>,
    pub notice: Option<String>,
}

impl TemplatePage {
    pub fn category_label(&self) -> &'static str {
        center::category(&self.t.category).label
    }
}

pub fn category_label(code: &str) -> &'static str {
    center::category(code).label
}

fn manager(v: &Viewer) -> Result<&qifu_app::actor::Actor, WebError> {
    let actor = staff(v)?;
    qifu_app::messages::require_manage(actor)?;
    Ok(actor)
}

pub async fn list_templates(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let actor = manager(&v)?;
    let items = templates::list(&st.ctx, actor).await?;
    let admin = chrome(&st, &v, actor, "消息模板", "message_templates").await?;
    Ok(Html(TemplatesPage { admin, items }.render()?))
}

async fn template_page(
    st: &AppState,
    v: &Viewer,
    id: i64,
    form: Option<TemplateForm>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = manager(v)?;
    let t = templates::show(&st.ctx, actor, id).await?;
    let form = form.unwrap_or_else(|| TemplateForm::from_model(&t));
    // The preview renders what was typed (or saved) with sample values.
    let mut shown = t.clone();
    shown.inbox_title = form.inbox_title.clone();
    shown.inbox_body = form.inbox_body.clone();
    shown.sms_text = form.sms_text.clone();
    shown.wechat_fields = form.wechat_fields.clone();
    shown.email_subject = form.email_subject.clone();
    shown.email_body = form.email_body.clone();
    let preview = templates::render(&shown, &templates::sample_vars(&t.variables));
    let vars = t.variables.split(',').map(|s| format!("{{{{{}}}}}", s.trim())).collect();
    let admin = chrome(st, v, actor, &format!("消息模板：{}", t.name), "message_templates").await?;
    Ok(TemplatePage { admin, t, form, preview, vars, errors, notice }.render()?)
}

pub async fn show_template(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = (q.done == "saved").then(|| "模板已保存，之后发出的消息使用新内容。".to_owned());
    Ok(Html(template_page(&st, &v, parse_id(&id)?, None, Vec::new(), notice).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct TemplateSubmit {
    #[serde(flatten)]
    form: TemplateForm,
    #[serde(default)]
    action: String,
}

pub async fn save_template(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<TemplateSubmit>,
) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    let id = parse_id(&id)?;
    if form.action == "preview" {
        let t = templates::show(&st.ctx, actor, id).await?;
        let errors = templates::check(&form.form, &t.variables);
        return Ok(Html(template_page(&st, &viewer, id, Some(form.form), errors, None).await?).into_response());
    }
    match templates::save(&st.ctx, actor, &viewer.meta, id, &form.form).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/message-templates/{id}?done=saved")).into_response()),
        Err(TemplateError::Access(a)) => Err(a.into()),
        Err(TemplateError::Invalid(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(template_page(&st, &viewer, id, Some(form.form), errors, None).await?))
                .into_response())
        }
    }
}

// ---- deliveries ----

#[derive(Template)]
#[template(path = "admin/deliveries.html")]
pub struct DeliveriesPage {
    pub admin: AdminChrome,
    pub items: Vec<delivery::Model>,
    pub pager: Pager,
    pub channel: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "admin/delivery.html")]
pub struct DeliveryPage {
    pub admin: AdminChrome,
    pub d: delivery::Model,
    pub attempts: Vec<delivery_attempt::Model>,
}

pub fn channel_label(c: &str) -> &'static str {
    center::channel_label(c)
}

pub fn delivery_status(s: &str) -> &'static str {
    center::status_label(s)
}

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
}

pub async fn list_deliveries(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<DeliveryQuery>,
) -> Result<Html<String>, WebError> {
    let actor = manager(&v)?;
    let channel = if OUTSIDE.contains(&q.channel.as_str()) { q.channel.clone() } else { String::new() };
    let status = if ["queued", "deferred", "retrying", "sent", "failed", "skipped"].contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        String::new()
    };
    let f = center::DeliveryFilter { channel: channel.clone(), status: status.clone() };
    let (items, total) = center::list_deliveries(&st.ctx, actor, &f, q.page).await?;
    let base = format!("/admin/deliveries?channel={channel}&status={status}");
    let admin = chrome(&st, &v, actor, "发送记录", "deliveries").await?;
    Ok(Html(DeliveriesPage { admin, items, pager: Pager::new(q.page, 30, total, base), channel, status }.render()?))
}

pub async fn show_delivery(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let actor = manager(&v)?;
    let view = center::show_delivery(&st.ctx, actor, parse_id(&id)?).await?;
    let admin = chrome(&st, &v, actor, &format!("发送记录 #{}", view.delivery.id), "deliveries").await?;
    Ok(Html(DeliveryPage { admin, d: view.delivery, attempts: view.attempts }.render()?))
}

// ---- broadcasts ----

#[derive(Template)]
#[template(path = "admin/broadcasts.html")]
pub struct BroadcastsPage {
    pub admin: AdminChrome,
    pub items: Vec<broadcast::Model>,
    pub pager: Pager,
    pub form: BroadcastFormView,
    pub preview: Option<broadcasts::Preview>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/broadcast.html")]
pub struct BroadcastPage {
    pub admin: AdminChrome,
    pub r: broadcasts::Report,
    pub segment: String,
}

/// The form as typed, for showing it again.
#[derive(Debug, Clone, Default)]
pub struct BroadcastFormView {
    pub title: String,
    pub body: String,
    pub kind: String,
    pub sms: bool,
    pub wechat: bool,
    pub email: bool,
    pub scheduled_at: String,
    pub seg: Segment,
}

impl BroadcastFormView {
    fn of(f: &BroadcastForm) -> Self {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        BroadcastFormView {
            title: cut(&f.title, 60),
            body: cut(&f.body, 2000),
            kind: f.kind.clone(),
            sms: f.ch_sms.is_some(),
            wechat: f.ch_wechat.is_some(),
            email: f.ch_email.is_some(),
            scheduled_at: cut(&f.scheduled_at, 16),
            seg: Segment {
                industry: cut(&f.segment.industry, 8),
                division: cut(&f.segment.division, 12),
                size_class: cut(&f.segment.size_class, 8),
                certified: cut(&f.segment.certified, 3),
                tag: cut(&f.segment.tag, 30),
                policy_id: cut(&f.segment.policy_id, 12),
                channel: cut(&f.segment.channel, 32),
                scene: cut(&f.segment.scene, 64),
            },
        }
    }
}

pub fn broadcast_status(s: &str) -> &'static str {
    broadcasts::status_label(s)
}

async fn broadcasts_page(
    st: &AppState,
    v: &Viewer,
    page: u64,
    form: BroadcastFormView,
    preview: Option<broadcasts::Preview>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = manager(v)?;
    let (items, total) = broadcasts::list(&st.ctx, actor, page).await?;
    let admin = chrome(st, v, actor, "群发消息", "broadcasts").await?;
    let pager = Pager::new(page, 20, total, "/admin/broadcasts".to_owned());
    Ok(BroadcastsPage { admin, items, pager, form, preview, error, notice }.render()?)
}

pub async fn list_broadcasts(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<PageQuery>,
    Query(d): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = match d.done.as_str() {
        "created" => Some("群发已安排，到时间后由后台任务发送。".to_owned()),
        "cancelled" => Some("群发已取消。".to_owned()),
        _ => None,
    };
    let form = BroadcastFormView { kind: "notice".to_owned(), wechat: true, ..Default::default() };
    Ok(Html(broadcasts_page(&st, &v, q.page, form, None, None, notice).await?))
}

#[derive(Debug, Deserialize)]
pub struct BroadcastSubmit {
    #[serde(flatten)]
    form: BroadcastForm,
    #[serde(default)]
    action: String,
}

pub async fn create_broadcast(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<BroadcastSubmit>,
) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    let view = BroadcastFormView::of(&form.form);
    if form.action == "preview" {
        return match broadcasts::preview(&st.ctx, actor, &form.form.segment).await {
            Ok(p) => Ok(Html(broadcasts_page(&st, &viewer, 1, view, Some(p), None, None).await?).into_response()),
            Err(BroadcastError::Access(a)) => Err(a.into()),
            Err(BroadcastError::Invalid(m)) => {
                Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(broadcasts_page(&st, &viewer, 1, view, None, Some(m), None).await?))
                    .into_response())
            }
        };
    }
    match broadcasts::create(&st.ctx, actor, &viewer.meta, &form.form).await {
        Ok(_) => Ok(Redirect::to("/admin/broadcasts?done=created").into_response()),
        Err(BroadcastError::Access(a)) => Err(a.into()),
        Err(BroadcastError::Invalid(m)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(broadcasts_page(&st, &viewer, 1, view, None, Some(m), None).await?))
                .into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    export: String,
}

pub async fn show_broadcast(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let actor = manager(&v)?;
    let id = parse_id(&id)?;
    if q.export == "xlsx" {
        let bytes = broadcasts::report_xlsx(&st.ctx, actor, id).await?;
        return Ok(xlsx_response(bytes, &format!("broadcast-{id}")));
    }
    let r = broadcasts::report(&st.ctx, actor, id).await?;
    let segment = serde_json::from_str::<Segment>(&r.broadcast.segment).unwrap_or_default().describe();
    let admin = chrome(&st, &v, actor, &format!("群发：{}", r.broadcast.title), "broadcasts").await?;
    Ok(Html(BroadcastPage { admin, r, segment }.render()?).into_response())
}

pub async fn cancel_broadcast(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    match broadcasts::cancel(&st.ctx, actor, &viewer.meta, parse_id(&id)?).await {
        Ok(()) => Ok(Redirect::to("/admin/broadcasts?done=cancelled").into_response()),
        Err(BroadcastError::Access(a)) => Err(a.into()),
        Err(BroadcastError::Invalid(m)) => Err(WebError::BadRequest(m)),
    }
}

// ---- WeChat: back office ----

#[derive(Template)]
#[template(path = "admin/wechat.html")]
pub struct WechatAdminPage {
    pub admin: AdminChrome,
    pub replies: Vec<wechat_auto_reply::Model>,
    pub menu_text: String,
    pub menu_status: Option<String>,
    pub logs: Vec<wechat_log::Model>,
    pub server_ready: bool,
    pub safe_mode: bool,
    pub provider: String,
    pub reply_form: wxs::AutoReplyForm,
    pub error: Option<String>,
    pub notice: Option<String>,
    /// The "试一试" box: what was typed, the rule hit, the reply.
    pub tried: Option<(String, Option<String>, Vec<String>)>,
}

pub fn wechat_log_kind(k: &str) -> &'static str {
    match k {
        "bad_signature" => "签名校验失败",
        "text" => "文本消息",
        "subscribe" => "关注",
        "unsubscribe" => "取消关注",
        "scan" => "扫码",
        "click" => "点击菜单",
        "view" => "打开菜单链接",
        _ => "其他",
    }
}

const MENU_EXAMPLE: &str = "政策服务\n- 最新政策 | click | 政策\n- 政策计算器 | view | https://qifu.example.gov.cn/policies/calculator\n服务市场 | view | https://qifu.example.gov.cn/products\n我的 | view | https://qifu.example.gov.cn/account";

async fn wechat_page(
    st: &AppState,
    v: &Viewer,
    reply_form: wxs::AutoReplyForm,
    menu_text: Option<String>,
    error: Option<String>,
    notice: Option<String>,
    tried: Option<String>,
) -> Result<String, WebError> {
    let actor = manager(v)?;
    let tried = match tried.filter(|t| !t.trim().is_empty()) {
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
    let admin = chrome(st, v, actor, "微信公众号", "wechat").await?;
    Ok(WechatAdminPage {
        admin,
        replies,
        menu_text: menu_text.unwrap_or_else(|| menu.as_ref().map_or_else(|| MENU_EXAMPLE.to_owned(), |m| m.body.clone())),
        menu_status: menu.and_then(|m| m.publish_status),
        logs,
        server_ready: !w.token.is_empty(),
        safe_mode: !w.aes_key.is_empty(),
        provider: st.ctx.wechat.name().to_owned(),
        reply_form,
        error,
        notice,
        tried,
    }
    .render()?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WechatQuery {
    done: String,
    #[serde(rename = "try")]
    try_text: String,
}

pub async fn wechat_admin(State(st): State<AppState>, v: Viewer, Query(q): Query<WechatQuery>) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_str() {
        "added" => Some("自动回复已添加。".to_owned()),
        "deleted" => Some("自动回复已删除。".to_owned()),
        _ => None,
    };
    let form = wxs::AutoReplyForm { match_kind: "exact".to_owned(), reply_kind: "text".to_owned(), ..Default::default() };
    Ok(Html(wechat_page(&st, &v, form, None, None, notice, Some(q.try_text)).await?))
}

pub async fn add_auto_reply(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<wxs::AutoReplyForm>,
) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    match wxs::add_auto_reply(&st.ctx, actor, &viewer.meta, &form).await {
        Ok(_) => Ok(Redirect::to("/admin/wechat?done=added").into_response()),
        Err(ServerErrorForm::Access(a)) => Err(a.into()),
        Err(ServerErrorForm::Invalid(m)) => {
            let shown = wxs::AutoReplyForm {
                keyword: form.keyword.chars().take(30).collect(),
                content: form.content.chars().take(600).collect(),
                ..form
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(wechat_page(&st, &viewer, shown, None, Some(m), None, None).await?))
                .into_response())
        }
    }
}

pub async fn delete_auto_reply(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    wxs::delete_auto_reply(&st.ctx, actor, &viewer.meta, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/wechat?done=deleted").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct MenuForm {
    #[serde(default)]
    menu: String,
}

pub async fn save_menu(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<MenuForm>) -> Result<Response, WebError> {
    let actor = manager(&viewer)?;
    let blank = wxs::AutoReplyForm { match_kind: "exact".to_owned(), reply_kind: "text".to_owned(), ..Default::default() };
    match wxs::save_menu(&st.ctx, actor, &viewer.meta, &form.menu).await {
        Ok(status) => {
            Ok(Html(wechat_page(&st, &viewer, blank, None, None, Some(format!("菜单{status}")), None).await?).into_response())
        }
        Err(ServerErrorForm::Access(a)) => Err(a.into()),
        Err(ServerErrorForm::Invalid(m)) => {
            let text: String = form.menu.chars().take(4000).collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(wechat_page(&st, &viewer, blank, Some(text), Some(m), None, None).await?))
                .into_response())
        }
    }
}

// ---- WeChat: the server endpoint ----

fn wechat_error(e: ServerError) -> Response {
    match e {
        ServerError::Forbidden => (StatusCode::FORBIDDEN, "invalid signature").into_response(),
        ServerError::BadRequest(m) => {
            tracing::info!(error = %m, "wechat: bad request");
            (StatusCode::BAD_REQUEST, "bad request").into_response()
        }
        ServerError::NotConfigured => (StatusCode::NOT_FOUND, "wechat server not configured").into_response(),
        ServerError::Db(e) => {
            tracing::error!(error = %e, "wechat: database error");
            (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response()
        }
    }
}

fn lenient_query(raw: Option<&str>) -> Result<WxQuery, Box<Response>> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| Box::new((StatusCode::BAD_REQUEST, "bad query").into_response()))
}

pub async fn wechat_get(State(st): State<AppState>, uri: axum::http::Uri) -> Response {
    let q = match lenient_query(uri.query()) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    match wxs::verify_url(&st.ctx, &q).await {
        Ok(echo) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response(),
        Err(e) => wechat_error(e),
    }
}

pub async fn wechat_post(State(st): State<AppState>, req: axum::extract::Request) -> Response {
    let q = match lenient_query(req.uri().query()) {
        Ok(q) => q,
        Err(r) => return *r,
    };
    // Read at most 64 KiB (not the upload limit): more is refused with 400.
    let Ok(body) = axum::body::to_bytes(req.into_body(), wxs::MAX_BODY).await else {
        return (StatusCode::BAD_REQUEST, "body too large").into_response();
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "bad encoding").into_response();
    };
    match wxs::handle(&st.ctx, &q, text).await {
        Ok(reply) => ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], reply).into_response(),
        Err(e) => wechat_error(e),
    }
}

// ---- WeChat: web OAuth binding ----

/// The OAuth `state`: derived from the session's CSRF token (SM3), so the token
/// itself never travels to WeChat or into a callback URL.
fn oauth_state(v: &Viewer) -> String {
    use sm3::{Digest, Sm3};
    hex::encode(Sm3::digest(format!("wechat-oauth:{}", v.form_token()).as_bytes()))[..32].to_owned()
}

/// Sends the signed-in user to WeChat's authorisation page; back at the callback.
pub async fn oauth_start(State(st): State<AppState>, v: Viewer) -> Result<Response, WebError> {
    let _ = v.require()?;
    let redirect = center::absolute(&st.ctx, "/wechat/oauth/callback");
    match st.ctx.wechat.oauth_url(&redirect, &oauth_state(&v)) {
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

pub async fn oauth_callback(State(st): State<AppState>, v: Viewer, Query(q): Query<OauthBack>) -> Result<Response, WebError> {
    let actor = v.require()?;
    if q.state.is_empty() || q.state != oauth_state(&v) {
        return Err(WebError::Csrf);
    }
    match wxs::bind_by_code(&st.ctx, actor, &v.meta, &q.code).await {
        Ok(_) => Ok(Redirect::to("/account/notifications?done=bound").into_response()),
        Err(ServerErrorForm::Access(a)) => Err(a.into()),
        Err(ServerErrorForm::Invalid(m)) => Err(WebError::BadRequest(m)),
    }
}

pub async fn unbind_wechat(State(st): State<AppState>, CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    wxs::unbind(&st.ctx, actor, &viewer.meta).await?;
    Ok(Redirect::to("/account/notifications?done=unbound").into_response())
}
