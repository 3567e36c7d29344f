//! Enterprise real-name certification.

use crate::{PASSWORD, TestApp};
use qifu_domain::accounts::BuiltinRole;
use qifu_testkit::Visitor;
use qifu_testkit::qifu_app::accounts::{NewUser, create_user};
use qifu_testkit::qifu_db::entity::{certification, enterprise, file, organisation, registry_entry};
use qifu_testkit::reqwest::{self, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// A minimal valid PNG (1×1); uploads are decoded and re-encoded, so it must really be one.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0B, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9C, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7A, 0x5E, 0xAB, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A registry entry not yet claimed, with its decrypted ID number.
async fn unclaimed(app: &TestApp, skip: usize) -> (registry_entry::Model, String) {
    let rows = registry_entry::Entity::find().order_by_desc(registry_entry::Column::Id).all(&app.ctx.db).await.unwrap();
    let r = rows.into_iter().nth(skip).unwrap();
    let id = app.ctx.crypto.decrypt(r.legal_rep_id_enc.as_deref().unwrap()).unwrap();
    (r, id)
}

/// A fresh enterprise account, signed in.
async fn new_enterprise(app: &TestApp, username: &str, org: &str) -> Visitor {
    create_user(
        &app.ctx,
        NewUser {
            username: username.into(),
            display_name: "测试联系人".into(),
            password: PASSWORD.into(),
            role: BuiltinRole::EnterpriseAdmin,
            org_name: org.into(),
            must_change_password: false,
            phone: None,
        },
    )
    .await
    .unwrap();
    let v = app.new_visitor().unwrap();
    assert_eq!(v.login(username, PASSWORD).await.unwrap().location(), Some("/"));
    v
}

async fn submit(
    app: &TestApp,
    v: &Visitor,
    name: &str,
    code: &str,
    rep: &str,
    id: &str,
    licence: Option<(Vec<u8>, &str)>,
) -> qifu_testkit::Page {
    let token = v.get("/account/certification").await.unwrap().csrf().unwrap();
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("name", name.to_owned())
        .text("credit_code", code.to_owned())
        .text("legal_rep_name", rep.to_owned())
        .text("legal_rep_id", id.to_owned());
    if let Some((bytes, fname)) = licence {
        form = form
            .part("licence", reqwest::multipart::Part::bytes(bytes).file_name(fname.to_owned()).mime_str("image/png").unwrap());
    }
    let res = v.client.post(app.url("/account/certification")).multipart(form).send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    qifu_testkit::Page { status, headers, body: res.text().await.unwrap() }
}

#[tokio::test]
async fn a_registry_match_certifies_at_once() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let (r, id) = unclaimed(&app, 0).await;
    let v = new_enterprise(&app, "newco", &r.name).await;
    // Full-width brackets and a lower-case code still match.
    let name = r.name.replace('(', "（").replace(')', "）");
    let p =
        submit(&app, &v, &name, &r.credit_code.to_lowercase(), &r.legal_rep_name, &id, Some((PNG.to_vec(), "执照.png"))).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.header("location"), Some("/account/certification?done=certified"));
    let page = v.get("/account/certification").await.unwrap();
    assert!(page.body.contains("已认证"));
    let e = enterprise::Entity::find()
        .filter(enterprise::Column::CreditCode.eq(r.credit_code.as_str()))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(e.certified && e.org_id.is_some(), "the enterprise record is linked");
    let inbox = v.get("/account/messages").await.unwrap();
    assert!(inbox.body.contains("企业实名认证已通过"));
    assert!(v.get("/").await.unwrap().body.contains("badge"), "unread count in the header");
    // The ID number is stored encrypted and shown masked.
    let c = certification::Entity::find().one(&app.ctx.db).await.unwrap().unwrap();
    assert!(!c.legal_rep_id_enc.contains(&id));
    assert_eq!(c.legal_rep_id_masked, format!("{}**********{}", &id[..4], &id[14..]));
    // Submitting again is refused.
    let again = submit(&app, &v, &r.name, &r.credit_code, &r.legal_rep_name, &id, Some((PNG.to_vec(), "a.png"))).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN.max(again.status).min(StatusCode::CONFLICT));
}

