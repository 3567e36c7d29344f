//! The delivery log (发送记录): every SMS, WeChat and e-mail delivery and its attempts.

use super::Manager;
use crate::AppState;
use crate::error::WebError;
use crate::kit::{self, AdminChrome, Pager, lenient_u64, parse_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use qifu_app::messages::center;
use qifu_db::entity::{delivery, delivery_attempt};
use qifu_domain::messages::{Channel, DeliveryStatus};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "messages/admin_deliveries.html")]
pub struct DeliveriesPage {
    pub admin: AdminChrome,
    pub items: Vec<delivery::Model>,
    pub pager: Pager,
    pub channel: Option<Channel>,
    pub status: Option<DeliveryStatus>,
}

/// The states the filter offers (a delivery is "sending" only for an instant).
pub const STATUS_FILTERS: [DeliveryStatus; 6] = [
    DeliveryStatus::Queued,
    DeliveryStatus::Deferred,
    DeliveryStatus::Retrying,
    DeliveryStatus::Sent,
    DeliveryStatus::Failed,
    DeliveryStatus::Skipped,
];

#[derive(Template)]
#[template(path = "messages/admin_delivery.html")]
pub struct DeliveryPage {
    pub admin: AdminChrome,
    pub d: delivery::Model,
    pub attempts: Vec<delivery_attempt::Model>,
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
    let channel = Channel::parse(&q.channel).filter(|c| Channel::OUTSIDE.contains(c));
    let status = DeliveryStatus::parse(&q.status).filter(|s| STATUS_FILTERS.contains(s));
    let f = center::DeliveryFilter { channel, status };
    let (items, total) = center::list_deliveries(&st.ctx, &staff.actor, &f, q.page).await?;
    let base = format!(
        "/admin/deliveries?channel={}&status={}",
        channel.map_or("", Channel::code),
        status.map_or("", DeliveryStatus::code)
    );
    let admin = staff.chrome(&st, "发送记录", "deliveries").await?;
    kit::render(&DeliveriesPage { admin, items, pager: Pager::new(q.page, 30, total, base), channel, status })
}

pub async fn show_delivery(State(st): State<AppState>, staff: Manager, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let view = center::show_delivery(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    let admin = staff.chrome(&st, &format!("发送记录 #{}", view.delivery.id), "deliveries").await?;
    kit::render(&DeliveryPage { admin, d: view.delivery, attempts: view.attempts })
}
