//! The Alibaba Cloud SMS provider against the local fake.

use qifu_testkit::fake_aliyun::FakeAliyun;
use qifu_testkit::qifu_app::integrations::aliyun::{AliyunSms, install_crypto_provider};
use qifu_testkit::qifu_app::integrations::sms::{SmsError, SmsMessage, SmsProvider};
use serde_json::json;

const KEY_ID: &str = "LTAI5tQifuTest";
const KEY_SECRET: &str = "qifu-test-secret";
const SIGN_NAME: &str = "通州企服";
const TEMPLATE: &str = "SMS_468350001";

fn provider(endpoint: &str, secret: &str) -> AliyunSms {
    AliyunSms::new(endpoint, KEY_ID, secret, SIGN_NAME, TEMPLATE).unwrap()
}

fn message(phone: &str) -> SmsMessage {
    SmsMessage {
        phone: phone.to_owned(),
        template: "verify_code".to_owned(),
        params: vec![("code".to_owned(), "482913".to_owned())],
        text: "【通州企服】您的登录验证码为482913，5分钟内有效，请勿泄露给他人。".to_owned(),
    }
}

#[tokio::test]
async fn message_is_delivered_with_phone_sign_template_and_params() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let sms = provider(&fake.url(), KEY_SECRET);
    assert_eq!(sms.name(), "aliyun");
    assert!(!sms.outbox_is_delivery());

    let biz_id = sms.send(&message("13800138000")).await.unwrap();

    let received = fake.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let got = &received[0];
    assert_eq!(got.phone, "13800138000");
    assert_eq!(got.sign_name, SIGN_NAME);
    assert_eq!(got.template_code, TEMPLATE);
    assert_eq!(got.template_param, json!({"code": "482913"}));
    assert_eq!(biz_id.as_deref(), Some(got.biz_id.as_str()));

    // A second message is signed with a fresh nonce, so it is accepted too.
    sms.send(&message("13900139000")).await.unwrap();
    assert_eq!(fake.received().len(), 2);
}

#[tokio::test]
async fn wrong_secret_is_rejected_as_signature_mismatch() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let sms = provider(&fake.url(), "not-the-secret");
    match sms.send(&message("13800138000")).await {
        Err(SmsError::Rejected { code, .. }) => assert_eq!(code, "SignatureDoesNotMatch"),
        other => panic!("expected SignatureDoesNotMatch, got {other:?}"),
    }
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn unknown_access_key_is_rejected() {
    install_crypto_provider();
    let fake = FakeAliyun::start("LTAI5tSomeoneElse", KEY_SECRET).await.unwrap();
    let sms = provider(&fake.url(), KEY_SECRET);
    match sms.send(&message("13800138000")).await {
        Err(SmsError::Rejected { code, .. }) => assert_eq!(code, "InvalidAccessKeyId.NotFound"),
        other => panic!("expected InvalidAccessKeyId.NotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn business_error_surfaces_as_rejected_with_its_code() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let sms = provider(&fake.url(), KEY_SECRET);
    fake.fail_next_with("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1");
    match sms.send(&message("13800138000")).await {
        Err(SmsError::Rejected { code, message }) => {
            assert_eq!(code, "isv.BUSINESS_LIMIT_CONTROL");
            assert_eq!(message, "触发分钟级流控Permits:1");
        }
        other => panic!("expected isv.BUSINESS_LIMIT_CONTROL, got {other:?}"),
    }
    assert!(fake.received().is_empty());

    // Only the next call fails.
    sms.send(&message("13800138000")).await.unwrap();
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn illegal_phone_number_is_rejected() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let sms = provider(&fake.url(), KEY_SECRET);
    match sms.send(&message("12345")).await {
        Err(SmsError::Rejected { code, .. }) => assert_eq!(code, "isv.MOBILE_NUMBER_ILLEGAL"),
        other => panic!("expected isv.MOBILE_NUMBER_ILLEGAL, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_endpoint_is_unavailable() {
    install_crypto_provider();
    let sms = provider("http://127.0.0.1:1/", KEY_SECRET);
    match sms.send(&message("13800138000")).await {
        Err(SmsError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn settings_select_the_aliyun_provider() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let mut settings = qifu_testkit::qifu_app::Settings::default();
    settings.sms.provider = "aliyun".to_owned();
    settings.sms.aliyun_endpoint = fake.url();
    settings.sms.aliyun_access_key_id = KEY_ID.to_owned();
    settings.sms.aliyun_access_key_secret = qifu_testkit::qifu_app::config::Secret::new(KEY_SECRET);
    settings.sms.aliyun_sign_name = SIGN_NAME.to_owned();
    settings.sms.aliyun_template_code = TEMPLATE.to_owned();
    let sms = qifu_testkit::qifu_app::integrations::sms::from_settings(&settings).unwrap();
    assert_eq!(sms.name(), "aliyun");
    sms.send(&message("13800138000")).await.unwrap();
    assert_eq!(fake.received().len(), 1);

    settings.sms.aliyun_access_key_secret = Default::default();
    let err = qifu_testkit::qifu_app::integrations::sms::from_settings(&settings).unwrap_err();
    assert!(err.to_string().contains("sms.aliyun_access_key_secret"), "{err}");
}

#[tokio::test]
async fn notices_use_their_own_template_and_are_refused_without_one() {
    install_crypto_provider();
    let fake = FakeAliyun::start(KEY_ID, KEY_SECRET).await.unwrap();
    let notice = SmsMessage {
        phone: "13800138000".to_owned(),
        template: "notice".to_owned(),
        params: vec![("title".to_owned(), "需求已受理：中小企业常年法律顾问".to_owned())],
        text: "【通州企服】需求已受理：中小企业常年法律顾问，请登录平台查看。".to_owned(),
    };
    match provider(&fake.url(), KEY_SECRET).send(&notice).await {
        Err(SmsError::Rejected { code, message }) => {
            assert_eq!(code, "TEMPLATE_NOT_CONFIGURED");
            assert!(message.contains("sms.aliyun_notice_template_code"), "{message}");
        }
        other => panic!("expected a refusal without a notice template, got {other:?}"),
    }
    assert!(fake.received().is_empty(), "nothing reaches the gateway");
    let sms = provider(&fake.url(), KEY_SECRET).with_notice_template("SMS_468350002");
    sms.send(&notice).await.unwrap();
    sms.send(&message("13900139000")).await.unwrap();
    let received = fake.received();
    assert_eq!(received[0].template_code, "SMS_468350002");
    assert_eq!(received[0].template_param, json!({"title": "需求已受理：中小企业常年法律顾问"}));
    assert_eq!(received[1].template_code, TEMPLATE, "codes keep the code template");
}
