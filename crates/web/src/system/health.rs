//! Liveness, readiness and Prometheus metrics.

use crate::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseBackend;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(st): State<AppState>) -> Response {
    // The database decides readiness; search and storage are reported (a node
    // with title-only search or a nearly full disk still serves, and says so).
    let search = &st.ctx.search;
    let health = search.health();
    let search_state = if !search.is_open() {
        "unavailable"
    } else if health.rebuilding {
        "rebuilding"
    } else if search.is_ready() {
        "ok"
    } else {
        "degraded"
    };
    let storage = qifu_app::system::storage_status(&st.ctx);
    match qifu_db::ping(&st.ctx.db).await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({
                "status": "ready",
                "database": "ok",
                "search": search_state,
                "search_error": health.last_error.map(|(_, e)| e),
                "storage": storage.state,
                "disk_free_bytes": storage.free_bytes,
                "write_failures": storage.write_failures,
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "not ready", "database": "unreachable"})))
                .into_response()
        }
    }
}

/// Whether a request may read /metrics: a loopback peer not relayed by a
/// proxy, or the bearer token `web.metrics_token`.
fn metrics_allowed(st: &AppState, peer: Option<std::net::IpAddr>, headers: &axum::http::HeaderMap) -> bool {
    let token = st.ctx.settings.web.metrics_token.expose();
    if !token.is_empty() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let same = given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
        if same {
            return true;
        }
    }
    let relayed = headers.contains_key("x-forwarded-for") || headers.contains_key(header::FORWARDED);
    peer.is_some_and(|p| p.is_loopback()) && !relayed
}

pub async fn metrics(State(st): State<AppState>, req: axum::extract::Request) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if !metrics_allowed(&st, peer, req.headers()) {
        let mut r = StatusCode::UNAUTHORIZED.into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        return r;
    }
    let db = &st.ctx.db;
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => (0, 0),
    };
    metrics::gauge!("qifu_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("qifu_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("qifu_db_pool_max_connections").set(f64::from(st.ctx.settings.database.max_connections));
    if let Ok(s) = qifu_db::jobs::stats(db).await {
        for (status, n) in [("queued", s.queued), ("running", s.running), ("done", s.done), ("dead", s.dead)] {
            metrics::gauge!("qifu_jobs", "status" => status).set(n as f64);
        }
    }
    metrics::gauge!("qifu_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    st.metrics.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.metrics.render()).into_response()
}
