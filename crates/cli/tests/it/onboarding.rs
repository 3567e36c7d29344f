//! Institution self-application (机构入驻) and product attachments.

use crate::{PASSWORD, TestApp};
use qifu_domain::accounts::ApplicationStatus;
use qifu_testkit::Visitor;
use qifu_testkit::qifu_db::entity::{audit, institution, institution_application as app_row, product, sms_outbox};
use qifu_testkit::reqwest::{self, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const NEW_PASSWORD: &str = "Yunhe#Law2026";

fn code(n: u64) -> String {
    qifu_testkit::qifu_app::demo::credit_code(9_000_000 + n, "110112").to_string()
}

fn fields<'a>(name: &'a str, credit_code: &'a str, phone: &'a str) -> Vec<(&'a str, String)> {
    vec![
        ("name", name.to_owned()),
        ("credit_code", credit_code.to_owned()),
        ("kind", "law_firm".to_owned()),
        ("intro", "专注中小企业劳动用工、合同审查和股权架构设计。\n服务团队12人。".to_owned()),
        ("qualifications", "律师事务所执业许可证 31110000E35312345H".to_owned()),
        ("contact_name", "赵明远".to_owned()),
        ("phone", phone.to_owned()),
        ("password", NEW_PASSWORD.to_owned()),
        ("confirm", NEW_PASSWORD.to_owned()),
    ]
}

