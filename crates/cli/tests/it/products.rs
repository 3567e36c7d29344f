//! Institutions publish products; the operator reviews them.

use crate::{PASSWORD, TestApp};
use qifu_testkit::Visitor;
use qifu_testkit::qifu_db::entity::product;
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

async fn category(app: &TestApp, name: &str) -> String {
    let tree = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db).await.unwrap();
    tree.iter().flat_map(|(t, c)| std::iter::once(t).chain(c.iter())).find(|c| c.name == name).unwrap().id.to_string()
}

fn form<'a>(cat: &'a str, name: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("category_id", cat),
        ("name", name),
        ("summary", "面向小微企业的应收账款融资，最快3天放款。"),
        ("description", "<p>申请材料：营业执照、近一年纳税证明。</p>"),
        ("pricing", "free"),
        ("delivery_mode", "offline"),
        ("service_area", "通州区"),
        ("certification_required", "1"),
        ("amount_min_wan", "10"),
        ("amount_max_wan", "500"),
        ("rate_min", "3.2"),
        ("rate_max", "4.8"),
        ("term_min_months", "3"),
        ("term_max_months", "12"),
    ];
    for &(k, v) in extra {
        match f.iter_mut().find(|(fk, _)| *fk == k) {
            Some(slot) => slot.1 = v,
            None => f.push((k, v)),
        }
    }
    f
}

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

#[tokio::test]
async fn publish_review_list_and_a_revision_keeps_the_old_version_listed() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let bank = signed_in(&app, "institution").await;
    let op = signed_in(&app, "operator").await;
    let cat = category(&app, "信用贷款").await;
    let p = bank.post_form("/admin/products", &form(&cat, "运河应收账款融资", &[])).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let id =
        product::Entity::find().filter(product::Column::Name.eq("运河应收账款融资")).one(&app.ctx.db).await.unwrap().unwrap().id;
    assert!(!app.get("/products").await.unwrap().body.contains("运河应收账款融资"), "a draft is not listed");
    assert_eq!(bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap().status, StatusCode::SEE_OTHER);
    let queue = op.get("/admin/products?status=submitted").await.unwrap();
    assert!(queue.body.contains("运河应收账款融资"));
    assert!(op.get("/account/messages").await.unwrap().body.contains("服务产品“运河应收账款融资”待审核"), "reviewers are told");
    let p = op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "reject"), ("reason", "")]).await.unwrap();
    assert!(p.body.contains("驳回时请填写原因"));
    op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "reject"), ("reason", "请补充利率说明")]).await.unwrap();
    assert!(bank.get(&format!("/admin/products/{id}")).await.unwrap().body.contains("驳回原因：请补充利率说明"));
    assert!(bank.get("/account/messages").await.unwrap().body.contains("未通过审核"));
    bank.post_form(
        &format!("/admin/products/{id}"),
        &form(&cat, "运河应收账款融资", &[("summary", "年利率3.2%起，最快3天放款。")]),
    )
    .await
    .unwrap();
    bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap();
    let p = op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "approve")]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let list = app.get("/products").await.unwrap();
    assert!(list.body.contains("运河应收账款融资"), "approved = listed");
    // Editing the listed product makes a revision; the approved text stays listed.
    let p = bank.post_form(&format!("/admin/products/{id}"), &form(&cat, "运河应收账款融资（升级版）", &[])).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let rev = product::Entity::find().filter(product::Column::RevisionOf.eq(id)).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(rev.status, qifu_domain::demands::ProductState::Draft);
    bank.post_form(&format!("/admin/products/{}/submit", rev.id), &[]).await.unwrap();
    let detail = app.get(&format!("/products/{id}")).await.unwrap();
    assert!(
        detail.body.contains("运河应收账款融资") && !detail.body.contains("升级版"),
        "old version still listed during review"
    );
    assert!(
        bank.post_form(&format!("/admin/products/{id}"), &form(&cat, "再改一次", &[]))
            .await
            .unwrap()
            .body
            .contains("修改正在审核中")
    );
    op.post_form(&format!("/admin/products/{}/review", rev.id), &[("decision", "approve")]).await.unwrap();
    let detail = app.get(&format!("/products/{id}")).await.unwrap();
    assert!(detail.body.contains("升级版"), "the approved revision replaces the listed content");
    assert!(product::Entity::find_by_id(rev.id).one(&app.ctx.db).await.unwrap().is_none(), "the revision row is merged");
    // Offline and online again.
    bank.post_form(&format!("/admin/products/{id}/offline"), &[]).await.unwrap();
    assert_eq!(app.get(&format!("/products/{id}")).await.unwrap().status, StatusCode::NOT_FOUND);
    bank.post_form(&format!("/admin/products/{id}/online"), &[]).await.unwrap();
    assert_eq!(app.get(&format!("/products/{id}")).await.unwrap().status, StatusCode::OK);
    let p = bank.post_form(&format!("/admin/products/{id}/online"), &[]).await.unwrap();
    assert!(p.body.contains("不能上架"), "an illegal transition is refused with a message");
    let log = crate::access_helpers::audit_entries(&app, 200).await;
    for a in ["product.create", "product.submit", "product.reject", "product.approve", "product.offline", "product.online"] {
        assert!(log.iter().any(|l| l.action == a), "{a} audited");
    }
}

