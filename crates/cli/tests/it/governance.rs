//! Enterprise records and data governance: imports with planted defects, the
//! review queue and survivorship, quality scores on a known dataset, and the
//! record born at certification on an empty install.

use crate::TestApp;
use qifu_domain::governance::{Dimension, EnterpriseField, FieldSource, ReviewState};
use qifu_testkit::qifu_app::governance::{import, quality, reviews};
use qifu_testkit::qifu_app::{Meta, demo};
use qifu_testkit::qifu_db::entity::{enterprise, enterprise_field_source, merge_review};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn code(n: u64) -> String {
    demo::credit_code(900_000 + n, "110112").to_string()
}

/// A credit code with its check character changed.
fn bad_check(n: u64) -> String {
    let mut c = code(n);
    let last = c.pop().unwrap();
    c.push(if last == '0' { '1' } else { '0' });
    c
}

const HEADER: &str = "统一社会信用代码,企业名称,法定代表人,成立日期,国民经济行业,所属街道,住所,从业人员,营业收入（万元）";

/// The file with planted defects: row numbers as in a spreadsheet (the header is row 1).
fn planted() -> String {
    let rows = [
        // 2: good, with full-width digits in a figure
        format!("{},北京运河甲测试科技有限公司,张三,2019-05-01,6513,永顺镇,北京市通州区永顺镇1号,１２０,800", code(1)),
        // 3: bad check digit
        format!("{},北京运河乙测试科技有限公司,李四,2019-05-01,6513,永顺镇,,10,100", bad_check(2)),
        // 4: impossible date
        format!("{},北京运河丙测试科技有限公司,王五,2019-02-30,6513,永顺镇,,10,100", code(3)),
        // 5: unknown industry code
        format!("{},北京运河丁测试科技有限公司,赵六,2019-05-01,9999,永顺镇,,10,100", code(4)),
        // 6: missing the name
        format!("{},,钱七,2019-05-01,6513,永顺镇,,10,100", code(5)),
        // 7: good (2020年 written the Chinese way, the street named in the address only)
        format!("{},北京运河戊测试科技有限责任公司,孙八,2020年3月4日,I6513,,北京市通州区梨园镇8号,30,500", code(6)),
        // 8: the same enterprise as row 7 spelled differently, another credit code
        format!("{},北京运河戊测试科技有限公司,孙八,2020-03-04,6513,梨园镇,,30,500", code(7)),
        // 9: the credit code of row 2 again
        format!("{},北京运河甲测试科技有限公司（重复）,张三,2019-05-01,6513,永顺镇,,120,800", code(1)),
        // 10: good
        format!("{},北京运河己测试科技有限公司,周九,2018-01-01,7239,宋庄镇,,5,50", code(8)),
    ];
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

async fn stage(app: &TestApp, source: &str, csv: &[u8]) -> (i64, import::Counts) {
    let table = import::read_table(csv).unwrap();
    let map = import::mapping(&app.ctx.db, source, &table.headers).await.unwrap();
    import::stage(&app.ctx, None, source, "planted.csv", &table, &map).await.unwrap()
}

#[tokio::test]
async fn an_import_reports_every_planted_defect_and_commits_only_good_rows() {
    let app = TestApp::spawn().await.unwrap();
    let before = enterprise::Entity::find().count(&app.ctx.db).await.unwrap();
    let (batch, counts) = stage(&app, "市场监管局登记信息", planted().as_bytes()).await;
    assert_eq!(counts.rows_read, 9);
    assert_eq!((counts.accepted, counts.rejected, counts.duplicates), (3, 4, 2), "{counts:?}");
    assert!(counts.normalised >= 1, "full-width digits normalised");
    // Staging writes nothing to the records.
    assert_eq!(enterprise::Entity::find().count(&app.ctx.db).await.unwrap(), before);
    // The error file names each defect on its row.
    let errors = String::from_utf8(import::error_file(&app.ctx.db, batch).await.unwrap()).unwrap();
    let line = |row: u32| errors.lines().filter(|l| l.starts_with(&format!("{row},"))).collect::<Vec<_>>().join(" | ");
    assert!(line(3).contains("校验"), "bad check digit: {}", line(3));
    assert!(line(4).contains("成立日期"), "impossible date: {}", line(4));
    assert!(line(5).contains("行业代码"), "unknown industry: {}", line(5));
    assert!(line(6).contains("缺少企业名称"), "missing name: {}", line(6));
    assert!(line(8).contains("疑似同一企业"), "spelled differently: {}", line(8));
    assert!(line(9).contains("重复"), "same credit code: {}", line(9));
    assert!(line(2).is_empty() && line(7).is_empty() && line(10).is_empty(), "good rows are not in the error file");

    let done = import::commit(&app.ctx, batch, None).await.unwrap();
    assert_eq!((done.created, done.updated), (3, 0));
    let e =
        enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code(1))).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(e.employees, Some(120));
    assert_eq!(e.revenue_fen, Some(800 * 1_000_000));
    assert_eq!(qifu_domain::reference::division::street(&e.division_code).unwrap().name, "永顺镇");
    let g =
        enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code(6))).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(g.founded_on.to_string(), "2020-03-04");
    assert_eq!(g.industry_code, "6513", "I6513 → 6513");
    assert_eq!(qifu_domain::reference::division::street(&g.division_code).unwrap().name, "梨园镇", "from the address");
    assert!(g.size_class.is_some(), "classified by the 300号 rules");
    for bad in [bad_check(2), code(3), code(4), code(5), code(7)] {
        assert!(
            enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(bad)).one(&app.ctx.db).await.unwrap().is_none()
        );
    }
    // Every value keeps its source.
    let src = enterprise_field_source::Entity::find()
        .filter(enterprise_field_source::Column::EnterpriseId.eq(e.id))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(src.iter().all(|s| s.source == FieldSource::Import && s.source_ref.as_deref() == Some(&*format!("import:{batch}"))));
    assert!(src.iter().any(|s| s.field == EnterpriseField::Employees && s.value == "120"));

    // The same file again: nothing changes.
    let after_first = enterprise::Entity::find().count(&app.ctx.db).await.unwrap();
    let sources_first = enterprise_field_source::Entity::find().count(&app.ctx.db).await.unwrap();
    let (again, counts) = stage(&app, "市场监管局登记信息", planted().as_bytes()).await;
    assert_eq!(counts.accepted, 3);
    let done = import::commit(&app.ctx, again, None).await.unwrap();
    assert_eq!((done.created, done.updated, done.unchanged, done.conflicts), (0, 0, 3, 0));
    assert_eq!(enterprise::Entity::find().count(&app.ctx.db).await.unwrap(), after_first);
    assert_eq!(enterprise_field_source::Entity::find().count(&app.ctx.db).await.unwrap(), sources_first);
}

