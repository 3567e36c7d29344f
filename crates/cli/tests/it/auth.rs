use crate::{PASSWORD, TestApp};
use chrono::Duration;
use qifu_testkit::reqwest::StatusCode;

#[tokio::test]
async fn each_role_logs_in_and_lands_in_the_right_place() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    for (user, landing) in
        [("operator", "/admin"), ("sysadmin", "/admin"), ("gov", "/admin"), ("institution", "/admin"), ("enterprise", "/")]
    {
        let v = app.new_visitor().unwrap();
        let first = v.post_login(user, PASSWORD).await.unwrap();
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{user}");
        let cookie = first.header("set-cookie").unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let staff = ["operator", "sysadmin", "gov"].contains(&user);
        assert_eq!(first.location() == Some("/login/verify"), staff, "{user}: second factor for staff only");
        let p = if staff { v.second_factor(user).await.unwrap() } else { first };
        assert_eq!(p.location(), Some(landing), "{user}");
    }
    // Signing in by phone number works too.
    let v = app.new_visitor().unwrap();
    let p = v.login(qifu_testkit::qifu_app::demo::ENTERPRISE_PHONE, PASSWORD).await.unwrap();
    assert_eq!(p.location(), Some("/"));
}

#[tokio::test]
async fn back_office_menu_follows_the_role() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let p = op.get("/admin").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("工作台") && p.body.contains("企业管理") && p.body.contains("任务队列"));
    assert_eq!(op.get("/admin/jobs").await.unwrap().status, StatusCode::OK);

    let gov = app.new_visitor().unwrap();
    gov.login("gov", PASSWORD).await.unwrap();
    let p = gov.get("/admin").await.unwrap();
    assert!(p.body.contains("企业管理") && !p.body.contains("任务队列"));
    assert_eq!(gov.get("/admin/enterprises").await.unwrap().status, StatusCode::OK);
    assert_eq!(gov.get("/admin/jobs").await.unwrap().status, StatusCode::FORBIDDEN);

    let inst = app.new_visitor().unwrap();
    inst.login("institution", PASSWORD).await.unwrap();
    assert!(!inst.get("/admin").await.unwrap().body.contains("企业管理"));
    assert_eq!(inst.get("/admin/enterprises").await.unwrap().status, StatusCode::FORBIDDEN);

    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(ent.get("/admin").await.unwrap().status, StatusCode::FORBIDDEN);

    let anon = app.new_visitor().unwrap();
    let p = anon.get("/admin/enterprises?q=x").await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), Some("/login?next=%2Fadmin%2Fenterprises%3Fq%3Dx"));
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_a_message_and_keep_the_username() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let p = v.post_login("operator", "wrong-Password1").await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("用户名或密码错误"));
    assert!(p.body.contains(r#"value="operator""#), "account kept");
    assert!(!p.body.contains("wrong-Password1"), "password never echoed");
    let p = v.post_login("nobody", PASSWORD).await.unwrap();
    assert!(p.body.contains("用户名或密码错误"), "unknown user looks like a wrong password");
    let p = v.post_login("", "").await.unwrap();
    assert!(p.body.contains("请填写手机号码或用户名"));
    let p = v.post_login("operator", "").await.unwrap();
    assert!(p.body.contains("请填写密码"));
    let p = v.post_login("<script>alert(1)</script>", "x").await.unwrap();
    assert!(!p.body.contains("<script>alert(1)</script>"));
    let long = "a".repeat(500);
    let p = v.post_login(&long, &long).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A wrong captcha is refused before the password is looked at.
    let page = v.get("/login").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, _) = qifu_testkit::captcha_answer(&app.ctx, &page).await.unwrap();
    let p = v
        .post_raw(
            "/login",
            &[("_csrf", &token), ("account", "operator"), ("password", PASSWORD), ("captcha_id", &cid), ("captcha", "zzzz")],
        )
        .await
        .unwrap();
    assert!(p.body.contains("图形验证码错误"), "{}", p.body);
    // …and the captcha is used up: the right answer no longer works either.
    let p = v
        .post_raw(
            "/login",
            &[("_csrf", &token), ("account", "operator"), ("password", PASSWORD), ("captcha_id", &cid), ("captcha", "2345")],
        )
        .await
        .unwrap();
    assert!(p.body.contains("图形验证码错误"));
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.get("/login").await.unwrap();
    let p = v.post_raw("/login", &[("account", "enterprise"), ("password", PASSWORD)]).await.unwrap();
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("页面已过期"));
    let p = v.post_raw("/login", &[("_csrf", &"0".repeat(64)), ("account", "enterprise"), ("password", PASSWORD)]).await.unwrap();
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Signed in, the anonymous token no longer counts for session forms.
    let anon_token = v.cookie("qifu_csrf").unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    let p = v.post_raw("/logout", &[("_csrf", &anon_token)]).await.unwrap();
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::OK, "still signed in");
    // Every state-changing back-office form checks it too.
    for path in ["/admin/users", "/admin/users/1/disable", "/admin/orgs/1/disable", "/admin/menus/1", "/account/password"] {
        let p = v.post_raw(path, &[("_csrf", "forged")]).await.unwrap();
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    let p = v.logout().await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_after_the_absolute_limit() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    app.advance(Duration::minutes(29));
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::OK, "activity within 30 minutes keeps it");
    app.advance(Duration::minutes(31));
    let p = v.get("/admin").await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "idle for 31 minutes");

    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    for _ in 0..(12 * 60 / 20) - 1 {
        app.advance(Duration::minutes(20));
        assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::OK);
    }
    app.advance(Duration::minutes(21));
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::SEE_OTHER, "12 hours is the limit");
}

