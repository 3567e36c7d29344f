//! The HTTP registry client against the local fake.

use qifu_domain::certification::CreditCode;
use qifu_testkit::fake_registry::FakeRegistry;
use qifu_testkit::qifu_app::config::{RegistrySettings, Secret};
use qifu_testkit::qifu_app::integrations::registry::{Registry, RegistryError, RegistryRecord};
use qifu_testkit::qifu_app::integrations::registry_http::HttpRegistry;
use std::time::{Duration, Instant};

const TOKEN: &str = "qifu-registry-test-token";
const TIMEOUT: Duration = Duration::from_secs(5);

fn code(body: &str) -> CreditCode {
    CreditCode::from_body(body).unwrap()
}

fn known() -> CreditCode {
    code("91110112MA01AB12C")
}

fn record(code: &CreditCode) -> RegistryRecord {
    RegistryRecord {
        credit_code: code.as_str().to_owned(),
        name: "北京运河智造科技有限公司".to_owned(),
        legal_rep_name: "张三".to_owned(),
        legal_rep_id: Some("110112198001010011".to_owned()),
        status: "存续".to_owned(),
        base: qifu_testkit::qifu_app::integrations::registry::RegistryBase {
            founded_on: chrono::NaiveDate::from_ymd_opt(2015, 6, 1),
            ..Default::default()
        },
    }
}

async fn fake_with_known() -> FakeRegistry {
    let fake = FakeRegistry::start(TOKEN).await.unwrap();
    fake.insert(record(&known()));
    fake
}

fn client(url: &str, token: &str) -> HttpRegistry {
    HttpRegistry::new(url, token, TIMEOUT).unwrap()
}

/// The message of an `Unavailable`, failing the test on anything else.
fn unavailable(result: Result<Option<RegistryRecord>, RegistryError>) -> String {
    match result {
        Err(RegistryError::Unavailable(m)) => m,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn known_enterprise_is_returned_with_every_field() {
    let fake = fake_with_known().await;
    let registry = client(&fake.url(), TOKEN);
    assert_eq!(registry.name(), "http");

    let got = registry.lookup(&known()).await.unwrap();

    assert_eq!(got, Some(record(&known())));
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn missing_id_number_is_none() {
    let fake = FakeRegistry::start(TOKEN).await.unwrap();
    let c = code("92110112MA01CD34E");
    fake.insert(RegistryRecord { legal_rep_id: None, status: "在业".to_owned(), ..record(&c) });

    let got = client(&fake.url(), TOKEN).lookup(&c).await.unwrap().unwrap();

    assert_eq!(got.legal_rep_id, None);
    assert_eq!(got.status, "在业");
    assert_eq!(got.credit_code, c.as_str());
}

#[tokio::test]
async fn unknown_enterprise_is_none() {
    let fake = fake_with_known().await;
    let got = client(&fake.url(), TOKEN).lookup(&code("91110112MA01AB12D")).await.unwrap();
    assert_eq!(got, None);
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn settings_without_trailing_slash_reach_the_fake() {
    let fake = fake_with_known().await;
    let settings = RegistrySettings {
        provider: "http".to_owned(),
        http_url: fake.url().trim_end_matches('/').to_owned(),
        http_token: Secret::new(TOKEN),
        timeout_secs: 5,
    };
    let got = HttpRegistry::from_settings(&settings).unwrap().lookup(&known()).await.unwrap();
    assert_eq!(got, Some(record(&known())));
}

#[tokio::test]
async fn wrong_token_is_unavailable_and_not_shown() {
    let fake = fake_with_known().await;
    let message = unavailable(client(&fake.url(), "not-the-token").lookup(&known()).await);
    assert!(message.contains("401"), "{message}");
    assert!(!message.contains("not-the-token"), "{message}");
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn server_error_is_unavailable_once() {
    let fake = fake_with_known().await;
    let registry = client(&fake.url(), TOKEN);
    fake.fail_next_with(500);

    let message = unavailable(registry.lookup(&known()).await);
    assert!(message.contains("500"), "{message}");

    // Only the next request failed; the service answers again afterwards.
    assert_eq!(registry.lookup(&known()).await.unwrap(), Some(record(&known())));
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn rate_limit_is_unavailable() {
    let fake = fake_with_known().await;
    fake.fail_next_with(429);
    let message = unavailable(client(&fake.url(), TOKEN).lookup(&known()).await);
    assert!(message.contains("429"), "{message}");
}

#[tokio::test]
async fn unreachable_url_is_unavailable_within_the_timeout() {
    let registry = HttpRegistry::new("http://127.0.0.1:1/", TOKEN, Duration::from_secs(2)).unwrap();
    let started = Instant::now();
    let message = unavailable(registry.lookup(&known()).await);
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert!(message.contains("登记信息接口"), "{message}");
}

#[tokio::test]
async fn answer_for_another_credit_code_is_unavailable() {
    let fake = FakeRegistry::start(TOKEN).await.unwrap();
    let asked = known();
    fake.insert_under(asked.as_str(), record(&code("91110112MA01AB12D")));

    let message = unavailable(client(&fake.url(), TOKEN).lookup(&asked).await);
    assert!(message.contains("不一致"), "{message}");
}

#[tokio::test]
async fn wrong_base_path_is_unavailable_not_unregistered() {
    let fake = fake_with_known().await;
    let url = format!("{}api/v2/", fake.url());
    let message = unavailable(client(&url, TOKEN).lookup(&known()).await);
    assert!(message.contains("404"), "{message}");
}

#[tokio::test]
async fn silent_server_times_out_as_unavailable() {
    // Connections complete in the kernel's backlog, but nothing ever answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let registry = HttpRegistry::new(&url, TOKEN, Duration::from_secs(1)).unwrap();
    let started = Instant::now();
    let message = unavailable(registry.lookup(&known()).await);
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(message.contains("超时"), "{message}");
    drop(listener);
}