#[tokio::test]
async fn gb18030_csv_and_xlsx_are_read() {
    let csv = planted();
    let (gbk, _, _) = encoding_rs::GB18030.encode(&csv);
    let t = import::read_table(&gbk).unwrap();
    assert_eq!(t.headers[1], "企业名称");
    assert_eq!(t.rows[0][1], "北京运河甲测试科技有限公司");
    let bom = [b"\xEF\xBB\xBF".as_slice(), csv.as_bytes()].concat();
    assert_eq!(import::read_table(&bom).unwrap().headers[0], "统一社会信用代码");
    // An xlsx written with the same library the exports use.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (i, h) in HEADER.split(',').enumerate() {
        ws.write_string(0, i as u16, h).unwrap();
    }
    ws.write_string(1, 0, code(1)).unwrap();
    ws.write_string(1, 1, "北京运河甲测试科技有限公司").unwrap();
    ws.write_number(1, 7, 120.0).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let t = import::read_table(&bytes).unwrap();
    assert_eq!(t.headers[0], "统一社会信用代码");
    assert_eq!(t.rows[0][0], code(1));
    assert_eq!(t.rows[0][7], "120");
    assert!(import::read_table(b"").is_err());
    assert!(import::read_table(b"PK\x03\x04not really a zip").is_err());
}

