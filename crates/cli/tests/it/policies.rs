//! Policy rules, the calculator and the batch push.

use crate::{PASSWORD, TestApp};
use qifu_domain::accounts::BuiltinRole;
use qifu_testkit::Visitor;
use qifu_testkit::qifu_app::accounts::{self, NewUser};
use qifu_testkit::qifu_app::policies;
use qifu_testkit::qifu_db::entity::{enterprise, message, policy, policy_match, policy_push, user};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

/// Creates a draft policy through the back office; returns its id.
async fn new_policy(op: &Visitor, app: &TestApp, title: &str) -> i64 {
    let r = op
        .post_form(
            "/admin/policies",
            &[
                ("title", title),
                ("issuer", "通州区经济和信息化局"),
                ("level", "district"),
                ("support_type", "资金补贴"),
                ("amount_max_wan", "50"),
                ("summary", "对符合条件的企业给予一次性资金补贴。"),
                ("body", "<p>正文</p><script>alert(1)</script>"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = policy::Entity::find().filter(policy::Column::Title.eq(title)).one(&app.ctx.db).await.unwrap().unwrap();
    assert!(!p.body.contains("<script>"), "the body is sanitised");
    p.id
}

/// Rows of the editor: (attr, op, value, group, negate).
async fn save_rule(op: &Visitor, id: i64, rows: &[(&str, &str, &str, &str, bool)]) -> qifu_testkit::Page {
    let mut form: Vec<(String, String)> = Vec::new();
    for (i, (a, o, v, g, n)) in rows.iter().enumerate() {
        form.push((format!("attr_{i}"), a.to_string()));
        form.push((format!("op_{i}"), o.to_string()));
        form.push((format!("value_{i}"), v.to_string()));
        form.push((format!("group_{i}"), g.to_string()));
        if *n {
            form.push((format!("negate_{i}"), "1".into()));
        }
    }
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    op.post_form(&format!("/admin/policies/{id}/rule"), &refs).await.unwrap()
}

/// 永顺镇 or 梨园镇; revenue ≥ 2000万元; not a 小巨人; R&D ≥ 3 %.
const RULE: &[(&str, &str, &str, &str, bool)] = &[
    ("division", "eq", "永顺镇", "1", false),
    ("division", "eq", "梨园镇", "1", false),
    ("revenue", "ge", "2000", "", false),
    ("qualification", "has", "专精特新“小巨人”", "", true),
    ("rd_ratio", "ge", "3", "", false),
];

fn street(name: &str) -> String {
    qifu_domain::reference::division::tongzhou_streets().iter().find(|s| s.name == name).unwrap().code.to_owned()
}

async fn api(app: &TestApp, profile: serde_json::Value) -> serde_json::Value {
    let r = app.client.post(app.url("/api/v1/policy-matches")).json(&profile).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn result_for(v: &serde_json::Value, id: i64) -> serde_json::Value {
    v["results"].as_array().unwrap().iter().find(|r| r["policy_id"] == id).cloned().unwrap()
}

#[tokio::test]
async fn all_any_not_conditions_give_each_verdict_with_its_trace() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区研发投入补贴（测试）").await;
    let bad = save_rule(&op, id, &[("revenue", "between", "3000-100", "", false), ("division", "eq", "火星", "", false)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("范围的下限不能大于上限") && bad.body.contains("注册地请填写“通州区”或区内街道、乡镇的名称"),
        "{}",
        bad.body
    );
    assert_eq!(save_rule(&op, id, RULE).await.status, StatusCode::SEE_OTHER);
    assert_eq!(op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap().status, StatusCode::SEE_OTHER);
    let base = serde_json::json!({
        "division": street("永顺镇"), "revenue": 2500.0, "rd_ratio": 4.0, "qualifications": ["高新技术企业"]
    });
    let r = result_for(&api(&app, base.clone()).await, id);
    assert_eq!(r["verdict"], "eligible", "{r}");
    let trace = r["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 5);
    assert_eq!(trace[2]["condition"], "年营业收入 不低于 2000万元");
    assert_eq!(trace[2]["value"], "2500万元");
    assert_eq!(trace[3]["condition"], "不满足：资质 具有 专精特新“小巨人”");
    assert_eq!(trace[3]["check"]["verdict"], "met");

    let mut near = base.clone();
    near["revenue"] = serde_json::json!(1800.0);
    let r = result_for(&api(&app, near).await, id);
    assert_eq!(r["verdict"], "near");
    assert_eq!(r["trace"][2]["check"]["gap"], 200.0);

    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("rd_ratio");
    let r = result_for(&api(&app, missing).await, id);
    assert_eq!(r["verdict"], "incomplete");
    assert_eq!(r["trace"][4]["value"], "未填写");

    let mut no = base.clone();
    no["division"] = serde_json::json!(street("宋庄镇"));
    let r = result_for(&api(&app, no).await, id);
    assert_eq!(r["verdict"], "ineligible");
    assert_eq!(r["trace"][0]["check"]["verdict"], "not_met");

    let bad = app.client.post(app.url("/api/v1/policy-matches")).body("{not json").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_profile");
}

#[tokio::test]
async fn the_visitor_calculator_and_a_rule_change_keeping_old_results_on_their_version() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区小微企业稳岗补贴（测试）").await;
    save_rule(&op, id, &[("employees", "le", "300", "", false)]).await;
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    // A visitor types attributes.
    let page = app.get("/policies/calculator").await.unwrap();
    assert!(page.body.contains("开始测算"));
    let page = app.get("/policies/calculator?run=1&employees=120&quals_given=1").await.unwrap();
    assert!(page.body.contains("通州区小微企业稳岗补贴（测试）"));
    assert!(
        page.body.contains("从业人员 不超过 300人") && page.body.contains("120人") && page.body.contains(">符合<"),
        "{}",
        page.body
    );
    let page = app.get("/policies/calculator?run=1&employees=abc&division=%3Cscript%3E").await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("待完善") && !page.body.contains("<script>"));
    // The signed-in enterprise: its result is kept with version 1.
    let ent = signed_in(&app, "enterprise").await;
    let mine = ent.get("/policies/calculator").await.unwrap();
    assert!(mine.body.contains("通州区小微企业稳岗补贴（测试）"), "{}", mine.body);
    let e = enterprise::Entity::find()
        .filter(enterprise::Column::OrgId.is_not_null())
        .order_by_asc(enterprise::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let v1 = policies::results_of(&app.ctx, id, e.id).await.unwrap();
    assert_eq!(v1.len(), 1);
    assert_eq!(v1[0].version, 1);
    // The rule changes: version 2; the old result stays on version 1.
    save_rule(&op, id, &[("employees", "le", "0", "", false)]).await;
    ent.get("/policies/calculator").await.unwrap();
    let both = policies::results_of(&app.ctx, id, e.id).await.unwrap();
    assert_eq!(both.iter().map(|m| m.version).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(both[1].verdict, v1[0].verdict, "the version-1 result is unchanged");
    assert_eq!(both[1].trace, v1[0].trace);
    // The detail page lists the current conditions.
    let detail = app.get(&format!("/policies/{id}")).await.unwrap();
    assert!(detail.body.contains("从业人员 不超过 0人") && detail.body.contains("测一测"));
    // After its validity ends a policy leaves matching and shows 已过期.
    let p = policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
    let mut am: policy::ActiveModel = p.into();
    am.valid_until = Set(Some(app.ctx.now().date_naive() - chrono::Duration::days(1)));
    am.update(&app.ctx.db).await.unwrap();
    let page = app.get("/policies/calculator?run=1&employees=120").await.unwrap();
    assert!(!page.body.contains("通州区小微企业稳岗补贴（测试）"), "expired policies are not matched");
    let detail = app.get(&format!("/policies/{id}")).await.unwrap();
    assert!(detail.body.contains("已过期") && !detail.body.contains("测一测"));
    let again = op.post_form(&format!("/admin/policies/{id}/withdraw"), &[]).await.unwrap();
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let republish = op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    assert!(republish.body.contains("已过有效期，不能发布"));
}

#[tokio::test]
async fn a_batch_push_reaches_exactly_the_eligible_enterprises_once_even_when_run_twice() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    // Ten more registered enterprises, linked to registry rows; every other one has revenue ≥ 3000万元.
    let rows = enterprise::Entity::find()
        .filter(enterprise::Column::OrgId.is_null())
        .order_by_asc(enterprise::Column::Id)
        .all(&app.ctx.db)
        .await
        .unwrap();
    let mut eligible = Vec::new();
    for (i, e) in rows.into_iter().take(10).enumerate() {
        let uid = accounts::create_user(
            &app.ctx,
            NewUser {
                username: format!("push{i}"),
                display_name: "测试联系人".into(),
                password: PASSWORD.into(),
                role: BuiltinRole::EnterpriseAdmin,
                org_name: format!("推送测试企业{i}有限公司"),
                must_change_password: false,
                phone: None,
            },
        )
        .await
        .unwrap();
        let org = user::Entity::find_by_id(uid).one(&app.ctx.db).await.unwrap().unwrap().org_id;
        let mut am: enterprise::ActiveModel = e.clone().into();
        am.org_id = Set(Some(org));
        am.revenue_fen = Set(Some(if i % 2 == 0 { 5_000 * 1_000_000 } else { 100 * 1_000_000 }));
        am.update(&app.ctx.db).await.unwrap();
        if i % 2 == 0 {
            eligible.push(e.id);
        }
    }
    // The demo enterprise is eligible only if its own revenue reaches the bar.
    for e in enterprise::Entity::find().filter(enterprise::Column::OrgId.is_not_null()).all(&app.ctx.db).await.unwrap() {
        if e.revenue_fen.is_some_and(|r| r >= 3_000 * 1_000_000) && !eligible.contains(&e.id) {
            eligible.push(e.id);
        }
    }
    eligible.sort();
    // One eligible enterprise turns pushes off on the calculator page: it must not be pushed.
    let quiet = signed_in(&app, "push2").await;
    assert!(quiet.get("/policies/calculator").await.unwrap().body.contains("不再接收政策推送"));
    assert_eq!(quiet.post_form("/policies/calculator/push", &[("receive", "0")]).await.unwrap().status, StatusCode::SEE_OTHER);
    assert!(quiet.get("/policies/calculator").await.unwrap().body.contains("重新接收政策推送"));
    let quiet_id =
        enterprise::Entity::find()
            .filter(enterprise::Column::OrgId.eq(
                user::Entity::find().filter(user::Column::Username.eq("push2")).one(&app.ctx.db).await.unwrap().unwrap().org_id,
            ))
            .one(&app.ctx.db)
            .await
            .unwrap()
            .unwrap()
            .id;
    eligible.retain(|e| *e != quiet_id);
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区规上企业营收奖励（测试）").await;
    save_rule(&op, id, &[("revenue", "ge", "3000万元", "", false)]).await;
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    app.drain_jobs().await.unwrap();
    let pushed = |app: &TestApp| {
        let db = app.ctx.db.clone();
        async move {
            let mut v: Vec<i64> = policy_push::Entity::find()
                .filter(policy_push::Column::PolicyId.eq(id))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.enterprise_id)
                .collect();
            v.sort();
            v
        }
    };
    assert_eq!(pushed(&app).await, eligible, "exactly the eligible ones");
    let msgs = message::Entity::find()
        .filter(message::Column::Title.contains("通州区规上企业营收奖励（测试）"))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(msgs as usize, eligible.len(), "one in-site message per eligible enterprise's administrator");
    // The same job again: nobody twice.
    let again = policies::push_policy(&app.ctx, &policies::PushPolicy { policy_id: id, version: 1 }).await.unwrap();
    assert_eq!(again.eligible as usize, eligible.len() + 1, "the opted-out one is eligible but not pushed");
    assert_eq!(again.pushed, 0);
    assert_eq!(pushed(&app).await, eligible);
    assert_eq!(
        message::Entity::find()
            .filter(message::Column::Title.contains("通州区规上企业营收奖励（测试）"))
            .count(&app.ctx.db)
            .await
            .unwrap() as usize,
        eligible.len()
    );
    // Eligible (and near) results are kept with their trace and version.
    assert!(
        policy_match::Entity::find().filter(policy_match::Column::PolicyId.eq(id)).count(&app.ctx.db).await.unwrap() as usize
            >= eligible.len()
    );
    // The eligible enterprise sees the push in its inbox.
    let first = signed_in(&app, "push0").await;
    assert!(first.get("/account/messages").await.unwrap().body.contains("您的企业符合政策：通州区规上企业营收奖励（测试）"));
}

#[tokio::test]
async fn only_policy_managers_edit_policies_and_rules() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let inst = signed_in(&app, "institution").await;
    assert_eq!(inst.get("/admin/policies").await.unwrap().status, StatusCode::FORBIDDEN);
    let p = policy::Entity::find().one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(save_rule(&inst, p.id, RULE).await.status, StatusCode::FORBIDDEN);
    assert_eq!(inst.post_form(&format!("/admin/policies/{}/withdraw", p.id), &[]).await.unwrap().status, StatusCode::FORBIDDEN);
    let op = signed_in(&app, "operator").await;
    let bad = op.post_form("/admin/policies", &[("title", ""), ("level", "mars"), ("amount_max_wan", "-5")]).await.unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in ["政策标题至少4个字", "请选择政策层级", "请选择支持方式", "最高支持金额请填写不小于0的数字"]
    {
        assert!(bad.body.contains(m), "{m}");
    }
    // The operator edits a policy's record, including its interpretation (解读).
    let id = new_policy(&op, &app, "通州区首台套保险补偿办法（测试）").await;
    let mut f = qifu_testkit::qifu_app::policies::PolicyForm::of(
        &policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap(),
    );
    f.title = "通州区首台（套）重大技术装备保险补偿办法（测试）".into();
    f.interpretation = "一句话解读：买了首台套保险，保费最多补80%。".into();
    let pairs = serde_json::to_value(&f).unwrap();
    let fields: Vec<(String, String)> =
        pairs.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = op.post_form(&format!("/admin/policies/{id}/edit"), &refs).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    let page = app.get(&format!("/policies/{id}")).await.unwrap();
    assert!(page.body.contains("重大技术装备") && page.body.contains("政策解读") && page.body.contains("保费最多补80%"));
    let bad =
        op.post_form(&format!("/admin/policies/{id}/edit"), &[("title", "短"), ("valid_until", "2020-13-45")]).await.unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("政策标题至少4个字") && bad.body.contains("有效期格式应为"));
    assert!(
        policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap().title.contains("重大技术装备"),
        "nothing half-written"
    );
}

#[tokio::test]
async fn a_drafts_text_suggests_conditions_and_tags_the_operator_confirms() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let r = op
        .post_form(
            "/admin/policies",
            &[
                ("title", "通州区支持规模以上工业企业数字化转型若干措施"),
                ("issuer", "通州区经济和信息化局"),
                ("level", "district"),
                ("support_type", "奖励"),
                (
                    "summary",
                    "支持对象为注册地在通州区、上年度营业收入2000万元以上、研发费用占营业收入的比例不低于3%的规模以上工业企业。",
                ),
            ],
        )
        .await
        .unwrap();
    let id: i64 = r.location().unwrap().trim_start_matches("/admin/policies/").split('?').next().unwrap().parse().unwrap();
    let page = op.get(&format!("/admin/policies/{id}")).await.unwrap();
    for s in [
        "注册地 代码以下列开头 通州区",
        "年营业收入 不低于 2000万元",
        "研发费用占比 不低于 3%",
        "规模以上企业 具有",
        "原文：“上年度营业收入2000万元以上”",
    ] {
        assert!(page.body.contains(s), "{s}");
    }
    // Adopting puts the suggestions into the editor; nothing is saved until the operator saves.
    let adopted = op.get(&format!("/admin/policies/{id}?suggest=1")).await.unwrap();
    assert!(adopted.body.contains("value=\"2000\"") && adopted.body.contains("请逐条核对"));
    assert_eq!(policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap().rule_version, 0);
    let saved = save_rule(&op, id, &[("division", "prefix_in", "通州区", "", false), ("revenue", "ge", "2000", "", false)]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    // Tags: keywords are offered; the operator saves them; bad tags are refused.
    assert!(page.body.contains("name=\"tags\""));
    let bad = op.post_form(&format!("/admin/policies/{id}/tags"), &[("tags", "<script>")]).await.unwrap();
    assert!(bad.body.contains("标签最多12个"));
    op.post_form(&format!("/admin/policies/{id}/tags"), &[("tags", "数字化转型、规上企业")]).await.unwrap();
    assert_eq!(policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap().tags, "数字化转型,规上企业");
}

#[tokio::test]
async fn the_policy_list_filters_and_a_policy_shows_related_products() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区知识产权质押融资贴息办法（测试）").await;
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    const T: &str = "通州区知识产权质押融资贴息办法（测试）";
    assert!(
        app.get("/policies?level=district&support=%E8%B5%84%E9%87%91%E8%A1%A5%E8%B4%B4&open=1").await.unwrap().body.contains(T)
    );
    assert!(!app.get("/policies?level=national").await.unwrap().body.contains(T));
    assert!(!app.get("/policies?support=%E7%A8%8E%E6%94%B6%E4%BC%98%E6%83%A0").await.unwrap().body.contains(T), "税收优惠 only");
    let issuer = app
        .get("/policies?issuer=%E9%80%9A%E5%B7%9E%E5%8C%BA%E7%BB%8F%E6%B5%8E%E5%92%8C%E4%BF%A1%E6%81%AF%E5%8C%96%E5%B1%80")
        .await
        .unwrap();
    assert!(issuer.body.contains(T));
    for bad in ["level=%3Cscript%3E", "support=x", "issuer=%27%20OR%201%3D1", "open=abc&page=-1"] {
        let p = app.get(&format!("/policies?{bad}")).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{bad}");
        assert!(p.body.contains(T), "{bad}: an unknown filter is ignored");
    }
    // Expired ones drop out of "只看申报期内".
    let p = policy::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
    let mut am: policy::ActiveModel = p.into();
    am.valid_until = Set(Some(app.ctx.now().date_naive() - chrono::Duration::days(1)));
    am.update(&app.ctx.db).await.unwrap();
    assert!(!app.get("/policies?open=1").await.unwrap().body.contains(T));
    assert!(app.get("/policies").await.unwrap().body.contains(T));
    // Tags relate products.
    op.post_form(&format!("/admin/policies/{id}/tags"), &[("tags", "知识产权")]).await.unwrap();
    let detail = app.get(&format!("/policies/{id}")).await.unwrap();
    assert!(detail.body.contains("相关服务产品") && detail.body.contains("知识产权质押融资"), "{}", detail.body);
    // Tags are the list's categories.
    let tagged = app.get("/policies?tag=%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83").await.unwrap();
    assert!(tagged.body.contains(T) && tagged.body.contains("<option value=\"知识产权\" selected>"));
    let others = tagged.body.matches("class=\"row-title\"").count();
    assert_eq!(others, 1, "only the tagged policy");
}

