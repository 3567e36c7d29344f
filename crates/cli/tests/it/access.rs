//! Who may do what: the authorisation matrix, data scopes, separation of
//! duties, and the audit chain.

use crate::security::user_id;
use crate::{PASSWORD, TestApp};
use qifu_domain::accounts::{BuiltinRole, Permission};
use qifu_testkit::qifu_app::{Meta, accounts};
use qifu_testkit::reqwest::StatusCode;

/// Every back-office page and the permission it needs.
const PAGES: &[(&str, Permission)] = &[
    ("/admin", Permission::BackOffice),
    ("/admin/enterprises", Permission::EnterpriseView),
    ("/admin/enterprises/999999", Permission::EnterpriseView),
    ("/admin/enterprises/999999/portrait", Permission::EnterpriseView),
    ("/admin/imports", Permission::EnterpriseManage),
    ("/admin/imports/999999", Permission::EnterpriseManage),
    ("/admin/data-reviews", Permission::EnterpriseManage),
    ("/admin/quality", Permission::EnterpriseView),
    ("/admin/data-catalog", Permission::EnterpriseView),
    ("/admin/jobs", Permission::JobView),
    ("/admin/users", Permission::UserManage),
    ("/admin/orgs", Permission::OrgManage),
    ("/admin/orgs/new-institution", Permission::OrgManage),
    ("/admin/institution-applications", Permission::OrgManage),
    ("/admin/institution-applications/999999", Permission::OrgManage),
    ("/admin/roles", Permission::RoleManage),
    ("/admin/roles/new", Permission::RoleManage),
    ("/admin/menus", Permission::MenuManage),
    ("/admin/online", Permission::SessionOnline),
    ("/admin/login-log", Permission::LoginLogView),
    ("/admin/operation-log", Permission::OperationLogView),
    ("/admin/audit", Permission::AuditView),
    ("/admin/sms", Permission::SmsOutboxView),
    ("/admin/certifications", Permission::CertificationReview),
    ("/admin/certifications/999999", Permission::CertificationReview),
    ("/admin/categories", Permission::CatalogManage),
    ("/admin/search", Permission::CatalogManage),
    ("/admin/policies", Permission::PolicyManage),
    ("/admin/policies/new", Permission::PolicyManage),
    ("/admin/policies/999999", Permission::PolicyManage),
    ("/admin/crawl-sources", Permission::PolicyManage),
    ("/admin/crawl-sources/999999", Permission::PolicyManage),
    ("/admin/messages", Permission::BackOffice),
    ("/admin/message-templates", Permission::MessageManage),
    ("/admin/message-templates/999999", Permission::MessageManage),
    ("/admin/deliveries", Permission::MessageManage),
    ("/admin/deliveries/999999", Permission::MessageManage),
    ("/admin/broadcasts", Permission::MessageManage),
    ("/admin/broadcasts/999999", Permission::MessageManage),
    ("/admin/wechat", Permission::MessageManage),
];

/// State-changing routes aimed at records that do not exist: allowed roles get
/// 404, the others 403.
const ACTIONS: &[(&str, Permission)] = &[
    ("/admin/users/999999/disable", Permission::UserManage),
    ("/admin/enterprises/999999", Permission::EnterpriseManage),
    ("/admin/enterprises/999999/tags", Permission::EnterpriseManage),
    ("/admin/imports/999999/commit", Permission::EnterpriseManage),
    ("/admin/imports/999999/discard", Permission::EnterpriseManage),
    ("/admin/data-reviews/999999/accept", Permission::EnterpriseManage),
    ("/admin/users/999999/reset-password", Permission::UserManage),
    ("/admin/orgs/999999/disable", Permission::OrgManage),
    ("/admin/institution-applications/999999", Permission::OrgManage),
    ("/admin/menus/999999", Permission::MenuManage),
    ("/admin/jobs/999999/retry", Permission::JobView),
    ("/admin/certifications/999999", Permission::CertificationReview),
    ("/admin/categories/999999", Permission::CatalogManage),
    ("/admin/search/synonyms/999999/delete", Permission::CatalogManage),
    ("/admin/policies/999999/publish", Permission::PolicyManage),
    ("/admin/policies/999999/rule", Permission::PolicyManage),
    ("/admin/crawl-sources/999999/run", Permission::PolicyManage),
    ("/admin/message-templates/999999", Permission::MessageManage),
    ("/admin/broadcasts/999999/cancel", Permission::MessageManage),
    ("/admin/wechat/replies/999999/delete", Permission::MessageManage),
    ("/admin/online/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/force-out", Permission::SessionOnline),
];

