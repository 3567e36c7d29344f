//! The message center: fan-out by preference, quiet hours, retries, the rate
//! limit, broadcasts to a segment with unsubscribe, templates, SMTP to a real
//! server, the WeChat API through a fake that speaks it, and the `/wechat`
//! endpoint against published vectors and a real SDK (wechatpy).

use crate::{PASSWORD, TestApp};
use chrono::{Duration, TimeZone};
use qifu_domain::accounts::{AccountStatus, OrgKind};
use qifu_domain::messages::{AttemptStatus, BroadcastStatus, Channel, DeliveryStatus};
use qifu_domain::profiles::SizeClass;
use qifu_testkit::Visitor;
use qifu_testkit::fake_wechat::FakeWechat;
use qifu_testkit::qifu_app::messages;
use qifu_testkit::qifu_db::entity::{
    delivery, delivery_attempt, enterprise, message, message_setting, message_template, organisation, user, wechat_binding,
    wechat_log,
};
use qifu_testkit::reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

// Tencent's official 公众号 WXBizMsgCrypt sample (Sample.py), the same vector
// as in crates/wechat/src/tests.rs (vector A).
const A_TOKEN: &str = "spamtest";
const A_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const A_APP_ID: &str = "wx2c2769f8efd9abc2";
const A_TIMESTAMP: &str = "1409735669";
const A_NONCE: &str = "1320562132";
const A_MSG_SIGNATURE: &str = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
const A_FROM_XML: &str = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>";

async fn signed_in(app: &TestApp, user: &str) -> Visitor {
    let v = app.new_visitor().unwrap();
    v.login(user, PASSWORD).await.unwrap();
    v
}

fn bj(app: &TestApp, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    let d = (app.ctx.now() + Duration::hours(8)).date_naive();
    chrono::FixedOffset::east_opt(8 * 3600).unwrap().from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap()).unwrap().to_utc()
}