#[tokio::test]
async fn a_mismatch_goes_to_review_and_is_rejected_then_resubmitted_and_approved() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let (r, id) = unclaimed(&app, 1).await;
    let v = new_enterprise(&app, "mixco", &r.name).await;
    let p = submit(&app, &v, &r.name, &r.credit_code, "张冠李戴", &id, Some((PNG.to_vec(), "licence.png"))).await;
    assert_eq!(p.header("location"), Some("/account/certification?done=review"));
    assert!(v.get("/account/certification").await.unwrap().body.contains("正在人工审核"));
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    let queue = op.get("/admin/certifications").await.unwrap();
    assert!(queue.body.contains(&r.name) && queue.body.contains("与登记信息不一致"));
    let cid = certification::Entity::find().one(&app.ctx.db).await.unwrap().unwrap().id;
    let detail = op.get(&format!("/admin/certifications/{cid}")).await.unwrap();
    assert!(detail.body.contains("张冠李戴") && detail.body.contains(&r.legal_rep_name));
    assert!(detail.body.contains(r#"<tr class="diff"><th>法定代表人</th>"#), "the differing row is highlighted");
    let img = op
        .client
        .get(app.url(&format!("/admin/files/{}", file::Entity::find().one(&app.ctx.db).await.unwrap().unwrap().id)))
        .send()
        .await
        .unwrap();
    assert_eq!(img.headers().get("content-type").unwrap(), "image/png");
    // A rejection needs a reason.
    let p = op.post_form(&format!("/admin/certifications/{cid}"), &[("decision", "reject"), ("reason", "")]).await.unwrap();
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("驳回时请填写原因"));
    let p = op
        .post_form(&format!("/admin/certifications/{cid}"), &[("decision", "reject"), ("reason", "法定代表人与登记信息不符")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let page = v.get("/account/certification").await.unwrap();
    assert!(page.body.contains("认证未通过：法定代表人与登记信息不符"));
    assert!(v.get("/account/messages").await.unwrap().body.contains("企业实名认证未通过"));
    // Resubmitted (still not matching the ID, say) and approved by the operator.
    let p = submit(&app, &v, &r.name, &r.credit_code, "张冠李戴", &id, Some((PNG.to_vec(), "licence2.png"))).await;
    assert_eq!(p.header("location"), Some("/account/certification?done=review"));
    let cid2 = certification::Entity::find().order_by_desc(certification::Column::Id).one(&app.ctx.db).await.unwrap().unwrap().id;
    let p = op
        .post_form(
            &format!("/admin/certifications/{cid2}"),
            &[("decision", "approve"), ("reason", "经电话核实，法定代表人已变更")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(v.get("/account/certification").await.unwrap().body.contains("已完成实名认证"));
    let twice = op.post_form(&format!("/admin/certifications/{cid2}"), &[("decision", "approve")]).await.unwrap();
    assert!(twice.body.contains("该申请已处理"));
    let log = crate::access_helpers::audit_entries(&app, 100).await;
    for action in ["certification.submit", "certification.reject", "certification.approve"] {
        assert!(log.iter().any(|l| l.action == action), "{action} audited");
    }
}

#[tokio::test]
async fn a_second_claim_on_a_credit_code_is_a_conflict() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // The demo enterprise login holds the first demo enterprise's code.
    let held = organisation::Entity::find()
        .filter(organisation::Column::CertifiedAt.is_not_null())
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let code = held.credit_code.clone().unwrap();
    let r = registry_entry::Entity::find()
        .filter(registry_entry::Column::CreditCode.eq(code.as_str()))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let id = app.ctx.crypto.decrypt(r.legal_rep_id_enc.as_deref().unwrap()).unwrap();
    let v = new_enterprise(&app, "copycat", "北京冒名科技有限公司").await;
    let p = submit(&app, &v, &r.name, &code, &r.legal_rep_name, &id, Some((PNG.to_vec(), "x.png"))).await;
    assert_eq!(p.header("location"), Some("/account/certification?done=review"), "even an exact match goes to review");
    let c = certification::Entity::find().one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(c.match_result, qifu_domain::certification::MatchResult::Conflict);
    let op = app.new_visitor().unwrap();
    op.login("operator", PASSWORD).await.unwrap();
    assert!(op.get(&format!("/admin/certifications/{}", c.id)).await.unwrap().body.contains(&held.name));
    let p = op.post_form(&format!("/admin/certifications/{}", c.id), &[("decision", "approve")]).await.unwrap();
    assert!(p.body.contains("已被其他企业认证"), "approval refused until the conflict is settled");
}

#[tokio::test]
async fn bad_input_is_refused_with_messages_and_nothing_is_stored() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let v = new_enterprise(&app, "badco", "北京输入测试有限公司").await;
    let p = submit(&app, &v, "", "91350100M000100Y44", "", "11010519491231002", None).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "请填写企业名称",
        "校验位错误：第18位应为“3”",
        "请填写联系人姓名".replace("联系人", "法定代表人").as_str(),
        "身份证号码应为18位",
        "请上传营业执照",
    ] {
        assert!(p.body.contains(msg), "{msg}");
    }
    let p = submit(
        &app,
        &v,
        "北京输入测试有限公司",
        "91350100M00O100Y43",
        "王五",
        "110105194913310028",
        Some((b"%PDF-1.4 not an image".to_vec(), "a.png")),
    )
    .await;
    assert!(p.body.contains("第12位“O”不是合法字符"));
    assert!(p.body.contains("出生日期19491331不是有效日期"));
    assert!(p.body.contains("只能上传JPG 或 PNG 格式的图片"));
    let p = submit(
        &app,
        &v,
        "北京输入测试有限公司",
        "91350100M000100Y43",
        "王五",
        "11010519491231002X",
        Some((b"<script>alert(1)</script>".to_vec(), "x.png")),
    )
    .await;
    assert!(p.body.contains("只能上传JPG 或 PNG"));
    let mut big = PNG.to_vec();
    big.resize(6 * 1024 * 1024, 0);
    let p = submit(&app, &v, "北京输入测试有限公司", "91350100M000100Y43", "王五", "11010519491231002X", Some((big, "big.png")))
        .await;
    assert!(p.body.contains("文件不能超过5MB"), "{}", &p.body[..200.min(p.body.len())]);
    assert!(p.body.contains("value=\"北京输入测试有限公司\""), "typed values kept");
    let mut huge = PNG.to_vec();
    huge.resize(50 * 1024 * 1024, 0);
    let p =
        submit(&app, &v, "北京输入测试有限公司", "91350100M000100Y43", "王五", "11010519491231002X", Some((huge, "huge.png")))
            .await;
    assert_eq!(p.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(certification::Entity::find().count(&app.ctx.db).await.unwrap(), 0, "nothing half-created");
    assert_eq!(file::Entity::find().count(&app.ctx.db).await.unwrap(), 0);
    let uploads = app.ctx.settings.data_dir.join("uploads");
    assert!(!uploads.exists() || walk(&uploads) == 0, "no file written");
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum()).unwrap_or(0)
}

#[tokio::test]
async fn only_enterprises_certify_and_only_reviewers_see_licences() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let (r, id) = unclaimed(&app, 2).await;
    let v = new_enterprise(&app, "fileco", &r.name).await;
    submit(&app, &v, &r.name, &r.credit_code, "不对的人", &id, Some((PNG.to_vec(), "l.png"))).await;
    let fid = file::Entity::find().one(&app.ctx.db).await.unwrap().unwrap().id;
    assert_eq!(v.get(&format!("/account/files/{fid}")).await.unwrap().status, StatusCode::OK, "its own file");
    assert_eq!(
        v.get(&format!("/admin/files/{fid}")).await.unwrap().status,
        StatusCode::FORBIDDEN,
        "the back office is for staff"
    );
    let other = app.new_visitor().unwrap();
    other.login("enterprise", PASSWORD).await.unwrap();
    assert_eq!(other.get(&format!("/account/files/{fid}")).await.unwrap().status, StatusCode::NOT_FOUND);
    let inst = app.new_visitor().unwrap();
    inst.login("institution", PASSWORD).await.unwrap();
    assert_eq!(inst.get("/account/certification").await.unwrap().status, StatusCode::FORBIDDEN);
    assert_eq!(inst.get("/admin/certifications").await.unwrap().status, StatusCode::FORBIDDEN);
    assert_eq!(inst.get(&format!("/admin/files/{fid}")).await.unwrap().status, StatusCode::NOT_FOUND);
    // Uncertified enterprises are refused by the certification gate other use cases call.
    let actor = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "fileco").await)
        .await
        .unwrap()
        .unwrap();
    let gate = qifu_testkit::qifu_app::certification::require_certified(&app.ctx, &actor).await;
    assert!(gate.unwrap_err().to_string().contains("请先完成企业实名认证"));
    let demo = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "enterprise").await)
        .await
        .unwrap()
        .unwrap();
    assert!(qifu_testkit::qifu_app::certification::require_certified(&app.ctx, &demo).await.is_ok());
}

