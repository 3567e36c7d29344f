//! Every route of qifu, in one place.

use crate::AppState;
use crate::middleware::{csrf_cookie, error_pages, track_metrics};
use crate::pages::{admin, auth, health, portal};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub fn router(state: AppState) -> Router {
    let portal = Router::new()
        .route("/", get(portal::show_home))
        .route("/policies", get(portal::list_policies))
        .route("/policies/{id}", get(portal::show_policy))
        .route("/products", get(portal::list_products))
        .route("/products/{id}", get(portal::show_product))
        .route("/news", get(portal::list_news))
        .route("/news/{id}", get(portal::show_news))
        .route("/activities", get(portal::list_activities))
        .route("/activities/{id}", get(portal::show_activity))
        .route("/about", get(portal::show_about))
        .route("/search", get(portal::search))
        .route("/a11y", get(portal::toggle_a11y))
        .route("/login", get(auth::show_login).post(auth::login))
        .route("/logout", post(auth::logout));

    let back_office = Router::new()
        .route("/admin", get(admin::show_dashboard))
        .route("/admin/enterprises", get(admin::list_enterprises))
        .route("/admin/jobs", get(admin::list_jobs))
        .route("/admin/jobs/{id}/retry", post(admin::retry_job));

    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/{file}", get(health::static_file))
        .route("/favicon.ico", get(health::favicon));

    let settings = state.ctx.settings.clone();
    let x_request_id = HeaderName::from_static("x-request-id");
    let security = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .into_inner();
    let hsts = if settings.web.secure_cookies {
        Some(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        None
    };

    Router::new()
        .merge(portal)
        .merge(back_office)
        .merge(ops)
        .fallback(portal::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf_cookie))
        .layer(axum::middleware::from_fn(track_metrics))
        .with_state(state.clone())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(axum::middleware::from_fn_with_state(state, error_pages))
                .layer(security)
                .layer(tower::util::option_layer(hsts))
                .layer(CompressionLayer::new())
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(settings.web.request_timeout_secs)))
                .layer(RequestBodyLimitLayer::new(settings.web.body_limit_bytes)),
        )
}