#[tokio::test]
async fn operator_defined_attributes_are_asked_for_and_filled_from_the_result_page() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区外贸企业出口奖励（测试）").await;
    let bad = save_rule(&op, id, &[("custom", "ge", "200", "", false)]).await;
    assert!(bad.body.contains("自定义属性请写成“属性名:数值”"), "{}", bad.body);
    assert_eq!(save_rule(&op, id, &[("custom", "ge", "出口额:200", "", false)]).await.status, StatusCode::SEE_OTHER);
    let editor = op.get(&format!("/admin/policies/{id}")).await.unwrap();
    assert!(editor.body.contains("value=\"出口额:200\""), "the editor shows it back");
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let page = ent.get("/policies/calculator").await.unwrap();
    assert!(
        page.body.contains("出口额 不低于 200") && page.body.contains("待完善") && page.body.contains("name=\"custom:出口额\"")
    );
    let r = ent.post_form("/policies/calculator/profile", &[("custom:出口额", "abc")]).await.unwrap();
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("出口额请填写不小于0的数字"));
    let r = ent.post_form("/policies/calculator/profile", &[("custom:出口额", "350")]).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = ent.get("/policies/calculator").await.unwrap();
    let at = page.body.find("通州区外贸企业出口奖励（测试）").unwrap();
    let block = &page.body[page.body[..at].rfind("class=\"match\"").unwrap()..];
    let block = &block[..block.find("</table>").unwrap()];
    assert!(block.contains(">符合<") && block.contains("350"), "{block}");
    // New indicators recompute the size class by the 300号 rules.
    ent.post_form("/policies/calculator/profile", &[("employees", "15"), ("revenue", "5000"), ("assets", "3000")]).await.unwrap();
    let e = enterprise::Entity::find()
        .filter(enterprise::Column::OrgId.is_not_null())
        .order_by_asc(enterprise::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let want = qifu_domain::profiles::classify(
        qifu_domain::profiles::SizeGroup::of_industry(&e.industry_code),
        &qifu_domain::profiles::Indicators {
            employees: Some(15),
            revenue: Some(qifu_domain::money::Money::from_wan(5000)),
            total_assets: Some(qifu_domain::money::Money::from_wan(3000)),
        },
    )
    .unwrap();
    assert_eq!(e.size_class, Some(want));
    // The operator extends the qualification list; visitors and enterprises can then declare it.
    let bad = op.post_form("/admin/qualifications", &[("name", "<b>")]).await.unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("资质名称应为2到32个字"));
    assert_eq!(
        op.post_form("/admin/qualifications", &[("name", "北京市隐形冠军企业")]).await.unwrap().status,
        StatusCode::SEE_OTHER
    );
    let dup = op.post_form("/admin/qualifications", &[("name", "北京市隐形冠军企业")]).await.unwrap();
    assert!(dup.body.contains("已在名录中"));
    let calc = app.get("/policies/calculator").await.unwrap();
    assert!(calc.body.contains("value=\"北京市隐形冠军企业\""));
    // The changed profile is re-matched in the background, which pushes the now-eligible policy.
    app.drain_jobs().await.unwrap();
    assert!(ent.get("/account/messages").await.unwrap().body.contains("您的企业符合政策：通州区外贸企业出口奖励（测试）"));
}

