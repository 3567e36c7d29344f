//! Full-text search: the portal, the back office, and the index following the database.

use crate::{PASSWORD, TestApp};
use qifu_testkit::Visitor;
use qifu_testkit::qifu_db::entity::{enterprise, product};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

async fn ready(app: &TestApp) {
    app.seed_demo().await.unwrap();
    let r = app.sync_search().await.unwrap();
    assert!(r.rebuilt.unwrap_or(0) > 60, "the demo asks for a full build: {r:?}");
}

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

fn q(s: &str) -> String {
    format!("/search?{}", serde_urlencoded::to_string([("q", s)]).unwrap())
}

#[tokio::test]
async fn the_portal_finds_grouped_highlighted_results_by_words_and_pinyin() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    let p = app.get(&q("知识产权质押融资")).await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("<b>知识产权</b>"), "highlighted");
    for group in ["服务产品（", "政策（", "资讯（"] {
        assert!(p.body.contains(group), "grouped: {group}");
    }
    assert!(p.body.contains("type=product") && p.body.contains("type=policy"), "type tabs");
    // The product titled with the query comes first among products.
    let only = app.get(&format!("{}&type=product", q("知识产权质押融资"))).await.unwrap();
    let first = only.body.find("class=\"hit-title\"").map(|i| &only.body[i..i + 200]).unwrap_or("");
    assert!(first.contains("知识产权</b><b>质押</b><b>融资") || first.contains("<b>知识产权</b>"), "{first}");
    // Full pinyin and initials find Chinese titles.
    for py in ["zhishichanquan", "zscq"] {
        let p = app.get(&q(py)).await.unwrap();
        assert!(p.body.contains("知识产权"), "{py}");
        assert!(!p.body.contains("共找到 0 条"), "{py}");
    }
    // Configured synonyms: 社保 finds 社会保险 (seeded), 贷款 finds 融资.
    let loans = app.get(&format!("{}&type=product", q("贷款"))).await.unwrap();
    assert!(loans.body.contains("股权融资") || loans.body.contains("投贷联动"), "贷款 ~ 融资");
}

#[tokio::test]
async fn unpublished_items_stay_hidden_and_the_index_follows_each_edit_within_one_sync() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    let bank = signed_in(&app, "institution").await;
    let op = signed_in(&app, "operator").await;
    let cat = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db).await.unwrap()[0].0.id.to_string();
    let mut form = vec![
        ("category_id", cat.as_str()),
        ("name", "运河星火贷"),
        ("summary", "面向初创企业的纯信用小额贷款。"),
        ("description", "<p>萤火计划专项额度。</p>"),
        ("pricing", "free"),
        ("delivery_mode", "online"),
        ("service_area", "通州区"),
    ];
    bank.post_form("/admin/products", &form).await.unwrap();
    let id = product::Entity::find().filter(product::Column::Name.eq("运河星火贷")).one(&app.ctx.db).await.unwrap().unwrap().id;
    let r = app.sync_search().await.unwrap();
    assert!(r.applied >= 1, "the draft was logged: {r:?}");
    assert!(app.get(&q("星火贷")).await.unwrap().body.contains("共找到 0 条"), "a draft is not public");
    assert!(app.get(&q("萤火计划")).await.unwrap().body.contains("共找到 0 条"));
    bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap();
    op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "approve")]).await.unwrap();
    assert!(app.get(&q("星火贷")).await.unwrap().body.contains("共找到 0 条"), "not before the next sync");
    app.sync_search().await.unwrap();
    let found = app.get(&q("星火贷")).await.unwrap();
    assert!(found.body.contains(&format!("/products/{id}")), "listed after one sync");
    assert!(app.get(&q("萤火计划")).await.unwrap().body.contains(&format!("/products/{id}")), "body text is searched");
    // A revision: the new name is searchable once approved and synced; the old name is gone.
    form[1] = ("name", "运河燎原贷");
    bank.post_form(&format!("/admin/products/{id}"), &form).await.unwrap();
    let rev = product::Entity::find().filter(product::Column::RevisionOf.eq(id)).one(&app.ctx.db).await.unwrap().unwrap().id;
    bank.post_form(&format!("/admin/products/{rev}/submit"), &[]).await.unwrap();
    op.post_form(&format!("/admin/products/{rev}/review"), &[("decision", "approve")]).await.unwrap();
    app.sync_search().await.unwrap();
    assert!(app.get(&q("燎原贷")).await.unwrap().body.contains(&format!("/products/{id}")));
    assert!(app.get(&q("星火贷")).await.unwrap().body.contains("共找到 0 条"));
    // Taken offline: gone from the portal after one sync.
    bank.post_form(&format!("/admin/products/{id}/offline"), &[]).await.unwrap();
    app.sync_search().await.unwrap();
    assert!(app.get(&q("燎原贷")).await.unwrap().body.contains("共找到 0 条"));
}