/// The whole database as text: the SQLite file, or `pg_dump` of the PostgreSQL database.
async fn dump(app: &TestApp) -> String {
    use sea_orm::ConnectionTrait;
    if app.db.is_postgres() {
        let url = app.db.url.clone();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("pg_dump").arg("--data-only").arg(&url).output().unwrap()
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        app.ctx.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
        let path = app.db.url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
        String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_database_dump_holds_no_plaintext_id_number_or_phone() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let (r, id) = unclaimed(&app, 3).await;
    let v = new_enterprise(&app, "dumpco", &r.name).await;
    submit(&app, &v, &r.name, &r.credit_code, "别的名字", &id, Some((PNG.to_vec(), "l.png"))).await;
    let reg = app.new_visitor().unwrap();
    let page = reg.get("/register").await.unwrap();
    let token = page.csrf().unwrap();
    let (cid, answer) = qifu_testkit::captcha_answer(&app.ctx, &page).await.unwrap();
    reg.post_raw(
        "/register",
        &[("_csrf", &token), ("action", "send_code"), ("phone", "13787654321"), ("captcha_id", &cid), ("captcha", &answer)],
    )
    .await
    .unwrap();
    let mut ids = vec![id];
    for skip in 10..20 {
        ids.push(unclaimed(&app, skip).await.1);
    }
    let text = dump(&app).await;
    assert!(text.contains(&r.credit_code), "the dump is readable (sanity check)");
    for phone in ["13900000001", "13900000005", qifu_testkit::qifu_app::demo::ENTERPRISE_PHONE, "13787654321"] {
        assert!(!text.contains(phone), "phone {phone} in plaintext");
    }
    for id in ids {
        assert!(!text.contains(&id), "ID number {} in plaintext", &id[..6]);
    }
}