#[tokio::test]
async fn bad_product_input_is_refused_or_neutralised() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let bank = signed_in(&app, "institution").await;
    let cat = category(&app, "信用贷款").await;
    let p = bank
        .post_form(
            "/admin/products",
            &form(
                &cat,
                "",
                &[
                    ("pricing", "price"),
                    ("price_yuan", "-5"),
                    ("rate_min", "6"),
                    ("rate_max", "4"),
                    ("amount_min_wan", "900"),
                    ("industries", "ZZ"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in
        ["请填写产品名称", "价格不能为负数", "年利率的最小值不能大于最大值", "融资金额的最小值不能大于最大值", "行业代码应为"]
    {
        assert!(p.body.contains(msg), "{msg}");
    }
    assert!(p.body.contains("value=\"900\""), "typed values kept");
    let p = bank
        .post_form(
            "/admin/products",
            &form(
                &cat,
                "安全测试产品",
                &[(
                    "description",
                    "<p>正文</p><script>alert('x')</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">链接</a>",
                )],
            ),
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let stored = product::Entity::find().order_by_desc(product::Column::Id).one(&app.ctx.db).await.unwrap().unwrap();
    assert!(stored.description.contains("<p>正文</p>"));
    assert!(
        !stored.description.contains("<script")
            && !stored.description.contains("onerror")
            && !stored.description.contains("javascript:")
    );
    assert_eq!(
        product::Entity::find().filter(product::Column::Name.eq("")).one(&app.ctx.db).await.unwrap(),
        None,
        "nothing half-created"
    );
}

#[tokio::test]
async fn an_institution_cannot_see_or_touch_another_institutions_product() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let bank = signed_in(&app, "institution").await;
    let law =
        product::Entity::find().filter(product::Column::Name.eq("中小企业常年法律顾问")).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(bank.get(&format!("/admin/products/{}", law.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    for action in ["offline", "submit"] {
        assert_eq!(
            bank.post_form(&format!("/admin/products/{}/{action}", law.id), &[]).await.unwrap().status,
            StatusCode::NOT_FOUND
        );
    }
    let cat = category(&app, "法律咨询").await;
    assert_eq!(
        bank.post_form(&format!("/admin/products/{}", law.id), &form(&cat, "篡改", &[])).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
    let list = bank.get("/admin/products").await.unwrap();
    assert!(list.body.contains("副中心小微信用贷") && !list.body.contains("中小企业常年法律顾问"));
    // Institutions cannot review, enterprises cannot publish.
    assert_eq!(
        bank.post_form(&format!("/admin/products/{}/review", law.id), &[("decision", "approve")]).await.unwrap().status,
        StatusCode::FORBIDDEN
    );
    let ent = signed_in(&app, "enterprise").await;
    assert_eq!(ent.get("/admin/products").await.unwrap().status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_enterprise_gets_products_it_qualifies_for_with_a_reason() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let bank = signed_in(&app, "institution").await;
    let op = signed_in(&app, "operator").await;
    let cat = category(&app, "信用贷款").await;
    // The demo enterprise is a small industrial-computer maker (GB/T 4754 3914) in Tongzhou.
    for (name, extra) in [
        ("制造业专属信用贷", vec![("industries", "C"), ("size_small", "1"), ("tongzhou_only", "1")]),
        ("软件企业专属贷", vec![("industries", "65")]),
    ] {
        bank.post_form("/admin/products", &form(&cat, name, &extra)).await.unwrap();
        let id = product::Entity::find().filter(product::Column::Name.eq(name)).one(&app.ctx.db).await.unwrap().unwrap().id;
        bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap();
        op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "approve")]).await.unwrap();
    }
    let ent = signed_in(&app, "enterprise").await;
    let home = ent.get("/").await.unwrap();
    assert!(home.body.contains("为您推荐"));
    assert!(home.body.contains("制造业专属信用贷"), "a product it qualifies for is recommended");
    assert!(home.body.contains("符合：工业控制计算机及系统制造、小型企业、注册在通州区"), "with the reason");
    let first = home.body.find("为您推荐").unwrap();
    let section = &home.body[first..home.body[first..].find("</section>").unwrap() + first];
    assert!(section.contains("制造业专属信用贷"), "a product it qualifies for is in the recommendations");
    assert!(!section.contains("软件企业专属贷"), "a product it does not qualify for is not");
    assert!(
        section.find("制造业专属信用贷").unwrap() < section.find("面向所有企业").unwrap_or(usize::MAX),
        "the most specific fit comes first"
    );
    // Visitors get no personal recommendations.
    assert!(!app.new_visitor().unwrap().get("/").await.unwrap().body.contains("为您推荐"));
}

/// Whether the product's application form asks for the financing fields.
async fn asks_financing(v: &Visitor, pid: i64) -> bool {
    let p = v.get(&format!("/products/{pid}/apply")).await.unwrap();
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    p.body.contains("融资申请") && p.body.contains("财务概况")
}

/// The financing fields follow the category's kind (融资类), not its name.
#[tokio::test]
async fn financing_is_the_category_kind_not_its_name() {
    use qifu_domain::catalog::CategoryKind;
    use qifu_testkit::qifu_db::entity::category;
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let ent = app.new_visitor().unwrap();
    ent.login("enterprise", PASSWORD).await.unwrap();
    let loan =
        product::Entity::find().filter(product::Column::Name.eq("副中心科创投贷联动")).one(&app.ctx.db).await.unwrap().unwrap();
    assert!(asks_financing(&ent, loan.id).await);

    // Renaming the financing category (with a form that does not touch the kind) keeps it financing.
    let top = category::Entity::find().filter(category::Column::Name.eq("融资服务")).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(top.kind, CategoryKind::Financing, "the demo seeds the kind");
    let p = op.post_form(&format!("/admin/categories/{}", top.id), &[("name", "金融服务"), ("sort", "7")]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let renamed = category::Entity::find_by_id(top.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!((renamed.name.as_str(), renamed.kind), ("金融服务", CategoryKind::Financing));
    assert!(asks_financing(&ent, loan.id).await, "still a financing product after the rename");
    let list = op.get("/admin/categories").await.unwrap();
    assert!(list.body.contains("金融服务") && list.body.contains("融资类"), "the kind is shown");

    // A new top-level category created as 融资类: its products ask for the financing fields.
    let law = product::Entity::find()
        .filter(product::Column::Status.eq(qifu_domain::demands::ProductState::Online))
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.amount_min_fen.is_none() && p.category_id != top.id)
        .unwrap();
    assert!(!asks_financing(&ent, law.id).await, "a service product does not");
    let p = op.post_form("/admin/categories", &[("name", "供应链金融"), ("sort", "9"), ("kind", "financing")]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let created =
        category::Entity::find().filter(category::Column::Name.eq("供应链金融")).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!((created.parent_id, created.kind), (None, CategoryKind::Financing));
    // …and a child of it inherits the kind, whatever the form says.
    let pid = created.id.to_string();
    let p = op
        .post_form("/admin/categories", &[("name", "应收账款融资"), ("parent_id", &pid), ("sort", "1"), ("kind", "service")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let child =
        category::Entity::find().filter(category::Column::Name.eq("应收账款融资")).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(child.kind, CategoryKind::Financing);
    product::Entity::update_many()
        .col_expr(product::Column::CategoryId, sea_orm::sea_query::Expr::value(child.id))
        .filter(product::Column::Id.eq(law.id))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    assert!(asks_financing(&ent, law.id).await, "its products are financing products now");
    // Set back to 服务类, the category's products are service products again.
    let p = op
        .post_form(&format!("/admin/categories/{}", created.id), &[("name", "供应链金融"), ("sort", "9"), ("kind", "service")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let child = category::Entity::find_by_id(child.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(child.kind, CategoryKind::Service, "children follow their parent");
    assert!(!asks_financing(&ent, law.id).await);
}
