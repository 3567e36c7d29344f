use crate::TestApp;
use qifu_testkit::reqwest::StatusCode;

#[tokio::test]
async fn home_page_shows_title_navigation_and_sections() {
    let app = TestApp::spawn().await.unwrap();
    let p = app.get("/").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("<title>首页 - 通州区中小微企业智慧服务平台</title>"), "{}", p.body);
    for nav in ["首页", "政策", "服务产品", "资讯", "活动", "关于我们"] {
        assert!(p.body.contains(&format!(">{nav}</a>")), "nav {nav} missing");
    }
    for section in ["最新政策", "通知公告", "服务产品", "资讯动态", "活动培训"] {
        assert!(p.body.contains(section), "section {section} missing");
    }
    assert!(p.body.contains("暂无政策"), "empty state shown before data exists");
    assert!(p.body.contains(r#"name="viewport""#));
    assert!(p.body.contains("网站标识码"));

    app.seed_demo().await.unwrap();
    let p = app.get("/").await.unwrap();
    assert!(p.body.contains("通州区中小微企业首贷贴息实施细则"), "policies come from the database");
    assert!(p.body.contains("副中心小微信用贷") || p.body.contains("服务产品"), "products listed");
    assert!(!p.body.contains("暂无政策"));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await.unwrap();
    let h = app.get("/healthz").await.unwrap();
    assert_eq!(h.status, StatusCode::OK);
    let r = app.get("/readyz").await.unwrap();
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("ready"));
    // A closed database makes the node not ready.
    app.ctx.db.clone().close().await.unwrap();
    let r = app.get("/readyz").await.unwrap();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    // …and pages fail with the Chinese error page and the request id, never the cause.
    // (503: the database cannot be reached, the request is not at fault)
    let p = app.get("/").await.unwrap();
    assert_eq!(p.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(p.body.contains("系统繁忙"), "{}", p.body);
    let id = p.header("x-request-id").unwrap().to_owned();
    assert!(p.body.contains(&id));
    assert!(
        !p.body.to_lowercase().contains("pool") && !p.body.contains("DbErr") && !p.body.contains("sqlx"),
        "no internal cause shown"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_with_qifu_prefix() {
    let app = TestApp::spawn().await.unwrap();
    app.get("/").await.unwrap();
    let m = app.get("/metrics").await.unwrap();
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.header("content-type").unwrap_or("").starts_with("text/plain"));
    for name in ["qifu_http_requests_total", "qifu_http_request_duration_seconds_bucket", "qifu_jobs", "qifu_db_pool_connections"]
    {
        assert!(m.body.contains(name), "{name} missing from /metrics");
    }
    assert!(m.body.contains(r#"route="/""#), "requests are labelled by route");
}

#[tokio::test]
async fn security_headers_and_request_id() {
    let app = TestApp::spawn().await.unwrap();
    let p = app.get("/").await.unwrap();
    let csp = p.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(p.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(p.header("referrer-policy"), Some("strict-origin-when-cross-origin"));
    assert!(p.header("x-request-id").is_some_and(|v| v.len() >= 32));
    assert!(p.header("strict-transport-security").is_none(), "no HSTS without TLS");
}

#[tokio::test]
async fn not_found_is_a_chinese_page_with_the_request_id() {
    let app = TestApp::spawn().await.unwrap();
    for path in ["/no-such-page", "/policies/999999", "/policies/abc", "/policies/-1", "/products/1%27%20OR%201=1"] {
        let p = app.get(path).await.unwrap();
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
        assert!(p.body.contains("页面不存在"), "{path}");
        let id = p.header("x-request-id").unwrap().to_owned();
        assert!(p.body.contains(&id), "the page shows the request id");
        assert!(p.body.contains("通州区中小微企业智慧服务平台"), "rendered in the portal layout");
    }
}

#[tokio::test]
async fn oversized_body_is_refused_with_a_chinese_page() {
    let app = TestApp::spawn_with(|s| s.web.body_limit_bytes = 4096).await.unwrap();
    let big = "x".repeat(10_000);
    let v = app.new_visitor().unwrap();
    let p = v.post_raw("/login", &[("username", &big), ("password", "x")]).await.unwrap();
    assert_eq!(p.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(p.body.contains("提交的内容过大"), "{}", p.body);
}

#[tokio::test]
async fn static_assets_have_versioned_names_and_long_cache() {
    let app = TestApp::spawn().await.unwrap();
    let home = app.get("/").await.unwrap();
    let re = regex_lite(&home.body, "/static/app.", ".css");
    let css = app.get(&re).await.unwrap();
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert!(css.body.contains("--blue"));
    assert_eq!(app.get("/static/app.000000000000.css").await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/static/..%2F..%2Fetc%2Fpasswd").await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/favicon.ico").await.unwrap().status, StatusCode::OK);
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await.unwrap();
    let res = app.client.get(app.url("/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
}

/// The first substring of `body` that starts with `start` and ends with `end`.
fn regex_lite(body: &str, start: &str, end: &str) -> String {
    let i = body.find(start).expect("start");
    let j = body[i..].find(end).expect("end") + i + end.len();
    body[i..j].to_owned()
}