/// Posts the application form as a visitor would: fresh page, its captcha answered (or `captcha` if given).
async fn apply(
    app: &TestApp,
    v: &Visitor,
    fields: &[(&str, String)],
    licence: Option<(Vec<u8>, &str)>,
    captcha: Option<&str>,
) -> qifu_testkit::Page {
    let page = v.get("/institutions/apply").await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    let (cid, answer) = qifu_testkit::captcha_answer(&app.ctx, &page).await.unwrap();
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", page.csrf().unwrap())
        .text("captcha_id", cid)
        .text("captcha", captcha.map(str::to_owned).unwrap_or(answer));
    for (k, val) in fields {
        form = form.text(k.to_string(), val.clone());
    }
    if let Some((bytes, name)) = licence {
        form = form.part("licence", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    }
    let res = v.client.post(app.url("/institutions/apply")).multipart(form).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    qifu_testkit::Page { status, headers, body: res.text().await.unwrap() }
}

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

async fn applications(app: &TestApp) -> u64 {
    app_row::Entity::find().count(&app.ctx.db).await.unwrap()
}

#[tokio::test]
async fn an_institution_applies_the_operator_approves_and_its_administrator_signs_in() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let visitor = app.new_visitor().unwrap();
    assert!(visitor.get("/products").await.unwrap().body.contains("/institutions/apply"), "the catalogue links to onboarding");
    let cc = code(1);
    let p = apply(&app, &visitor, &fields("运河律师事务所", &cc, "13900001111"), Some((PNG.to_vec(), "执照.png")), None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let a = app_row::Entity::find().one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(p.location(), Some(format!("/institutions/apply?no={}", a.id).as_str()));
    assert_eq!(a.status, ApplicationStatus::Submitted);
    assert_ne!(a.contact_phone_enc, "13900001111", "the phone is stored encrypted");
    assert!(visitor.get(p.location().unwrap()).await.unwrap().body.contains(&format!("申请编号 {}", a.id)));
    // The same credit code cannot apply twice while under review.
    let again = apply(&app, &visitor, &fields("运河律师事务所", &cc, "13900002222"), Some((PNG.to_vec(), "a.png")), None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("入驻申请正在审核中"));

    let op = signed_in(&app, "operator").await;
    assert!(op.get("/account/messages").await.unwrap().body.contains("新的机构入驻申请：运河律师事务所"), "operators are told");
    let queue = op.get("/admin/institution-applications").await.unwrap();
    assert!(queue.body.contains("运河律师事务所") && queue.body.contains("139****1111"), "{}", queue.body);
    let detail = op.get(&format!("/admin/institution-applications/{}", a.id)).await.unwrap();
    assert!(detail.body.contains("律师事务所执业许可证") && detail.body.contains("执照.png"));
    let lic = op.get(&format!("/admin/institution-applications/{}/licence", a.id)).await.unwrap();
    assert_eq!(lic.header("content-type"), Some("image/png"));
    // Nobody else reads the licence: not the visitor, not an institution.
    assert_ne!(visitor.get(&format!("/admin/institution-applications/{}/licence", a.id)).await.unwrap().status, StatusCode::OK);
    let bank = signed_in(&app, "institution").await;
    assert_eq!(
        bank.get(&format!("/admin/institution-applications/{}/licence", a.id)).await.unwrap().status,
        StatusCode::FORBIDDEN
    );

    let ok = op.post_form(&format!("/admin/institution-applications/{}", a.id), &[("decision", "approve")]).await.unwrap();
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let twice = op.post_form(&format!("/admin/institution-applications/{}", a.id), &[("decision", "approve")]).await.unwrap();
    assert!(twice.body.contains("该申请已审核"), "a decision is final");
    let a = app_row::Entity::find_by_id(a.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(a.status, ApplicationStatus::Approved);
    assert!(a.password_hash.is_empty(), "the chosen password's hash is not kept on the application");
    let org_id = a.org_id.unwrap();
    let inst = institution::Entity::find().filter(institution::Column::OrgId.eq(org_id)).one(&app.ctx.db).await.unwrap().unwrap();
    // The public institution page shows the introduction and the qualifications.
    let public = app.get(&format!("/institutions/{}", inst.id)).await.unwrap();
    assert!(public.body.contains("运河律师事务所") && public.body.contains("律师事务所执业许可证"));
    // The applicant signs in with the phone and the password chosen on the form.
    let admin = app.new_visitor().unwrap();
    let login = admin.login("13900001111", NEW_PASSWORD).await.unwrap();
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    assert_eq!(admin.get("/admin/products/new").await.unwrap().status, StatusCode::OK, "an institution administrator publishes");
    // Texted after the transaction, through the job queue.
    app.drain_jobs().await.unwrap();
    let texts: Vec<String> = sms_outbox::Entity::find().all(&app.ctx.db).await.unwrap().into_iter().map(|s| s.content).collect();
    assert!(texts.iter().any(|t| t.contains("入驻申请已通过")), "{texts:?}");
    for action in ["institution_application.submit", "institution_application.approve"] {
        assert_eq!(
            audit::Entity::find().filter(audit::Column::Action.eq(action)).count(&app.ctx.db).await.unwrap(),
            1,
            "{action}"
        );
    }
}

#[tokio::test]
async fn a_rejection_needs_a_reason_is_texted_and_the_institution_may_apply_again() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    let cc = code(2);
    let p = apply(&app, &v, &fields("通州财税咨询有限公司", &cc, "13900003333"), Some((PDF.to_vec(), "licence.pdf")), None).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let id = app_row::Entity::find().one(&app.ctx.db).await.unwrap().unwrap().id;
    let op = signed_in(&app, "operator").await;
    let lic = op.get(&format!("/admin/institution-applications/{id}/licence")).await.unwrap();
    assert_eq!(lic.header("content-type"), Some("application/pdf"), "a PDF licence is accepted");
    let no =
        op.post_form(&format!("/admin/institution-applications/{id}"), &[("decision", "reject"), ("reason", " ")]).await.unwrap();
    assert_eq!(no.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no.body.contains("请填写不通过的原因"));
    let no = op
        .post_form(&format!("/admin/institution-applications/{id}"), &[("decision", "reject"), ("reason", "营业执照不清晰")])
        .await
        .unwrap();
    assert_eq!(no.status, StatusCode::SEE_OTHER);
    let row = app_row::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.reject_reason.as_deref(), row.org_id),
        (ApplicationStatus::Rejected, Some("营业执照不清晰"), None)
    );
    app.drain_jobs().await.unwrap();
    let texts: Vec<String> = sms_outbox::Entity::find().all(&app.ctx.db).await.unwrap().into_iter().map(|s| s.content).collect();
    assert!(texts.iter().any(|t| t.contains("入驻申请未通过：营业执照不清晰")), "{texts:?}");
    // The same phone could not sign in: no account was made.
    let login = app.new_visitor().unwrap().login("13900003333", NEW_PASSWORD).await.unwrap();
    assert_ne!(login.status, StatusCode::SEE_OTHER);
    let again =
        apply(&app, &v, &fields("通州财税咨询有限公司", &cc, "13900003333"), Some((PNG.to_vec(), "清晰.png")), None).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "after a rejection the institution applies again: {}", again.body);
}

