use crate::TestApp;
use qifu_testkit::qifu_db::entity::policy;
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};

#[tokio::test]
async fn navigation_pages_list_published_content() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let cases = [
        ("/policies", "惠企政策", "通州区专精特新中小企业奖励办法"),
        ("/products", "服务产品", "中小企业常年法律顾问"),
        ("/news", "资讯公告", "通州区召开2026年中小企业服务工作推进会"),
        ("/news?kind=announcement", "资讯公告", "平台系统升级维护公告"),
        ("/activities", "活动培训", "小微企业税收优惠政策解读培训"),
        ("/about", "关于我们", "使用帮助"),
    ];
    for (path, heading, item) in cases {
        let p = app.get(path).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{path}");
        assert!(p.body.contains(heading), "{path}: heading");
        assert!(p.body.contains(item), "{path}: {item}");
        assert!(p.body.contains(r#"aria-current="page""#), "{path}: current nav item marked");
    }
    // Expired policies stay visible and say so.
    let p = app.get("/policies").await.unwrap();
    assert!(p.body.contains("已过期"));
}

#[tokio::test]
async fn detail_pages_show_source_and_date() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let list = app.get("/policies").await.unwrap();
    let id = first_link(&list.body, "/policies/");
    let p = app.get(&format!("/policies/{id}")).await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("发布机构") && p.body.contains("发布日期") && p.body.contains("来源："));
    let list = app.get("/news").await.unwrap();
    let id = first_link(&list.body, "/news/");
    let p = app.get(&format!("/news/{id}")).await.unwrap();
    assert!(p.body.contains("来源：") && p.body.contains("发布时间："));
    let list = app.get("/products").await.unwrap();
    let id = first_link(&list.body, "/products/");
    assert_eq!(app.get(&format!("/products/{id}")).await.unwrap().status, StatusCode::OK);
    let list = app.get("/activities").await.unwrap();
    let id = first_link(&list.body, "/activities/");
    assert_eq!(app.get(&format!("/activities/{id}")).await.unwrap().status, StatusCode::OK);
}

#[tokio::test]
async fn drafts_are_not_public() {
    let app = TestApp::spawn().await.unwrap();
    let now = app.ctx.now();
    let draft = policy::ActiveModel {
        title: Set("尚未发布的草稿政策".to_owned()),
        doc_no: Set(None),
        issuer: Set("测试".to_owned()),
        level: Set(qifu_domain::policy::PolicyLevel::District),
        publish_date: Set(now.date_naive()),
        valid_until: Set(None),
        support_type: Set("其他".to_owned()),
        summary: Set("草稿".to_owned()),
        body: Set("<p>草稿</p>".to_owned()),
        source_url: Set(None),
        status: Set(qifu_domain::policy::PolicyState::Draft),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
    assert_eq!(app.get(&format!("/policies/{}", draft.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    assert!(!app.get("/policies").await.unwrap().body.contains("尚未发布的草稿政策"));
    assert!(!app.get("/").await.unwrap().body.contains("尚未发布的草稿政策"));
    assert!(!app.get("/search?q=草稿").await.unwrap().body.contains("尚未发布的草稿政策"));
}

#[tokio::test]
async fn search_finds_titles_and_handles_bad_queries() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    app.sync_search().await.unwrap();
    let p = app.get("/search?q=%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83").await.unwrap(); // 知识产权
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("通州区<b>知识产权</b>资助和奖励办法"));
    assert!(p.body.contains("<b>知识产权</b>贯标辅导"));
    for (q, msg) in
        [("", "请输入要搜索的关键词"), ("%20%20", "请输入要搜索的关键词"), ("!!!%E3%80%82%E3%80%82", "请输入文字或数字")]
    {
        let p = app.get(&format!("/search?q={q}")).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{q}");
        assert!(p.body.contains(msg), "{q}: {}", p.body);
    }
    let long = "政".repeat(101);
    let p = app.get(&format!("/search?q={long}")).await.unwrap();
    assert!(p.body.contains("关键词太长了"));
    let p = app.get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.body.contains("<script>alert(1)</script>"), "query is escaped");
    assert!(p.body.contains("&#60;script&#62;") || p.body.contains("&lt;script&gt;"));
    let p = app.get("/search?q=%27%20OR%201%3D1%20--").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("共找到 0 条结果"), "SQL is just text");
}