/// `qifu import enterprises` as a district's IT staff would run it.
#[tokio::test]
async fn the_command_line_stages_prints_counts_and_commits() {
    let app = TestApp::spawn().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extract.csv");
    let text = planted();
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(&file, &gbk).unwrap();
    let run = |commit: bool| {
        let (url, data, file) = (app.db.url.clone(), app.ctx.settings.data_dir.clone(), file.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qifu"));
                c.args(["import", "enterprises"]).arg(&file).args(["--source", "市场监管局登记信息", "--data-dir"]).arg(&data);
                if commit {
                    c.arg("--commit");
                }
                let out = c.env("QIFU_DATABASE_URL", url).env("QIFU_LOG_LEVEL", "warn").output().unwrap();
                (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
            })
            .await
            .unwrap()
        }
    };
    let (ok, out) = run(false).await;
    assert!(ok, "{out}");
    assert!(out.contains("读取 9 行，接受 3") && out.contains("拒绝 4，重复 2"), "{out}");
    assert!(out.contains("尚未写入企业档案"), "{out}");
    let errors = dir.path().join("extract.errors.csv");
    assert!(out.contains(&errors.display().to_string()), "the error file's path is printed: {out}");
    assert!(std::fs::read_to_string(&errors).unwrap().contains("成立日期"));
    assert_eq!(enterprise::Entity::find().count(&app.ctx.db).await.unwrap(), 0, "nothing committed without --commit");
    let (ok, out) = run(true).await;
    assert!(ok, "{out}");
    assert!(out.contains("新建 3"), "{out}");
    assert_eq!(enterprise::Entity::find().count(&app.ctx.db).await.unwrap(), 3);
}

