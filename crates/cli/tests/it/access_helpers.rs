//! Helpers shared by tests that need more organisations.

use crate::TestApp;
use qifu_testkit::qifu_app::{Meta, accounts};

/// Registers an institution with an administrator; returns (org id, initial password).
pub async fn institution_admin(
    app: &TestApp,
    op: &qifu_testkit::qifu_app::actor::Actor,
    name: &str,
    username: &str,
    phone: &str,
) -> (i64, String) {
    let n = u64::from(phone.bytes().map(u32::from).sum::<u32>()) * 7919 + 1_000;
    let code = qifu_testkit::qifu_app::demo::credit_code(n, "110112").to_string();
    let (org, _, password) = accounts::create_institution(
        &app.ctx,
        op,
        &Meta::system("test"),
        &accounts::NewInstitution {
            name: name.into(),
            credit_code: code,
            kind: "law_firm".into(),
            intro: String::new(),
            admin_username: username.into(),
            admin_name: "机构管理员".into(),
            admin_phone: phone.into(),
        },
    )
    .await
    .unwrap();
    (org, password)
}
