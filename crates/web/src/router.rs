//! Every route of qifu, in one place.

use crate::AppState;
use crate::middleware::{csrf_cookie, error_pages, track_metrics};
use crate::pages::{
    account, admin, api, auth, authorization, certification, demands, health, messages, onboarding, policies, portal, search,
};
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
    router_with(state, Router::new())
}

/// The router with `extra_admin` mounted beside the back office, behind the same
/// staff layer (tests use it to show that an unguarded `/admin` route still refuses).
pub fn router_with(state: AppState, extra_admin: Router<AppState>) -> Router {
    let portal = Router::new()
        .route("/", get(portal::show_home))
        .route("/policies", get(portal::list_policies))
        .route("/policies/calculator", get(policies::calculator))
        .route("/policies/calculator/profile", post(policies::fill_profile))
        .route("/policies/calculator/push", post(policies::set_push))
        .route("/policies/{id}", get(portal::show_policy))
        .route("/policies/{id}/files/{fid}", get(policies::attachment))
        .route("/products", get(portal::list_products))
        .route("/products/{id}", get(portal::show_product))
        .route("/institutions/apply", get(onboarding::show_apply).post(onboarding::submit_apply))
        .route("/institutions/{id}", get(portal::show_institution))
        .route("/products/{id}/files/{fid}", get(portal::product_file))
        .route("/products/{id}/apply", get(demands::show_apply).post(demands::apply))
        .route("/account/demands", get(demands::my_demands))
        .route("/account/demands/{id}", get(demands::my_demand))
        .route("/account/demands/{id}/files/{which}", get(demands::demand_file))
        .route("/account/demands/{id}/{action}", post(demands::my_demand_action))
        .route("/news", get(portal::list_news))
        .route("/news/{id}", get(portal::show_news))
        .route("/activities", get(portal::list_activities))
        .route("/activities/{id}", get(portal::show_activity))
        .route("/about", get(portal::show_about))
        .route("/search", get(portal::search))
        .route("/a11y", get(portal::toggle_a11y))
        .route("/login", get(auth::show_login).post(auth::login))
        .route("/login/verify", get(auth::show_verify).post(auth::verify))
        .route("/logout", post(auth::logout))
        .route("/register", get(auth::show_register).post(auth::register))
        .route("/password/reset", get(auth::show_reset).post(auth::reset))
        .route("/account", get(account::show_account))
        .route("/account/password", get(account::show_password).post(account::change_password))
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route("/account/users", get(account::show_subaccounts).post(account::create_subaccount))
        .route("/account/users/{id}/{action}", post(account::set_subaccount_status))
        .route("/account/files/{id}", get(certification::show_file))
        .route("/account/certification", get(certification::show_certification).post(certification::submit_certification))
        .route("/account/totp", get(account::show_totp).post(account::post_totp))
        .route("/account/messages", get(certification::show_messages))
        .route("/account/authorization", get(authorization::show_authorization))
        .route("/account/authorization/sign", post(authorization::sign))
        .route("/account/authorization/revoke", post(authorization::revoke))
        .route("/account/authorization/download", get(authorization::download))
        .route("/verify-authorization", get(authorization::show_verify).post(authorization::verify))
        .route("/.well-known/qifu-platform-key.pem", get(authorization::public_key))
        .route("/account/messages/read-all", post(certification::read_all_messages))
        .route("/account/messages/{id}", get(messages::show_message))
        .route("/account/messages/{id}/delete", post(messages::delete_message))
        .route("/account/notifications", get(messages::show_notifications).post(messages::save_notifications))
        .route("/account/notifications/unsubscribe", post(messages::unsubscribe))
        .route("/account/wechat/unbind", post(messages::unbind_wechat))
        .route("/wechat/oauth", get(messages::oauth_start))
        .route("/wechat/oauth/callback", get(messages::oauth_callback));

    let api = Router::new()
        .route("/api/v1/captcha", get(api::get_captcha))
        .route("/api/v1/sms-codes", post(api::create_sms_code))
        .route("/api/v1/registrations", post(api::create_registration))
        .route("/api/v1/policy-matches", post(policies::api_match))
        .route("/wechat", get(messages::wechat_get).post(messages::wechat_post));

    let back_office = Router::new()
        .route("/admin", get(admin::show_dashboard))
        .route("/admin/enterprises", get(admin::list_enterprises))
        .route("/admin/jobs", get(admin::list_jobs))
        .route("/admin/jobs/{id}/retry", post(admin::retry_job))
        .route("/admin/users", get(admin::list_users).post(admin::create_user))
        .route("/admin/users/{id}/{action}", post(admin::user_action))
        .route("/admin/orgs", get(admin::list_orgs))
        .route("/admin/institution-applications", get(onboarding::list_applications))
        .route("/admin/institution-applications/{id}", get(onboarding::show_application).post(onboarding::review))
        .route("/admin/institution-applications/{id}/licence", get(onboarding::licence))
        .route("/admin/orgs/new-institution", get(admin::show_new_institution).post(admin::create_institution))
        .route("/admin/orgs/{id}/{action}", post(admin::org_action))
        .route("/admin/roles", get(admin::list_roles))
        .route("/admin/roles/{id}", get(admin::show_role).post(admin::save_role))
        .route("/admin/menus", get(admin::list_menus))
        .route("/admin/menus/{id}", post(admin::update_menu))
        .route("/admin/online", get(admin::list_online))
        .route("/admin/online/{id}/force-out", post(admin::force_out))
        .route("/admin/login-log", get(admin::login_log))
        .route("/admin/operation-log", get(admin::operation_log))
        .route("/admin/audit", get(admin::audit_log))
        .route("/admin/sms", get(admin::sms_outbox))
        .route("/admin/certifications", get(certification::list_certifications))
        .route(
            "/admin/certifications/{id}",
            get(certification::show_certification_review).post(certification::decide_certification),
        )
        .route("/admin/files/{id}", get(certification::show_file))
        .route("/admin/products", get(admin::list_admin_products).post(admin::create_product))
        .route("/admin/products/new", get(admin::show_new_product))
        .route("/admin/products/{id}", get(admin::show_admin_product).post(admin::update_product))
        .route("/admin/products/{id}/files", post(admin::add_product_file))
        .route("/admin/products/{id}/files/{fid}", get(admin::product_file))
        .route("/admin/products/{id}/files/{fid}/delete", post(admin::remove_product_file))
        .route("/admin/products/{id}/{action}", post(admin::product_action))
        .route("/admin/demands", get(demands::inbox))
        .route("/admin/demands/{id}", get(demands::admin_demand))
        .route("/admin/demands/{id}/files/{which}", get(demands::demand_file))
        .route("/admin/demands/{id}/deliver", post(demands::admin_deliver))
        .route("/admin/demands/{id}/{action}", post(demands::admin_demand_action))
        .route("/admin/policies", get(policies::admin_list).post(policies::admin_create))
        .route("/admin/policies/new", get(policies::admin_new))
        .route("/admin/qualifications", post(policies::add_qualification))
        .route("/admin/policies/{id}", get(policies::admin_show))
        .route("/admin/policies/{id}/rule", post(policies::admin_save_rule))
        .route("/admin/policies/{id}/tags", post(policies::admin_save_tags))
        .route("/admin/policies/{id}/edit", post(policies::admin_edit))
        .route("/admin/policies/{id}/files", post(policies::add_attachment))
        .route("/admin/policies/{id}/files/{fid}/delete", post(policies::remove_attachment))
        .route("/admin/policies/{id}/{action}", post(policies::admin_action))
        .route("/admin/crawl-sources", get(policies::crawl_sources).post(policies::create_crawl_source))
        .route("/admin/crawl-sources/{id}", get(policies::crawl_source))
        .route("/admin/crawl-sources/{id}/run", post(policies::run_crawl_source))
        .route("/admin/search", get(search::show))
        .route("/admin/search/synonyms", post(search::add_synonyms))
        .route("/admin/search/synonyms/{id}/delete", post(search::delete_synonyms))
        .route("/admin/search/rebuild", post(search::rebuild))
        .route("/admin/messages", get(messages::admin_inbox))
        .route("/admin/messages/read-all", post(messages::admin_read_all))
        .route("/admin/messages/{id}/delete", post(messages::admin_delete_message))
        .route("/admin/message-templates", get(messages::list_templates))
        .route("/admin/message-templates/{id}", get(messages::show_template).post(messages::save_template))
        .route("/admin/deliveries", get(messages::list_deliveries))
        .route("/admin/deliveries/{id}", get(messages::show_delivery))
        .route("/admin/broadcasts", get(messages::list_broadcasts).post(messages::create_broadcast))
        .route("/admin/broadcasts/{id}", get(messages::show_broadcast))
        .route("/admin/broadcasts/{id}/cancel", post(messages::cancel_broadcast))
        .route("/admin/wechat", get(messages::wechat_admin))
        .route("/admin/wechat/replies", post(messages::add_auto_reply))
        .route("/admin/wechat/replies/{id}/delete", post(messages::delete_auto_reply))
        .route("/admin/wechat/menu", post(messages::save_menu))
        .route("/admin/categories", get(admin::list_categories).post(admin::create_category))
        .route("/admin/categories/{id}", post(admin::update_category))
        .route("/admin/categories/{id}/delete", post(admin::delete_category));

    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/{file}", get(health::static_file))
        .route("/favicon.ico", get(health::favicon));

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
        .merge(portal)
        .merge(crate::guard::back_office(back_office.merge(extra_admin), &state))
        .merge(api)
        .merge(ops)
        .fallback(portal::not_found)
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