/// An enterprise with one active user; returns the user id.
async fn person(app: &TestApp, n: u32, division: &str, size: &str, certified: bool) -> i64 {
    let db = &app.ctx.db;
    let now = app.ctx.now();
    let org = organisation::ActiveModel {
        kind: Set(OrgKind::Enterprise),
        name: Set(format!("测试企业{n}有限公司")),
        credit_code: Set(None),
        status: Set(AccountStatus::Active),
        created_at: Set(now),
        updated_at: Set(now),
        channel: Set(n.is_multiple_of(2).then(|| "expo2026".to_owned())),
        certified_at: Set(None),
        policy_push_opt_out: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let phone = format!("1370000{n:04}");
    let u = user::ActiveModel {
        org_id: Set(org.id),
        username: Set(format!("seg{n}")),
        display_name: Set(format!("联系人{n}")),
        password_hash: Set("x".into()),
        status: Set(AccountStatus::Active),
        must_change_password: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        phone_enc: Set(Some(app.ctx.crypto.encrypt(&phone))),
        phone_hash: Set(Some(app.ctx.crypto.blind_index(&phone))),
        phone_masked: Set(Some("137****0000".into())),
        failed_logins: Set(0),
        is_org_admin: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    enterprise::ActiveModel {
        org_id: Set(Some(org.id)),
        name: Set(format!("测试企业{n}有限公司")),
        credit_code: Set(format!("91110112TEST{n:06}")),
        legal_rep_name: Set("张三".into()),
        industry_code: Set("I6510".into()),
        division_code: Set(division.into()),
        founded_on: Set(chrono::NaiveDate::from_ymd_opt(2018, 3, 1).unwrap()),
        size_class: Set(SizeClass::parse(size)),
        above_designated_size: Set(false),
        certified: Set(certified),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    u.id
}

async fn bind_wechat(app: &TestApp, user_id: i64, openid: &str) {
    let now = app.ctx.now();
    wechat_binding::ActiveModel {
        openid: Set(openid.into()),
        user_id: Set(Some(user_id)),
        subscribed: Set(true),
        scene: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
}

async fn set_email(app: &TestApp, user_id: i64, email: &str, opt_out: bool) {
    message_setting::ActiveModel {
        user_id: Set(user_id),
        quiet_start: Set(22 * 60),
        quiet_end: Set(8 * 60),
        marketing_opt_out: Set(opt_out),
        email_enc: Set(Some(app.ctx.crypto.encrypt(email))),
        email_masked: Set(Some("x***@example.cn".into())),
        updated_at: Set(app.ctx.now()),
        ..Default::default()
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
}

async fn notify(app: &TestApp, user_id: i64, category: &str, title: &str, sms: bool) {
    let category = qifu_domain::messages::MessageCategory::parse(category).expect("a message category");
    if sms {
        messages::notify_with_sms(&app.ctx.db, &app.ctx, user_id, category, title, "正文", Some("/account")).await.unwrap();
    } else {
        messages::notify(&app.ctx.db, &app.ctx, user_id, category, title, "正文", Some("/account")).await.unwrap();
    }
}

async fn deliveries_of(app: &TestApp, user_id: i64) -> Vec<delivery::Model> {
    delivery::Entity::find()
        .filter(delivery::Column::UserId.eq(user_id))
        .order_by_asc(delivery::Column::Id)
        .all(&app.ctx.db)
        .await
        .unwrap()
}

fn channels(ds: &[delivery::Model]) -> Vec<&'static str> {
    ds.iter().map(|d| d.channel.code()).collect()
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    user::Entity::find().filter(user::Column::Username.eq(username)).one(&app.ctx.db).await.unwrap().unwrap().id
}

#[tokio::test]
async fn fan_out_follows_preferences_and_the_inbox_reads_and_deletes() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let ent = signed_in(&app, "enterprise").await;
    let uid = user_id(&app, "enterprise").await;
    bind_wechat(&app, uid, "oEnterprise0001").await;
    // The user keeps SMS for account notices but turns it off for demands, and gives an email.
    let mut form: Vec<(String, String)> = vec![
        ("quiet_start".into(), "22:00".into()),
        ("quiet_end".into(), "08:00".into()),
        ("email".into(), "zhang@example.cn".into()),
    ];
    for (cat, ch) in [("demand", "wechat"), ("demand", "email"), ("account", "sms"), ("account", "wechat"), ("account", "email")]
    {
        form.push((format!("ch_{cat}_{ch}"), "1".into()));
    }
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = ent.post_form("/account/notifications", &refs).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = ent.get("/account/notifications").await.unwrap();
    assert!(page.body.contains("zhang@example.cn") && page.body.contains("name=\"ch_demand_email\" value=\"1\" checked"));
    assert!(!page.body.contains("name=\"ch_demand_sms\" value=\"1\" checked"), "demand SMS is off");

    notify(&app, uid, "demand", "需求已受理：商标注册", true).await;
    notify(&app, uid, "account", "账号已开通", true).await;
    notify(&app, uid, "product", "产品已上架", false).await;
    let ds = deliveries_of(&app, uid).await;
    assert_eq!(
        channels(&ds),
        vec!["wechat", "email", "sms", "wechat", "email"],
        "demand without SMS; account all three; product none of its channels chosen"
    );
    app.drain_jobs().await.unwrap();
    let ds = deliveries_of(&app, uid).await;
    assert!(ds.iter().all(|d| d.status == DeliveryStatus::Sent && d.provider == "log" && d.sent_at.is_some()), "{ds:?}");
    let attempts = delivery_attempt::Entity::find().count(&app.ctx.db).await.unwrap();
    assert_eq!(attempts, 5, "every attempt is logged");
    // A bad email is refused with a message and nothing changes.
    let bad = ent
        .post_form("/account/notifications", &[("quiet_start", "25:00"), ("quiet_end", "08:00"), ("email", "<script>@x")])
        .await
        .unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("免打扰时间请按") && !bad.body.contains("<script>@x\""), "{}", bad.body);

    // The inbox: unread count in the header, read one, delete one, mark all read.
    let list = ent.get("/account/messages").await.unwrap();
    assert!(list.body.contains("需求已受理：商标注册") && list.body.contains("aria-label=\"3条未读\""), "{}", list.body);
    let first = message::Entity::find()
        .filter(message::Column::UserId.eq(uid))
        .order_by_asc(message::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let shown = ent.get(&format!("/account/messages/{}", first.id)).await.unwrap();
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("查看详情") && shown.body.contains("aria-label=\"2条未读\""), "{}", shown.body);
    // Someone else's message is not found.
    let other = signed_in(&app, "institution").await;
    assert_eq!(other.get(&format!("/account/messages/{}", first.id)).await.unwrap().status, StatusCode::NOT_FOUND);
    assert_eq!(
        other.post_form(&format!("/account/messages/{}/delete", first.id), &[]).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
    let del = ent.post_form(&format!("/account/messages/{}/delete", first.id), &[]).await.unwrap();
    assert_eq!(del.status, StatusCode::SEE_OTHER);
    assert!(message::Entity::find_by_id(first.id).one(&app.ctx.db).await.unwrap().is_none());
    ent.post_form("/account/messages/read-all", &[]).await.unwrap();
    assert_eq!(
        messages::unread_count(&app.ctx, &qifu_testkit::qifu_app::actor::load_actor(&app.ctx.db, uid).await.unwrap().unwrap())
            .await
            .unwrap(),
        0
    );
    // The back office has its own inbox.
    let op = signed_in(&app, "operator").await;
    let inbox = op.get("/admin/messages").await.unwrap();
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("全部标为已读"));
    let log = op.get("/admin/deliveries?channel=email").await.unwrap();
    assert!(
        log.body.contains("已发送") && log.body.contains("<td>邮件</td>") && !log.body.contains("<td>短信</td>"),
        "{}",
        log.body
    );
    let one = op.get(&format!("/admin/deliveries/{}", ds[0].id)).await.unwrap();
    assert!(one.body.contains("发送尝试") && one.body.contains("成功"), "{}", one.body);
    assert_eq!(ent.get("/admin/deliveries").await.unwrap().status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn quiet_hours_hold_back_what_is_not_urgent() {
    let app = TestApp::spawn().await.unwrap();
    let uid = person(&app, 1, "110112004", "small", true).await;
    set_email(&app, uid, "li@example.cn", false).await;
    app.clock.set(bj(&app, 23, 0));
    notify(&app, uid, "demand", "需求已受理", false).await; // not urgent
    notify(&app, uid, "account", "入驻申请已通过", false).await; // urgent template
    let ds = deliveries_of(&app, uid).await;
    assert_eq!(ds.len(), 2);
    let morning = bj(&app, 8, 0) + Duration::days(1);
    assert_eq!(ds[0].status, DeliveryStatus::Deferred);
    assert_eq!(ds[0].due_at, morning);
    assert_eq!(ds[1].due_at, app.ctx.now());
    app.drain_jobs().await.unwrap();
    let ds = deliveries_of(&app, uid).await;
    assert_eq!((ds[0].status, ds[1].status), (DeliveryStatus::Deferred, DeliveryStatus::Sent));
    // The in-site message is there at once either way.
    assert_eq!(message::Entity::find().filter(message::Column::UserId.eq(uid)).count(&app.ctx.db).await.unwrap(), 2);
    app.clock.set(morning - Duration::minutes(1));
    app.drain_jobs().await.unwrap();
    assert_eq!(deliveries_of(&app, uid).await[0].status, DeliveryStatus::Deferred);
    app.clock.set(morning + Duration::seconds(1));
    app.drain_jobs().await.unwrap();
    assert_eq!(deliveries_of(&app, uid).await[0].status, DeliveryStatus::Sent);
}

#[tokio::test]
async fn a_failing_channel_is_retried_then_the_failure_is_logged() {
    let app = TestApp::spawn_with(|s| {
        s.email.provider = "smtp".into();
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = 9; // nothing listens: connection refused
        s.email.smtp_security = "none".into();
        s.email.timeout_secs = 2;
        s.messages.max_attempts = 3;
    })
    .await
    .unwrap();
    let uid = person(&app, 2, "110112004", "small", true).await;
    set_email(&app, uid, "wang@example.cn", false).await;
    notify(&app, uid, "demand", "需求已受理", false).await;
    for _ in 0..6 {
        app.drain_jobs().await.unwrap();
        app.advance(Duration::hours(2));
    }
    let d = deliveries_of(&app, uid).await.remove(0);
    assert_eq!(d.status, DeliveryStatus::Failed);
    assert_eq!(d.attempts, 3);
    assert!(d.last_error.as_deref().unwrap_or_default().contains("邮件服务器暂不可用"), "{:?}", d.last_error);
    assert!(d.last_error.as_deref().unwrap_or_default().contains("Connection refused"), "{:?}", d.last_error);
    let attempts =
        delivery_attempt::Entity::find().filter(delivery_attempt::Column::DeliveryId.eq(d.id)).all(&app.ctx.db).await.unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|a| a.status == AttemptStatus::Failed || a.status == AttemptStatus::Retrying && a.error.is_some()),
        "{attempts:?}"
    );
    // The queue did not kill the job: the delivery recorded the failure itself.
    let dead = qifu_testkit::qifu_db::jobs::stats(&app.ctx.db).await.unwrap().dead;
    assert_eq!(dead, 0);
}

#[tokio::test]
async fn the_rate_limit_of_a_channel_is_respected() {
    let app = TestApp::spawn_with(|s| s.messages.sms_per_minute = 2).await.unwrap();
    let mut users = Vec::new();
    for n in 0..5 {
        users.push(person(&app, 10 + n, "110112004", "micro", false).await);
    }
    for u in &users {
        notify(&app, *u, "account", "账号已开通", true).await;
    }
    let sms = || async {
        delivery::Entity::find()
            .filter(delivery::Column::Channel.eq("sms"))
            .filter(delivery::Column::Status.eq("sent"))
            .count(&app.ctx.db)
            .await
            .unwrap()
    };
    app.drain_jobs().await.unwrap();
    assert_eq!(sms().await, 2, "two in the first minute");
    app.advance(Duration::seconds(30));
    app.drain_jobs().await.unwrap();
    assert_eq!(sms().await, 2, "still the same minute");
    app.advance(Duration::seconds(31));
    app.drain_jobs().await.unwrap();
    assert_eq!(sms().await, 4);
    app.advance(Duration::seconds(61));
    app.drain_jobs().await.unwrap();
    assert_eq!(sms().await, 5);
    // Never more than two in any minute.
    let at: Vec<chrono::DateTime<chrono::Utc>> = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::Channel.eq("sms"))
        .order_by_asc(delivery_attempt::Column::At)
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.at)
        .collect();
    assert_eq!(at.len(), 5);
    for w in at.windows(3) {
        assert!(w[2] - w[0] >= Duration::seconds(60), "{at:?}");
    }
}

