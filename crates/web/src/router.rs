//! Every route of qifu, in one place.

use crate::middleware::{csrf_cookie, error_pages, track_metrics};
use crate::{
    AppState, accounts, assets, authorization, catalog, certification, content, demands, governance, home, messages, policies,
    profiles, search, system,
};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
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
    router_with(state, Router::new())
}

/// The router with `extra_admin` mounted beside the back office, behind the same
/// staff layer (tests use it to show that an unguarded `/admin` route still refuses).
pub fn router_with(state: AppState, extra_admin: Router<AppState>) -> Router {
    // The portal: pages for everyone, and each user's own account.
    let portal = Router::new()
        .merge(home::routes())
        .merge(accounts::routes())
        .merge(catalog::routes())
        .merge(policies::routes())
        .merge(demands::routes())
        .merge(content::routes())
        .merge(search::routes())
        .merge(certification::routes())
        .merge(authorization::routes())
        .merge(profiles::routes())
        .merge(messages::routes());

    // The JSON API.
    let api = Router::new().merge(accounts::api_routes()).merge(policies::api_routes());
    let api_doc = Router::new().route("/api/openapi.json", axum::routing::get(crate::openapi::serve_document));

    // The back office (`/admin`): every route behind the staff layer.
    let back_office = Router::new()
        .merge(system::admin_routes())
        .merge(profiles::admin_routes())
        .merge(governance::admin_routes())
        .merge(accounts::admin_routes())
        .merge(certification::admin_routes())
        .merge(catalog::admin_routes())
        .merge(demands::admin_routes())
        .merge(policies::admin_routes())
        .merge(search::admin_routes())
        .merge(messages::admin_routes())
        .merge(extra_admin);

    // Operations: health, readiness, metrics, static files.
    let ops = Router::new().merge(system::routes()).merge(assets::routes());

    let settings = state.ctx.settings.clone();
    let x_request_id = HeaderName::from_static("x-request-id");
    let security = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
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
        .merge(portal.layer(axum::middleware::from_fn_with_state(state.clone(), crate::middleware::form_once)))
        .merge(
            crate::guard::back_office(back_office, &state)
                .layer(axum::middleware::from_fn_with_state(state.clone(), crate::middleware::form_once)),
        )
        .nest("/api/v1", api.layer(axum::middleware::from_fn_with_state(state.clone(), crate::middleware::idempotency)))
        .merge(api_doc)
        .merge(ops)
        .fallback(home::not_found)
        // Extractors may read up to the configured limit (axum's own default is 2 MB);
        // the tower limit below refuses anything larger with 413.
        .layer(axum::extract::DefaultBodyLimit::max(settings.web.body_limit_bytes))
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
                .layer(axum::middleware::from_fn(crate::middleware::no_store))
                .layer(security)
                .layer(tower::util::option_layer(hsts))
                .layer(CompressionLayer::new())
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(settings.web.request_timeout_secs),
                ))
                .layer(RequestBodyLimitLayer::new(settings.web.body_limit_bytes)),
        )
}
