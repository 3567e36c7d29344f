//! Staff who enrol an authenticator app sign in with its code.

use crate::{PASSWORD, TestApp};
use qifu_testkit::qifu_app::accounts::totp::current_code;
use qifu_testkit::reqwest::StatusCode;

#[tokio::test]
async fn an_enrolled_authenticator_replaces_the_sms_code() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("gov", PASSWORD).await.unwrap();
    let page = v.get("/account/totp").await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    let base32 = crate::security::regex_capture(&page.body, r#"<code class="secret">([A-Z2-7=]+)</code>"#).unwrap();
    assert!(page.body.contains("otpauth://totp/"));
    let sealed = crate::security::regex_capture(&page.body, r#"name="sealed" value="([^"]+)""#).unwrap();
    let secret_hex = hex_of_base32(&base32);
    let now = u64::try_from(app.ctx.now().timestamp()).unwrap();
    let wrong = v
        .post_form("/account/totp", &[("action", "enrol"), ("sealed", &sealed), ("code", "000000"), ("password", PASSWORD)])
        .await
        .unwrap();
    if current_code(&secret_hex, now).unwrap() != "000000" {
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.body.contains(&base32), "the same secret is offered again");
    }
    let ok = v
        .post_form(
            "/account/totp",
            &[
                ("action", "enrol"),
                ("sealed", &sealed),
                ("code", &current_code(&secret_hex, now).unwrap()),
                ("password", PASSWORD),
            ],
        )
        .await
        .unwrap();
    assert!(ok.body.contains("绑定成功"), "{}", ok.body);

    // Next sign-in: the verify page offers the authenticator, and its code works.
    let w = app.new_visitor().unwrap();
    assert_eq!(w.post_login("gov", PASSWORD).await.unwrap().location(), Some("/login/verify"));
    let verify = w.get("/login/verify").await.unwrap();
    assert!(verify.body.contains("用动态口令登录"));
    let token = verify.csrf().unwrap();
    let bad = w.post_raw("/login/verify", &[("_csrf", &token), ("action", "totp"), ("code", "12345")]).await.unwrap();
    assert!(bad.body.contains("动态口令错误"));
    app.advance(chrono::Duration::seconds(40));
    let now = u64::try_from(app.ctx.now().timestamp()).unwrap();
    let code = current_code(&secret_hex, now).unwrap();
    let p = w.post_raw("/login/verify", &[("_csrf", &token), ("action", "totp"), ("code", &code)]).await.unwrap();
    assert_eq!(p.location(), Some("/admin"));
    // A code from long ago does not work.
    let x = app.new_visitor().unwrap();
    x.post_login("gov", PASSWORD).await.unwrap();
    let t = x.get("/login/verify").await.unwrap().csrf().unwrap();
    let old = current_code(&secret_hex, now - 300).unwrap();
    if old != current_code(&secret_hex, now).unwrap() {
        let p = x.post_raw("/login/verify", &[("_csrf", &t), ("action", "totp"), ("code", &old)]).await.unwrap();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Enterprises have no authenticator page.
    let e = app.new_visitor().unwrap();
    e.login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(e.get("/account/totp").await.unwrap().status, StatusCode::FORBIDDEN);
}

/// RFC 4648 base32 (no padding needed) to hex.
fn hex_of_base32(s: &str) -> String {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
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