#[tokio::test]
async fn bad_applications_are_refused_with_clear_messages_and_nothing_is_written() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = app.new_visitor().unwrap();
    // Empty form.
    let empty: Vec<(&str, String)> = Vec::new();
    let p = apply(&app, &v, &empty, None, None).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "请填写企业名称".replace("企业", "机构").as_str(),
        "请选择机构类型",
        "请填写机构简介",
        "请填写资质说明",
        "请上传营业执照",
    ] {
        assert!(p.body.contains(msg), "missing {msg}");
    }
    // Hostile and malformed values.
    let mut f = fields("<script>alert(1)</script>律所", "91110112MA00000000", "12345");
    f.push(("intro", "长".repeat(2001)));
    f.retain(|(k, _)| *k != "confirm");
    f.push(("confirm", "different".to_owned()));
    let p = apply(&app, &v, &f, Some((b"MZ\x90\x00 this is an exe".to_vec(), "licence.png")), None).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("机构名称包含不允许的字符"), "{}", p.body);
    assert!(!p.body.contains("<script>alert(1)"), "the typed value comes back escaped");
    assert!(p.body.contains("文件格式不符合要求"));
    assert!(p.body.contains("两次输入的密码不一致"));
    // An oversized licence and a wrong captcha.
    let p = apply(
        &app,
        &v,
        &fields("运河知识产权代理有限公司", &code(3), "13900004444"),
        Some((big_png(6), "big.png")),
        Some("zzzz"),
    )
    .await;
    assert!(p.body.contains("文件不能超过5MB") && p.body.contains("图形验证码错误"), "{}", p.body);
    // A credit code already on the platform.
    let taken = qifu_testkit::qifu_db::entity::organisation::Entity::find()
        .filter(qifu_testkit::qifu_db::entity::organisation::Column::CreditCode.is_not_null())
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap()
        .credit_code
        .unwrap();
    let p =
        apply(&app, &v, &fields("运河知识产权代理有限公司", &taken, "13900004444"), Some((PNG.to_vec(), "a.png")), None).await;
    assert!(p.body.contains("已在平台注册"), "{}", p.body);
    assert_eq!(applications(&app).await, 0, "no failed submission left a record");
    assert_eq!(
        qifu_testkit::qifu_db::entity::file::Entity::find()
            .filter(qifu_testkit::qifu_db::entity::file::Column::Purpose.eq("institution_licence"))
            .count(&app.ctx.db)
            .await
            .unwrap(),
        0,
        "nor a stored file"
    );
}

fn big_png(mb: usize) -> Vec<u8> {
    let mut b = PNG.to_vec();
    b.resize(mb * 1024 * 1024 + 10, 0);
    b
}

async fn product_named(app: &TestApp, name: &str) -> product::Model {
    product::Entity::find().filter(product::Column::Name.eq(name)).one(&app.ctx.db).await.unwrap().unwrap()
}

