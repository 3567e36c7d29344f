//! Login security, registration, SMS codes, sessions and second factors.

use crate::{PASSWORD, TestApp};
use chrono::Duration;
use qifu_testkit::qifu_app::demo::ENTERPRISE_PHONE;
use qifu_testkit::reqwest::StatusCode;
use qifu_testkit::{Visitor, captcha_answer};

#[tokio::test]
async fn five_failures_lock_the_account_until_the_period_ends() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    for i in 1..=4 {
        let p = v.post_login("enterprise", "Wrong-pass-123").await.unwrap();
        assert!(p.body.contains("用户名或密码错误"), "attempt {i}");
    }
    let p = v.post_login("enterprise", "Wrong-pass-123").await.unwrap();
    assert!(p.body.contains("账号已锁定"), "the fifth failure locks");
    let p = v.post_login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("账号已锁定"), "even the right password is refused while locked");
    app.advance(Duration::minutes(14));
    assert!(v.post_login("enterprise", PASSWORD).await.unwrap().body.contains("账号已锁定"));
    app.advance(Duration::minutes(2));
    let p = v.post_login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "unlocked after 15 minutes");
    // The lock is in the operation log.
    let log = crate::access_helpers::audit_entries(&app, 50).await;
    assert!(log.iter().any(|r| r.action == "user.lock"));
}

#[tokio::test]
async fn an_administrator_can_unlock_early() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    for _ in 0..5 {
        v.post_login("institution", "Wrong-pass-123").await.unwrap();
    }
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let users = op.get("/admin/users?q=institution").await.unwrap();
    assert!(users.body.contains("已锁定"));
    let id = user_id(&app, "institution").await;
    let p = op.post_form(&format!("/admin/users/{id}/unlock"), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(v.post_login("institution", PASSWORD).await.unwrap().status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_ip_is_throttled_independently_of_accounts() {
    let app = TestApp::spawn_with(|s| s.security.ip_failure_limit = 3).await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    for name in ["nobody1", "nobody2", "nobody3"] {
        v.post_login(name, "Wrong-pass-123").await.unwrap();
    }
    let p = v.post_login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.body.contains("登录失败次数过多"));
    app.advance(Duration::minutes(16));
    assert_eq!(v.post_login("enterprise", PASSWORD).await.unwrap().status, StatusCode::SEE_OTHER);
}

/// Fills the registration form, asks for a code, and returns the page.
async fn send_register_code(app: &TestApp, v: &Visitor, phone: &str) -> qifu_testkit::Page {
    let page = v.get("/register?ch=wx-qr1").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, answer) = captcha_answer(&app.ctx, &page).await.unwrap();
    v.post_raw(
        "/register",
        &[
            ("_csrf", &token),
            ("action", "send_code"),
            ("phone", phone),
            ("captcha_id", &cid),
            ("captcha", &answer),
            ("ch", "wx-qr1"),
        ],
    )
    .await
    .unwrap()
}

async fn submit_registration(v: &Visitor, phone: &str, code: &str) -> qifu_testkit::Page {
    let token = v.csrf_token().await.unwrap();
    v.post_raw(
        "/register",
        &[
            ("_csrf", &token),
            ("action", "register"),
            ("phone", phone),
            ("enterprise_name", "北京潞河新材料科技有限公司"),
            ("contact_name", "王建国"),
            ("password", "Canal-Bridge-7"),
            ("confirm", "Canal-Bridge-7"),
            ("sms_code", code),
            ("ch", "wx-qr1"),
        ],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_enterprise_registers_with_an_sms_code_and_signs_in() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let phone = "13712345678";
    let sent = send_register_code(&app, &v, phone).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("验证码已发送至 137****5678"));
    let code = app.last_sms_code(phone).await.expect("the code is in the outbox");
    let p = submit_registration(&v, phone, &code).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), Some("/login?registered=1"));
    let p = v.login(phone, "Canal-Bridge-7").await.unwrap();
    assert_eq!(p.location(), Some("/"));
    let home = v.get("/").await.unwrap();
    assert!(home.body.contains("王建国"), "signed in");
    // The channel is recorded on the organisation, and the registration is audited.
    use qifu_testkit::qifu_db::entity::organisation;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("北京潞河新材料科技有限公司"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.channel.as_deref(), Some("wx-qr1"));
    let log = crate::access_helpers::audit_entries(&app, 50).await;
    assert!(log.iter().any(|r| r.action == "user.register"));
    // The code was single use: registering again with it fails (and the phone is taken anyway).
    let again = submit_registration(&app.new_visitor().unwrap(), phone, &code).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("已注册"));
}