#[tokio::test]
async fn a_broadcast_reaches_exactly_its_segment_and_marketing_honours_unsubscribe() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let a1 = person(&app, 21, "110112004001", "small", true).await;
    let a2 = person(&app, 22, "110112004002", "small", true).await;
    let a3 = person(&app, 23, "110112004003", "micro", true).await; // other size
    let a4 = person(&app, 24, "110112004004", "small", false).await; // not certified
    let b1 = person(&app, 25, "110112005001", "small", true).await; // other street
    let out = person(&app, 26, "110112004005", "small", true).await; // unsubscribed
    set_email(&app, out, "out@example.cn", true).await;
    let op = signed_in(&app, "operator").await;
    let seg = [("division", "110112004"), ("size_class", "small"), ("certified", "yes")];
    let mut form = vec![("title", "通州区企业服务月活动"), ("body", "欢迎报名参加。"), ("kind", "marketing"), ("ch_wechat", "1")];
    form.extend(seg);
    let mut preview = form.clone();
    preview.push(("action", "preview"));
    let p = op.post_form("/admin/broadcasts", &preview).await.unwrap();
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains("<strong>3</strong> 家企业的 <strong>3</strong> 个账号") && p.body.contains("测试企业21有限公司"),
        "{}",
        p.body
    );
    // Bad input: a message and nothing written.
    let bad = op
        .post_form("/admin/broadcasts", &[("title", ""), ("body", "x"), ("kind", "marketing"), ("division", "11'; DROP")])
        .await
        .unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let late = op
        .post_form(
            "/admin/broadcasts",
            &[("title", "t"), ("body", "x"), ("kind", "notice"), ("scheduled_at", "2020-01-01T09:00")],
        )
        .await
        .unwrap();
    assert!(late.body.contains("发送时间不能早于现在"), "{}", late.body);
    assert_eq!(qifu_testkit::qifu_db::entity::broadcast::Entity::find().count(&app.ctx.db).await.unwrap(), 0);
    let r = op.post_form("/admin/broadcasts", &form).await.unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    app.drain_jobs().await.unwrap();
    let got: Vec<i64> = message::Entity::find()
        .filter(message::Column::BroadcastId.is_not_null())
        .order_by_asc(message::Column::UserId)
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(got, vec![a1, a2], "exactly the segment, without the unsubscribed user");
    for u in [a3, a4, b1, out] {
        assert!(!got.contains(&u));
    }
    // A platform notice (not marketing) reaches the unsubscribed user too.
    let mut notice = form.clone();
    notice[2] = ("kind", "notice");
    notice[0] = ("title", "系统维护通知");
    op.post_form("/admin/broadcasts", &notice).await.unwrap();
    app.drain_jobs().await.unwrap();
    let b = qifu_testkit::qifu_db::entity::broadcast::Entity::find()
        .order_by_desc(qifu_testkit::qifu_db::entity::broadcast::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.recipients, 3);
    assert_eq!(message::Entity::find().filter(message::Column::BroadcastId.eq(b.id)).count(&app.ctx.db).await.unwrap(), 3);
    // The report and its export.
    let report = op.get(&format!("/admin/broadcasts/{}", b.id)).await.unwrap();
    assert!(report.body.contains("发送报告") && report.body.contains("<td>站内信</td><td>3</td>"), "{}", report.body);
    let x = op.get(&format!("/admin/broadcasts/{}?export=xlsx", b.id)).await.unwrap();
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.header("content-type").unwrap_or_default().contains("spreadsheetml"));
    // Only the operator broadcasts.
    let ent = signed_in(&app, "enterprise").await;
    assert_eq!(ent.post_form("/admin/broadcasts", &form).await.unwrap().status, StatusCode::FORBIDDEN);
    // A scheduled broadcast waits for its time and can be cancelled.
    let later = (app.ctx.now() + Duration::hours(8) + Duration::days(1)).format("%Y-%m-%dT09:00").to_string();
    let mut scheduled = notice.clone();
    scheduled.push(("scheduled_at", &later));
    op.post_form("/admin/broadcasts", &scheduled).await.unwrap();
    app.drain_jobs().await.unwrap();
    let s = qifu_testkit::qifu_db::entity::broadcast::Entity::find()
        .order_by_desc(qifu_testkit::qifu_db::entity::broadcast::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.status, BroadcastStatus::Scheduled);
    op.post_form(&format!("/admin/broadcasts/{}/cancel", s.id), &[]).await.unwrap();
    app.advance(Duration::days(2));
    app.drain_jobs().await.unwrap();
    let s = qifu_testkit::qifu_db::entity::broadcast::Entity::find_by_id(s.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(s.status, BroadcastStatus::Cancelled);
    assert_eq!(message::Entity::find().filter(message::Column::BroadcastId.eq(s.id)).count(&app.ctx.db).await.unwrap(), 0);
}

