//! The OpenAPI document: served, complete, and kept with the code. The
//! committed `docs/openapi.json` is the snapshot: a change to the API that is
//! not in it fails here (regenerate with `QIFU_UPDATE_OPENAPI=1`).

use crate::TestApp;

fn snapshot_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_the_snapshot() {
    let app = TestApp::spawn().await.unwrap();
    let r = app.get("/api/openapi.json").await.unwrap();
    assert_eq!(r.status.as_u16(), 200);
    let served: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert!(served["openapi"].as_str().unwrap_or("").starts_with("3."), "OpenAPI 3");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("QIFU_UPDATE_OPENAPI").is_some() {
        std::fs::write(snapshot_path(), &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(snapshot_path()).expect("docs/openapi.json exists (QIFU_UPDATE_OPENAPI=1 writes it)");
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert!(
        committed == served,
        "the API changed without docs/openapi.json: run the tests with QIFU_UPDATE_OPENAPI=1 and commit"
    );

    // Every documented operation is routed (an empty request is refused, never 404/405).
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.len() >= 4, "{:?}", paths.keys());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = app.url(path);
            let res = match method.as_str() {
                "get" => app.client.get(url).send().await.unwrap(),
                "post" => app.client.post(url).header("content-type", "application/json").body("{}").send().await.unwrap(),
                other => panic!("undocumented method kind {other}"),
            };
            assert!(res.status() != 404 && res.status() != 405, "{method} {path}: {}", res.status());
            // Every declared response status has the envelope or a body schema.
            let responses = ops[method]["responses"].as_object().unwrap();
            assert!(!responses.is_empty());
        }
    }
    // The error envelope is described once and used by the error responses.
    assert!(served["components"]["schemas"]["ApiErrorBody"].is_object());
}

#[test]
fn the_documented_profile_has_exactly_the_fields_of_the_real_one() {
    let real = serde_json::to_value(qifu_domain::profiles::Profile::default()).unwrap();
    let mut real: Vec<String> = real.as_object().unwrap().keys().cloned().collect();
    real.sort();
    let doc = serde_json::to_value(qifu_web::openapi::document()).unwrap();
    let mut documented: Vec<String> =
        doc["components"]["schemas"]["ProfileDoc"]["properties"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    assert_eq!(real, documented);
}