/// Two sources disagree: the industry (a data clerk decides by default) goes
/// to the review queue; accepting it updates the record and its provenance; a
/// more trusted source overwrites a less trusted one; a less trusted one queues.
#[tokio::test]
async fn disagreeing_sources_go_to_review_and_the_decision_updates_the_record() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let operator = qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(&app, "operator").await)
        .await
        .unwrap()
        .unwrap();
    let (b1, _) = stage(&app, "市场监管局登记信息", planted().as_bytes()).await;
    import::commit(&app.ctx, b1, None).await.unwrap();
    // The statistics bureau says another industry and another figure.
    let stats = format!("统一社会信用代码,企业名称,国民经济行业,从业人员\n{},北京运河甲测试科技有限公司,7239,150\n", code(1));
    let (b2, counts) = stage(&app, "统计局名录", stats.as_bytes()).await;
    assert_eq!(counts.accepted, 1);
    let done = import::commit(&app.ctx, b2, None).await.unwrap();
    assert_eq!((done.updated, done.conflicts), (1, 1), "{done:?}");
    let e =
        enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code(1))).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(e.employees, Some(150), "figures: the newest wins");
    assert_eq!(e.industry_code, "6513", "the industry waits for a clerk");
    let (queue, total) = reviews::list(&app.ctx, &operator, None, 1).await.unwrap();
    assert_eq!(total, 1);
    let r = &queue[0].review;
    assert_eq!((r.field, r.current_value.as_str(), r.proposed_value.as_str()), (EnterpriseField::Industry, "6513", "7239"));
    reviews::decide(&app.ctx, &operator, &Meta::system("test"), r.id, true).await.unwrap();
    let e = enterprise::Entity::find_by_id(e.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(e.industry_code, "7239");
    let latest = qifu_testkit::qifu_app::governance::records::sources(&app.ctx.db, e.id).await.unwrap();
    let p = &latest[&EnterpriseField::Industry];
    assert_eq!((p.value.as_str(), p.source, p.by_user_id), ("7239", FieldSource::Import, Some(operator.user_id)));
    assert_eq!(p.source_ref.as_deref(), Some(&*format!("review:{}", r.id)));
    assert!(reviews::decide(&app.ctx, &operator, &Meta::system("test"), r.id, true).await.is_err(), "decided once");
    let decided = merge_review::Entity::find_by_id(r.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(decided.status, ReviewState::Accepted);

    // A value from the enterprise itself does not overwrite an imported one: it queues.
    use qifu_testkit::qifu_app::governance::records::{FieldValue, Provenance, apply};
    let from_ent = Provenance { source: FieldSource::Enterprise, source_ref: None, by_user_id: None };
    let (_, a) =
        apply(&app.ctx.db, &app.ctx, e.clone(), &[(EnterpriseField::Address, FieldValue::Text("别处".into()))], &from_ent)
            .await
            .unwrap();
    assert_eq!(a.conflicts, 1);
    // The registry does.
    let from_reg = Provenance { source: FieldSource::Registry, source_ref: None, by_user_id: None };
    let (e2, a) = apply(&app.ctx.db, &app.ctx, e, &[(EnterpriseField::Address, FieldValue::Text("登记住所".into()))], &from_reg)
        .await
        .unwrap();
    assert_eq!((a.changed.len(), a.conflicts), (1, 0));
    assert_eq!(e2.address.as_deref(), Some("登记住所"));
}

/// Quality scores per dimension on a known dataset, with the expected numbers.
#[tokio::test]
async fn quality_scores_on_a_known_dataset() {
    let app = TestApp::spawn().await.unwrap();
    let csv = format!(
        "{HEADER},企业类型,注册资本\n\
         {},北京质量甲科技有限公司,张三,2019-05-01,6513,永顺镇,北京市通州区永顺镇1号,10,500,有限责任公司,100\n\
         {},北京质量乙科技有限公司,李四,2019-05-01,6513,永顺镇,,,,,\n",
        code(11),
        code(12)
    );
    let (b, _) = stage(&app, "质量测试", csv.as_bytes()).await;
    import::commit(&app.ctx, b, None).await.unwrap();
    assert_eq!(quality::score_all(&app.ctx).await.unwrap(), 2);
    let rules = quality::rules(&app.ctx.db, app.ctx.now()).await.unwrap();
    let get = |c: String| {
        let ctx = app.ctx.clone();
        async move {
            let e = enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(c)).one(&ctx.db).await.unwrap().unwrap();
            qifu_testkit::qifu_db::entity::quality_score::Entity::find_by_id(e.id).one(&ctx.db).await.unwrap().unwrap()
        }
    };
    let full = get(code(11)).await;
    let thin = get(code(12)).await;
    // Completeness: weights name 3, code 3, rep 2, industry 2, division 2, address 1, type 1, capital 1, employees 1, revenue 1 = 17.
    assert_eq!(full.completeness, Some(100.0));
    let thin_missing = 1 + 1 + 1 + 1 + 1; // address, type, capital, employees, revenue
    assert_eq!(thin.completeness, Some((17 - thin_missing) as f64 * 100.0 / 17.0));
    assert_eq!(full.accuracy, Some(100.0));
    assert_eq!(full.uniqueness, Some(100.0));
    assert_eq!(full.timeliness, Some(100.0));
    // Consistency: the size class from the figures (weight 2) and founding before today (1): both hold for the full record;
    // the thin one has no figures (not applicable), so only the date counts.
    assert_eq!(full.consistency, Some(100.0));
    assert_eq!(thin.consistency, Some(100.0));
    assert!(thin.total < full.total);
    assert!(thin.issues.contains("未填写"));
    assert_eq!(rules.len(), quality::default_rules().len());
    // The report keeps the dataset's summary (trend) and the average per source.
    let operator_like = qifu_testkit::qifu_app::actor::Actor {
        user_id: 0,
        username: "o".into(),
        display_name: "o".into(),
        org_id: 0,
        org_kind: qifu_domain::accounts::OrgKind::Operator,
        org_name: String::new(),
        role_names: vec![],
        grants: [(qifu_domain::accounts::Permission::EnterpriseView, qifu_domain::accounts::Scope::All)].into_iter().collect(),
        must_change_password: false,
        is_org_admin: false,
    };
    let report = quality::report(&app.ctx, &operator_like).await.unwrap();
    let latest = report.latest.unwrap();
    assert_eq!(latest.records, 2);
    let completeness = latest.by_dimension.iter().find(|(d, _)| *d == Dimension::Completeness).unwrap().1;
    assert!((completeness - (100.0 + (12.0 * 100.0 / 17.0)) / 2.0).abs() < 1e-9);
    assert!(report.by_source.iter().any(|(s, _, n)| *s == FieldSource::Import && *n == 2));
}

