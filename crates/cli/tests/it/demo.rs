use crate::TestApp;
use qifu_domain::certification::CreditCode;
use qifu_domain::money::Money;
use qifu_domain::profiles::{Indicators, SizeGroup, classify};
use qifu_domain::reference::{division, industry};
use qifu_testkit::qifu_app::demo::{DemoOptions, DemoOutcome, run};
use qifu_testkit::qifu_db::entity::{enterprise, organisation, user};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

#[tokio::test]
async fn demo_data_is_valid_and_consistent() {
    let app = TestApp::spawn().await.unwrap();
    let report = match run(&app.ctx, &DemoOptions { enterprises: 1500, seed: 1, ..Default::default() }).await.unwrap() {
        DemoOutcome::Created(r) => r,
        DemoOutcome::AlreadyHasData => panic!("fresh database"),
    };
    assert_eq!(report.enterprises, 1500);
    assert_eq!(report.logins.len(), 7, "one login per role");
    let all = enterprise::Entity::find().all(&app.ctx.db).await.unwrap();
    assert_eq!(all.len(), 1500);
    let mut in_tongzhou = 0;
    for e in &all {
        let code = CreditCode::parse(&e.credit_code).unwrap_or_else(|err| panic!("{}: {err}", e.credit_code));
        if code.registered_in_tongzhou() {
            in_tongzhou += 1;
        }
        let ind = industry::find(&e.industry_code).expect("a GB/T 4754 code");
        assert_eq!(ind.level, industry::Level::Class);
        assert!(division::street(&e.division_code).is_some(), "a Tongzhou street: {}", e.division_code);
        let i = Indicators {
            employees: e.employees.map(i64::from),
            revenue: e.revenue_fen.map(Money::from_fen),
            total_assets: e.total_assets_fen.map(Money::from_fen),
        };
        let size = classify(SizeGroup::of_industry(&e.industry_code), &i).unwrap();
        assert_eq!(Some(size), e.size_class, "{}", e.name);
        assert!(e.founded_on < app.ctx.now().date_naive());
        assert!(e.name.ends_with("有限公司"));
    }
    assert!(in_tongzhou > 1300, "most are registered in Tongzhou");
    let micro = all.iter().filter(|e| e.size_class == Some(qifu_domain::profiles::SizeClass::Micro)).count();
    assert!(micro > 700, "a small-and-micro population: {micro}");
    let names: std::collections::HashSet<_> = all.iter().map(|e| &e.name).collect();
    assert_eq!(names.len(), all.len(), "names are unique");
}

#[tokio::test]
async fn running_demo_on_a_database_with_data_changes_nothing() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let before = (
        organisation::Entity::find().count(&app.ctx.db).await.unwrap(),
        enterprise::Entity::find().count(&app.ctx.db).await.unwrap(),
        user::Entity::find().count(&app.ctx.db).await.unwrap(),
    );
    let outcome = run(&app.ctx, &DemoOptions::default()).await.unwrap();
    assert!(matches!(outcome, DemoOutcome::AlreadyHasData));
    let after = (
        organisation::Entity::find().count(&app.ctx.db).await.unwrap(),
        enterprise::Entity::find().count(&app.ctx.db).await.unwrap(),
        user::Entity::find().count(&app.ctx.db).await.unwrap(),
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn demo_data_is_deterministic() {
    let a = TestApp::spawn().await.unwrap();
    let b = TestApp::spawn().await.unwrap();
    for app in [&a, &b] {
        run(&app.ctx, &DemoOptions { enterprises: 200, seed: 42, ..Default::default() }).await.unwrap();
    }
    let names = |app: &TestApp| {
        let db = app.ctx.db.clone();
        async move {
            enterprise::Entity::find()
                .order_by_asc(enterprise::Column::Id)
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.credit_code, e.industry_code, e.employees))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(&a).await, names(&b).await);
}

#[tokio::test]
async fn benchmark_users_belong_to_certified_enterprises_and_sign_in() {
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = TestApp::spawn().await.unwrap();
    run(&app.ctx, &DemoOptions { enterprises: 30, seed: 3, users: 45, ..Default::default() }).await.unwrap();
    let users = user::Entity::find().filter(user::Column::Username.starts_with("qy")).all(&app.ctx.db).await.unwrap();
    assert_eq!(users.len(), 45);
    // 29 enterprises had no organisation (the first belongs to the demo login): one each, then second users.
    let linked = enterprise::Entity::find().filter(enterprise::Column::OrgId.is_not_null()).all(&app.ctx.db).await.unwrap();
    assert_eq!(linked.len(), 30);
    assert!(linked.iter().all(|e| e.certified));
    for u in &users {
        let org = organisation::Entity::find_by_id(u.org_id).one(&app.ctx.db).await.unwrap().unwrap();
        assert_eq!(org.kind, qifu_domain::accounts::OrgKind::Enterprise);
        assert!(org.certified_at.is_some());
        assert!(linked.iter().any(|e| e.org_id == Some(org.id)));
    }
    let v = app.new_visitor().unwrap();
    v.login("qy000045", crate::PASSWORD).await.unwrap();
    let me = v.get("/account").await.unwrap();
    assert_eq!(me.status, qifu_testkit::reqwest::StatusCode::OK);
    assert!(me.body.contains("企业用户45"), "{}", me.body);
}