async fn attach(app: &TestApp, v: &Visitor, id: i64, bytes: Vec<u8>, name: &str) -> qifu_testkit::Page {
    let token = v.get(&format!("/admin/products/{id}")).await.unwrap().csrf().unwrap();
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .part("attachment", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let res = v.client.post(app.url(&format!("/admin/products/{id}/files"))).multipart(form).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    qifu_testkit::Page { status, headers, body: res.text().await.unwrap() }
}

fn attachment_ids(body: &str, id: i64) -> Vec<String> {
    let re = regex::Regex::new(&format!(r#"/products/{id}/files/(\d+)""#)).unwrap();
    let mut ids: Vec<String> = re.captures_iter(body).map(|c| c[1].to_owned()).collect();
    ids.dedup();
    ids
}

#[tokio::test]
async fn product_attachments_are_checked_reviewed_with_revisions_and_public_only_when_listed() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let bank = signed_in(&app, "institution").await;
    let op = signed_in(&app, "operator").await;
    let cat = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t.name == "法律咨询")
        .unwrap()
        .0
        .id
        .to_string();
    let form = [
        ("category_id", cat.as_str()),
        ("name", "小微企业合同审查套餐"),
        ("summary", "三份合同以内，三个工作日出具审查意见。"),
        ("description", "<p>适用于采购、销售和劳动合同。</p>"),
        ("pricing", "free"),
        ("delivery_mode", "online"),
        ("service_area", "通州区"),
    ];
    assert_eq!(bank.post_form("/admin/products", &form).await.unwrap().status, StatusCode::SEE_OTHER);
    let id = product_named(&app, "小微企业合同审查套餐").await.id;
    // Checked by content and size.
    let p = attach(&app, &bank, id, b"<script>alert(1)</script>".to_vec(), "fees.pdf").await;
    assert!(p.body.contains("文件格式不符合要求"), "{}", p.body);
    let mut big = PDF.to_vec();
    big.resize(9 * 1024 * 1024, b' ');
    let p = attach(&app, &bank, id, big, "big.pdf").await;
    assert!(p.body.contains("文件不能超过8MB"), "{}", p.body);
    let p = attach(&app, &bank, id, PDF.to_vec(), "收费标准.pdf").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let p = attach(&app, &bank, id, PNG.to_vec(), "服务流程.png").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = bank.get(&format!("/admin/products/{id}")).await.unwrap();
    assert!(page.body.contains("收费标准.pdf") && page.body.contains("服务流程.png"));
    let ids = attachment_ids(&page.body, id);
    assert_eq!(ids.len(), 2, "{ids:?}");
    // Not public while a draft.
    assert_eq!(app.get(&format!("/products/{id}/files/{}", ids[0])).await.unwrap().status, StatusCode::NOT_FOUND);
    for n in 0..3 {
        attach(&app, &bank, id, PDF.to_vec(), &format!("附件{n}.pdf")).await;
    }
    let p = attach(&app, &bank, id, PDF.to_vec(), "第六个.pdf").await;
    assert!(p.body.contains("每个产品最多5个附件"), "{}", p.body);
    for extra in attachment_ids(&bank.get(&format!("/admin/products/{id}")).await.unwrap().body, id).iter().skip(2) {
        let r = bank.post_form(&format!("/admin/products/{id}/files/{extra}/delete"), &[]).await.unwrap();
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    }
    bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap();
    let locked = attach(&app, &bank, id, PDF.to_vec(), "审核中.pdf").await;
    assert!(locked.body.contains("审核完成后才能增减附件"), "{}", locked.body);
    op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "approve")]).await.unwrap();
    // Listed: the portal shows and serves them.
    let public = app.get(&format!("/products/{id}")).await.unwrap();
    assert!(public.body.contains("收费标准.pdf") && public.body.contains("服务流程.png"));
    let dl = app.get(&format!("/products/{id}/files/{}", ids[0])).await.unwrap();
    assert_eq!(dl.status, StatusCode::OK);
    assert_eq!(dl.header("content-type"), Some("application/pdf"));
    assert!(dl.header("content-security-policy").unwrap_or("").contains("sandbox"));
    assert_eq!(app.get(&format!("/products/{id}/files/99999")).await.unwrap().status, StatusCode::NOT_FOUND);
    // Another product's path does not reach this file.
    let other = product_named(&app, "副中心科创投贷联动").await.id;
    assert_eq!(app.get(&format!("/products/{other}/files/{}", ids[0])).await.unwrap().status, StatusCode::NOT_FOUND);
    // The listed version's attachments change only through a revision.
    let direct = attach(&app, &bank, id, PDF.to_vec(), "直接改.pdf").await;
    assert!(direct.body.contains("修改稿"), "{}", direct.body);
    let mut changed = form.to_vec();
    changed[2] = ("summary", "五份合同以内，三个工作日出具审查意见。");
    let r = bank.post_form(&format!("/admin/products/{id}"), &changed).await.unwrap();
    let rev: i64 = r.location().unwrap().trim_start_matches("/admin/products/").split('?').next().unwrap().parse().unwrap();
    assert_ne!(rev, id);
    let rev_ids = attachment_ids(&bank.get(&format!("/admin/products/{rev}")).await.unwrap().body, rev);
    assert_eq!(rev_ids.len(), 2, "a revision starts with the listed attachments");
    bank.post_form(&format!("/admin/products/{rev}/files/{}/delete", rev_ids[1]), &[]).await.unwrap();
    assert!(app.get(&format!("/products/{id}")).await.unwrap().body.contains("服务流程.png"), "still listed until approved");
    bank.post_form(&format!("/admin/products/{rev}/submit"), &[]).await.unwrap();
    op.post_form(&format!("/admin/products/{rev}/review"), &[("decision", "approve")]).await.unwrap();
    let public = app.get(&format!("/products/{id}")).await.unwrap();
    assert!(public.body.contains("五份合同以内") && public.body.contains("收费标准.pdf"));
    assert!(!public.body.contains("服务流程.png"), "the approved revision's attachments replace the old ones");
    // An enterprise cannot use the back-office route.
    let ent = signed_in(&app, "enterprise").await;
    assert_eq!(ent.get(&format!("/admin/products/{id}/files/{}", ids[0])).await.unwrap().status, StatusCode::FORBIDDEN);
}