fn registry_record(n: u64, name: &str, address: &str) -> qifu_testkit::qifu_app::integrations::registry::RegistryRecord {
    use qifu_testkit::qifu_app::integrations::registry::{RegistryBase, RegistryRecord};
    RegistryRecord {
        credit_code: code(n),
        name: name.to_owned(),
        legal_rep_name: "王建国".to_owned(),
        legal_rep_id: None,
        status: "存续".to_owned(),
        base: RegistryBase {
            entity_type: Some("有限责任公司（自然人投资或控股）".to_owned()),
            founded_on: chrono::NaiveDate::from_ymd_opt(2018, 3, 1),
            registered_capital_fen: Some(500 * 1_000_000),
            address: Some(address.to_owned()),
            division_code: Some(qifu_domain::reference::division::tongzhou_streets()[0].code.to_owned()),
            industry_code: Some("6513".to_owned()),
        },
    }
}

#[tokio::test]
async fn the_registry_sync_takes_in_changes_incrementally_with_the_registry_as_source() {
    use qifu_testkit::fake_registry::FakeRegistry;
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
    let fake = FakeRegistry::start("sync-token").await.unwrap();
    fake.set_page_size(2);
    fake.insert_changed(registry_record(501, "北京同步甲科技有限公司", "北京市通州区新华大街1号"), day(1));
    fake.insert_changed(registry_record(502, "北京同步乙科技有限公司", "北京市通州区新华大街2号"), day(2));
    fake.insert_changed(registry_record(503, "北京同步丙科技有限公司", "北京市通州区新华大街3号"), day(3));
    // A registration the checks refuse: no name.
    fake.insert_changed(registry_record(504, "", "北京市通州区新华大街4号"), day(3));
    let url = fake.url();
    let app = TestApp::spawn_with(move |s| {
        s.registry.provider = "http".into();
        s.registry.http_url = url;
        s.registry.http_token = qifu_testkit::qifu_app::config::Secret::new("sync-token");
    })
    .await
    .unwrap();
    let db = &app.ctx.db;

    // First run: everything, over two pages; the refused row is reported, the rest committed.
    let r = import::sync_registry(&app.ctx, None, None).await.unwrap();
    assert_eq!((r.since, r.pages, r.counts.rows_read), (None, 2, 4), "{r:?}");
    assert_eq!((r.counts.accepted, r.counts.rejected), (3, 1), "{r:?}");
    assert_eq!(r.committed.created, 3);
    assert_eq!(r.checkpoint, Some(day(3)));
    let e = enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code(502))).one(db).await.unwrap().unwrap();
    assert_eq!(e.name, "北京同步乙科技有限公司");
    assert_eq!(e.registry_status.as_deref(), Some("存续"));
    let src = enterprise_field_source::Entity::find()
        .filter(enterprise_field_source::Column::EnterpriseId.eq(e.id))
        .filter(enterprise_field_source::Column::Field.eq(EnterpriseField::Address))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(src.source, FieldSource::Registry, "the registry is the values' source");

    // The registry fails: nothing is written and the checkpoint stays.
    fake.fail_next_with(503);
    let err = import::sync_registry(&app.ctx, None, None).await.unwrap_err().to_string();
    assert!(err.contains("登记信息接口出错") && err.contains("未写入任何数据"), "{err}");
    assert_eq!(import::sync_checkpoint(db).await.unwrap(), Some(day(3)));

    // Incremental: only what changed since the checkpoint comes back; a new address updates the record.
    fake.insert_changed(registry_record(502, "北京同步乙科技有限公司", "北京市通州区运河东大街9号"), day(20));
    let r = import::sync_registry(&app.ctx, None, None).await.unwrap();
    assert_eq!(r.since, Some(day(3)));
    // The day-3 changes come again (on or after the checkpoint) and change nothing; the day-20 one updates.
    assert_eq!((r.committed.created, r.committed.updated), (0, 1), "{r:?}");
    let e = enterprise::Entity::find_by_id(e.id).one(db).await.unwrap().unwrap();
    assert_eq!(e.address.as_deref(), Some("北京市通州区运河东大街9号"));
    assert_eq!(r.checkpoint, Some(day(20)));
    assert_eq!(enterprise::Entity::find().count(db).await.unwrap(), 3, "nothing duplicated");

    // A file import cannot borrow the registry's name (and its trust).
    let table = import::read_table(planted().as_bytes()).unwrap();
    let map = import::mapping(db, import::REGISTRY_SOURCE, &table.headers).await.unwrap();
    let refused = import::stage(&app.ctx, None, import::REGISTRY_SOURCE, "x.csv", &table, &map).await.unwrap_err();
    assert!(refused.to_string().contains("登记信息同步使用"), "{refused}");

    // The back office starts it as a job (audited); the worker runs it.
    let clerk = data_clerk(&app).await;
    fake.insert_changed(registry_record(505, "北京同步丁科技有限公司", "北京市通州区新华大街5号"), day(25));
    import::request_sync(&app.ctx, &clerk, &Meta::default()).await.unwrap();
    app.drain_jobs().await.unwrap();
    assert!(enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code(505))).one(db).await.unwrap().is_some());
    assert_eq!(import::sync_checkpoint(db).await.unwrap(), Some(day(25)));
}

