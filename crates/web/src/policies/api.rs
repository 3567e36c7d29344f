//! `POST /api/v1/policy-matches`: a profile as JSON in, every open policy's
//! verdict and trace out, best first.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use qifu_domain::policy::{Profile, TraceLine};
use serde::Serialize;

#[derive(Serialize)]
pub struct PolicyMatchesResponse {
    results: Vec<PolicyMatch>,
}

#[derive(Serialize)]
pub struct PolicyMatch {
    policy_id: i64,
    title: String,
    rule_version: i32,
    verdict: &'static str,
    verdict_label: &'static str,
    trace: Vec<TraceLine>,
}

/// The body is read as JSON whatever its content type (partners post plain bodies).
pub async fn create_policy_matches(State(st): State<AppState>, body: Bytes) -> Result<Json<PolicyMatchesResponse>, ApiError> {
    let profile: Profile = serde_json::from_slice(&body).map_err(|e| {
        let msg = format!("请求内容不是有效的企业信息：{}", e.to_string().chars().take(120).collect::<String>());
        ApiError::bad_request("invalid_profile", msg)
    })?;
    let rows = qifu_app::policies::calculate_visitor(&st.ctx, &profile).await.map_err(|e| {
        tracing::error!(error = %e, "policy matching failed");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "暂时无法计算，请稍后再试")
    })?;
    let results = rows
        .into_iter()
        .map(|r| PolicyMatch {
            policy_id: r.policy.id,
            title: r.policy.title,
            rule_version: r.version,
            verdict: r.outcome.verdict.code(),
            verdict_label: r.outcome.verdict.label(),
            trace: r.outcome.trace,
        })
        .collect();
    Ok(Json(PolicyMatchesResponse { results }))
}
