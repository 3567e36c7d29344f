//! The message center: the in-site inbox (portal and back office), message
//! settings, templates, the delivery log, broadcasts, and the WeChat official
//! account (its server endpoint, auto-replies, menu and OAuth binding).

mod broadcasts;
mod deliveries;
mod inbox;
mod settings;
mod templates;
mod wechat;

use crate::AppState;
use crate::error::WebError;
use crate::guard::{Staff, perm};
use axum::Router;
use axum::routing::{get, post};
use qifu_app::messages::broadcasts::BroadcastError;
use qifu_app::messages::settings::SettingsError;
use qifu_app::messages::templates::TemplateError;
use qifu_app::messages::wechat::ServerErrorForm;

/// Who manages templates, deliveries, broadcasts and WeChat: 管理消息中心.
type Manager = Staff<perm::MessageManage>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/messages", get(inbox::list_messages))
        .route("/account/messages/read-all", post(inbox::read_all))
        .route("/account/messages/{id}", get(inbox::show_message))
        .route("/account/messages/{id}/delete", post(inbox::delete_message))
        .route("/account/notifications", get(settings::show_notifications).post(settings::save_notifications))
        .route("/account/notifications/unsubscribe", post(settings::unsubscribe))
        .route("/account/wechat/unbind", post(wechat::unbind))
        .route("/wechat/oauth", get(wechat::oauth_start))
        .route("/wechat/oauth/callback", get(wechat::oauth_callback))
        .route("/wechat", get(wechat::server_get).post(wechat::server_post))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/messages", get(inbox::admin_inbox))
        .route("/admin/messages/read-all", post(inbox::admin_read_all))
        .route("/admin/messages/{id}/delete", post(inbox::admin_delete_message))
        .route("/admin/message-templates", get(templates::list_templates))
        .route("/admin/message-templates/{id}", get(templates::show_template).post(templates::save_template))
        .route("/admin/deliveries", get(deliveries::list_deliveries))
        .route("/admin/deliveries/{id}", get(deliveries::show_delivery))
        .route("/admin/broadcasts", get(broadcasts::list_broadcasts).post(broadcasts::create_broadcast))
        .route("/admin/broadcasts/{id}", get(broadcasts::show_broadcast))
        .route("/admin/broadcasts/{id}/cancel", post(broadcasts::cancel_broadcast))
        .route("/admin/wechat", get(wechat::show_wechat))
        .route("/admin/wechat/replies", post(wechat::add_auto_reply))
        .route("/admin/wechat/replies/{id}/delete", post(wechat::delete_auto_reply))
        .route("/admin/wechat/menu", post(wechat::save_menu))
}

impl From<TemplateError> for WebError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Invalid(list) => {
                let mut f = crate::error::FieldErrors::default();
                for m in list {
                    f.push("form", m);
                }
                WebError::Invalid(f)
            }
            TemplateError::Access(a) => a.into(),
        }
    }
}

impl From<BroadcastError> for WebError {
    fn from(e: BroadcastError) -> Self {
        match e {
            BroadcastError::Invalid(m) => WebError::invalid(m),
            BroadcastError::Access(a) => a.into(),
        }
    }
}

impl From<SettingsError> for WebError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(m) => WebError::invalid(m),
            SettingsError::Db(d) => d.into(),
        }
    }
}

impl From<ServerErrorForm> for WebError {
    fn from(e: ServerErrorForm) -> Self {
        match e {
            ServerErrorForm::Invalid(m) => WebError::invalid(m),
            ServerErrorForm::Access(a) => a.into(),
        }
    }
}
