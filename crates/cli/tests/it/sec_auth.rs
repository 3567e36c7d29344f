//! 等保 2.0 level 3 hardening of accounts (issue 26): second-factor brute force
//! and replay, separation of duties, password rules, sessions, registration.

use crate::security::regex_capture;
use crate::{PASSWORD, TestApp};
use qifu_testkit::qifu_app::accounts::totp::current_code;
use qifu_testkit::qifu_db::entity::{message, user};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn user_row(app: &TestApp, username: &str) -> user::Model {
    user::Entity::find().filter(user::Column::Username.eq(username)).one(&app.ctx.db).await.unwrap().unwrap()
}

/// The id of a role by code, as a form value.
pub async fn role_id(app: &TestApp, code: &str) -> String {
    use qifu_testkit::qifu_db::entity::role;
    role::Entity::find().filter(role::Column::Code.eq(code)).one(&app.ctx.db).await.unwrap().unwrap().id.to_string()
}

async fn alerts_for(app: &TestApp, username: &str, title: &str) -> Vec<message::Model> {
    let uid = user_row(app, username).await.id;
    message::Entity::find()
        .filter(message::Column::UserId.eq(uid))
        .filter(message::Column::Title.contains(title))
        .all(&app.ctx.db)
        .await
        .unwrap()
}

async fn wrong_code(v: &qifu_testkit::Visitor, action: &str) -> qifu_testkit::Page {
    let page = v.get("/login/verify").await.unwrap();
    let token = page.csrf().unwrap();
    if action == "verify" {
        let sent = v.post_raw("/login/verify", &[("_csrf", &token), ("action", "send")]).await.unwrap();
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }
    v.post_raw("/login/verify", &[("_csrf", &token), ("action", action), ("code", "000001")]).await.unwrap()
}

#[tokio::test]
async fn second_factor_failures_end_the_pending_session_and_lock_the_account() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // Four wrong SMS codes on one pending session: still pending.
    let v = app.new_visitor().unwrap();
    assert_eq!(v.post_login("gov", PASSWORD).await.unwrap().location(), Some("/login/verify"));
    for _ in 0..4 {
        app.advance(chrono::Duration::seconds(61));
        let p = wrong_code(&v, "verify").await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
        assert!(p.body.contains("短信验证码错误"), "{}", p.body);
    }
    // The fifth (an authenticator code, counted together) ends it and locks the account.
    let p = wrong_code(&v, "totp").await;
    assert!(p.body.contains("账号已临时锁定15分钟"), "{}", p.body);
    assert_eq!(v.get("/login/verify").await.unwrap().location(), Some("/login"), "the pending session is gone");
    let again = app.new_visitor().unwrap().post_login("gov", PASSWORD).await.unwrap();
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("已锁定"), "{}", again.body);
    let alerts = alerts_for(&app, "secadmin", "第二因素验证连续失败").await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].body.contains("gov"));

    // Counted per user too: new pending sessions do not restart the count.
    app.advance(chrono::Duration::minutes(16));
    for i in 0..5 {
        let w = app.new_visitor().unwrap();
        assert_eq!(w.post_login("gov", PASSWORD).await.unwrap().location(), Some("/login/verify"), "attempt {i}");
        let p = wrong_code(&w, "totp").await;
        if i < 4 {
            assert!(p.body.contains("尚未绑定动态口令"), "{}", p.body);
        } else {
            assert!(p.body.contains("账号已临时锁定"), "{}", p.body);
        }
    }
    assert!(user_row(&app, "gov").await.locked_until.is_some_and(|t| t > app.ctx.now()));
    // A success clears the count.
    app.advance(chrono::Duration::minutes(16));
    let w = app.new_visitor().unwrap();
    w.post_login("gov", PASSWORD).await.unwrap();
    wrong_code(&w, "totp").await;
    assert_eq!(w.second_factor("gov").await.unwrap().location(), Some("/admin"));
    assert_eq!(user_row(&app, "gov").await.mfa_failures, 0);
}