#[tokio::test]
async fn sms_codes_expire_and_are_single_use() {
    let app = TestApp::spawn().await.unwrap();
    let v = app.new_visitor().unwrap();
    let phone = "13712340001";
    send_register_code(&app, &v, phone).await;
    let code = app.last_sms_code(phone).await.unwrap();
    app.advance(Duration::minutes(5) + Duration::seconds(1));
    let p = submit_registration(&v, phone, &code).await;
    assert!(p.body.contains("短信验证码错误或已过期"), "expired after five minutes");
    // A fresh code works once.
    let phone2 = "13712340002";
    send_register_code(&app, &v, phone2).await;
    let code2 = app.last_sms_code(phone2).await.unwrap();
    let ok = submit_registration(&v, phone2, &code2).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    // Using a code for one purpose does not let it sign anyone in elsewhere, and a
    // used code does not work again.
    use qifu_testkit::qifu_app::accounts::{SmsPurpose, verify_code};
    let p2 = qifu_domain::accounts::Phone::parse(phone2).unwrap();
    assert!(!verify_code(&app.ctx.db, &app.ctx, &p2, SmsPurpose::Register, &code2).await.unwrap());
    // A wrong code does not reveal anything and five wrong tries void the code.
    let phone3 = "13712340003";
    app.advance(Duration::minutes(2));
    send_register_code(&app, &v, phone3).await;
    let code3 = app.last_sms_code(phone3).await.unwrap();
    let p3 = qifu_domain::accounts::Phone::parse(phone3).unwrap();
    let wrong = if code3 == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert!(!verify_code(&app.ctx.db, &app.ctx, &p3, SmsPurpose::Register, wrong).await.unwrap());
    }
    assert!(!verify_code(&app.ctx.db, &app.ctx, &p3, SmsPurpose::Register, &code3).await.unwrap(), "void after five wrong tries");
}

#[tokio::test]
async fn sms_sending_is_rate_limited_per_phone_and_per_ip() {
    let app = TestApp::spawn_with(|s| {
        s.sms.daily_per_phone = 3;
        s.sms.daily_per_ip = 5;
    })
    .await
    .unwrap();
    let v = app.new_visitor().unwrap();
    let phone = "13612345678";
    assert!(send_register_code(&app, &v, phone).await.body.contains("验证码已发送"));
    let p = send_register_code(&app, &v, phone).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("发送太频繁"), "one send per 60 s");
    app.advance(Duration::seconds(61));
    assert!(send_register_code(&app, &v, phone).await.body.contains("验证码已发送"));
    app.advance(Duration::seconds(61));
    assert!(send_register_code(&app, &v, phone).await.body.contains("验证码已发送"));
    app.advance(Duration::seconds(61));
    let p = send_register_code(&app, &v, phone).await;
    assert!(p.body.contains("今日获取验证码次数已达上限"), "daily cap per phone");
    // Two more phones from the same IP reach the IP's cap of five.
    assert!(send_register_code(&app, &v, "13612340001").await.body.contains("验证码已发送"));
    assert!(send_register_code(&app, &v, "13612340002").await.body.contains("验证码已发送"));
    let p = send_register_code(&app, &v, "13612340003").await;
    assert!(p.body.contains("操作过于频繁"), "daily cap per IP: {}", p.body);
    // A day later the caps are lifted.
    app.advance(Duration::days(1));
    assert!(send_register_code(&app, &v, phone).await.body.contains("验证码已发送"));
}

