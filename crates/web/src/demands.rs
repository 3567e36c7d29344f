//! Demands (服务需求): applying for a product on the portal, the enterprise's own
//! demands, the institution's inbox and the operator's overview, and the
//! actions and messages of a demand's lifecycle.

mod admin;
mod portal;

use crate::AppState;
use crate::error::WebError;
use crate::guard::{SignedIn, Staff};
use crate::kit::files::file_response;
use crate::kit::parse_id;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use qifu_app::actor::Actor;
use qifu_app::demands::{self, ActionInput, DemandError, DemandFile};
use qifu_domain::demands::DemandEvent;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products/{id}/apply", get(portal::show_apply).post(portal::apply))
        .route("/account/demands", get(portal::my_demands))
        .route("/account/demands/{id}", get(portal::my_demand))
        .route("/account/demands/{id}/files/{which}", get(show_own_file))
        .route("/account/demands/{id}/{action}", post(portal::my_demand_action))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/demands", get(admin::list_demands))
        .route("/admin/demands/{id}", get(admin::show_demand))
        .route("/admin/demands/{id}/files/{which}", get(show_file))
        .route("/admin/demands/{id}/deliver", post(admin::deliver_demand))
        .route("/admin/demands/{id}/{action}", post(admin::demand_action))
}

impl From<DemandError> for WebError {
    fn from(e: DemandError) -> Self {
        match e {
            DemandError::Fields(list) => WebError::Invalid(list.into()),
            DemandError::State(m) => WebError::Conflict(m),
            DemandError::Access(a) => a.into(),
        }
    }
}

/// `?done=` after an action.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_notice(code: &str) -> Option<String> {
    crate::kit::notice(
        code,
        &[
            ("submitted", "需求已提交，服务机构受理后会通知您。"),
            ("done", "已办理。"),
            ("message", "留言已发送。"),
            ("rated", "感谢您的评价。"),
        ],
    )
}

/// The fields of every action form of a demand page.
#[derive(Debug, Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    granted_amount_wan: String,
    #[serde(default)]
    granted_rate: String,
    #[serde(default)]
    granted_term_months: String,
    #[serde(default)]
    to_institution: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

fn event_of(action: &str) -> Option<DemandEvent> {
    Some(match action {
        "accept" => DemandEvent::Accept,
        "decline" => DemandEvent::Decline,
        "start" => DemandEvent::Start,
        "deliver" => DemandEvent::Deliver,
        "confirm" => DemandEvent::Confirm,
        "close" => DemandEvent::Close,
        "withdraw" => DemandEvent::Withdraw,
        "reassign" => DemandEvent::Reassign,
        _ => return None,
    })
}

/// Runs an action (or posts a message, or rates) for either side; the `?done=`
/// code on success. The app decides who may do what.
async fn run_action(
    st: &AppState,
    actor: &Actor,
    meta: &qifu_app::Meta,
    id: i64,
    action: &str,
    f: &ActionForm,
) -> Result<&'static str, WebError> {
    if action == "message" {
        demands::post_message(&st.ctx, actor, id, &f.body).await?;
        return Ok("message");
    }
    if action == "rate" {
        demands::rate(&st.ctx, actor, meta, id, &f.rating, &f.comment).await?;
        return Ok("rated");
    }
    let ev = event_of(action).ok_or(WebError::NotFound)?;
    let input = ActionInput {
        note: f.note.clone(),
        assignee_user_id: f.assignee.trim().parse().ok(),
        granted_amount_wan: f.granted_amount_wan.clone(),
        granted_rate: f.granted_rate.clone(),
        granted_term_months: f.granted_term_months.clone(),
        to_institution_id: f.to_institution.trim().parse().ok(),
        proof: None,
    };
    demands::act(&st.ctx, actor, meta, id, ev, &input).await?;
    Ok("done")
}

async fn file(st: &AppState, actor: &Actor, meta: &qifu_app::Meta, id: &str, which: &str) -> Result<Response, WebError> {
    let which = match which {
        "attachment" => DemandFile::Attachment,
        "proof" => DemandFile::Proof,
        _ => return Err(WebError::NotFound),
    };
    let (f, bytes) = demands::demand_file(&st.ctx, actor, meta, parse_id(id)?, which).await?;
    Ok(file_response(&f, bytes))
}

/// A demand's attachment or delivery proof, for the enterprise.
pub async fn show_own_file(
    State(st): State<AppState>,
    me: SignedIn,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, WebError> {
    file(&st, &me.actor, &me.viewer.meta, &id, &which).await
}

/// A demand's attachment or delivery proof, for the institution and the operator.
pub async fn show_file(
    State(st): State<AppState>,
    staff: Staff,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, WebError> {
    file(&st, &staff.actor, &staff.viewer.meta, &id, &which).await
}

pub fn wan(fen: &Option<i64>) -> String {
    fen.map(|f| qifu_domain::money::Money::from_fen(f).display_wan()).unwrap_or_else(|| "—".to_owned())
}
