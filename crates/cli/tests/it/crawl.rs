//! Policy aggregation against a fixture site the test serves (never the internet).

use crate::{PASSWORD, TestApp};
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use qifu_testkit::qifu_app::crawl::{self, SourceForm};
use qifu_testkit::qifu_db::entity::{crawl_log, crawl_source, crawled_page, policy};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Site {
    /// The body of /p/1, changed by the test.
    p1: Arc<Mutex<String>>,
    /// User agents seen.
    agents: Arc<Mutex<Vec<String>>>,
}

async fn robots() -> &'static str {
    "User-agent: *\nDisallow: /private/\n"
}

async fn list(State(s): State<Site>, headers: axum::http::HeaderMap) -> Html<&'static str> {
    s.agents.lock().unwrap().push(headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned());
    Html(
        r#"<html><body><ul class="list">
      <li><a href="/p/1">一</a></li><li><a href="/p/2">二</a></li><li><a href="/private/3">三</a></li><li><a href="/p/bad">坏</a></li>
    </ul><a class="next" href="/list2">下一页</a></body></html>"#,
    )
}

async fn list2() -> Html<&'static str> {
    Html(
        r#"<html><body><ul class="list"><li><a href="/p/4">四</a></li><li><a href="/p/1">一（重复）</a></li></ul></body></html>"#,
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<html><body><h1 class="title">{title}</h1><span class="date">发布日期：2026年3月15日</span><span class="no">通经信发〔2026〕8号</span>
        <div class="content"><p>{body}</p><script>alert(1)</script></div><a class="att" href="/files/a.pdf">申报表.pdf</a></body></html>"#
    )
}

async fn item(State(s): State<Site>, Path(id): Path<String>) -> axum::response::Response {
    match id.as_str() {
        "1" => Html(page("通州区支持中小企业数字化转型若干措施", &s.p1.lock().unwrap())).into_response(),
        "2" => Html(page("通州区稳岗补贴申领指南", "对注册地在通州区、从业人员300人以下的企业给予稳岗补贴。")).into_response(),
        "4" => Html(page("通州区知识产权资助办法（2026年修订）", "对发明专利授权给予资助，质押融资贴息50%。")).into_response(),
        _ => Html("<html><body><p>页面走丢了</p></body></html>".to_owned()).into_response(),
    }
}

async fn private() -> &'static str {
    "secret"
}