#[tokio::test]
async fn the_session_token_changes_when_the_second_factor_completes() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.post_login("gov", PASSWORD).await.unwrap();
    let pending = v.cookie("qifu_session").unwrap();
    assert_eq!(v.second_factor("gov").await.unwrap().location(), Some("/admin"));
    let full = v.cookie("qifu_session").unwrap();
    assert_ne!(pending, full, "a new token after the second factor");
    assert_eq!(v.get("/admin").await.unwrap().status, StatusCode::OK);
    // The token seen before the second factor is worthless now.
    let old = app.client.get(app.url("/admin")).header("cookie", format!("qifu_session={pending}")).send().await.unwrap();
    assert_ne!(old.status(), StatusCode::OK);
}

fn hex_of_base32(s: &str) -> String {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut n, mut out) = (0u64, 0, Vec::new());
    for c in s.trim_end_matches('=').chars() {
        bits = (bits << 5) | alphabet.find(c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            out.push(((bits >> (n - 8)) & 0xFF) as u8);
            n -= 8;
        }
    }
    out.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs(app: &TestApp) -> u64 {
    u64::try_from(app.ctx.now().timestamp()).unwrap()
}

#[tokio::test]
async fn a_totp_code_is_accepted_once_and_enrolment_needs_the_password() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("gov", PASSWORD).await.unwrap();
    let page = v.get("/account/totp").await.unwrap();
    let base32 = regex_capture(&page.body, r#"<code class="secret">([A-Z2-7=]+)</code>"#).unwrap();
    let sealed = regex_capture(&page.body, r#"name="sealed" value="([^"]+)""#).unwrap();
    let secret = hex_of_base32(&base32);
    let code = current_code(&secret, now_secs(&app)).unwrap();
    // Without the current password (a hijacked session) the authenticator is not bound.
    let p = v.post_form("/account/totp", &[("action", "enrol"), ("sealed", &sealed), ("code", &code)]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("请填写当前登录密码"), "{}", p.body);
    let p = v
        .post_form("/account/totp", &[("action", "enrol"), ("sealed", &sealed), ("code", &code), ("password", "Wrong@2026x")])
        .await
        .unwrap();
    assert!(p.body.contains("当前登录密码不正确"), "{}", p.body);
    let p = v
        .post_form("/account/totp", &[("action", "enrol"), ("sealed", &sealed), ("code", &code), ("password", PASSWORD)])
        .await
        .unwrap();
    assert!(p.body.contains("绑定成功"), "{}", p.body);
    assert_eq!(alerts_for(&app, "secadmin", "动态口令已绑定").await.len(), 1);

    // The enrolment code cannot sign in; the next step's can, once.
    let w = app.new_visitor().unwrap();
    w.post_login("gov", PASSWORD).await.unwrap();
    let t = w.get("/login/verify").await.unwrap().csrf().unwrap();
    let p = w.post_raw("/login/verify", &[("_csrf", &t), ("action", "totp"), ("code", &code)]).await.unwrap();
    assert!(p.body.contains("该动态口令已使用过"), "{}", p.body);
    app.advance(chrono::Duration::seconds(30));
    let next = current_code(&secret, now_secs(&app)).unwrap();
    let p = w.post_raw("/login/verify", &[("_csrf", &t), ("action", "totp"), ("code", &next)]).await.unwrap();
    assert_eq!(p.location(), Some("/admin"), "{}", p.body);
    // The same code again, within its window, on another sign-in: refused.
    let x = app.new_visitor().unwrap();
    x.post_login("gov", PASSWORD).await.unwrap();
    let t = x.get("/login/verify").await.unwrap().csrf().unwrap();
    let p = x.post_raw("/login/verify", &[("_csrf", &t), ("action", "totp"), ("code", &next)]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("该动态口令已使用过"), "{}", p.body);

    // Removing needs the password or a current code.
    let p = v.post_form("/account/totp", &[("action", "remove")]).await.unwrap();
    assert!(p.body.contains("请填写当前登录密码或验证器中当前显示的动态口令"), "{}", p.body);
    let p = v.post_form("/account/totp", &[("action", "remove"), ("password", "Wrong@2026x")]).await.unwrap();
    assert!(p.body.contains("当前登录密码不正确"), "{}", p.body);
    app.advance(chrono::Duration::seconds(30));
    let later = current_code(&secret, now_secs(&app)).unwrap();
    let p = v.post_form("/account/totp", &[("action", "remove"), ("code", &later)]).await.unwrap();
    assert!(p.body.contains("已解除绑定"), "{}", p.body);
    assert!(user_row(&app, "gov").await.totp_secret_enc.is_none());
    assert_eq!(alerts_for(&app, "secadmin", "动态口令已解除").await.len(), 1);
}

#[tokio::test]
async fn one_duty_per_role_and_user_and_only_the_security_admin_manages_security_accounts() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let sys = app.new_visitor().unwrap();
    sys.login("sysadmin", PASSWORD).await.unwrap();
    // Two duties in one role: refused.
    let p = sys
        .post_form(
            "/admin/roles/new",
            &[
                ("code", "sys_and_logs"),
                ("name", "系统与日志"),
                ("org_kind", "operator"),
                ("perm:role.manage", "all"),
                ("perm:log.login", "all"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("只能承担系统管理、安全管理、安全审计中的一类职责"), "{}", p.body);
    // A built-in role without a duty cannot gain one.
    let op_role = role_id(&app, "operator_admin").await;
    let p = sys
        .post_form(
            &format!("/admin/roles/{op_role}"),
            &[("name", "运营管理员"), ("perm:back_office", "all"), ("perm:menu.manage", "all")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("内置角色不能增加其他职责类别的权限"), "{}", p.body);
    // Enterprise and institution roles get no platform-wide grants.
    for (kind, perm) in [("enterprise", "perm:user.manage"), ("institution", "perm:org.manage")] {
        let code = format!("wide_{kind}");
        let p = sys
            .post_form("/admin/roles/new", &[("code", &code), ("name", "越权角色"), ("org_kind", kind), (perm, "all")])
            .await
            .unwrap();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(p.body.contains("企业和机构的角色不能获得平台范围的权限"), "{}", p.body);
    }

    // Creating a user: the role is required, and the security and audit roles are not the sysadmin's to give.
    let users = sys.get("/admin/users").await.unwrap();
    assert!(users.body.contains("请选择角色"));
    assert!(!users.body.contains(">安全管理员（") && !users.body.contains(">审计员（"), "not offered to the sysadmin");
    let p = sys.post_form("/admin/users", &[("username", "no_role"), ("display_name", "无角色")]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("请选择角色"));
    let audit_role = role_id(&app, "auditor").await;
    let p = sys
        .post_form("/admin/users", &[("username", "audit2"), ("display_name", "周审计"), ("role", &audit_role)])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("只能由安全管理员创建"), "{}", p.body);
    // Nor can the sysadmin reset, disable or unlock the security administrator or the auditor.
    for who in ["secadmin", "auditor"] {
        let id = user_row(&app, who).await.id;
        for action in ["reset-password", "disable", "unlock"] {
            let p = sys.post_form(&format!("/admin/users/{id}/{action}"), &[]).await.unwrap();
            assert_eq!(p.status, StatusCode::FORBIDDEN, "{who} {action}");
            assert!(p.body.contains("三权分立"), "{}", p.body);
        }
    }
    // The security administrator can.
    let sec = app.new_visitor().unwrap();
    sec.login("secadmin", PASSWORD).await.unwrap();
    let p = sec
        .post_form("/admin/users", &[("username", "audit2"), ("display_name", "周审计"), ("role", &audit_role)])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("初始密码"));
    let id = user_row(&app, "auditor").await.id;
    let p = sec.post_form(&format!("/admin/users/{id}/reset-password"), &[]).await.unwrap();
    assert!(p.body.contains("密码已重置"), "{}", p.body);
    // Nobody hands out more than they hold: the operator cannot give the system administrator's role.
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let sys_role = role_id(&app, "system_admin").await;
    let p = op.post_form("/admin/users", &[("username", "sys2"), ("display_name", "吴系统"), ("role", &sys_role)]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(user::Entity::find().filter(user::Column::Username.eq("sys2")).one(&app.ctx.db).await.unwrap().is_none());
}

#[tokio::test]
async fn weak_passwords_are_refused_and_a_password_change_ends_the_other_sessions() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let here = app.new_visitor().unwrap();
    here.login("enterprise", PASSWORD).await.unwrap();
    let elsewhere = app.new_visitor().unwrap();
    elsewhere.login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(elsewhere.get("/account").await.unwrap().status, StatusCode::OK);
    for weak in ["P@ssw0rd2026", "Zxcvbnm@123", "Qq123456789"] {
        let p = here.post_form("/account/password", &[("old", PASSWORD), ("new", weak), ("confirm", weak)]).await.unwrap();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        assert!(p.body.contains("密码过于常见"), "{weak}: {}", p.body);
    }
    let p = here
        .post_form("/account/password", &[("old", PASSWORD), ("new", "Harbor-Light-91"), ("confirm", "Harbor-Light-91")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(here.get("/account").await.unwrap().status, StatusCode::OK, "this session stays");
    assert_ne!(elsewhere.get("/account").await.unwrap().status, StatusCode::OK, "the other one ended");
}

async fn reset_with(app: &TestApp, phone: &str, totp: &str, password: &str) -> qifu_testkit::Page {
    let v = app.new_visitor().unwrap();
    let page = v.get("/password/reset").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, answer) = qifu_testkit::captcha_answer(&app.ctx, &page).await.unwrap();
    let sent = v
        .post_raw(
            "/password/reset",
            &[("_csrf", &token), ("action", "send_code"), ("phone", phone), ("captcha_id", &cid), ("captcha", &answer)],
        )
        .await
        .unwrap();
    assert!(sent.body.contains("验证码已发送"), "{}", sent.body);
    let code = app.last_sms_code(phone).await.unwrap();
    v.post_raw(
        "/password/reset",
        &[
            ("_csrf", &token),
            ("action", "reset"),
            ("phone", phone),
            ("sms_code", &code),
            ("totp", totp),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn staff_passwords_are_not_reset_by_sms_alone() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // The SMS code alone does not reset a staff password.
    let p = reset_with(&app, "13900000005", "", "Fresh-Start-88").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("工作人员账号不能仅凭短信验证码重置密码"), "{}", p.body);
    assert_eq!(
        app.new_visitor().unwrap().post_login("gov", "Fresh-Start-88").await.unwrap().status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // With the enrolled authenticator's code it does.
    app.advance(chrono::Duration::seconds(61));
    let v = app.new_visitor().unwrap();
    v.login("gov", PASSWORD).await.unwrap();
    let page = v.get("/account/totp").await.unwrap();
    let secret = hex_of_base32(&regex_capture(&page.body, r#"<code class="secret">([A-Z2-7=]+)</code>"#).unwrap());
    let sealed = regex_capture(&page.body, r#"name="sealed" value="([^"]+)""#).unwrap();
    let code = current_code(&secret, now_secs(&app)).unwrap();
    v.post_form("/account/totp", &[("action", "enrol"), ("sealed", &sealed), ("code", &code), ("password", PASSWORD)])
        .await
        .unwrap();
    app.advance(chrono::Duration::seconds(61));
    let p = reset_with(&app, "13900000005", &current_code(&secret, now_secs(&app)).unwrap(), "Fresh-Start-88").await;
    assert_eq!(p.location(), Some("/login?reset=1"), "{}", p.body);
    assert_eq!(app.new_visitor().unwrap().post_login("gov", "Fresh-Start-88").await.unwrap().location(), Some("/login/verify"));
}
