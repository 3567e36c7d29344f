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

/// The policy endpoints in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create_policy_matches), components(schemas(ProfileDoc, TraceLineDoc)))]
pub struct PoliciesApi;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyMatchesResponse {
    results: Vec<PolicyMatch>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyMatch {
    policy_id: i64,
    title: String,
    /// The version of the policy's eligibility rule the verdict used.
    rule_version: i32,
    /// `eligible`, `near`, `incomplete` or `ineligible`.
    verdict: &'static str,
    /// 符合 / 接近 / 待完善 / 不符合
    verdict_label: &'static str,
    /// One line per condition.
    #[schema(value_type = Vec<TraceLineDoc>)]
    trace: Vec<TraceLine>,
}

/// What is known of an enterprise; every field optional (missing is never a failure: 待完善).
/// Mirrors `qifu_domain::profiles::Profile` (a test keeps them together).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema for the document only
pub struct ProfileDoc {
    /// Registered street or town code (9 digits, e.g. 110112001).
    division: Option<String>,
    /// GB/T 4754-2017 industry code (e.g. 6513).
    industry: Option<String>,
    /// `micro`, `small`, `medium` or `large`.
    size_class: Option<String>,
    /// 规模以上企业
    above_designated_size: Option<bool>,
    years_since_founding: Option<f64>,
    employees: Option<f64>,
    /// 万元
    revenue: Option<f64>,
    /// 万元
    total_assets: Option<f64>,
    /// 研发费用占营业收入比例, %
    rd_ratio: Option<f64>,
    /// Qualifications held (高新技术企业 …); absent = not said.
    qualifications: Option<Vec<String>>,
    /// A, B, C or D
    credit_standing: Option<String>,
    /// Real-name certified on the platform.
    certified: Option<bool>,
    /// Operator-defined attributes by name, numbers.
    custom: Option<std::collections::BTreeMap<String, f64>>,
}

/// One condition's line of a verdict.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema for the document only
pub struct TraceLineDoc {
    /// The condition, e.g. 年营业收入 不低于 2000万元.
    condition: String,
    /// The enterprise's value, or 未填写.
    value: String,
    /// `{"verdict": "met" | "not_met" | "missing", "gap"?, "relative"?}`
    #[schema(value_type = Object)]
    check: serde_json::Value,
    /// Whether the condition sits under a "not".
    negated: bool,
    /// The attribute's code, to ask for a missing value.
    attr: String,
    /// False for an unmet alternative another alternative made irrelevant.
    decisive: bool,
}

/// Matches a profile against every open policy: each policy's verdict and a
/// line per condition, best first. The body is read as JSON whatever its
/// content type (partners post plain bodies).
#[utoipa::path(
    post,
    params(("Idempotency-Key" = Option<String>, Header, description = "可选：1到64个字母、数字、-、_（如 UUID）。同一键的重试得到第一次的应答（Idempotency-Replayed: true），不会重复写入；键保留一天。")),
    path = "/api/v1/policy-matches",
    tag = "policies",
    request_body(content = ProfileDoc, description = "企业信息（各项均可缺省）"),
    responses(
        (status = 200, description = "每项开放政策的判断结果", body = PolicyMatchesResponse),
        (status = 400, description = "请求内容不是有效的企业信息", body = crate::error::ApiErrorBody),
        (status = 503, description = "暂时无法计算", body = crate::error::ApiErrorBody),
    )
)]
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