#[tokio::test]
async fn templates_name_an_unknown_variable_at_save_and_are_used_once_saved() {
    let app = TestApp::spawn().await.unwrap();
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    let list = op.get("/admin/message-templates").await.unwrap();
    assert!(list.body.contains("服务需求进展"), "{}", list.body);
    let t = message_template::Entity::find()
        .filter(message_template::Column::Key.eq("demand"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/admin/message-templates/{}", t.id);
    let base = [
        ("name", "服务需求进展"),
        ("inbox_title", "【需求】{{title}}"),
        ("inbox_body", "{{body}}"),
        ("sms_text", "{{title}}，联系人{{contact_name}}"),
        ("wechat_fields", "first={{title}}"),
        ("email_subject", "{{title}}"),
        ("email_body", "{{body}}"),
        ("action", "save"),
    ];
    let r = op.post_form(&path, &base).await.unwrap();
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("短信内容中的变量 {{contact_name}} 不存在"), "{}", r.body);
    let kept = message_template::Entity::find_by_id(t.id).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(kept.inbox_title, "{{title}}", "nothing saved");
    // Preview renders sample values without saving.
    let mut pv = base;
    pv[3] = ("sms_text", "{{title}}，请登录查看。");
    pv[7] = ("action", "preview");
    let p = op.post_form(&path, &pv).await.unwrap();
    assert!(p.body.contains("【需求】需求已受理：知识产权贯标辅导"), "{}", p.body);
    pv[7] = ("action", "save");
    assert_eq!(op.post_form(&path, &pv).await.unwrap().status, StatusCode::SEE_OTHER);
    let uid = user_id(&app, "enterprise").await;
    notify(&app, uid, "demand", "需求已受理", false).await;
    let m = message::Entity::find()
        .filter(message::Column::UserId.eq(uid))
        .order_by_desc(message::Column::Id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.title, "【需求】需求已受理");
    let unclosed = [("name", "x"), ("inbox_title", "{{title"), ("action", "save")];
    let r = op.post_form(&path, &unclosed).await.unwrap();
    assert!(r.body.contains("缺少结尾"), "{}", r.body);
}

#[tokio::test]
async fn the_wechat_api_caches_its_token_falls_back_to_subscription_messages_publishes_the_menu_and_binds_by_oauth() {
    let fake = FakeWechat::start("wxqifu0000000001", "secret-1", &["TPL_DEMAND"]).await.unwrap();
    let base = fake.url();
    let app = TestApp::spawn_with(move |s| {
        s.wechat.provider = "api".into();
        s.wechat.app_id = "wxqifu0000000001".into();
        s.wechat.app_secret = qifu_testkit::qifu_app::config::Secret::new("secret-1");
        s.wechat.api_base = base.clone();
        s.wechat.oauth_base = base;
        s.messages.public_url = "https://qifu.example.gov.cn".into();
    })
    .await
    .unwrap();
    app.seed_demo().await.unwrap();
    let uid = user_id(&app, "enterprise").await;
    bind_wechat(&app, uid, "oEnt0001").await;
    let db = &app.ctx.db;
    for (key, tpl, sub) in [("demand", "TPL_DEMAND", ""), ("policy", "TPL_GONE", "SUB_POLICY")] {
        let t = message_template::Entity::find().filter(message_template::Column::Key.eq(key)).one(db).await.unwrap().unwrap();
        let mut am: message_template::ActiveModel = t.into();
        am.wechat_template_id = Set(tpl.into());
        am.wechat_subscribe_template_id = Set(sub.into());
        am.update(db).await.unwrap();
    }
    notify(&app, uid, "demand", "需求已受理", false).await;
    notify(&app, uid, "policy", "新政策推送", false).await;
    app.drain_jobs().await.unwrap();
    let mut sent = fake.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // The worker delivers concurrently: the two may arrive in either order.
    sent.sort_by(|a, b| b.kind.cmp(&a.kind));
    assert_eq!((sent[0].kind.as_str(), sent[0].template_id.as_str()), ("template", "TPL_DEMAND"));
    assert_eq!(sent[0].data["first"]["value"], "需求已受理");
    assert_eq!((sent[1].kind.as_str(), sent[1].template_id.as_str()), ("subscribe", "SUB_POLICY"));
    assert_eq!(fake.token_requests(), 1, "one token for both");
    let ds = deliveries_of(&app, uid).await;
    let w: Vec<&delivery::Model> = ds.iter().filter(|d| d.channel == Channel::Wechat).collect();
    // The template message keeps WeChat's msgid (the fake numbers sends in arrival order); a subscription message has none.
    let template_at = fake.sent().iter().position(|m| m.kind == "template").unwrap() + 1;
    let ids: Vec<&str> = w.iter().filter_map(|d| d.provider_message_id.as_deref()).collect();
    assert_eq!(ids, [format!("{}", 200_000 + template_at)], "{w:?}");
    // Another server took a new token: ours is refused once, refreshed, and the send goes through.
    fake.revoke_tokens();
    notify(&app, uid, "demand", "需求已交付", false).await;
    app.drain_jobs().await.unwrap();
    assert_eq!(fake.sent().len(), 3);
    assert_eq!(fake.token_requests(), 2);
    // WeChat busy (-1): retried later.
    fake.fail_next_with(-1);
    notify(&app, uid, "demand", "需求已评价", false).await;
    app.drain_jobs().await.unwrap();
    assert_eq!(fake.sent().len(), 3);
    app.advance(Duration::minutes(5));
    app.drain_jobs().await.unwrap();
    assert_eq!(fake.sent().len(), 4);
    // A token near its expiry is refreshed before use.
    app.advance(Duration::seconds(7200 - 200));
    notify(&app, uid, "demand", "需求已关闭", false).await;
    app.drain_jobs().await.unwrap();
    assert_eq!(fake.token_requests(), 3);

    // The menu, edited in the back office and published through the API.
    let op = signed_in(&app, "operator").await;
    let bad = op
        .post_form("/admin/wechat/menu", &[("menu", "a|view|https://x\nb|view|https://x\nc|view|https://x\nd|view|https://x")])
        .await
        .unwrap();
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("最多 3 个一级菜单"));
    let menu = "政策服务\n- 最新政策 | click | 政策\n- 政策计算器 | view | https://qifu.example.gov.cn/policies/calculator\n服务市场 | view | https://qifu.example.gov.cn/products";
    let ok = op.post_form("/admin/wechat/menu", &[("menu", menu)]).await.unwrap();
    assert!(ok.body.contains("已发布到公众号"), "{}", ok.body);
    let published = fake.menus();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["button"][0]["sub_button"][0]["key"], "政策");

    // Web OAuth binds a WeChat openid to the signed-in user.
    let inst = signed_in(&app, "institution").await;
    let start = inst.get("/wechat/oauth").await.unwrap();
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    let loc = start.location().unwrap().to_owned();
    assert!(
        loc.contains("/connect/oauth2/authorize?appid=wxqifu0000000001")
            && loc.contains("snsapi_base")
            && loc.ends_with("#wechat_redirect"),
        "{loc}"
    );
    let state = loc.split("state=").nth(1).unwrap().split(['&', '#']).next().unwrap().to_owned();
    fake.oauth_code("CODE123", "oInstitution9");
    let forged = inst.get("/wechat/oauth/callback?code=CODE123&state=forged").await.unwrap();
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let back = inst.get(&format!("/wechat/oauth/callback?code=CODE123&state={state}")).await.unwrap();
    assert_eq!(back.location(), Some("/account/notifications?done=bound"), "{}", back.body);
    let inst_id = user_id(&app, "institution").await;
    let b =
        wechat_binding::Entity::find().filter(wechat_binding::Column::Openid.eq("oInstitution9")).one(db).await.unwrap().unwrap();
    assert_eq!(b.user_id, Some(inst_id));
    let bad_code = inst.get(&format!("/wechat/oauth/callback?code=NOPE&state={state}")).await.unwrap();
    assert_eq!(bad_code.status, StatusCode::BAD_REQUEST);
}

