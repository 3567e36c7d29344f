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

/// The newest `n` entries of the whole audit log, as an auditor (全部) sees them.
pub async fn audit_entries(app: &TestApp, n: u64) -> Vec<qifu_testkit::qifu_db::entity::audit::Model> {
    use qifu_domain::accounts::{OrgKind, Permission, Scope};
    use qifu_testkit::qifu_app::actor::{Actor, require};
    let auditor = Actor {
        user_id: 0,
        username: "auditor".into(),
        display_name: "审计员".into(),
        org_id: 0,
        org_kind: OrgKind::Operator,
        org_name: String::new(),
        role_names: vec![],
        grants: [(Permission::AuditView, Scope::All)].into_iter().collect(),
        must_change_password: false,
        is_org_admin: false,
    };
    let grant = require(&auditor, Permission::AuditView).unwrap();
    qifu_testkit::qifu_app::audit::list(&app.ctx.db, &grant, &Default::default(), 1, n).await.unwrap().0
}