#[tokio::test]
async fn registration_form_reports_every_field_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await.unwrap();
    let v = app.new_visitor().unwrap();
    let token = v.get("/register").await.unwrap().csrf().unwrap();
    let p = v.post_raw("/register", &[("_csrf", &token), ("action", "register")]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in ["请填写手机号码", "请填写企业名称", "请填写联系人姓名", "请填写密码", "请填写短信验证码"]
    {
        assert!(p.body.contains(msg), "{msg}");
    }
    let long = "企".repeat(150);
    let p = v
        .post_raw(
            "/register",
            &[
                ("_csrf", &token),
                ("action", "register"),
                ("phone", "1234"),
                ("enterprise_name", "<script>alert(1)</script>公司"),
                ("contact_name", &long),
                ("password", "short"),
                ("confirm", "short"),
                ("sms_code", "12ab"),
            ],
        )
        .await
        .unwrap();
    assert!(p.body.contains("手机号码应为11位数字"));
    assert!(p.body.contains("企业名称包含不允许的字符"));
    assert!(p.body.contains("姓名应为2到32个字"));
    assert!(p.body.contains("密码至少10个字符"));
    assert!(p.body.contains("短信验证码为6位数字"));
    assert!(!p.body.contains("<script>alert(1)</script>"), "escaped when shown again");
    assert!(p.body.contains("value=\"1234\""), "the phone is kept");
    assert!(!p.body.contains("value=\"short\""), "passwords are not kept");
    let p = v
        .post_raw(
            "/register",
            &[("_csrf", &token), ("action", "send_code"), ("phone", "13812345678"), ("captcha_id", "x"), ("captcha", "abcd")],
        )
        .await
        .unwrap();
    assert!(p.body.contains("图形验证码错误"));
    use qifu_testkit::qifu_db::entity::{organisation, user};
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(organisation::Entity::find().count(&app.ctx.db).await.unwrap(), 0, "nothing half-created");
    assert_eq!(user::Entity::find().count(&app.ctx.db).await.unwrap(), 0);
}