#[tokio::test]
async fn policy_attachments_are_checked_and_public_with_the_policy() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let id = new_policy(&op, &app, "通州区技术改造补贴申报指南（测试）").await;
    let post = |bytes: Vec<u8>, name: &'static str| {
        let op = &op;
        let app = &app;
        async move {
            let token = op.get(&format!("/admin/policies/{id}")).await.unwrap().csrf().unwrap();
            let form = qifu_testkit::reqwest::multipart::Form::new()
                .text("_csrf", token)
                .part("attachment", qifu_testkit::reqwest::multipart::Part::bytes(bytes).file_name(name));
            let r = op.client.post(app.url(&format!("/admin/policies/{id}/files"))).multipart(form).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, body) = post(b"MZ\x90\x00 not a pdf".to_vec(), "申报表.pdf").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("文件格式不符合要求"));
    let (status, _) = post(b"%PDF-1.4\n%%EOF\n".to_vec(), "申报表.pdf").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let admin = op.get(&format!("/admin/policies/{id}")).await.unwrap();
    assert!(admin.body.contains("申报表.pdf"));
    let link = crate::portal::first_link(&admin.body, &format!("/policies/{id}/files/"));
    // A draft's attachment is not public; the manager can read it.
    assert_eq!(app.get(&format!("/policies/{id}/files/{link}")).await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(op.get(&format!("/policies/{id}/files/{link}")).await.unwrap().status, StatusCode::OK);
    op.post_form(&format!("/admin/policies/{id}/publish"), &[]).await.unwrap();
    let page = app.get(&format!("/policies/{id}")).await.unwrap();
    assert!(page.body.contains("申报表.pdf"));
    let dl = app.get(&format!("/policies/{id}/files/{link}")).await.unwrap();
    assert_eq!(dl.header("content-type"), Some("application/pdf"));
    assert_eq!(app.get(&format!("/policies/{id}/files/999999")).await.unwrap().status, StatusCode::NOT_FOUND);
    let r = op.post_form(&format!("/admin/policies/{id}/files/{link}/delete"), &[]).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.get(&format!("/policies/{id}")).await.unwrap().body.contains("申报表.pdf"));
    let inst = signed_in(&app, "institution").await;
    assert_eq!(
        inst.post_form(&format!("/admin/policies/{id}/files/{link}/delete"), &[]).await.unwrap().status,
        StatusCode::FORBIDDEN
    );
}
