//! System: the back office's dashboard, job queue, login/operation/audit logs and
//! SMS outbox; liveness, readiness and metrics for operations.

mod health;
mod jobs;
mod logs;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

/// Operations endpoints (no session, no page).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(jobs::show_dashboard))
        .route("/admin/jobs", get(jobs::list_jobs))
        .route("/admin/jobs/{id}/retry", post(jobs::retry_job))
        .route("/admin/login-log", get(logs::login_log))
        .route("/admin/operation-log", get(logs::operation_log))
        .route("/admin/audit", get(logs::audit_log))
        .route("/admin/sms", get(logs::sms_outbox))
}

pub fn action_label(a: &str) -> &'static str {
    qifu_app::audit::action_label(a)
}

pub fn login_reason_label(r: &str) -> &'static str {
    match r {
        "ok" => "登录成功",
        "password_ok_second_factor_pending" => "密码正确，待第二因素验证",
        "bad_password" => "密码错误",
        "unknown_user" => "用户不存在",
        "locked" => "账号已锁定",
        "captcha" => "图形验证码错误",
        "ip_throttled" => "IP 失败次数过多",
        "disabled" => "账号或组织已停用",
        "client_cert" => "缺少客户端证书",
        "second_factor" => "第二因素验证码错误",
        "second_factor_locked" => "第二因素连续错误，账号已锁定",
        _ => "其他",
    }
}