#[tokio::test]
async fn login_redirects_only_within_the_site() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let p = v.post_login_with("enterprise", PASSWORD, &[("next", "//evil.example/x")]).await.unwrap();
    assert_eq!(p.location(), Some("/"));
    let v = app.new_visitor().unwrap();
    let p = v.post_login_with("enterprise", PASSWORD, &[("next", "/account")]).await.unwrap();
    assert_eq!(p.location(), Some("/account"));
    let v = app.new_visitor().unwrap();
    let p = v.post_login_with("operator", PASSWORD, &[("next", "https://evil.example/")]).await.unwrap();
    assert_eq!(p.location(), Some("/login/verify"));
}

#[tokio::test]
async fn enterprise_list_filters_and_pages() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    app.login_as_operator().await.unwrap();
    let p = app.get("/admin/enterprises").await.unwrap();
    assert!(p.body.contains("共 60 家企业"), "{}", p.body);
    assert!(p.body.contains("北京运河智造科技有限公司"));
    let p = app.get("/admin/enterprises?q=%E8%BF%90%E6%B2%B3%E6%99%BA%E9%80%A0").await.unwrap(); // 运河智造
    assert!(p.body.contains("共 1 家企业"), "{}", p.body);
    assert!(p.body.contains("已认证"));
    let p = app.get("/admin/enterprises?size=bogus&street=%27--").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("共 0 家企业"));
    let p = app.get("/admin/enterprises?page=2").await.unwrap();
    assert!(p.body.contains("第 2 / 3 页"), "20 per page");
    // The export streams an xlsx of the filtered list.
    let get = |q: &'static str| {
        let (client, url) = (app.client.clone(), app.url(&format!("/admin/enterprises?export=xlsx{q}")));
        async move { client.get(url).send().await.unwrap() }
    };
    let all = get("").await;
    assert_eq!(all.status(), StatusCode::OK);
    assert!(all.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    assert!(all.headers()["content-disposition"].to_str().unwrap().contains("enterprises.xlsx"));
    let all = all.bytes().await.unwrap();
    assert!(all.starts_with(b"PK") && all.windows(24).any(|w| w == b"xl/worksheets/sheet1.xml"));
    let one = get("&q=%E8%BF%90%E6%B2%B3%E6%99%BA%E9%80%A0").await.bytes().await.unwrap();
    assert!(one.starts_with(b"PK") && one.len() < all.len(), "{} vs {}", one.len(), all.len());
    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", crate::PASSWORD).await.unwrap();
    assert_eq!(ent.get("/admin/enterprises?export=xlsx").await.unwrap().status, StatusCode::FORBIDDEN);
}