#[tokio::test]
async fn a_commit_from_the_back_office_runs_as_a_job_and_shows_its_progress() {
    use qifu_domain::governance::BatchState;
    use qifu_testkit::qifu_db::entity::import_batch;
    let app = TestApp::spawn().await.unwrap();
    let db = &app.ctx.db;
    let (batch, counts) = stage(&app, "统计局规上名录", planted().as_bytes()).await;
    let clerk = data_clerk(&app).await;
    import::request_commit(&app.ctx, &clerk, &Meta::default(), batch).await.unwrap();
    let b = import_batch::Entity::find_by_id(batch).one(db).await.unwrap().unwrap();
    assert_eq!(b.status, BatchState::Committing, "shown as 写入中 until the job is done");
    // Asked twice: refused, not a second job.
    assert!(import::request_commit(&app.ctx, &clerk, &Meta::default(), batch).await.is_err());
    app.drain_jobs().await.unwrap();
    let b = import_batch::Entity::find_by_id(batch).one(db).await.unwrap().unwrap();
    assert_eq!(b.status, BatchState::Committed);
    assert_eq!(b.created_records as usize, counts.accepted, "every accepted row written");
}

/// An operator account (enterprise.manage) created as on an empty install.
async fn data_clerk(app: &TestApp) -> qifu_testkit::qifu_app::actor::Actor {
    qifu_testkit::qifu_app::accounts::create_user(
        &app.ctx,
        qifu_testkit::qifu_app::accounts::NewUser {
            username: "clerk".into(),
            display_name: "数据专员".into(),
            password: crate::PASSWORD.into(),
            role: qifu_domain::accounts::BuiltinRole::OperatorAdmin,
            org_name: "通州区中小微企业服务中心".into(),
            must_change_password: false,
            phone: None,
        },
    )
    .await
    .unwrap();
    qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, crate::security::user_id(app, "clerk").await).await.unwrap().unwrap()
}
