//! Demands: apply, accept, deliver, confirm; decline; withdraw; financing;
//! overdue reminders and escalation; scopes.

use crate::{PASSWORD, TestApp};
use chrono::Duration;
use qifu_domain::demands::{DemandKind, DemandState};
use qifu_testkit::Visitor;
use qifu_testkit::qifu_db::entity::{demand, product, sms_outbox, user};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

async fn product_id(app: &TestApp, name: &str) -> i64 {
    product::Entity::find().filter(product::Column::Name.eq(name)).one(&app.ctx.db).await.unwrap().unwrap().id
}

async fn latest_demand(app: &TestApp) -> demand::Model {
    demand::Entity::find().order_by_desc(demand::Column::Id).one(&app.ctx.db).await.unwrap().unwrap()
}

const SERVICE: &[(&str, &str)] =
    &[("needs", "需要年度法律顾问服务，重点是劳动合同审查"), ("contact_name", "王建国"), ("contact_phone", "13812345678")];

/// Posts the delivery form (multipart: a note and an optional proof file).
async fn deliver(app: &TestApp, v: &Visitor, id: i64, note: &str, proof: Option<(Vec<u8>, &str)>) -> qifu_testkit::Page {
    let token = v.get(&format!("/admin/demands/{id}")).await.unwrap().csrf().unwrap();
    let mut form = reqwest::multipart::Form::new().text("_csrf", token).text("note", note.to_owned());
    if let Some((bytes, name)) = proof {
        form = form.part("proof", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    }
    let res = v.client.post(app.url(&format!("/admin/demands/{id}/deliver"))).multipart(form).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    qifu_testkit::Page { status, headers, body: res.text().await.unwrap() }
}

#[tokio::test]
async fn apply_accept_deliver_confirm_close_with_timeline_and_thread() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let bank = signed_in(&app, "institution").await;
    let pid = product_id(&app, "贷款保证保险").await; // not the bank's: insurer's product
    let _ = pid;
    let pid = product_id(&app, "副中心科创投贷联动").await; // the bank's equity-financing product
    let page = ent.get(&format!("/products/{pid}")).await.unwrap();
    assert!(page.body.contains("申请服务"));
    let form = ent.get(&format!("/products/{pid}/apply")).await.unwrap();
    assert!(form.body.contains("融资申请") && form.body.contains("财务概况"), "financing products ask for financing details");
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
                ("financial_summary", "上年营业收入2800万元，净利润210万元，资产负债率42%"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = latest_demand(&app).await;
    assert_eq!((d.kind, d.status), (DemandKind::Financing, DemandState::Submitted));
    assert!(!d.contact_phone_enc.contains("13812345678") && d.contact_phone_masked == "138****5678");
    assert!(bank.get("/account/messages").await.unwrap().body.contains("新的服务需求"), "the institution is notified");
    let inbox = bank.get("/admin/demands").await.unwrap();
    assert!(inbox.body.contains(&format!("/admin/demands/{}", d.id)));
    // Conversation on the demand.
    ent.post_form(&format!("/account/demands/{}/message", d.id), &[("body", "请问需要准备哪些材料？")]).await.unwrap();
    bank.post_form(&format!("/admin/demands/{}/message", d.id), &[("body", "请准备近两年财务报表。")]).await.unwrap();
    let p = bank.post_form(&format!("/admin/demands/{}/message", d.id), &[("body", "")]).await.unwrap();
    assert!(p.body.contains("请填写留言内容"));
    // The lifecycle, each step by the right side.
    let p = ent.post_form(&format!("/account/demands/{}/confirm", d.id), &[]).await.unwrap();
    assert!(p.body.contains("不能确认"), "the enterprise cannot confirm before delivery");
    for action in ["accept", "start"] {
        let p = bank.post_form(&format!("/admin/demands/{}/{action}", d.id), &[]).await.unwrap();
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{action}: {}", p.body);
    }
    let p = deliver(&app, &bank, d.id, "已完成尽调并出具融资方案", None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "deliver: {}", p.body);
    assert_eq!(ent.post_form(&format!("/account/demands/{}/confirm", d.id), &[]).await.unwrap().status, StatusCode::SEE_OTHER);
    let p = bank.post_form(&format!("/admin/demands/{}/close", d.id), &[("granted_amount_wan", "")]).await.unwrap();
    assert!(p.body.contains("放款金额") || p.body.contains("请填写金额"), "financing outcome required");
    let p = bank
        .post_form(
            &format!("/admin/demands/{}/close", d.id),
            &[("granted_amount_wan", "280"), ("granted_rate", "3.65"), ("granted_term_months", "24")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let view = ent.get(&format!("/account/demands/{}", d.id)).await.unwrap();
    for step in [
        "提交需求",
        "受理",
        "开始服务",
        "交付",
        "企业确认",
        "办结",
        "请准备近两年财务报表",
        "请问需要准备哪些材料",
        "放款 280万元",
        "3.65%",
    ] {
        assert!(view.body.contains(step), "{step} on the timeline/thread");
    }
    assert!(view.body.contains("已办结"));
    let d = latest_demand(&app).await;
    assert_eq!((d.granted_amount_fen, d.granted_rate_bp, d.granted_term_months), (Some(280_000_000), Some(365), Some(24)));
    let inbox = ent.get("/account/messages").await.unwrap();
    assert!(inbox.body.contains("需求状态更新"));
    // Each side was also texted a short notice, through the job queue and the SMS outbox.
    let sent = app.drain_jobs().await.unwrap();
    assert!(sent.succeeded >= 7 && sent.dead == 0, "one SMS job per notice: {sent:?}");
    let db = &app.ctx.db;
    let phone_of = |name: &'static str| async move {
        user::Entity::find().filter(user::Column::Username.eq(name)).one(db).await.unwrap().unwrap().phone_hash.unwrap()
    };
    let notices = sms_outbox::Entity::find().filter(sms_outbox::Column::Template.eq("notice")).all(&app.ctx.db).await.unwrap();
    let to = |hash: &str| notices.iter().filter(|n| n.phone_hash == hash).map(|n| n.content.clone()).collect::<Vec<_>>();
    let bank_sms = to(&phone_of("institution").await);
    assert!(
        bank_sms.iter().any(|t| t.contains("新的服务需求：副中心科创投贷联动") && t.contains("请登录平台查看")),
        "{bank_sms:?}"
    );
    let ent_sms = to(&phone_of("enterprise").await);
    assert!(
        ent_sms.len() >= 4 && ent_sms.iter().all(|t| t.starts_with("【通州企服】")),
        "accepted, started, delivered, closed: {ent_sms:?}"
    );
    assert!(notices.iter().all(|n| n.status == qifu_domain::messages::SmsStatus::Logged && !n.content.contains("13812345678")));
    // The enterprise rates the finished service once; the product shows it and sorts by it.
    let rate = |stars: &'static str, comment: &'static str| {
        let ent = &ent;
        async move {
            ent.post_form(&format!("/account/demands/{}/rate", d.id), &[("rating", stars), ("comment", comment)]).await.unwrap()
        }
    };
    assert!(ent.get(&format!("/account/demands/{}", d.id)).await.unwrap().body.contains("评价本次服务"));
    assert!(rate("0", "").await.body.contains("请选择1到5星的评分"));
    assert!(rate("6", "").await.body.contains("请选择1到5星的评分"));
    let long = "好".repeat(301);
    let p = ent.post_form(&format!("/account/demands/{}/rate", d.id), &[("rating", "4"), ("comment", &long)]).await.unwrap();
    assert!(p.body.contains("评价内容不能超过300字"));
    let p = bank.post_form(&format!("/admin/demands/{}/rate", d.id), &[("rating", "5")]).await.unwrap();
    assert!(p.body.contains("只有提出需求的企业可以评价"), "the institution cannot rate itself");
    let p = rate("4", "响应及时，<script>alert(1)</script>方案专业").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(rate("5", "").await.body.contains("该需求已评价，不能重复评价"));
    let view = bank.get(&format!("/admin/demands/{}", d.id)).await.unwrap();
    let at = view.body.find("企业评价").map(|i| &view.body[i..(i + 400).min(view.body.len())]);
    assert!(
        view.body.contains("★★★★☆") && view.body.contains("&#60;script&#62;") && !view.body.contains("<script>alert"),
        "shown to the institution, escaped: {at:?}"
    );
    let product_page = app.new_visitor().unwrap().get(&format!("/products/{pid}")).await.unwrap();
    assert!(product_page.body.contains("4.0分（1条评价）"), "{}", product_page.body);
    let listing = app.new_visitor().unwrap().get("/products?sort=rated").await.unwrap();
    let first = regex::Regex::new(r#"href="/products/(\d+)""#).unwrap().captures(&listing.body).unwrap()[1].to_owned();
    assert_eq!(first, pid.to_string(), "the only rated product comes first");
    let p = qifu_testkit::qifu_db::entity::product::Entity::find_by_id(pid).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!((p.rating_count, p.rating_sum, p.rating_avg_x100()), (1, 4, 400));
    let inst_page = app.new_visitor().unwrap().get(&format!("/institutions/{}", p.institution_id)).await.unwrap();
    assert!(inst_page.body.contains("4.0分（1条评价）"), "the institution page shows its products' ratings");
    assert!(listing.body.contains("4.0分（1条评价）"), "and so does the product list");
}

#[tokio::test]
async fn decline_withdraw_and_scopes() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let bank = signed_in(&app, "institution").await;
    let pid = product_id(&app, "副中心小微信用贷").await;
    let mut apply = SERVICE.to_vec();
    apply.extend([
        ("amount_wan", "50"),
        ("term_months", "12"),
        ("purpose", "流动资金"),
        ("guarantee_mode", "信用"),
        ("financial_summary", "营收稳定"),
    ]);
    ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap();
    let d1 = latest_demand(&app).await;
    let p = bank.post_form(&format!("/admin/demands/{}/decline", d1.id), &[("note", "")]).await.unwrap();
    assert!(p.body.contains("不予受理时请填写原因"));
    bank.post_form(&format!("/admin/demands/{}/decline", d1.id), &[("note", "企业征信记录不符合要求")]).await.unwrap();
    assert!(ent.get(&format!("/account/demands/{}", d1.id)).await.unwrap().body.contains("不予受理原因：企业征信记录不符合要求"));
    // Withdraw before acceptance only.
    ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap();
    let d2 = latest_demand(&app).await;
    assert_eq!(ent.post_form(&format!("/account/demands/{}/withdraw", d2.id), &[]).await.unwrap().status, StatusCode::SEE_OTHER);
    ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap();
    let d3 = latest_demand(&app).await;
    bank.post_form(&format!("/admin/demands/{}/accept", d3.id), &[]).await.unwrap();
    let p = ent.post_form(&format!("/account/demands/{}/withdraw", d3.id), &[]).await.unwrap();
    assert!(p.body.contains("不能撤回"));
    // A financing demand is visible only to its institution.
    let law = app.new_visitor().unwrap();
    let op = accounts_op(&app).await;
    let (_, lawyer) = crate::access_helpers::institution_admin(&app, &op, "北京丙律师事务所", "lawyer_c", "13811110009").await;
    law.login("lawyer_c", &lawyer).await.unwrap();
    law.post_form("/account/password", &[("old", &lawyer), ("new", "Harbor-Light-92"), ("confirm", "Harbor-Light-92")])
        .await
        .unwrap();
    assert_eq!(law.get(&format!("/admin/demands/{}", d3.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(law.post_form(&format!("/admin/demands/{}/start", d3.id), &[]).await.unwrap().status, StatusCode::NOT_FOUND);
    assert!(!law.get("/admin/demands").await.unwrap().body.contains(&format!("/admin/demands/{}", d3.id)));
    let other_ent = app.new_visitor().unwrap();
    qifu_testkit::qifu_app::accounts::create_user(
        &app.ctx,
        qifu_testkit::qifu_app::accounts::NewUser {
            username: "nosy".into(),
            display_name: "旁人".into(),
            password: PASSWORD.into(),
            role: qifu_domain::accounts::BuiltinRole::EnterpriseAdmin,
            org_name: "北京好奇科技有限公司".into(),
            must_change_password: false,
            phone: None,
        },
    )
    .await
    .unwrap();
    other_ent.login("nosy", PASSWORD).await.unwrap();
    assert_eq!(other_ent.get(&format!("/account/demands/{}", d3.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    // …and that uncertified enterprise is refused when it applies.
    let p = other_ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap();
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("请先完成企业实名认证"));
    // The operator sees everything and can reassign an unaccepted demand.
    ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap();
    let d4 = latest_demand(&app).await;
    let opv = signed_in(&app, "operator").await;
    assert!(opv.get("/admin/demands").await.unwrap().body.contains(&format!("/admin/demands/{}", d4.id)));
    let target = qifu_testkit::qifu_db::entity::institution::Entity::find()
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.id != d4.institution_id)
        .unwrap();
    let p = opv
        .post_form(&format!("/admin/demands/{}/reassign", d4.id), &[("to_institution", &target.id.to_string()), ("note", "")])
        .await
        .unwrap();
    assert!(p.body.contains("改派时请填写原因"));
    let p = opv
        .post_form(
            &format!("/admin/demands/{}/reassign", d4.id),
            &[("to_institution", &target.id.to_string()), ("note", "原机构暂停该业务")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(latest_demand(&app).await.institution_id, target.id);
    assert_eq!(
        bank.get(&format!("/admin/demands/{}", d4.id)).await.unwrap().status,
        StatusCode::NOT_FOUND,
        "no longer the bank's"
    );
    // The inbox exports to xlsx.
    let x = bank.client.get(app.url("/admin/demands?export=xlsx")).send().await.unwrap();
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
}

async fn accounts_op(app: &TestApp) -> qifu_testkit::qifu_app::actor::Actor {
    qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(app, "operator").await)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn overdue_demands_are_reminded_then_escalated() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let pid = product_id(&app, "中小企业常年法律顾问").await;
    let p = ent.post_form(&format!("/products/{pid}/apply"), SERVICE).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = latest_demand(&app).await;
    let run = || async {
        qifu_testkit::qifu_app::jobs::enqueue(
            &app.ctx.db,
            &app.ctx,
            &qifu_testkit::qifu_app::demands::CheckOverdueDemands,
            Default::default(),
        )
        .await
        .unwrap();
        app.drain_jobs().await.unwrap();
        latest_demand(&app).await
    };
    // Submitted on Sunday 29 Nov; three working days end on Wednesday 2 Dec.
    app.advance(Duration::days(3));
    let x = run().await;
    assert!(x.reminded_at.is_none(), "Wednesday: not yet overdue");
    app.advance(Duration::days(1));
    let x = run().await;
    assert!(x.reminded_at.is_some() && x.escalated_at.is_none(), "Thursday: reminded");
    let x = run().await;
    assert_eq!(x.reminded_at, latest_demand(&app).await.reminded_at, "reminded once");
    let op = signed_in(&app, "operator").await;
    let overdue = op.get("/admin/demands?overdue=1").await.unwrap();
    assert!(overdue.body.contains(&format!("/admin/demands/{}", d.id)), "the overdue board lists it");
    app.advance(Duration::days(1));
    assert!(run().await.escalated_at.is_none(), "Friday: still within the two more working days");
    app.advance(Duration::days(1));
    let x = run().await;
    assert!(x.escalated_at.is_some(), "Saturday: escalated to the operator");
    let op = signed_in(&app, "operator").await; // the earlier session has long expired
    assert!(op.get("/account/messages").await.unwrap().body.contains("需求超时升级"));
    let view = op.get(&format!("/admin/demands/{}", d.id)).await.unwrap();
    assert!(view.body.contains("超时催办") && view.body.contains("超时升级"));
}

#[tokio::test]
async fn bad_application_input_is_refused() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let pid = product_id(&app, "副中心小微信用贷").await;
    let long = "需".repeat(1200);
    let p = ent
        .post_form(
            &format!("/products/{pid}/apply"),
            &[
                ("needs", &long),
                ("contact_name", ""),
                ("contact_phone", "123"),
                ("expected_date", "2020-01-01"),
                ("amount_wan", "-5"),
                ("term_months", "0"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "需求说明不能超过1000个字",
        "请填写联系人",
        "手机号码应为11位数字",
        "期望时间应为今天或以后",
        "融资金额不能为负数",
        "融资期限应为1到360个月",
        "请填写资金用途",
    ] {
        assert!(p.body.contains(msg), "{msg}");
    }
    let p = ent
        .post_form(
            &format!("/products/{pid}/apply"),
            &[
                ("needs", "x"),
                ("contact_name", "王"),
                ("contact_phone", "13812345678"),
                ("amount_wan", "5000"),
                ("term_months", "12"),
                ("purpose", "p"),
                ("guarantee_mode", "信用"),
                ("financial_summary", "s"),
            ],
        )
        .await
        .unwrap();
    assert!(p.body.contains("超过该产品的最高金额"));
    assert!(demand::Entity::find().one(&app.ctx.db).await.unwrap().is_none(), "nothing created");
    assert_eq!(ent.get("/products/999999/apply").await.unwrap().status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delivery_proof_is_checked_by_content_and_shown_to_both_sides_only() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let bank = signed_in(&app, "institution").await;
    let pid = product_id(&app, "副中心科创投贷联动").await;
    let apply = [
        ("needs", "扩大产能"),
        ("contact_name", "王建国"),
        ("contact_phone", "13812345678"),
        ("amount_wan", "100"),
        ("term_months", "12"),
        ("purpose", "购置设备"),
        ("guarantee_mode", "信用"),
        ("financial_summary", "上年营业收入1200万元"),
    ];
    assert_eq!(ent.post_form(&format!("/products/{pid}/apply"), &apply).await.unwrap().status, StatusCode::SEE_OTHER);
    let d = latest_demand(&app).await;
    for action in ["accept", "start"] {
        bank.post_form(&format!("/admin/demands/{}/{action}", d.id), &[]).await.unwrap();
    }
    // A program renamed to .pdf is refused by its content; the demand stays in service.
    let p = deliver(&app, &bank, d.id, "已出具融资方案", Some((b"MZ\x90\x00 this is a program".to_vec(), "方案.pdf"))).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("文件格式不符合要求：只能上传PDF、JPG 或 PNG 文件"), "{}", p.body);
    // A 50 MB file is refused before it is read, with a clear message.
    let p = deliver(&app, &bank, d.id, "已出具融资方案", Some((vec![b'%'; 50 * 1024 * 1024], "大文件.pdf"))).await;
    assert_eq!(p.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(p.body.contains("提交的内容过大"), "{}", p.body);
    // Just over the proof limit but under the request limit: the app's own check.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(9 * 1024 * 1024, b' ');
    let p = deliver(&app, &bank, d.id, "已出具融资方案", Some((big, "方案.pdf"))).await;
    assert!(p.body.contains("文件不能超过8MB"), "{}", p.body);
    assert_eq!(latest_demand(&app).await.status, DemandState::InService, "nothing half-done");
    // A real PDF is kept and shown to both sides.
    let pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let p = deliver(&app, &bank, d.id, "已出具融资方案", Some((pdf.clone(), "../../etc/融资方案.pdf"))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = latest_demand(&app).await;
    assert_eq!(d.status, DemandState::Delivered);
    assert!(ent.get(&format!("/account/demands/{}", d.id)).await.unwrap().body.contains("查看交付凭证"));
    for (v, path) in
        [(&ent, format!("/account/demands/{}/files/proof", d.id)), (&bank, format!("/admin/demands/{}/files/proof", d.id))]
    {
        let res = v.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    }
    let f = qifu_testkit::qifu_db::entity::file::Entity::find_by_id(d.proof_file_id.unwrap())
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!f.original_name.contains('/') && f.original_name.ends_with("融资方案.pdf"), "{}", f.original_name);
    // Another institution and a visitor get nothing.
    let law = app.new_visitor().unwrap();
    let op = accounts_op(&app).await;
    let (_, lawyer) = crate::access_helpers::institution_admin(&app, &op, "北京丁律师事务所", "lawyer_d", "13811110019").await;
    law.login("lawyer_d", &lawyer).await.unwrap();
    law.post_form("/account/password", &[("old", &lawyer), ("new", "Harbor-Light-92"), ("confirm", "Harbor-Light-92")])
        .await
        .unwrap();
    assert_eq!(law.get(&format!("/admin/demands/{}/files/proof", d.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    let anon = app.new_visitor().unwrap().get(&format!("/account/demands/{}/files/proof", d.id)).await.unwrap();
    assert_ne!(anon.status, StatusCode::OK);
}

#[tokio::test]
async fn an_application_carries_an_attachment_checked_by_content() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let bank = signed_in(&app, "institution").await;
    let pid = product_id(&app, "副中心科创投贷联动").await; // the bank's
    let form_page = ent.get(&format!("/products/{pid}/apply")).await.unwrap();
    assert!(form_page.body.contains("enctype=\"multipart/form-data\"") && form_page.body.contains("name=\"attachment\""));
    let post = |file: Vec<u8>, name: &'static str| {
        let token = form_page.csrf().unwrap();
        let ent = &ent;
        let app = &app;
        async move {
            let mut form = reqwest::multipart::Form::new().text("_csrf", token);
            let financing = [
                ("amount_wan", "100"),
                ("term_months", "12"),
                ("purpose", "购置设备"),
                ("guarantee_mode", "信用"),
                ("financial_summary", "上年营业收入1200万元"),
            ];
            for &(k, v) in SERVICE.iter().chain(financing.iter()) {
                form = form.text(k, v.to_owned());
            }
            form = form.part("attachment", reqwest::multipart::Part::bytes(file).file_name(name));
            let res = ent.client.post(app.url(&format!("/products/{pid}/apply"))).multipart(form).send().await.unwrap();
            let status = res.status();
            let headers = res.headers().clone();
            qifu_testkit::Page { status, headers, body: res.text().await.unwrap() }
        }
    };
    let before = demand::Entity::find().all(&app.ctx.db).await.unwrap().len();
    // An HTML page with a script, named like a PDF: refused, the typed text kept, nothing saved.
    let p = post(b"<html><script>alert(1)</script></html>".to_vec(), "计划书.pdf").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("文件格式不符合要求：只能上传PDF、JPG 或 PNG 文件"), "{}", p.body);
    assert!(p.body.contains("需要年度法律顾问服务"), "what was typed is kept");
    assert_eq!(demand::Entity::find().all(&app.ctx.db).await.unwrap().len(), before, "no half-written demand");
    // A PNG goes with the demand; the institution opens it.
    // A real image: uploads are decoded and re-encoded.
    let png = vec![
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41,
        0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00, 0x00, 0x00, 0x00,
        0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let p = post(png.clone(), "营业执照.png").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = latest_demand(&app).await;
    assert!(d.attachment_file_id.is_some());
    assert!(bank.get(&format!("/admin/demands/{}", d.id)).await.unwrap().body.contains("查看企业上传的附件"));
    let res = bank.client.get(app.url(&format!("/admin/demands/{}/files/attachment", d.id))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    // Re-encoded on upload: a PNG still, not necessarily the same bytes.
    assert!(res.bytes().await.unwrap().starts_with(&png[..8]));
    assert_eq!(bank.get(&format!("/admin/demands/{}/files/other", d.id)).await.unwrap().status, StatusCode::NOT_FOUND);
}

/// A state the code does not know, stored by hand, is an error that names the
/// table, column and value; the page is the plain 500 page and the node goes on.
#[tokio::test]
async fn an_unknown_stored_state_fails_loudly_not_silently() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let pid = product_id(&app, "副中心科创投贷联动").await;
    let p = ent
        .post_form(
            &format!("/products/{pid}/apply"),
            &[
                ("needs", "流动资金周转"),
                ("contact_name", "王建国"),
                ("contact_phone", "13812345678"),
                ("amount_wan", "100"),
                ("term_months", "12"),
                ("purpose", "采购原材料"),
                ("guarantee_mode", "信用"),
                ("financial_summary", "上年营业收入800万元"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let d = latest_demand(&app).await;
    app.ctx.db.execute_unprepared(&format!("UPDATE demands SET status = 'bogus' WHERE id = {}", d.id)).await.unwrap();

    let op = accounts_op(&app).await;
    let err = qifu_testkit::qifu_app::demands::view(&app.ctx, &op, d.id).await.unwrap_err().to_string();
    assert!(err.contains("demands.status") && err.contains("bogus"), "{err}");

    let page = ent.get(&format!("/account/demands/{}", d.id)).await.unwrap();
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.body.contains("系统繁忙"), "{}", page.body);
    assert!(!page.body.contains("bogus") && !page.body.contains("demands.status"), "no internal cause shown");
    let list = ent.get("/account/demands").await.unwrap();
    assert_eq!(list.status, StatusCode::INTERNAL_SERVER_ERROR, "a list reading the row fails the same way");
    assert_eq!(ent.get("/").await.unwrap().status, StatusCode::OK, "the rest of the site still works");
}
