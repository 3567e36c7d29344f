//! The enterprise portrait (企业画像): the enterprise's own, staff's, and an
//! institution's only through a demand and only while the enterprise's
//! data-use authorisation is in force.

use crate::{PASSWORD, TestApp};
use qifu_testkit::Visitor;
use qifu_testkit::qifu_db::entity::{audit, demand, enterprise, organisation, product};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

/// The scores table of a portrait page: axis → (score, reasons text).
fn scores(body: &str) -> Vec<(String, u32, String)> {
    let doc = scraper::Html::parse_document(body);
    let row = scraper::Selector::parse("#portrait-scores tbody tr").unwrap();
    let num = scraper::Selector::parse("td.num").unwrap();
    let cell = scraper::Selector::parse("td").unwrap();
    doc.select(&row)
        .map(|r| {
            let axis = r.value().attr("data-axis").unwrap().to_owned();
            let n = r.select(&num).next().unwrap().text().collect::<String>().trim().parse().unwrap();
            let reasons = r.select(&cell).nth(1).unwrap().text().collect::<String>();
            (axis, n, reasons)
        })
        .collect()
}

fn radar_points(body: &str) -> usize {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse("svg.radar polygon.radar-value").unwrap();
    doc.select(&sel).next().map_or(0, |p| p.value().attr("points").unwrap().split(' ').count())
}