#[tokio::test]
async fn authorisation_matrix_every_route_by_every_role() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let logins = [
        ("operator", BuiltinRole::OperatorAdmin),
        ("sysadmin", BuiltinRole::SystemAdmin),
        ("secadmin", BuiltinRole::SecurityAdmin),
        ("auditor", BuiltinRole::Auditor),
        ("gov", BuiltinRole::GovernmentViewer),
        ("institution", BuiltinRole::InstitutionAdmin),
        ("enterprise", BuiltinRole::EnterpriseAdmin),
    ];
    let mut failures = Vec::new();
    for (user, role) in logins {
        let v = app.new_visitor().unwrap();
        v.login(user, PASSWORD).await.unwrap();
        let grants: Vec<Permission> = role.grants().iter().map(|(p, _)| *p).collect();
        let back_office = grants.contains(&Permission::BackOffice);
        for (path, perm) in PAGES {
            let allowed = back_office && grants.contains(perm);
            let got = v.get(path).await.unwrap().status;
            let ok = if path.contains("999999") { StatusCode::NOT_FOUND } else { StatusCode::OK };
            let want = if allowed { ok } else { StatusCode::FORBIDDEN };
            if got != want {
                failures.push(format!("{user} GET {path}: got {got}, want {want}"));
            }
        }
        for (path, perm) in ACTIONS {
            let allowed = back_office && grants.contains(perm);
            let got = v.post_form(path, &[("label", "x"), ("decision", "approve")]).await.unwrap().status;
            let want = if allowed { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
            if got != want {
                failures.push(format!("{user} POST {path}: got {got}, want {want}"));
            }
        }
        // Products: institutions manage their own, the operator reviews all.
        for path in ["/admin/products", "/admin/products?status=submitted"] {
            let allowed =
                back_office && (grants.contains(&Permission::ProductManage) || grants.contains(&Permission::CatalogManage));
            let got = v.get(path).await.unwrap().status;
            let want = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
            if got != want {
                failures.push(format!("{user} GET {path}: got {got}, want {want}"));
            }
        }
        let allowed = back_office && grants.contains(&Permission::ProductManage);
        let got = v.get("/admin/products/new").await.unwrap().status;
        if got != if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN } {
            failures.push(format!("{user} GET /admin/products/new: got {got}"));
        }
        // Demands: an institution's inbox, or every demand for those who oversee them.
        let allowed = back_office && (role == BuiltinRole::InstitutionAdmin || grants.contains(&Permission::DemandOversee));
        let got = v.get("/admin/demands").await.unwrap().status;
        if got != if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN } {
            failures.push(format!("{user} GET /admin/demands: got {got}"));
        }
        let got = v.get("/account/demands").await.unwrap().status;
        let want = if role == BuiltinRole::EnterpriseAdmin { StatusCode::OK } else { StatusCode::FORBIDDEN };
        if got != want {
            failures.push(format!("{user} GET /account/demands: got {got}, want {want}"));
        }
        // Every signed-in user has their own account page.
        if v.get("/account").await.unwrap().status != StatusCode::OK {
            failures.push(format!("{user} GET /account"));
        }
    }
    let anon = app.new_visitor().unwrap();
    for (path, _) in PAGES {
        let p = anon.get(path).await.unwrap();
        if p.status != StatusCode::SEE_OTHER || !p.location().unwrap_or("").starts_with("/login?next=") {
            failures.push(format!("anonymous GET {path}: {}", p.status));
        }
    }
    for path in ["/account", "/account/users", "/account/password"] {
        if anon.get(path).await.unwrap().status != StatusCode::SEE_OTHER {
            failures.push(format!("anonymous GET {path}"));
        }
    }
    // The public API needs no sign-in.
    if anon.get("/api/v1/captcha").await.unwrap().status != StatusCode::OK {
        failures.push("anonymous GET /api/v1/captcha".into());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

async fn two_institutions(app: &TestApp) -> ((i64, String), (i64, String)) {
    let op = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, user_id(app, "operator").await).await.unwrap().unwrap();
    let meta = Meta::system("test");
    let mut out = Vec::new();
    for (name, code, user, phone) in [
        ("北京甲律师事务所", "31110000MD0000001X", "lawyer_a", "13811110001"),
        ("北京乙财税咨询有限公司", "91110112MA00000000", "tax_b", "13811110002"),
    ] {
        let code = qifu_domain::certification::CreditCode::from_body(&code[..17]).unwrap().to_string();
        let (org, username, password) = accounts::create_institution(
            &app.ctx,
            &op,
            &meta,
            &accounts::NewInstitution {
                name: name.into(),
                credit_code: code,
                kind: "law_firm".into(),
                intro: "".into(),
                admin_username: user.into(),
                admin_name: "机构管理员".into(),
                admin_phone: phone.into(),
            },
        )
        .await
        .unwrap();
        out.push((org, username, password));
    }
    let b = out.pop().unwrap();
    let a = out.pop().unwrap();
    ((a.0, a.1 + ":" + &a.2), (b.0, b.1 + ":" + &b.2))
}

