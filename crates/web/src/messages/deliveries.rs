//! The delivery log (发送记录): every SMS, WeChat and e-mail delivery and its attempts.

use super::Manager;
use crate::AppState;
use crate::error::WebError;
use crate::kit::{self, AdminChrome, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use qifu_app::messages::center::{self, OUTSIDE};
use qifu_db::entity::{delivery, delivery_attempt};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "messages/admin_deliveries.html")]
pub struct DeliveriesPage {
    pub admin: AdminChrome,
    pub items: Vec<delivery::Model>,
    pub pager: Pager,
    pub channel: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "messages/admin_delivery.html")]
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
    staff: Manager,
    Query(q): Query<DeliveryQuery>,
) -> Result<Html<String>, WebError> {
    let channel = if OUTSIDE.contains(&q.channel.as_str()) { q.channel.clone() } else { String::new() };
    let status = if ["queued", "deferred", "retrying", "sent", "failed", "skipped"].contains(&q.status.as_str()) {
        q.status.clone()
    } else {
        String::new()
    };
    let f = center::DeliveryFilter { channel: channel.clone(), status: status.clone() };
    let (items, total) = center::list_deliveries(&st.ctx, &staff.actor, &f, q.page).await?;
    let base = format!("/admin/deliveries?channel={channel}&status={status}");
    let admin = staff.chrome(&st, "发送记录", "deliveries").await?;
    kit::render(&DeliveriesPage { admin, items, pager: Pager::new(q.page, 30, total, base), channel, status })
}

pub async fn show_delivery(State(st): State<AppState>, staff: Manager, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let view = center::show_delivery(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    let admin = staff.chrome(&st, &format!("发送记录 #{}", view.delivery.id), "deliveries").await?;
    kit::render(&DeliveryPage { admin, d: view.delivery, attempts: view.attempts })
}