const TOKEN: &str = "qifu-wechat-token";
const AES_KEY: &str = "QifuWeChatInteropKey0123456789abcdefghijklm";
const APP_ID: &str = "wx5f1e2d3c4b5a6978";

/// An app with the official account configured; `skew` = the replay window
/// (0: off, for the 2014 published vector).
async fn wechat_app(token: &str, aes: &str, app_id: &str, skew: i64) -> TestApp {
    let (t, k, a) = (token.to_owned(), aes.to_owned(), app_id.to_owned());
    TestApp::spawn_with(move |s| {
        s.wechat.token = qifu_testkit::qifu_app::config::Secret::new(t);
        s.wechat.aes_key = qifu_testkit::qifu_app::config::Secret::new(k);
        s.wechat.app_id = a;
        s.wechat.max_clock_skew_secs = skew;
        s.messages.public_url = "https://qifu.example.gov.cn".into();
    })
    .await
    .unwrap()
}

async fn post_raw(app: &TestApp, query: &str, body: impl Into<String>) -> (StatusCode, String) {
    let r = app.client.post(app.url(&format!("/wechat?{query}"))).body(body.into()).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_wechat_endpoint_checks_signatures_and_survives_bad_input() {
    // Tencent's published sample: token, key, app id and an encrypted message with its signature.
    let app = wechat_app(A_TOKEN, A_AES_KEY, A_APP_ID, 0).await;
    let plain_sig = qifu_wechat::signature(A_TOKEN, A_TIMESTAMP, A_NONCE);
    let q =
        format!("signature={plain_sig}&timestamp={A_TIMESTAMP}&nonce={A_NONCE}&encrypt_type=aes&msg_signature={A_MSG_SIGNATURE}");
    let (status, body) = post_raw(&app, &q, A_FROM_XML).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let crypto = qifu_wechat::Crypto::new(A_AES_KEY, A_APP_ID).unwrap();
    // The encrypted reply: Encrypt, MsgSignature, TimeStamp, Nonce.
    let encrypt = body.split("<Encrypt><![CDATA[").nth(1).and_then(|r| r.split("]]>").next()).unwrap();
    let ts = body.split("<TimeStamp>").nth(1).and_then(|r| r.split("</TimeStamp>").next()).unwrap();
    let sig = body.split("<MsgSignature><![CDATA[").nth(1).and_then(|r| r.split("]]>").next()).unwrap();
    assert_eq!(sig, qifu_wechat::msg_signature(A_TOKEN, ts, A_NONCE, encrypt), "{body}");
    let reply = qifu_wechat::parse_message(&crypto.decrypt(encrypt).unwrap()).unwrap();
    assert_eq!(reply.to_user_name, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(reply.msg_type, "text");
    let logged = wechat_log::Entity::find().filter(wechat_log::Column::Kind.eq("text")).one(&app.ctx.db).await.unwrap().unwrap();
    assert_eq!(logged.detail, "abcdteT", "the sample's text, decrypted");
    // The sample with one changed character of its signature: 403 and logged.
    let forged = q.replace(A_MSG_SIGNATURE, &A_MSG_SIGNATURE.replace('5', "6"));
    assert_eq!(post_raw(&app, &forged, A_FROM_XML).await.0, StatusCode::FORBIDDEN);
    // URL verification.
    let v = app
        .client
        .get(app.url(&format!("/wechat?signature={plain_sig}&timestamp={A_TIMESTAMP}&nonce={A_NONCE}&echostr=4242xyz")))
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), StatusCode::OK);
    assert_eq!(v.text().await.unwrap(), "4242xyz");
    let v = app
        .client
        .get(app.url(&format!("/wechat?signature=deadbeef&timestamp={A_TIMESTAMP}&nonce={A_NONCE}&echostr=1")))
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), StatusCode::FORBIDDEN);
    // In safe mode a plain message is refused even with a valid plain signature (it does not cover the body).
    let plain_q = format!("signature={plain_sig}&timestamp={A_TIMESTAMP}&nonce={A_NONCE}");
    assert_eq!(
        post_raw(&app, &plain_q, A_FROM_XML.replace("<Encrypt>", "<X>").replace("</Encrypt>", "</X>")).await.0,
        StatusCode::FORBIDDEN
    );
    let bad = wechat_log::Entity::find().filter(wechat_log::Column::Kind.eq("bad_signature")).count(&app.ctx.db).await.unwrap();
    assert_eq!(bad, 3, "each refused request is logged");
    let garbage = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[!!!notbase64]]></Encrypt></xml>";
    assert_eq!(post_raw(&app, &q, garbage).await.0, StatusCode::FORBIDDEN, "the signature covers the ciphertext");
    let signed = qifu_wechat::msg_signature(A_TOKEN, A_TIMESTAMP, A_NONCE, "!!!notbase64");
    let q2 = format!("timestamp={A_TIMESTAMP}&nonce={A_NONCE}&encrypt_type=aes&msg_signature={signed}");
    assert_eq!(post_raw(&app, &q2, garbage).await.0, StatusCode::BAD_REQUEST, "signed garbage cannot be decrypted");
    assert_eq!(post_raw(&app, "encrypt_type=aes", "<xml>").await.0, StatusCode::BAD_REQUEST);

    // Plain mode (no key configured), with the default 5-minute replay window.
    let app = wechat_app("plain-token", "", "", 300).await;
    let now = app.ctx.now().timestamp().to_string();
    let psig = qifu_wechat::signature("plain-token", &now, "77");
    let plain = format!("signature={psig}&timestamp={now}&nonce=77");
    // Malformed XML, DOCTYPE and an oversized body are 400, never a panic.
    for body in ["<xml><ToUserName>", "not xml at all", "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml>&e;</xml>"]
    {
        assert_eq!(post_raw(&app, &plain, body).await.0, StatusCode::BAD_REQUEST, "{body}");
    }
    let huge = format!("<xml><Content><![CDATA[{}]]></Content></xml>", "政".repeat(30_000));
    assert_eq!(post_raw(&app, &plain, huge).await.0, StatusCode::BAD_REQUEST);
    // A plain text message gets the default reply; events keep the follower list.
    let text = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>1</MsgId></xml>";
    let (status, body) = post_raw(&app, &plain, text).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<ToUserName><![CDATA[oUser1]]></ToUserName>") && body.contains("回复“政策”"), "{body}");
    // The same signed request an hour later is a replay: 403.
    let old = (app.ctx.now().timestamp() - 3600).to_string();
    let replay = format!("signature={}&timestamp={old}&nonce=77", qifu_wechat::signature("plain-token", &old, "77"));
    assert_eq!(post_raw(&app, &replay, text).await.0, StatusCode::FORBIDDEN);
    let sub = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_expo]]></EventKey></xml>";
    assert!(post_raw(&app, &plain, sub).await.1.contains("欢迎关注"));
    let b = wechat_binding::Entity::find()
        .filter(wechat_binding::Column::Openid.eq("oUser1"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(b.subscribed && b.scene == "expo");
    let unsub = sub.replace("subscribe", "unsubscribe");
    assert_eq!(post_raw(&app, &plain, unsub).await.1, "success");
    let b = wechat_binding::Entity::find()
        .filter(wechat_binding::Column::Openid.eq("oUser1"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!b.subscribed);
    // A flood of forged requests writes at most 20 log rows a minute.
    for _ in 0..30 {
        assert_eq!(post_raw(&app, "signature=0&timestamp=1&nonce=1", text).await.0, StatusCode::FORBIDDEN);
    }
    let logged =
        wechat_log::Entity::find().filter(wechat_log::Column::Kind.eq("bad_signature")).count(&app.ctx.db).await.unwrap();
    assert_eq!(logged, 20);
}

/// A Python with wechatpy and aiosmtpd (`QIFU_TEST_PYTHON`, else `python3`),
/// or `None` (the test is skipped, visibly; under CI it fails).
fn python_with(modules: &str) -> Option<String> {
    let py = std::env::var("QIFU_TEST_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".to_owned());
    let ok =
        std::process::Command::new(&py).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    assert!(std::env::var_os("CI").is_none(), "CI: {py} lacks Python modules {modules} (.ci/run installs them)");
    eprintln!(
        "SKIPPED: {py} lacks Python modules {modules}; pip install wechatpy cryptography aiosmtpd, or set QIFU_TEST_PYTHON"
    );
    None
}

/// Runs the peer on a blocking thread: the server it talks to runs on this test's runtime.
async fn run_peer(py: &str, app: &TestApp, mode: &str) -> serde_json::Value {
    let (py, url, mode) = (py.to_owned(), app.url("/wechat"), mode.to_owned());
    tokio::task::spawn_blocking(move || run_peer_blocking(&py, &url, &mode)).await.unwrap()
}

fn run_peer_blocking(py: &str, url: &str, mode: &str) -> serde_json::Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../wechat/peer/wechat_peer.py");
    let out = std::process::Command::new(py)
        .args([script, "--url", url, "--token", TOKEN, "--mode", mode])
        .args(if mode == "safe" { vec!["--aes-key", AES_KEY, "--app-id", APP_ID] } else { vec![] })
        .args(["--openid", "oPeerUser0001", "--text", "政策"])
        .output()
        .unwrap();
    assert!(out.status.success(), "peer failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn wechatpy_plays_the_wechat_side_in_plain_and_safe_mode() {
    let Some(py) = python_with("wechatpy") else { return };
    // Safe mode (a key is configured, so plain messages are refused) and, below, a plain-mode account.
    // The peer signs with the real time: the apps' clocks are set to it, the replay window stays on.
    let app = wechat_app(TOKEN, AES_KEY, APP_ID, 300).await;
    app.clock.set(chrono::Utc::now());
    app.seed_demo().await.unwrap();
    let op = signed_in(&app, "operator").await;
    // The demo data brings the rule 政策 → the newest policies as a news reply.
    let tried = op.get("/admin/wechat?try=%E6%94%BF%E7%AD%96").await.unwrap();
    assert!(tried.body.contains("命中关键词“政策”") && tried.body.contains("〔图文〕"), "{}", tried.body);
    let r = op
        .post_form(
            "/admin/wechat/replies",
            &[("keyword", "你好"), ("match_kind", "exact"), ("reply_kind", "text"), ("content", "您好！<b>欢迎</b>")],
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let bad = op
        .post_form("/admin/wechat/replies", &[("keyword", ""), ("match_kind", "exact"), ("reply_kind", "text"), ("content", "x")])
        .await
        .unwrap();
    assert!(bad.status == StatusCode::UNPROCESSABLE_ENTITY && bad.body.contains("请填写关键词"), "{}", bad.body);
    let dup = op
        .post_form(
            "/admin/wechat/replies",
            &[("keyword", "政策"), ("match_kind", "exact"), ("reply_kind", "text"), ("content", "x")],
        )
        .await
        .unwrap();
    assert!(dup.body.contains("已有自动回复"));
    let newest = qifu_testkit::qifu_app::messages::wechat::newest_policies(&app.ctx, "", 5).await.unwrap();
    assert!(!newest.is_empty(), "the demo has published policies");
    let plain_app = wechat_app(TOKEN, "", "", 300).await;
    plain_app.clock.set(chrono::Utc::now());
    plain_app.seed_demo().await.unwrap();
    let plain_newest = qifu_testkit::qifu_app::messages::wechat::newest_policies(&plain_app.ctx, "", 5).await.unwrap();
    assert_eq!(plain_newest.iter().map(|p| &p.title).collect::<Vec<_>>(), newest.iter().map(|p| &p.title).collect::<Vec<_>>());
    for (mode, target) in [("plain", &plain_app), ("safe", &app)] {
        let v = run_peer(&py, target, mode).await;
        assert_eq!(v["verify"], "ok", "{mode}: {v}");
        assert_eq!(v["forged"], 403, "{mode}: {v}");
        assert_eq!(v["reply_type"], "news", "{mode}: {v}");
        let articles = v["articles"].as_array().unwrap();
        assert_eq!(articles.len(), newest.len());
        assert_eq!(articles[0]["title"], newest[0].title.as_str());
        assert!(articles[0]["url"].as_str().unwrap().starts_with("https://qifu.example.gov.cn/policies/"));
        assert_eq!(v["subscribe"]["reply_type"], "text");
        assert!(v["subscribe"]["content"].as_str().unwrap().contains("欢迎关注"));
    }
    let b = wechat_binding::Entity::find()
        .filter(wechat_binding::Column::Openid.eq("oPeerUser0001"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(b.subscribed && b.scene == "42");
    let page = op.get("/admin/wechat").await.unwrap();
    assert!(page.body.contains("签名校验失败") && page.body.contains("oPeerUser0001"), "{}", page.body);
}

#[tokio::test]
async fn email_reaches_a_real_smtp_server() {
    let Some(py) = python_with("aiosmtpd") else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let maildir = dir.path().join("mail");
    let mut server = std::process::Command::new(&py)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .spawn()
        .unwrap();
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let app = TestApp::spawn_with(move |s| {
        s.email.provider = "smtp".into();
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = port;
        s.email.smtp_security = "none".into();
        s.email.from = "通州企服 <noreply@qifu.example.gov.cn>".into();
    })
    .await
    .unwrap();
    let uid = person(&app, 40, "110112004", "small", true).await;
    set_email(&app, uid, "zhao@example.cn", false).await;
    notify(&app, uid, "demand", "需求已受理：专利申请", false).await;
    app.drain_jobs().await.unwrap();
    let d = deliveries_of(&app, uid).await.into_iter().find(|d| d.channel == Channel::Email).unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(d.status, DeliveryStatus::Sent, "{:?}", d.last_error);
    let id = d.provider_message_id.clone().unwrap();
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(maildir.join(sub)) {
            for e in rd.flatten() {
                found.push(std::fs::read_to_string(e.path()).unwrap());
            }
        }
    }
    assert_eq!(found.len(), 1, "one message in the server's mailbox");
    let mail = &found[0];
    assert!(mail.contains("To: zhao@example.cn") && mail.contains(&id), "{mail}");
    assert!(mail.contains("Subject: =?utf-8?") || mail.contains("Subject: 需求已受理"), "{mail}");
}

#[tokio::test]
async fn sms_goes_through_alibaba_cloud_with_the_templates_own_code_and_variables() {
    use qifu_testkit::fake_aliyun::FakeAliyun;
    let fake = FakeAliyun::start("LTAI5tQifuPipe", "pipe-secret").await.unwrap();
    let url = fake.url();
    let app = TestApp::spawn_with(move |s| {
        s.sms.provider = "aliyun".into();
        s.sms.aliyun_endpoint = url;
        s.sms.aliyun_access_key_id = "LTAI5tQifuPipe".into();
        s.sms.aliyun_access_key_secret = qifu_testkit::qifu_app::config::Secret::new("pipe-secret");
        s.sms.aliyun_sign_name = "通州企服".into();
        s.sms.aliyun_template_code = "SMS_100000001".into();
        s.sms.aliyun_notice_template_code = "SMS_100000002".into();
    })
    .await
    .unwrap();
    let uid = person(&app, 50, "110112004", "small", true).await;
    // The general notice template: the provider's notice code with the title.
    notify(&app, uid, "account", "入驻申请已通过", true).await;
    // A template with its own provider code gets its own variables.
    let t = message_template::Entity::find()
        .filter(message_template::Column::Key.eq("demand"))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: message_template::ActiveModel = t.into();
    am.sms_template_code = Set("SMS_468350777".into());
    am.update(&app.ctx.db).await.unwrap();
    notify(&app, uid, "demand", "需求已受理", true).await;
    app.drain_jobs().await.unwrap();
    let mut got = fake.received();
    assert_eq!(got.len(), 2, "{got:?}");
    // Deliveries run concurrently: compare in a fixed order.
    got.sort_by_key(|g| g.template_code != "SMS_100000002");
    assert_eq!((got[0].phone.as_str(), got[0].template_code.as_str()), ("13700000050", "SMS_100000002"));
    assert_eq!(got[0].template_param["title"], "入驻申请已通过");
    assert_eq!(got[1].template_code, "SMS_468350777");
    assert_eq!(got[1].template_param["title"], "需求已受理");
    assert_eq!(got[1].template_param["body"], "正文");
    let ds = deliveries_of(&app, uid).await;
    let sms: Vec<&delivery::Model> = ds.iter().filter(|d| d.channel == Channel::Sms).collect();
    assert!(sms.iter().all(|d| d.status == DeliveryStatus::Sent && d.provider == "aliyun"), "{sms:?}");
    assert_eq!(sms[0].provider_message_id.as_deref(), Some(got[0].biz_id.as_str()));
    // The gateway refuses (a business error): recorded once, not retried.
    fake.fail_next_with("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控");
    notify(&app, uid, "account", "第二条", true).await;
    app.drain_jobs().await.unwrap();
    app.advance(Duration::hours(1));
    app.drain_jobs().await.unwrap();
    let last = deliveries_of(&app, uid).await.into_iter().rfind(|d| d.channel == Channel::Sms).unwrap();
    assert_eq!((last.status, last.attempts), (DeliveryStatus::Failed, 1));
    assert!(last.last_error.as_deref().unwrap_or_default().contains("BUSINESS_LIMIT_CONTROL"), "{:?}", last.last_error);
}
