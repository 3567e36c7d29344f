//! The user's message settings (消息设置): channels per category, quiet hours,
//! e-mail, marketing opt-out, and the WeChat binding.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::SignedIn;
use crate::kit::{self, Empty, PageChrome, form};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::messages::settings::{self as msettings, SettingsForm};
use qifu_app::messages::wechat as wxs;
use qifu_domain::messages::{Channel, MessageCategory};
use serde::Deserialize;
use std::collections::HashMap;

/// One row of the settings table.
pub struct PrefRow {
    pub code: &'static str,
    pub label: &'static str,
    pub marketing: bool,
    /// (channel, label, checked)
    pub cells: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "messages/notifications.html")]
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

/// The settings as saved, or (`form`) as submitted.
async fn notifications_page(
    st: &AppState,
    me: &SignedIn,
    form: Option<&SettingsForm>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<NotificationsPage, WebError> {
    let s = msettings::get(&st.ctx, &me.actor).await?;
    let rows = MessageCategory::ALL
        .into_iter()
        .map(|c| PrefRow {
            code: c.code(),
            label: c.label(),
            marketing: c.is_marketing(),
            cells: Channel::OUTSIDE
                .into_iter()
                .map(|ch| {
                    let on = match form {
                        Some(f) => f.checked.contains(&(c, ch)),
                        None => s.wants(c, ch),
                    };
                    (ch.code(), ch.label(), on)
                })
                .collect(),
        })
        .collect();
    let wechat = wxs::binding_of(&st.ctx, me.actor.user_id).await?;
    Ok(NotificationsPage {
        chrome: PageChrome::new(st, &me.viewer, "消息设置", ""),
        rows,
        quiet_start: form.map_or_else(|| msettings::hhmm(s.quiet_start), |f| f.quiet_start.chars().take(5).collect()),
        quiet_end: form.map_or_else(|| msettings::hhmm(s.quiet_end), |f| f.quiet_end.chars().take(5).collect()),
        email: form.map_or_else(|| s.email.clone().unwrap_or_default(), |f| f.email.chars().take(120).collect()),
        marketing_opt_out: form.map_or(s.marketing_opt_out, |f| f.marketing_opt_out),
        wechat,
        wechat_oauth: st.ctx.wechat.oauth_url("x", "x").is_some(),
        notice,
        error,
    })
}

pub async fn show_notifications(
    State(st): State<AppState>,
    me: SignedIn,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(
        &q.done,
        &[
            ("saved", "消息设置已保存。"),
            ("unsubscribed", "已退订活动推广消息。"),
            ("bound", "微信已绑定，之后的通知可以通过公众号发给您。"),
            ("unbound", "已解除微信绑定。"),
        ],
    );
    kit::render(&notifications_page(&st, &me, None, notice, None).await?)
}

pub async fn save_notifications(
    State(st): State<AppState>,
    me: SignedIn,
    CsrfForm { form, .. }: CsrfForm<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let f = SettingsForm::from_pairs(&form);
    match msettings::save(&st.ctx, &me.actor, &me.viewer.meta, &f).await {
        Ok(()) => Ok(Redirect::to("/account/notifications?done=saved").into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            form::invalid(&notifications_page(&st, &me, Some(&f), None, Some(error)).await?)
        }
    }
}

/// One click out of marketing messages (活动推广).
pub async fn unsubscribe(State(st): State<AppState>, me: SignedIn, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    msettings::unsubscribe(&st.ctx, &me.actor, &me.viewer.meta).await?;
    Ok(Redirect::to("/account/notifications?done=unsubscribed").into_response())
}
