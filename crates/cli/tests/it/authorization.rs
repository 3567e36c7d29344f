//! Data-use authorisation signed with the platform's SM2 key.

use crate::{PASSWORD, TestApp};
use qifu_testkit::qifu_app::authorization::{SignedFile, verify_file};
use qifu_testkit::qifu_app::crypto::sm3_hex;
use qifu_testkit::reqwest::StatusCode;

async fn signed(app: &TestApp) -> (qifu_testkit::Visitor, String) {
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("enterprise", PASSWORD).await.unwrap();
    let page = v.get("/account/authorization").await.unwrap();
    assert!(page.body.contains("企业数据授权书") && page.body.contains("未授权"));
    let p = v.post_form("/account/authorization/sign", &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "consent must be ticked");
    let p = v.post_form("/account/authorization/sign", &[("agree", "1")]).await.unwrap();
    assert_eq!(p.location(), Some("/account/authorization?done=signed"), "{}", p.body);
    let file = v.get("/account/authorization/download").await.unwrap();
    assert_eq!(file.status, StatusCode::OK);
    (v, file.body)
}

#[tokio::test]
async fn a_signed_authorisation_verifies_and_any_changed_byte_breaks_it() {
    let app = TestApp::spawn().await.unwrap();
    let (v, body) = signed(&app).await;
    assert!(v.get("/account/authorization").await.unwrap().body.contains("已授权"));
    let file: SignedFile = serde_json::from_str(&body).unwrap();
    let pem = app.get("/.well-known/qifu-platform-key.pem").await.unwrap().body;
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let record = verify_file(&file, &pem).unwrap();
    assert_eq!(record.enterprise_name, "北京运河智造科技有限公司");
    assert_eq!(record.text_version, qifu_testkit::qifu_app::authorization::TEXT_VERSION);
    // Change every byte of the record in turn: the digest check catches it, and
    // with the digest recomputed to match, the SM2 signature still refuses it.
    let bytes = file.record.as_bytes().to_vec();
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        let Ok(changed) = String::from_utf8(b) else { continue };
        let mut f = file.clone();
        f.record = changed.clone();
        assert!(verify_file(&f, &pem).unwrap_err().contains("摘要不符"), "byte {i}");
        f.digest = sm3_hex(changed.as_bytes());
        assert!(verify_file(&f, &pem).unwrap_err().contains("签名无效"), "byte {i} with a matching digest");
    }
    // The public verification page.
    let anon = app.new_visitor().unwrap();
    let p = anon.post_form("/verify-authorization", &[("file", &body)]).await.unwrap();
    assert!(p.body.contains("签名有效") && p.body.contains("目前仍然有效"), "{}", p.body);
    let tampered = body.replace("北京运河智造科技有限公司", "北京别人家科技有限公司");
    let p = anon.post_form("/verify-authorization", &[("file", &tampered)]).await.unwrap();
    assert!(p.body.contains("验证未通过"));
    let p = anon.post_form("/verify-authorization", &[("file", "<script>alert(1)</script>")]).await.unwrap();
    assert!(p.body.contains("JSON 格式不正确") && !p.body.contains("<script>alert(1)</script>"));

    // The command line, with the database's key and with the published PEM.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("auth.json");
    let bad = dir.path().join("bad.json");
    let pem_file = dir.path().join("platform.pem");
    std::fs::write(&good, &body).unwrap();
    std::fs::write(&bad, &tampered).unwrap();
    std::fs::write(&pem_file, &pem).unwrap();
    let url = app.db.url.clone();
    let data = app.ctx.settings.data_dir.clone();
    let run = move |args: Vec<std::ffi::OsString>| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"))
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .env("QIFU_DATABASE_URL", &url)
            .env("QIFU_LOG_LEVEL", "warn")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (g, b, p) = (good.clone(), bad.clone(), pem_file.clone());
    let results = tokio::task::spawn_blocking(move || {
        vec![
            run(vec!["verify-authorization".into(), g.clone().into()]),
            run(vec!["verify-authorization".into(), b.clone().into()]),
            run(vec!["verify-authorization".into(), g.into(), "--public-key".into(), p.clone().into()]),
            run(vec!["verify-authorization".into(), b.into(), "--public-key".into(), p.into()]),
        ]
    })
    .await
    .unwrap();
    assert!(results[0].0 && results[0].1.contains("有效"), "{:?}", results[0]);
    assert!(!results[1].0 && results[1].1.contains("验证未通过"), "{:?}", results[1]);
    assert!(results[2].0, "{:?}", results[2]);
    assert!(!results[3].0, "{:?}", results[3]);
}

#[tokio::test]
async fn revoking_stops_data_sharing() {
    let app = TestApp::spawn().await.unwrap();
    let (v, body) = signed(&app).await;
    let org = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "enterprise").await)
        .await
        .unwrap()
        .unwrap()
        .org_id;
    assert!(qifu_testkit::qifu_app::authorization::data_shared(&app.ctx, org).await.unwrap());
    let p = v.post_form("/account/authorization/sign", &[("agree", "1")]).await.unwrap();
    assert!(p.body.contains("已签署数据授权"), "one active authorisation at a time");
    let p = v.post_form("/account/authorization/revoke", &[]).await.unwrap();
    assert_eq!(p.location(), Some("/account/authorization?done=revoked"));
    assert!(!qifu_testkit::qifu_app::authorization::data_shared(&app.ctx, org).await.unwrap());
    let p = app.new_visitor().unwrap().post_form("/verify-authorization", &[("file", &body)]).await.unwrap();
    assert!(p.body.contains("签名有效") && p.body.contains("已被企业撤回"));
    // It can be signed again afterwards.
    let p = v.post_form("/account/authorization/sign", &[("agree", "1")]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let log = crate::access_helpers::audit_entries(&app, 100).await;
    assert!(log.iter().any(|l| l.action == "authorization.revoke") && log.iter().any(|l| l.action == "authorization.sign"));
}

#[tokio::test]
async fn only_certified_enterprises_sign() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    qifu_testkit::qifu_app::accounts::create_user(
        &app.ctx,
        qifu_testkit::qifu_app::accounts::NewUser {
            username: "fresh".into(),
            display_name: "新企业".into(),
            password: PASSWORD.into(),
            role: qifu_domain::accounts::BuiltinRole::EnterpriseAdmin,
            org_name: "北京尚未认证科技有限公司".into(),
            must_change_password: false,
            phone: None,
        },
    )
    .await
    .unwrap();
    let v = app.new_visitor().unwrap();
    v.login("fresh", PASSWORD).await.unwrap();
    assert!(v.get("/account/authorization").await.unwrap().body.contains("完成企业实名认证后才能签署"));
    let p = v.post_form("/account/authorization/sign", &[("agree", "1")]).await.unwrap();
    assert_eq!(p.status, StatusCode::CONFLICT);
    assert!(p.body.contains("请先完成企业实名认证"));
    let inst = app.new_visitor().unwrap();
    inst.login("institution", PASSWORD).await.unwrap();
    assert_eq!(inst.get("/account/authorization").await.unwrap().status, StatusCode::FORBIDDEN);
    assert_eq!(inst.get("/account/authorization/download").await.unwrap().status, StatusCode::NOT_FOUND);
}