#[tokio::test]
async fn portraits_are_explained_and_institutions_see_them_only_under_a_valid_authorisation() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let db = &app.ctx.db;
    let org = organisation::Entity::find()
        .filter(organisation::Column::Name.eq("北京运河智造科技有限公司"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let e = enterprise::Entity::find().filter(enterprise::Column::OrgId.eq(org.id)).one(db).await.unwrap().unwrap();
    // Known figures: R&D 6.2 %, 高新技术企业, software industry → innovation 40 + 25 + 15 = 80.
    let mut am: enterprise::ActiveModel = e.clone().into();
    am.rd_ratio_bp = Set(Some(620));
    am.qualifications = Set(Some("高新技术企业".into()));
    am.industry_code = Set("6513".into());
    am.registry_status = Set(Some("存续".into()));
    am.credit_standing = Set(Some("A".into()));
    am.update(db).await.unwrap();

    // The enterprise's own portrait.
    let ent = signed_in(&app, "enterprise").await;
    let own = ent.get("/account/portrait").await.unwrap();
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let s = scores(&own.body);
    assert_eq!(s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["创新能力", "成长性", "合规经营", "数字化水平", "融资需求"]);
    assert_eq!(s[0].1, 80, "{:?}", s[0]);
    assert!(s[0].2.contains("研发费用占营业收入 6.2%") && s[0].2.contains("高新技术企业"), "{:?}", s[0]);
    // 存续 40 + credit A 30 + certified 30.
    assert_eq!(s[2].1, 100, "{:?}", s[2]);
    assert_eq!(radar_points(&own.body), 5);
    assert!(ent.get("/account").await.unwrap().body.contains("href=\"/account/portrait\""));

    // A financing demand to the bank.
    let pid = product::Entity::find().filter(product::Column::Name.eq("副中心科创投贷联动")).one(db).await.unwrap().unwrap().id;
    let p = ent
        .post_form(
            &format!("/products/{pid}/apply"),
            &[
                ("needs", "研发投入扩大，需要股权加贷款组合融资"),
                ("contact_name", "王建国"),
                ("contact_phone", "13812345678"),
                ("amount_wan", "300"),
                ("term_months", "24"),
                ("purpose", "购置研发设备"),
                ("guarantee_mode", "信用"),
                ("financial_summary", "上年营业收入2800万元"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = demand::Entity::find().order_by_desc(demand::Column::Id).one(db).await.unwrap().unwrap();
    let url = format!("/admin/demands/{}/portrait", d.id);

    // The bank: no authorisation yet, so no portrait, and the page says why.
    let bank = signed_in(&app, "institution").await;
    assert!(bank.get(&format!("/admin/demands/{}", d.id)).await.unwrap().body.contains(&url), "the demand links the portrait");
    let refused = bank.get(&url).await.unwrap();
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("未签署或已撤回数据授权"), "{}", refused.body);
    assert_eq!(scores(&refused.body).len(), 0);

    // Signed: the bank sees it, the financing demand counts, and the read is audited.
    let signed = ent.post_form("/account/authorization/sign", &[("agree", "1")]).await.unwrap();
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let seen = bank.get(&url).await.unwrap();
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("依据该企业签署的《企业数据授权书》查看"));
    let s = scores(&seen.body);
    assert_eq!(s[0].1, 80);
    assert!(s[4].2.contains("在平台提交融资需求 1 次"), "{:?}", s[4]);
    let reads = audit::Entity::find()
        .filter(audit::Column::Action.eq("data.read"))
        .filter(audit::Column::TargetType.eq("enterprise_portrait"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(reads.len(), 1, "one audited read");

    // Another institution is not a party to the demand.
    let op =
        qifu_testkit::qifu_app::actor::load_actor(db, crate::security::user_id(&app, "operator").await).await.unwrap().unwrap();
    let (_, pw) = crate::access_helpers::institution_admin(&app, &op, "北京丙律师事务所", "lawyer_p", "13811110019").await;
    let law = app.new_visitor().unwrap();
    law.login("lawyer_p", &pw).await.unwrap();
    law.post_form("/account/password", &[("old", &pw), ("new", "Harbor-Light-92"), ("confirm", "Harbor-Light-92")])
        .await
        .unwrap();
    assert_eq!(law.get(&url).await.unwrap().status, StatusCode::NOT_FOUND);
    // Institutions never reach portraits through the enterprise list.
    let direct = bank.get(&format!("/admin/enterprises/{}/portrait", e.id)).await.unwrap();
    assert_eq!(direct.status, StatusCode::FORBIDDEN);

    // Revoked: hidden at once.
    let r = ent.post_form("/account/authorization/revoke", &[]).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = bank.get(&url).await.unwrap();
    assert_eq!(after.status, StatusCode::FORBIDDEN);
    assert_eq!(scores(&after.body).len(), 0);

    // Staff who view enterprises see it from the record, with or without an authorisation.
    let operator = signed_in(&app, "operator").await;
    let staff = operator.get(&format!("/admin/enterprises/{}/portrait", e.id)).await.unwrap();
    assert_eq!(staff.status, StatusCode::OK, "{}", staff.body);
    assert_eq!(scores(&staff.body)[0].1, 80);
    assert!(operator.get(&format!("/admin/enterprises/{}", e.id)).await.unwrap().body.contains("/portrait\""));
    assert_eq!(operator.get(&url).await.unwrap().status, StatusCode::OK, "the operator oversees demands");
    // The enterprise cannot open another's through the back office.
    assert_ne!(ent.get(&format!("/admin/enterprises/{}/portrait", e.id)).await.unwrap().status, StatusCode::OK);
    // Bad ids are refused cleanly.
    assert_eq!(operator.get("/admin/enterprises/abc/portrait").await.unwrap().status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_enterprise_without_a_record_is_told_to_certify() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // An enterprise account not yet certified.
    qifu_testkit::qifu_app::accounts::create_user(
        &app.ctx,
        qifu_testkit::qifu_app::accounts::NewUser {
            username: "newco".into(),
            display_name: "测试联系人".into(),
            password: PASSWORD.into(),
            role: qifu_domain::accounts::BuiltinRole::EnterpriseAdmin,
            org_name: "北京新设科技有限公司".into(),
            must_change_password: false,
            phone: None,
        },
    )
    .await
    .unwrap();
    let v = app.new_visitor().unwrap();
    v.login("newco", PASSWORD).await.unwrap();
    let p = v.get("/account/portrait").await.unwrap();
    assert_eq!(p.status, StatusCode::CONFLICT, "{}", p.body);
    assert!(p.body.contains("尚未完成实名认证"));
}
