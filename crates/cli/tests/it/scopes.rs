//! Data scopes (本人 / 本组织 / 全部): for every permission whose scope the role
//! editor offers, each scope changes what the list shows; a scope the
//! permission does not offer cannot be saved.

use crate::security::user_id;
use crate::{PASSWORD, TestApp};
use qifu_domain::accounts::{Permission, Scope};
use qifu_testkit::qifu_app::actor::{Actor, load_actor};
use qifu_testkit::qifu_app::{Meta, accounts, audit};
use qifu_testkit::qifu_db::entity::{institution, product, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::BTreeSet;

struct World {
    app: TestApp,
    /// The demo institution's administrator and a second user of the same institution.
    admin: Actor,
    staff: Actor,
    operator_id: i64,
}

/// The same user holding only `p` with scope `s` (and the back office).
fn with(actor: &Actor, p: Permission, s: Scope) -> Actor {
    let mut a = actor.clone();
    a.grants = [(Permission::BackOffice, Scope::All), (p, s)].into_iter().collect();
    a
}

async fn world() -> World {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let admin = load_actor(&app.ctx.db, user_id(&app, "institution").await).await.unwrap().unwrap();
    let (_, initial) = accounts::create_sub_account(
        &app.ctx,
        &admin,
        &Meta::system("test"),
        &accounts::NewSubAccount {
            org_id: None,
            username: "inst_staff".into(),
            display_name: "客户经理".into(),
            phone: "13800001111".into(),
            role_id: Some(crate::sec_auth::role_id(&app, "institution_admin").await.parse().unwrap()),
        },
    )
    .await
    .unwrap();
    let staff_id = user_id(&app, "inst_staff").await;
    // The new user signs in and changes the initial password: a login record, a
    // session and an operation of its own.
    let v = app.new_visitor().unwrap();
    let p = v.post_login("inst_staff", &initial).await.unwrap();
    assert!(p.status.is_redirection(), "{}", p.body);
    let staff = load_actor(&app.ctx.db, staff_id).await.unwrap().unwrap();
    accounts::change_password(&app.ctx, &staff, &Meta::system("test"), "", &initial, "Scope@2026staff", "Scope@2026staff")
        .await
        .unwrap();
    app.new_visitor().unwrap().login("inst_staff", "Scope@2026staff").await.unwrap();
    // The administrator and an operator sign in too.
    app.new_visitor().unwrap().login("institution", PASSWORD).await.unwrap();
    app.new_visitor().unwrap().login("operator", PASSWORD).await.unwrap();
    let admin = load_actor(&app.ctx.db, admin.user_id).await.unwrap().unwrap();
    accounts::change_password(&app.ctx, &admin, &Meta::system("test"), "", PASSWORD, "Scope@2026admin", "Scope@2026admin")
        .await
        .unwrap();
    let staff = load_actor(&app.ctx.db, staff_id).await.unwrap().unwrap();
    let operator_id = user_id(&app, "operator").await;
    let operator = load_actor(&app.ctx.db, operator_id).await.unwrap().unwrap();
    accounts::change_password(&app.ctx, &operator, &Meta::system("test"), "", PASSWORD, "Scope@2026oper", "Scope@2026oper")
        .await
        .unwrap();
    // A password change ends the user's other sessions: sign in again (after the SMS resend interval).
    app.advance(chrono::Duration::seconds(61));
    app.new_visitor().unwrap().login("institution", "Scope@2026admin").await.unwrap();
    app.new_visitor().unwrap().login("operator", "Scope@2026oper").await.unwrap();
    World { app, admin, staff, operator_id }
}

async fn org_of(app: &TestApp, user_id: i64) -> i64 {
    user::Entity::find_by_id(user_id).one(&app.ctx.db).await.unwrap().unwrap().org_id
}

#[tokio::test]
async fn session_login_and_operation_logs_follow_the_scope() {
    let w = world().await;
    let ctx = &w.app.ctx;
    let me = w.staff.user_id;
    let colleague = w.admin.user_id;
    let org = w.staff.org_id;

    // 在线用户 (SessionOnline)
    for s in [Scope::Own, Scope::Org, Scope::All] {
        let a = with(&w.staff, Permission::SessionOnline, s);
        let (rows, total) = accounts::list_online(ctx, &a, 1).await.unwrap();
        let users: BTreeSet<i64> = rows.iter().map(|r| r.user_id).collect();
        assert_eq!(total as usize, rows.len());
        match s {
            Scope::Own => assert_eq!(users, BTreeSet::from([me]), "本人: only my sessions"),
            Scope::Org => assert_eq!(users, BTreeSet::from([me, colleague]), "本组织: my institution's"),
            Scope::All => assert!(users.contains(&me) && users.contains(&colleague) && users.contains(&w.operator_id)),
        }
    }

    // 登录日志 (LoginLogView)
    for s in [Scope::Own, Scope::Org, Scope::All] {
        let a = with(&w.staff, Permission::LoginLogView, s);
        let (rows, _) = audit::login_log(ctx, &a, &Default::default(), 1).await.unwrap();
        let users: BTreeSet<Option<i64>> = rows.iter().map(|r| r.user_id).collect();
        match s {
            Scope::Own => assert_eq!(users, BTreeSet::from([Some(me)])),
            Scope::Org => assert_eq!(users, BTreeSet::from([Some(me), Some(colleague)])),
            Scope::All => assert!(users.contains(&Some(w.operator_id)) && users.contains(&Some(me))),
        }
    }
    // The export follows the same scope.
    let own = with(&w.staff, Permission::LoginLogView, Scope::Own);
    let xlsx =
        audit::login_log_xlsx(ctx, &own, &qifu_testkit::qifu_app::Meta::system("test"), &Default::default()).await.unwrap();
    let all = with(&w.staff, Permission::LoginLogView, Scope::All);
    let xlsx_all =
        audit::login_log_xlsx(ctx, &all, &qifu_testkit::qifu_app::Meta::system("test"), &Default::default()).await.unwrap();
    assert!(xlsx.len() < xlsx_all.len(), "本人 exports fewer rows than 全部");

    // 操作日志 (OperationLogView)
    let mut totals = Vec::new();
    for s in [Scope::Own, Scope::Org, Scope::All] {
        let a = with(&w.staff, Permission::OperationLogView, s);
        let (rows, total) = audit::operation_log(ctx, &a, &Default::default(), 1).await.unwrap();
        totals.push(total);
        assert!(!rows.is_empty());
        let users: BTreeSet<Option<i64>> = rows.iter().map(|r| r.actor_user_id).collect();
        let orgs: BTreeSet<Option<i64>> = rows.iter().map(|r| r.actor_org_id).collect();
        match s {
            Scope::Own => assert_eq!(users, BTreeSet::from([Some(me)])),
            Scope::Org => {
                assert_eq!(orgs, BTreeSet::from([Some(org)]));
                assert!(users.contains(&Some(me)) && users.contains(&Some(colleague)));
            }
            Scope::All => {}
        }
    }
    assert!(totals[0] < totals[1] && totals[1] < totals[2], "本人 < 本组织 < 全部: {totals:?}");
}

#[tokio::test]
async fn user_and_product_management_follow_the_scope() {
    let w = world().await;
    let ctx = &w.app.ctx;
    let org = w.admin.org_id;

    // 管理用户和子账号 (UserManage): 本组织 or 全部
    let (mine, mine_total) =
        accounts::list_users(ctx, &with(&w.admin, Permission::UserManage, Scope::Org), &Default::default(), 1).await.unwrap();
    let (_, all_total) =
        accounts::list_users(ctx, &with(&w.admin, Permission::UserManage, Scope::All), &Default::default(), 1).await.unwrap();
    assert_eq!(mine_total, 2, "the administrator and the new user");
    for r in &mine {
        assert_eq!(org_of(&w.app, r.id).await, org);
    }
    assert!(all_total > mine_total);

    // 发布和管理本机构服务产品 (ProductManage): 本组织 or 全部
    let inst = institution::Entity::find().filter(institution::Column::OrgId.eq(org)).one(&ctx.db).await.unwrap().unwrap();
    let (rows, own_total) = qifu_testkit::qifu_app::catalog::products::list_for_admin(
        ctx,
        &with(&w.admin, Permission::ProductManage, Scope::Org),
        None,
        1,
    )
    .await
    .unwrap();
    assert!(own_total > 0);
    assert!(rows.iter().all(|p| p.institution_id == inst.id));
    let (_, all_total) = qifu_testkit::qifu_app::catalog::products::list_for_admin(
        ctx,
        &with(&w.admin, Permission::ProductManage, Scope::All),
        None,
        1,
    )
    .await
    .unwrap();
    let everything = product::Entity::find().all(&ctx.db).await.unwrap().len() as u64;
    assert_eq!(all_total, everything);
    assert!(all_total > own_total);
    // A product of another institution opens only under 全部.
    let other = product::Entity::find().filter(product::Column::InstitutionId.ne(inst.id)).one(&ctx.db).await.unwrap().unwrap();
    let org_scope = with(&w.admin, Permission::ProductManage, Scope::Org);
    assert!(qifu_testkit::qifu_app::catalog::products::product_for(ctx, &org_scope, other.id).await.is_err());
    let all_scope = with(&w.admin, Permission::ProductManage, Scope::All);
    assert!(qifu_testkit::qifu_app::catalog::products::product_for(ctx, &all_scope, other.id).await.is_ok());
}

#[tokio::test]
async fn the_role_editor_saves_only_offered_scopes() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let sysadmin = load_actor(&app.ctx.db, user_id(&app, "sysadmin").await).await.unwrap().unwrap();
    let save = |code: &'static str, grants: Vec<(&'static str, &'static str)>| {
        let ctx = app.ctx.clone();
        let sysadmin = sysadmin.clone();
        async move {
            accounts::save_role(
                &ctx,
                &sysadmin,
                &Meta::system("test"),
                None,
                &accounts::RoleForm {
                    code: code.to_owned(),
                    name: "范围测试".into(),
                    org_kind: "institution".into(),
                    grants: grants.into_iter().map(|(p, s)| (p.to_owned(), s.to_owned())).collect(),
                },
            )
            .await
        }
    };
    // 本人 makes no sense for managing users: refused with a message naming both.
    let err = save("scope_a", vec![("user.manage", "own")]).await.unwrap_err();
    assert!(format!("{err:?}").contains("管理用户和子账号") && format!("{err:?}").contains("本人"), "{err:?}");
    // Offered scopes save.
    assert!(save("scope_b", vec![("log.login", "own")]).await.is_ok());
    // A flag permission is stored as 全部 whatever was sent.
    let id = save("scope_c", vec![("back_office", "org"), ("session.online", "org")]).await.unwrap();
    let grants = qifu_testkit::qifu_db::entity::role_permission::Entity::find()
        .filter(qifu_testkit::qifu_db::entity::role_permission::Column::RoleId.eq(id))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(grants.iter().any(|g| g.permission == Permission::BackOffice && g.scope == Scope::All));
    assert!(grants.iter().any(|g| g.permission == Permission::SessionOnline && g.scope == Scope::Org));
}
