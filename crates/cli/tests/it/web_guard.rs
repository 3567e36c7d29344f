//! The back office's route layer: a `/admin` route mounted without any guard of
//! its own still refuses everyone but staff, before its handler runs.

use crate::TestApp;
use crate::security::user_id;
use axum::Router;
use axum::routing::get;
use qifu_testkit::qifu_app::accounts::open_session_for_tools;
use qifu_testkit::reqwest::{self, StatusCode, header};

/// Serves qifu with an unguarded `/admin/unguarded-test` beside the back office;
/// the route's address.
async fn serve_with_unguarded_route(app: &TestApp) -> String {
    let state = qifu_web::AppState::new(app.ctx.clone());
    let extra = Router::new().route("/admin/unguarded-test", get(|| async { "secret" }));
    let router = qifu_web::router_with(state, extra);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}/admin/unguarded-test")
}

/// A GET with `user`'s session cookie (a fully signed-in session), or none.
async fn get_as(app: &TestApp, url: &str, user: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut req = client.get(url);
    if let Some(username) = user {
        let (token, _csrf) = open_session_for_tools(&app.ctx, user_id(app, username).await).await.unwrap();
        req = req.header(header::COOKIE, format!("qifu_session={token}"));
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_unguarded_admin_route_refuses_all_but_staff() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let url = serve_with_unguarded_route(&app).await;

    let anon = get_as(&app, &url, None).await;
    assert_eq!(anon.status(), StatusCode::SEE_OTHER, "an anonymous visitor is sent to sign in");
    let to = anon.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, "/login?next=%2Fadmin%2Funguarded-test");
    assert!(!anon.text().await.unwrap().contains("secret"));

    let ent = get_as(&app, &url, Some("enterprise")).await;
    assert_eq!(ent.status(), StatusCode::FORBIDDEN, "an enterprise user is not staff");
    let body = ent.text().await.unwrap();
    assert!(!body.contains("secret"), "{body}");
    assert!(body.contains("您没有访问此页面的权限"), "the 403 page: {body}");

    let staff = get_as(&app, &url, Some("operator")).await;
    assert_eq!(staff.status(), StatusCode::OK);
    assert_eq!(staff.text().await.unwrap(), "secret", "staff reach the route");
}