#[tokio::test]
async fn large_text_mode_is_remembered_and_redirects_stay_on_site() {
    let app = TestApp::spawn().await.unwrap();
    let v = app.new_visitor().unwrap();
    let r = v.get("/a11y?on=1&back=%2Fpolicies").await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/policies"));
    let p = v.get("/policies").await.unwrap();
    assert!(p.body.contains(r#"class="portal a11y""#));
    assert!(p.body.contains("标准模式"));
    let r = v.get("/a11y?on=0&back=%2F%2Fevil.example").await.unwrap();
    assert_eq!(r.location(), Some("/"), "no open redirect");
    assert!(!v.get("/").await.unwrap().body.contains(r#"class="portal a11y""#));
}

#[tokio::test]
async fn bad_page_numbers_fall_back_to_the_first_page() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    for q in ["page=abc", "page=-3", "page=0", "page=99999999999999999999", "page=%00"] {
        let p = app.get(&format!("/policies?{q}")).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{q}");
    }
    let p = app.get("/policies?page=500").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
}

/// The id in the first link `prefix<digits>` of the page.
pub fn first_link(body: &str, prefix: &str) -> String {
    let needle = format!("href=\"{prefix}");
    body.match_indices(&needle)
        .map(|(i, _)| body[i + needle.len()..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>())
        .find(|id| !id.is_empty())
        .expect("a link")
}

#[tokio::test]
async fn products_filter_by_category_institution_mode_price_and_keyword() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let all = app.get("/products").await.unwrap();
    assert!(all.body.contains("共 28 项"));
    // 融资服务 includes its sub-categories (信用贷款, 担保, …).
    let tree = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db).await.unwrap();
    let finance = tree.iter().find(|(t, _)| t.name == "融资服务").unwrap();
    let p = app.get(&format!("/products?category={}", finance.0.id)).await.unwrap();
    assert!(p.body.contains("副中心小微信用贷") && p.body.contains("专精特新担保贷") && !p.body.contains("中小企业常年法律顾问"));
    assert!(p.body.contains("共 8 项"), "{}", &p.body[p.body.find("共 ").unwrap()..][..20]);
    let loans = finance.1.iter().find(|c| c.name == "担保").unwrap();
    let p = app.get(&format!("/products?category={}", loans.id)).await.unwrap();
    assert!(p.body.contains("共 2 项"));
    let p = app.get("/products?price=free&mode=online").await.unwrap();
    assert!(p.body.contains("劳动争议法律咨询") && !p.body.contains("厂房设备抵押贷"));
    let p = app.get("/products?kw=%E4%B8%93%E5%88%A9").await.unwrap(); // 专利
    assert!(p.body.contains("发明专利申请代理"));
    assert!(p.body.contains("共 2 项"), "name or summary: 发明专利申请代理 and 知识产权质押融资");
    let p = app.get("/products?sort=popular").await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    // Hostile or malformed filters are ignored, never errors.
    for q in
        ["category=abc", "category=-1", "institution=%27%20OR%201=1", "mode=<script>", "price=999", "sort=drop", "kw=%25%25%25"]
    {
        let p = app.get(&format!("/products?{q}")).await.unwrap();
        assert_eq!(p.status, StatusCode::OK, "{q}");
        assert!(!p.body.contains("<script>"), "{q}");
    }
    // The institution page lists its products; an unknown id is not found.
    let inst = first_link(&all.body, "/institutions/");
    let page = app.get(&format!("/institutions/{inst}")).await.unwrap();
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("该机构的服务产品") && page.body.contains("暂无评价"));
    assert_eq!(app.get("/institutions/999999").await.unwrap().status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_operator_edits_the_category_tree() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = app.new_visitor().unwrap();
    op.login("operator", crate::PASSWORD).await.unwrap();
    let page = op.get("/admin/categories").await.unwrap();
    for name in [
        "法律咨询",
        "工商财税",
        "人力资源和招聘",
        "知识产权",
        "资质认证",
        "数字化赋能",
        "科技创新",
        "融资服务",
        "信用贷款",
        "抵押贷款",
        "担保",
        "保险",
        "股权融资",
    ] {
        assert!(page.body.contains(name), "seeded with {name}");
    }
    let tree = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db).await.unwrap();
    let finance = tree.iter().find(|(t, _)| t.name == "融资服务").unwrap().0.id;
    let credit = tree.iter().find(|(t, _)| t.name == "融资服务").unwrap().1[0].id;
    let p = op
        .post_form("/admin/categories", &[("name", "供应链金融"), ("parent_id", &finance.to_string()), ("sort", "9")])
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(app.get("/products").await.unwrap().body.contains("供应链金融"), "the portal filter shows it");
    // Bad input: empty, too long, markup, duplicate sibling, a third level.
    for (name, parent, msg) in [
        ("", "", "请填写分类名称"),
        ("一二三四五六七八九十一二三四五六七", "", "不能超过16个字"),
        ("<b>x</b>", "", "不允许的字符"),
        ("担保", &finance.to_string()[..], "同一级下已有同名分类"),
        ("三级分类", &credit.to_string()[..], "分类最多两级"),
    ] {
        let p = op.post_form("/admin/categories", &[("name", name), ("parent_id", parent), ("sort", "1")]).await.unwrap();
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(p.body.contains(msg), "{name}: {msg}");
    }
    // A category with products cannot be deleted; an empty one can.
    let p = op.post_form(&format!("/admin/categories/{credit}/delete"), &[]).await.unwrap();
    assert!(p.body.contains("还有服务产品"));
    let new_id = qifu_testkit::qifu_db::read::category_tree(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t.id == finance)
        .unwrap()
        .1
        .into_iter()
        .find(|c| c.name == "供应链金融")
        .unwrap()
        .id;
    let p = op
        .post_form(
            &format!("/admin/categories/{new_id}"),
            &[("name", "供应链融资"), ("parent_id", &finance.to_string()), ("sort", "3")],
        )
        .await
        .unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(op.get("/admin/categories").await.unwrap().body.contains("供应链融资"));
    let p = op.post_form(&format!("/admin/categories/{new_id}/delete"), &[]).await.unwrap();
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    // Only the operator manages the catalogue.
    let inst = app.new_visitor().unwrap();
    inst.login("institution", crate::PASSWORD).await.unwrap();
    assert_eq!(inst.get("/admin/categories").await.unwrap().status, StatusCode::FORBIDDEN);
}