#[tokio::test]
async fn an_institution_sees_and_touches_only_its_own_accounts() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ((_, a), (_, b)) = two_institutions(&app).await;
    let (a_user, a_pw) = a.split_once(':').unwrap();
    let (b_user, _) = b.split_once(':').unwrap();
    let v = app.new_visitor().unwrap();
    v.login(a_user, a_pw).await.unwrap();
    let p = v
        .post_form("/account/password", &[("old", a_pw), ("new", "Harbor-Light-91"), ("confirm", "Harbor-Light-91")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let list = v.get("/admin/users").await.unwrap();
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(a_user));
    assert!(!list.body.contains(b_user) && !list.body.contains("operator"), "other organisations are invisible");
    // Changing an id in the URL to another organisation's user: 404, not 403.
    let b_id = user_id(&app, b_user).await;
    for action in ["disable", "unlock", "reset-password"] {
        let p = v.post_form(&format!("/admin/users/{b_id}/{action}"), &[]).await.unwrap();
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{action}");
    }
    let op_id = user_id(&app, "operator").await;
    assert_eq!(v.post_form(&format!("/admin/users/{op_id}/disable"), &[]).await.unwrap().status, StatusCode::NOT_FOUND);
    // A sub-account created by the institution lands in the institution.
    let inst_role = crate::sec_auth::role_id(&app, "institution_admin").await;
    let p = v
        .post_form("/admin/users", &[("username", "a_clerk"), ("display_name", "钱助理"), ("org_id", "1"), ("role", &inst_role)])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    use qifu_testkit::qifu_db::entity::user;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let clerk = user::Entity::find().filter(user::Column::Username.eq("a_clerk")).one(&app.ctx.db).await.unwrap().unwrap();
    let a_admin = user::Entity::find().filter(user::Column::Username.eq(a_user)).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(clerk.org_id, a_admin.org_id, "org_id from the form is ignored outside scope All");
    assert!(!clerk.is_org_admin);
}

#[tokio::test]
async fn an_enterprise_admin_manages_only_its_sub_accounts() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.login("enterprise", PASSWORD).await.unwrap();
    let ent_role = crate::sec_auth::role_id(&app, "enterprise_admin").await;
    let p = v
        .post_form("/account/users", &[("username", "ent_clerk"), ("display_name", "孙出纳"), ("phone", ""), ("role", &ent_role)])
        .await
        .unwrap();
    assert!(p.body.contains("初始密码"));
    let p = v.get("/account/users").await.unwrap();
    assert!(p.body.contains("ent_clerk") && !p.body.contains("operator"));
    let clerk = user_id(&app, "ent_clerk").await;
    assert_eq!(v.post_form(&format!("/account/users/{clerk}/disable"), &[]).await.unwrap().status, StatusCode::SEE_OTHER);
    let inst = user_id(&app, "institution").await;
    assert_eq!(v.post_form(&format!("/account/users/{inst}/disable"), &[]).await.unwrap().status, StatusCode::NOT_FOUND);
    // Bad input on the sub-account form: field messages, nothing created.
    let p = v.post_form("/account/users", &[("username", "<b>x</b>"), ("display_name", ""), ("phone", "12")]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("用户名只能包含") && p.body.contains("请填写") && p.body.contains("手机号码"));
    let p =
        v.post_form("/account/users", &[("username", "ent_clerk"), ("display_name", "重复"), ("role", &ent_role)]).await.unwrap();
    assert!(p.body.contains("已被使用"));
}