#[tokio::test]
async fn a_deleted_index_is_rebuilt_and_search_meanwhile_falls_back_to_titles() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    std::fs::remove_dir_all(app.ctx.settings.data_dir.join("search")).unwrap();
    let opened = qifu_testkit::qifu_app::search::open(&app.ctx).unwrap();
    assert_eq!(opened, qifu_search::Opened::Fresh);
    let p = app.get(&q("知识产权")).await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("正在建立索引"), "a notice while rebuilding");
    assert!(p.body.contains("知识产权质押融资"), "titles still found from the database");
    let r = app.sync_search().await.unwrap();
    assert!(r.rebuilt.unwrap_or(0) > 60, "{r:?}");
    let p = app.get(&q("知识产权")).await.unwrap();
    assert!(!p.body.contains("正在建立索引") && p.body.contains("<b>知识产权</b>"));
}

#[tokio::test]
async fn bad_queries_get_a_friendly_message_never_an_error() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    for (query, msg) in [
        ("", "请输入要搜索的关键词"),
        ("   ", "请输入要搜索的关键词"),
        (&"知".repeat(101)[..], "关键词太长了"),
        ("！？。…——", "请输入文字或数字"),
    ] {
        let p = app.get(&q(query)).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{query}");
        assert!(p.body.contains(msg), "{query}: {msg}");
    }
    for hostile in ["<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "知识产权 AND (", "*:*"] {
        let p = app.get(&q(hostile)).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{hostile}");
        assert!(!p.body.contains("<script>alert(1)"), "{hostile}");
    }
    // Malformed filters are ignored.
    let p = app.get("/search?q=%E8%9E%8D%E8%B5%84&type=enterprise&category=%3Cx%3E&days=abc&page=-3").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("hit-title\" href=\"/admin/enterprises"), "enterprises are never public");
}

#[tokio::test]
async fn the_back_office_finds_enterprises_by_name_code_representative_industry_and_street() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    let op = signed_in(&app, "operator").await;
    let e = enterprise::Entity::find().one(&app.ctx.db).await.unwrap().unwrap();
    let street = qifu_domain::reference::division::street(&e.division_code).map(|s| s.name).unwrap();
    for term in [e.credit_code.as_str(), e.legal_rep_name.as_str(), e.name.as_str(), street] {
        let p = op.get(&format!("/admin/enterprises?{}", serde_urlencoded::to_string([("q", term)]).unwrap())).await.unwrap();
        assert_eq!(p.status, StatusCode::OK);
        assert!(p.body.contains(&e.credit_code), "{term} finds {}", e.name);
    }
    // Enterprises never reach the portal.
    let public = app.get(&q(&e.name)).await.unwrap();
    assert!(!public.body.contains("/admin/enterprises/") && !public.body.contains(&e.credit_code));
}