#[tokio::test]
async fn registration_through_the_api() {
    let app = TestApp::spawn().await.unwrap();
    let c = &app.client;
    let cap: serde_json::Value = c.get(app.url("/api/v1/captcha")).send().await.unwrap().json().await.unwrap();
    assert!(cap["image"].as_str().unwrap().starts_with("data:image/png;base64,"));
    let id = cap["id"].as_str().unwrap();
    use qifu_testkit::qifu_db::entity::captcha;
    use sea_orm::EntityTrait;
    let answer = captcha::Entity::find_by_id(id.to_owned()).one(&app.ctx.db).await.unwrap().unwrap().answer;
    let r = c
        .post(app.url("/api/v1/sms-codes"))
        .json(&serde_json::json!({"phone": "13512345678", "captcha_id": id, "captcha": answer, "purpose": "register"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let code = app.last_sms_code("13512345678").await.unwrap();
    let bad = c.post(app.url("/api/v1/registrations")).json(&serde_json::json!({"phone": "135"})).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert!(body["error"]["fields"].as_array().unwrap().iter().any(|f| f["field"] == "phone"));
    let ok = c
        .post(app.url("/api/v1/registrations"))
        .json(&serde_json::json!({"phone": "13512345678", "enterprise_name": "北京接口测试科技有限公司", "contact_name": "李明", "password": "Canal-Bridge-7", "sms_code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert!(body["username"].as_str().unwrap().starts_with("qy"));
    let garbage = c
        .post(app.url("/api/v1/registrations"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(body["error"]["fields"].as_array().is_some_and(|f| f.is_empty()));
}

/// Every `/api/v1` error, whoever produces it (a handler, an extractor, the
/// router), comes in the same envelope with a status that says what went wrong.
#[tokio::test]
async fn the_api_answers_every_error_in_one_envelope() {
    let app = TestApp::spawn().await.unwrap();
    let c = &app.client;
    let envelope = |b: &serde_json::Value| {
        let e = &b["error"];
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "{b}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{b}");
        assert!(e["fields"].is_array(), "{b}");
        e["code"].as_str().unwrap().to_owned()
    };
    let code = async |r: qifu_testkit::reqwest::Response, status: StatusCode| {
        assert_eq!(r.status(), status);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        envelope(&r.json::<serde_json::Value>().await.unwrap())
    };
    let unknown = c.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(code(unknown, StatusCode::NOT_FOUND).await, "not_found");
    let wrong_method = c.get(app.url("/api/v1/sms-codes")).send().await.unwrap();
    assert_eq!(code(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await, "method_not_allowed");
    let not_json = c.post(app.url("/api/v1/sms-codes")).body("phone=1").send().await.unwrap();
    assert_eq!(code(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await, "unsupported_media_type");
    let bad_phone = c.post(app.url("/api/v1/sms-codes")).json(&serde_json::json!({"phone": "12"})).send().await.unwrap();
    assert_eq!(bad_phone.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = bad_phone.json().await.unwrap();
    assert_eq!(envelope(&body), "invalid");
    assert_eq!(body["error"]["fields"][0]["field"], "phone");

    // A second code for the same phone within the minute: 429.
    use qifu_testkit::qifu_db::entity::captcha;
    use sea_orm::EntityTrait;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let cap: serde_json::Value = c.get(app.url("/api/v1/captcha")).send().await.unwrap().json().await.unwrap();
        let id = cap["id"].as_str().unwrap();
        let answer = captcha::Entity::find_by_id(id.to_owned()).one(&app.ctx.db).await.unwrap().unwrap().answer;
        let r = c
            .post(app.url("/api/v1/sms-codes"))
            .json(&serde_json::json!({"phone": "13512345670", "captcha_id": id, "captcha": answer}))
            .send()
            .await
            .unwrap();
        statuses.push(r);
    }
    let again = statuses.pop().unwrap();
    assert_eq!(statuses.pop().unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(code(again, StatusCode::TOO_MANY_REQUESTS).await, "too_many_requests");
}

#[tokio::test]
async fn staff_need_the_sms_second_factor() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let p = v.post_login("operator", PASSWORD).await.unwrap();
    assert_eq!(p.location(), Some("/login/verify"));
    // Half signed in is not signed in.
    let admin = v.get("/admin").await.unwrap();
    assert_eq!(admin.status, StatusCode::SEE_OTHER);
    let page = v.get("/login/verify").await.unwrap();
    let token = page.csrf().unwrap();
    let sent = v.post_raw("/login/verify", &[("_csrf", &token), ("action", "send")]).await.unwrap();
    assert!(sent.body.contains("139****0001"), "{}", sent.body);
    let wrong = v.post_raw("/login/verify", &[("_csrf", &token), ("action", "verify"), ("code", "000000")]).await.unwrap();
    let code = app.last_sms_code("13900000001").await.unwrap();
    if code != "000000" {
        assert!(wrong.body.contains("短信验证码错误"));
    }
    let ok = v.post_raw("/login/verify", &[("_csrf", &token), ("action", "verify"), ("code", &code)]).await.unwrap();
    assert_eq!(ok.location(), Some("/admin"));
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::OK);
    // The login log records both steps.
    let sec = app.new_visitor().unwrap();
    sec.login("secadmin", PASSWORD).await.unwrap();
    let log = sec.get("/admin/login-log?who=operator").await.unwrap();
    assert!(log.body.contains("密码正确，待第二因素验证") && log.body.contains("登录成功"));
}

#[tokio::test]
async fn staff_can_be_required_to_present_a_client_certificate() {
    let app = TestApp::spawn_with(|s| s.security.staff_client_cert = true).await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let p = v.post_login("operator", PASSWORD).await.unwrap();
    assert!(p.body.contains("数字证书"), "{}", p.body);
    // Enterprises are not affected.
    assert_eq!(v.post_login("enterprise", PASSWORD).await.unwrap().status, StatusCode::SEE_OTHER);
    // With the proxy's verification header the staff login proceeds.
    let v = app.new_visitor().unwrap();
    let page = v.get("/login").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, answer) = captcha_answer(&app.ctx, &page).await.unwrap();
    let res = v
        .client
        .post(app.url("/login"))
        .header("X-SSL-Client-Verify", "SUCCESS")
        .form(&[
            ("_csrf", token.as_str()),
            ("account", "gov"),
            ("password", PASSWORD),
            ("captcha_id", &cid),
            ("captcha", &answer),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    assert_eq!(location.as_deref(), Some("/login/verify"), "{status} {body}");
}

#[tokio::test]
async fn an_initial_password_must_be_changed_first() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let admin = app.new_visitor().unwrap();
    admin.login("enterprise", PASSWORD).await.unwrap();
    let p = admin
        .post_form(
            "/account/users",
            &[
                ("username", "clerk01"),
                ("display_name", "赵会计"),
                ("phone", "13700001111"),
                ("role", &crate::sec_auth::role_id(&app, "enterprise_admin").await),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let initial = regex_capture(&p.body, r"初始密码：(\S+?)（").expect("the initial password is shown once");
    let clerk = app.new_visitor().unwrap();
    let p = clerk.login("clerk01", &initial).await.unwrap();
    assert_eq!(p.location(), Some("/account/password"));
    let p = clerk.get("/account").await.unwrap();
    assert_eq!(p.location(), Some("/account/password"), "nothing else until the password is changed");
    let bad = clerk
        .post_form("/account/password", &[("old", &initial), ("new", "password123"), ("confirm", "password123")])
        .await
        .unwrap();
    assert!(bad.body.contains("密码"), "{}", bad.body);
    let p = clerk
        .post_form("/account/password", &[("old", &initial), ("new", "Ledger-Book-42"), ("confirm", "Ledger-Book-42")])
        .await
        .unwrap();
    assert_eq!(p.location(), Some("/account?done=password"));
    assert_eq!(clerk.get("/account").await.unwrap().status, StatusCode::OK);
    // The sub-account is not an organisation administrator.
    assert_eq!(clerk.get("/account/users").await.unwrap().status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn password_reset_by_sms() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let page = v.get("/password/reset").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, answer) = captcha_answer(&app.ctx, &page).await.unwrap();
    let sent = v
        .post_raw(
            "/password/reset",
            &[
                ("_csrf", &token),
                ("action", "send_code"),
                ("phone", ENTERPRISE_PHONE),
                ("captcha_id", &cid),
                ("captcha", &answer),
            ],
        )
        .await
        .unwrap();
    assert!(sent.body.contains("验证码已发送"));
    let code = app.last_sms_code(ENTERPRISE_PHONE).await.unwrap();
    let p = v
        .post_raw(
            "/password/reset",
            &[
                ("_csrf", &token),
                ("action", "reset"),
                ("phone", ENTERPRISE_PHONE),
                ("sms_code", &code),
                ("password", "Fresh-Start-88"),
                ("confirm", "Fresh-Start-88"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.location(), Some("/login?reset=1"), "{}", p.body);
    assert_eq!(v.post_login("enterprise", PASSWORD).await.unwrap().status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v.post_login("enterprise", "Fresh-Start-88").await.unwrap().status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn users_see_and_end_their_own_sessions_and_security_can_force_out() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let phone_a = app.new_visitor().unwrap();
    let laptop = app.new_visitor().unwrap();
    phone_a.login("institution", PASSWORD).await.unwrap();
    laptop.login("institution", PASSWORD).await.unwrap();
    let page = laptop.get("/account").await.unwrap();
    assert!(page.body.contains("当前设备"));
    let other = regex_capture(&page.body, r#"/account/sessions/([0-9a-f]{64})/end"#).expect("the other session is listed");
    let p = laptop.post_form(&format!("/account/sessions/{other}/end"), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(phone_a.get("/admin").await.unwrap().status, StatusCode::SEE_OTHER, "ended");
    // Someone else's session id is simply not found.
    let enterprise = app.new_visitor().unwrap();
    enterprise.login("enterprise", PASSWORD).await.unwrap();
    let p = enterprise.post_form(&format!("/account/sessions/{}/end", "a".repeat(64)), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::NOT_FOUND);

    let sec = app.new_visitor().unwrap();
    sec.login("secadmin", PASSWORD).await.unwrap();
    let online = sec.get("/admin/online").await.unwrap();
    assert!(online.body.contains("信贷经理"), "online users are listed");
    let ids: Vec<String> = regex::Regex::new(r#"/admin/online/([0-9a-f]{64})/force-out"#)
        .unwrap()
        .captures_iter(&online.body)
        .map(|c| c[1].to_owned())
        .collect();
    for id in ids {
        let row_start = online.body.find(&id).unwrap();
        let row = &online.body[online.body[..row_start].rfind("<tr>").unwrap()..row_start];
        if row.contains("信贷经理") {
            let p = sec.post_form(&format!("/admin/online/{id}/force-out"), &[]).await.unwrap();
            assert_eq!(p.status, StatusCode::SEE_OTHER);
        }
    }
    assert_eq!(laptop.get("/admin").await.unwrap().status, StatusCode::SEE_OTHER, "forced out");
    // Only security administrators may do it.
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    assert_eq!(op.get("/admin/online").await.unwrap().status, StatusCode::FORBIDDEN);
}

pub async fn user_id(app: &TestApp, username: &str) -> i64 {
    use qifu_testkit::qifu_db::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    user::Entity::find().filter(user::Column::Username.eq(username)).one(&app.ctx.db).await.unwrap().unwrap().id
}

pub fn regex_capture(body: &str, re: &str) -> Option<String> {
    regex::Regex::new(re).unwrap().captures(body).map(|c| c[1].to_owned())
}
