//! The JSON API's OpenAPI 3 document, generated from the handlers' annotations
//! and served at `/api/openapi.json`. Each area contributes its own part (one
//! line here); a snapshot test (`docs/openapi.json`) fails when the API changes
//! without the document.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "通州区中小微企业智慧服务平台 API",
        description = "企服（qifu）的 JSON 接口。错误统一为 {\"error\": {\"code\", \"message\", \"fields\"}}。",
        version = "1"
    ),
    components(schemas(crate::error::ApiErrorBody))
)]
struct Root;

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    doc.merge(crate::accounts::api::AccountsApi::openapi());
    doc.merge(crate::policies::api::PoliciesApi::openapi());
    doc
}

pub async fn serve_document() -> axum::response::Response {
    use axum::response::IntoResponse;
    axum::Json(document()).into_response()
}