#[tokio::test]
async fn the_operator_edits_synonyms_and_asks_for_a_rebuild() {
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    let op = signed_in(&app, "operator").await;
    let page = op.get("/admin/search").await.unwrap();
    assert!(page.body.contains("贷款 ～ 融资") && page.body.contains("可用"), "{}", page.body);
    assert!(app.get(&q("萤火虫")).await.unwrap().body.contains("共找到 0 条"));
    let bad = op.post_form("/admin/search/synonyms", &[("words", "萤火虫")]).await.unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("请至少填写两个词"));
    let bad = op.post_form("/admin/search/synonyms", &[("words", "萤火虫，<script>")]).await.unwrap();
    assert!(bad.body.contains("不是一个词"));
    let ok = op.post_form("/admin/search/synonyms", &[("words", "萤火虫、知识产权")]).await.unwrap();
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(!app.get(&q("萤火虫")).await.unwrap().body.contains("共找到 0 条"), "a new synonym applies at once");
    let inst = signed_in(&app, "institution").await;
    assert_eq!(inst.get("/admin/search").await.unwrap().status, StatusCode::FORBIDDEN);
    assert_eq!(inst.post_form("/admin/search/synonyms", &[("words", "a,b")]).await.unwrap().status, StatusCode::FORBIDDEN);
    let r = op.post_form("/admin/search/rebuild", &[]).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.sync_search().await.unwrap().rebuilt.is_some(), "the request reaches the node at its next sync");
}

#[tokio::test]
async fn two_nodes_each_keep_their_own_index_current() {
    use qifu_testkit::qifu_app::search;
    let app = TestApp::spawn().await.unwrap();
    ready(&app).await;
    let other = tempfile::tempdir().unwrap();
    let mut settings = (*app.ctx.settings).clone();
    settings.data_dir = other.path().to_path_buf();
    let node2 =
        qifu_testkit::qifu_app::Ctx { settings: std::sync::Arc::new(settings), search: Default::default(), ..app.ctx.clone() };
    assert_eq!(search::open(&node2).unwrap(), qifu_search::Opened::Fresh);
    assert!(search::sync(&node2).await.unwrap().rebuilt.is_some(), "a new node builds its own");
    let find = |ctx: qifu_testkit::qifu_app::Ctx, text: &'static str| async move {
        let req = search::Request {
            text: text.to_owned(),
            kinds: Vec::new(),
            kind: None,
            category: None,
            since: None,
            public_only: true,
            offset: 0,
            limit: 5,
        };
        search::portal(&ctx, req).await.unwrap().total()
    };
    // A product listed through the portal reaches each node at its own sync.
    let op = signed_in(&app, "operator").await;
    let bank = signed_in(&app, "institution").await;
    let cat = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db).await.unwrap()[0].0.id.to_string();
    let form = [
        ("category_id", cat.as_str()),
        ("name", "双节点同步测试贷"),
        ("summary", "两个节点都应找到。"),
        ("description", ""),
        ("pricing", "free"),
        ("delivery_mode", "online"),
        ("service_area", "通州区"),
    ];
    bank.post_form("/admin/products", &form).await.unwrap();
    let id =
        product::Entity::find().filter(product::Column::Name.eq("双节点同步测试贷")).one(&app.ctx.db).await.unwrap().unwrap().id;
    bank.post_form(&format!("/admin/products/{id}/submit"), &[]).await.unwrap();
    op.post_form(&format!("/admin/products/{id}/review"), &[("decision", "approve")]).await.unwrap();
    assert_eq!(find(app.ctx.clone(), "双节点").await, 0);
    assert_eq!(find(node2.clone(), "双节点").await, 0);
    app.sync_search().await.unwrap();
    assert_eq!(find(app.ctx.clone(), "双节点").await, 1, "node 1 after its sync");
    assert_eq!(find(node2.clone(), "双节点").await, 0, "node 2 has not synced yet");
    search::sync(&node2).await.unwrap();
    assert_eq!(find(node2.clone(), "双节点").await, 1, "node 2 after its own sync");
}