#[tokio::test]
async fn operator_registers_an_institution_and_disables_an_organisation() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let bad = op
        .post_form("/admin/orgs/new-institution", &[("name", ""), ("credit_code", "91110000802100433C"), ("admin_phone", "1")])
        .await
        .unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("校验位") && bad.body.contains("请选择机构类型") && bad.body.contains("手机号码"));
    let code = qifu_domain::certification::CreditCode::from_body("91110112MA01XY812").unwrap().to_string();
    let ok = op
        .post_form(
            "/admin/orgs/new-institution",
            &[
                ("name", "北京通州知识产权服务中心有限公司"),
                ("credit_code", &code),
                ("kind", "intellectual_property"),
                ("admin_username", "ip_admin"),
                ("admin_name", "周专利"),
                ("admin_phone", "13822223333"),
                ("intro", "专利与商标代理"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let pw = crate::security::regex_capture(&ok.body, r"初始密码：(\S+?)（").unwrap_or_else(|| panic!("{}", ok.body));
    let inst = app.new_visitor().unwrap();
    assert_eq!(inst.login("ip_admin", &pw).await.unwrap().location(), Some("/account/password"));
    // Disabling the organisation signs its users out and keeps them out.
    use qifu_testkit::qifu_db::entity::organisation;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let org = organisation::Entity::find()
        .filter(organisation::Column::CreditCode.eq(code.as_str()))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let p = op.post_form(&format!("/admin/orgs/{}/disable", org.id), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(inst.get("/account/password").await.unwrap().status, StatusCode::SEE_OTHER);
    let again = app.new_visitor().unwrap();
    assert!(again.post_login("ip_admin", &pw).await.unwrap().body.contains("已停用"));
}

#[tokio::test]
async fn no_role_may_hold_all_three_duties() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let sys = app.new_visitor().unwrap();
    sys.login("sysadmin", PASSWORD).await.unwrap();
    let p = sys
        .post_form(
            "/admin/roles/new",
            &[
                ("code", "super_admin"),
                ("name", "超级管理员"),
                ("org_kind", "operator"),
                ("perm:role.manage", "all"),
                ("perm:session.online", "all"),
                ("perm:audit.view", "all"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("三权分立"));
    let p = sys
        .post_form(
            "/admin/roles/new",
            &[
                ("code", "log_viewer"),
                ("name", "日志查看员"),
                ("org_kind", "operator"),
                ("perm:back_office", "all"),
                ("perm:log.login", "all"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(sys.get("/admin/roles").await.unwrap().body.contains("日志查看员"));
    // Editing the built-in auditor role to add system duties is refused too.
    use qifu_testkit::qifu_db::entity::role;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let auditor = role::Entity::find().filter(role::Column::Code.eq("auditor")).one(&app.ctx.db).await.unwrap().unwrap();
    let p = sys
        .post_form(
            &format!("/admin/roles/{}", auditor.id),
            &[("name", "审计员"), ("perm:audit.view", "all"), ("perm:menu.manage", "all"), ("perm:log.operation", "all")],
        )
        .await
        .unwrap();
    assert!(p.body.contains("三权分立"));
}

#[tokio::test]
async fn menus_are_edited_and_shown_per_permission() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let sys = app.new_visitor().unwrap();
    sys.login("sysadmin", PASSWORD).await.unwrap();
    assert_eq!(sys.get("/admin/menus").await.unwrap().status, StatusCode::OK);
    let jobs_id = {
        use qifu_testkit::qifu_db::entity::menu;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        menu::Entity::find().filter(menu::Column::Code.eq("jobs")).one(&app.ctx.db).await.unwrap().unwrap().id
    };
    let p = sys
        .post_form(
            &format!("/admin/menus/{jobs_id}"),
            &[("label", "后台任务"), ("sort", "5"), ("permission", "job.view"), ("visible", "1")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(sys.get("/admin").await.unwrap().body.contains("后台任务"));
    let p = sys
        .post_form(&format!("/admin/menus/{jobs_id}"), &[("label", ""), ("sort", "5"), ("permission", "nope"), ("visible", "1")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("菜单名称不能为空"));
    // Hidden entries disappear from the side menu.
    sys.post_form(
        &format!("/admin/menus/{jobs_id}"),
        &[("label", "后台任务"), ("sort", "5"), ("permission", "job.view"), ("visible", "0")],
    )
    .await
    .unwrap();
    assert!(!sys.get("/admin").await.unwrap().body.contains("后台任务"));
    // A government viewer never sees system entries.
    let gov = app.new_visitor().unwrap();
    gov.login("gov", PASSWORD).await.unwrap();
    let body = gov.get("/admin").await.unwrap().body;
    assert!(body.contains("企业管理") && !body.contains("菜单管理") && !body.contains("审计日志"));
}

#[tokio::test]
async fn logs_are_browsable_filtered_and_exported() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    v.post_login("enterprise", "Wrong-pass-123").await.unwrap();
    let sec = app.new_visitor().unwrap();
    sec.login("secadmin", PASSWORD).await.unwrap();
    let p = sec.get("/admin/login-log?who=enterprise&result=failure").await.unwrap();
    assert!(p.body.contains("密码错误"));
    assert!(p.body.contains("共 1 条"), "{}", p.body);
    let x = sec.client.get(app.url("/admin/login-log?who=enterprise&export=xlsx")).send().await.unwrap();
    assert_eq!(x.headers().get("content-type").unwrap(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = x.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx (zip) file");
    let p = sec.get("/admin/operation-log?from=2026-11-01&to=2026-12-31").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    let p = sec.get("/admin/operation-log?from=garbage&to=%27--").await.unwrap();
    assert_eq!(p.status, StatusCode::OK, "bad dates are ignored");
    let x = sec.client.get(app.url("/admin/operation-log?export=xlsx")).send().await.unwrap();
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(sec.get("/admin/audit").await.unwrap().status, StatusCode::FORBIDDEN, "only the auditor reads the audit log");
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let sms = op.get("/admin/sms").await.unwrap();
    assert!(sms.body.contains("139****0003") && !sms.body.contains("13900000003"), "phones are masked in the outbox list");
}

#[tokio::test]
async fn the_audit_chain_verifies_and_names_a_tampered_record() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // A scripted series of audited actions through the pages.
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let op_role = crate::sec_auth::role_id(&app, "operator_admin").await;
    op.post_form("/admin/users", &[("username", "op_clerk"), ("display_name", "吴专员"), ("role", &op_role)]).await.unwrap();
    let clerk = user_id(&app, "op_clerk").await;
    op.post_form(&format!("/admin/users/{clerk}/disable"), &[]).await.unwrap();
    op.post_form(&format!("/admin/users/{clerk}/enable"), &[]).await.unwrap();
    op.post_form(&format!("/admin/users/{clerk}/reset-password"), &[]).await.unwrap();
    let log = crate::access_helpers::audit_entries(&app, 100).await;
    assert!(log.len() >= 4);
    let disable = log.iter().find(|r| r.action == "user.disable").unwrap();
    assert!(disable.detail.contains("\"before\"") && disable.detail.contains("disabled"), "before/after recorded");
    assert!(!disable.request_id.is_empty() && !disable.ip.is_empty(), "request id and IP recorded");
    assert!(disable.actor_name.contains("operator"));

    // The command runs on the installation's own data directory (its field key).
    let data_dir = std::sync::Arc::new(app.ctx.settings.data_dir.clone());
    let run = move |url: &str, data_dir: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"))
            .args(["audit", "verify", "--data-dir"])
            .arg(data_dir)
            .env("QIFU_DATABASE_URL", url)
            .env("QIFU_LOG_LEVEL", "warn")
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let url = app.db.url.clone();
    let (ok, out) = tokio::task::spawn_blocking({
        let url = url.clone();
        let dir = data_dir.clone();
        move || run(&url, &dir)
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("审计链完整"), "{out}");

    // Someone who owns the database lifts the append-only triggers and edits one audit row in SQL.
    use sea_orm::ConnectionTrait;
    crate::sec_ops::lift_append_only(&app).await;
    let target = disable.seq;
    app.ctx.db.execute_unprepared(&format!("UPDATE audit_log SET detail = '{{}}' WHERE seq = {target}")).await.unwrap();
    let dir = data_dir.clone();
    let (ok, out) = tokio::task::spawn_blocking(move || run(&url, &dir)).await.unwrap();
    assert!(!ok);
    assert!(out.contains(&format!("第 {target} 条")), "{out}");
    let auditor = app.new_visitor().unwrap();
    auditor.login("auditor", PASSWORD).await.unwrap();
    let page = auditor.get("/admin/audit?verify=1").await.unwrap();
    assert!(page.body.contains(&format!("第 {target} 条记录")), "the auditor sees it too");
    // Deleting the last record is detected as well.
    let max = log.iter().map(|r| r.seq).max().unwrap();
    app.ctx
        .db
        .execute_unprepared(&format!(
            "UPDATE audit_log SET detail = '{}' WHERE seq = {target}",
            disable.detail.replace('\'', "''")
        ))
        .await
        .unwrap();
    assert!(qifu_testkit::qifu_app::audit::verify(&app.ctx).await.unwrap().broken.is_none(), "restored");
    app.ctx.db.execute_unprepared(&format!("DELETE FROM audit_log WHERE seq = {max}")).await.unwrap();
    let v = qifu_testkit::qifu_app::audit::verify(&app.ctx).await.unwrap();
    assert_eq!(v.broken.map(|(s, _)| s), Some(max));
}