async fn serve_site(site: Site) -> String {
    let app = axum::Router::new()
        .route("/robots.txt", axum::routing::get(robots))
        .route("/list", axum::routing::get(list))
        .route("/list2", axum::routing::get(list2))
        .route("/p/{id}", axum::routing::get(item))
        .route("/private/{id}", axum::routing::get(private))
        .with_state(site);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn form(base: &str) -> SourceForm {
    SourceForm {
        name: "区经信局政策栏目".into(),
        list_url: format!("{base}/list"),
        item_selector: "ul.list a".into(),
        title_selector: "h1.title".into(),
        date_selector: ".date".into(),
        doc_no_selector: ".no".into(),
        body_selector: "div.content".into(),
        next_selector: "a.next".into(),
        attachment_selector: "a.att".into(),
        issuer: "通州区经济和信息化局".into(),
        level: "district".into(),
        delay_ms: "0".into(),
        max_pages: "3".into(),
    }
}

#[tokio::test]
async fn new_unchanged_and_changed_pages_robots_honoured_and_bad_pages_skipped() {
    // The fixture site is on this host: an internal address, allowed explicitly.
    let app = TestApp::spawn_with(|s| s.crawl.allow_hosts = vec!["127.0.0.1".into()]).await.unwrap();
    app.seed_demo().await.unwrap();
    let site = Site::default();
    *site.p1.lock().unwrap() = "对企业上云用云给予最高50万元补贴，注册地在通州区的企业均可申请。".into();
    let base = serve_site(site.clone()).await;
    let op = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "operator").await)
        .await
        .unwrap()
        .unwrap();
    let meta = qifu_testkit::qifu_app::Meta::system("test");
    // Bad selectors are refused at save.
    let mut bad = form(&base);
    bad.title_selector = "h1[[".into();
    bad.list_url = "ftp://example".into();
    let err = crawl::create_source(&app.ctx, &op, &meta, &bad).await.unwrap_err().to_string();
    assert!(err.contains("标题选择器不是有效的 CSS 选择器") && err.contains("列表页地址应为"), "{err}");
    let id = crawl::create_source(&app.ctx, &op, &meta, &form(&base)).await.unwrap();

    // First run: two list pages; /p/1, /p/2, /p/4 are new; /private/3 is disallowed; /p/bad is skipped and logged.
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!((r.pages, r.new, r.unchanged, r.changed, r.skipped, r.disallowed), (2, 3, 0, 0, 1, 1), "{r:?}");
    let drafts = policy::Entity::find()
        .filter(policy::Column::Status.eq("draft"))
        .filter(policy::Column::SourceUrl.starts_with(&base))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(drafts.len(), 3, "crawled policies land as drafts");
    let p1 = drafts.iter().find(|p| p.title == "通州区支持中小企业数字化转型若干措施").unwrap();
    assert_eq!(p1.doc_no.as_deref(), Some("通经信发〔2026〕8号"));
    assert_eq!(p1.publish_date.to_string(), "2026-03-15");
    assert!(!p1.body.contains("<script>") && p1.body.contains("申报表.pdf"), "sanitised, attachments listed");
    assert!(!app.get("/policies").await.unwrap().body.contains("数字化转型若干措施"), "drafts are not public");
    let logs: Vec<String> = crawl_log::Entity::find()
        .filter(crawl_log::Column::SourceId.eq(id))
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| format!("{} {}", l.url, l.message))
        .collect();
    assert!(logs.iter().any(|l| l.contains("/private/3") && l.contains("robots.txt 不允许")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("/p/bad") && l.contains("缺少标题或正文")), "{logs:?}");
    assert!(site.agents.lock().unwrap().iter().all(|a| a.contains("qifu-policy-crawler")), "a clear user agent");

    // Second run: nothing changed.
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!((r.new, r.unchanged, r.changed), (0, 3, 0), "{r:?}");
    assert_eq!(crawled_page::Entity::find().count(&app.ctx.db).await.unwrap(), 3, "deduplicated by URL");

    // The page changes: detected, and its draft updated.
    *site.p1.lock().unwrap() = "对企业上云用云给予最高80万元补贴（2026年修订）。".into();
    let r = crawl::run(&app.ctx, id).await.unwrap();
    assert_eq!((r.new, r.unchanged, r.changed), (0, 2, 1), "{r:?}");
    let p1 = policy::Entity::find_by_id(p1.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert!(p1.body.contains("80万元"));
    let src = crawl_source::Entity::find_by_id(id).one(&app.ctx.db).await.unwrap().unwrap();
    assert!(src.last_status.unwrap().contains("有变化1"));
    // The parser proposes conditions for the crawled draft.
    let (sugg, _) = qifu_testkit::qifu_app::policies::suggestions(
        &app.ctx,
        &op,
        drafts.iter().find(|p| p.title.contains("稳岗")).unwrap().id,
    )
    .await
    .unwrap();
    let described: Vec<String> = sugg.iter().map(|s| s.condition.describe()).collect();
    assert!(described.contains(&"从业人员 不超过 300人".to_owned()), "{described:?}");
    let _ = PASSWORD;
}

#[tokio::test]
async fn the_crawl_job_runs_from_the_queue_and_an_unreachable_site_is_logged() {
    // The fixture site is on this host: an internal address, allowed explicitly.
    let app = TestApp::spawn_with(|s| s.crawl.allow_hosts = vec!["127.0.0.1".into()]).await.unwrap();
    app.seed_demo().await.unwrap();
    let op = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "operator").await)
        .await
        .unwrap()
        .unwrap();
    let meta = qifu_testkit::qifu_app::Meta::system("test");
    let mut f = form("http://127.0.0.1:9");
    f.name = "无法访问的来源".into();
    let id = crawl::create_source(&app.ctx, &op, &meta, &f).await.unwrap();
    crawl::request_run(&app.ctx, &op, &meta, id).await.unwrap();
    app.drain_jobs().await.unwrap();
    let logs = crawl_log::Entity::find().filter(crawl_log::Column::SourceId.eq(id)).all(&app.ctx.db).await.unwrap();
    assert!(
        logs.iter().any(|l| l.level == qifu_domain::policy::CrawlLogLevel::Error && l.message.contains("无法访问")),
        "{logs:?}"
    );
    // The back office: the log is shown; a bad form is refused with the reason.
    let v = app.new_visitor().unwrap();
    v.login("operator", PASSWORD).await.unwrap();
    let page = v.get(&format!("/admin/crawl-sources/{id}")).await.unwrap();
    assert!(page.body.contains("无法访问") && page.body.contains("错误"));
    let bad = v
        .post_form("/admin/crawl-sources", &[("name", "x"), ("list_url", "javascript:alert(1)"), ("item_selector", "a[[")])
        .await
        .unwrap();
    assert_eq!(bad.status, qifu_testkit::reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("列表页地址应为") && bad.body.contains("条目链接选择器不是有效的 CSS 选择器"));
    let run = v.post_form(&format!("/admin/crawl-sources/{id}/run"), &[]).await.unwrap();
    assert_eq!(run.status, qifu_testkit::reqwest::StatusCode::SEE_OTHER);
}
