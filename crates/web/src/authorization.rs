//! Data-use authorisation (企业数据授权): the enterprise signs or revokes the
//! SM2-signed authorisation and downloads its record; anyone verifies a record.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::guard::{EnterpriseUser, SignedIn};
use crate::kit::{self, Empty, PageChrome, form};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use qifu_app::authorization;
use qifu_db::entity::authorization as record;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/authorization", get(show_authorization))
        .route("/account/authorization/sign", post(sign_authorization))
        .route("/account/authorization/revoke", post(revoke_authorization))
        .route("/account/authorization/download", get(download_record))
        .route("/verify-authorization", get(show_verification).post(verify_record))
        .route("/.well-known/qifu-platform-key.pem", get(public_key))
}

#[derive(Template)]
#[template(path = "authorization/authorization.html")]
pub struct AuthorizationPage {
    pub chrome: PageChrome,
    pub certified: bool,
    pub text: &'static str,
    pub text_version: &'static str,
    pub current: Option<record::Model>,
    pub latest: Option<record::Model>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub is_admin: bool,
}

#[derive(Template)]
#[template(path = "authorization/verify.html")]
pub struct VerifyAuthorizationPage {
    pub chrome: PageChrome,
    pub input: String,
    pub verdict: Option<authorization::Verdict>,
    pub key_id: i64,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(
    st: &AppState,
    me: &EnterpriseUser,
    notice: Option<String>,
    error: Option<String>,
) -> Result<AuthorizationPage, WebError> {
    let actor = &me.actor;
    let (_, org) = qifu_app::certification::status(&st.ctx, actor).await?;
    Ok(AuthorizationPage {
        chrome: PageChrome::new(st, &me.viewer, "企业数据授权", ""),
        certified: org.is_some_and(|o| o.certified_at.is_some()),
        text: authorization::TEXT,
        text_version: authorization::TEXT_VERSION,
        current: authorization::active(&st.ctx, actor.org_id).await?,
        latest: authorization::latest(&st.ctx, actor).await?,
        notice,
        error,
        is_admin: actor.is_org_admin,
    })
}

pub async fn show_authorization(
    State(st): State<AppState>,
    me: EnterpriseUser,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = kit::notice(
        q.done.as_deref().unwrap_or(""),
        &[("signed", "授权书已签署，平台已以 SM2 签名存证。"), ("revoked", "授权已撤回，平台已停止向服务机构共享贵企业数据。")],
    );
    kit::render(&page(&st, &me, notice, None).await?)
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    #[serde(default)]
    agree: String,
}

/// A refused signing or revocation: the page again, saying why (409).
async fn refused(st: &AppState, me: &EnterpriseUser, e: qifu_app::certification::CertError) -> Result<Response, WebError> {
    let error = form::errors(e)?.summary();
    form::conflict(&page(st, me, None, Some(error)).await?)
}

pub async fn sign_authorization(
    State(st): State<AppState>,
    me: EnterpriseUser,
    CsrfForm { form, .. }: CsrfForm<SignForm>,
) -> Result<Response, WebError> {
    if form.agree != "1" {
        return form::invalid(&page(&st, &me, None, Some("请先勾选“我已阅读并同意以上授权书”".to_owned())).await?);
    }
    match authorization::sign(&st.ctx, &me.actor, &me.viewer.meta).await {
        Ok(_) => Ok(Redirect::to("/account/authorization?done=signed").into_response()),
        Err(e) => refused(&st, &me, e).await,
    }
}

pub async fn revoke_authorization(
    State(st): State<AppState>,
    me: EnterpriseUser,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    match authorization::revoke(&st.ctx, &me.actor, &me.viewer.meta).await {
        Ok(()) => Ok(Redirect::to("/account/authorization?done=revoked").into_response()),
        Err(e) => refused(&st, &me, e).await,
    }
}

/// The signed record of the user's organisation (404 when there is none).
pub async fn download_record(State(st): State<AppState>, me: SignedIn) -> Result<Response, WebError> {
    let file = authorization::signed_file(&st.ctx, &me.actor).await?;
    let body = serde_json::to_string_pretty(&file).map_err(|e| WebError::Internal(e.into()))?;
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"qifu-authorization.json\""));
    Ok(r)
}

pub async fn show_verification(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let (key_id, _) = authorization::public_key_pem(&st.ctx).await?;
    kit::render(&VerifyAuthorizationPage {
        chrome: PageChrome::new(&st, &v, "授权存证验证", ""),
        input: String::new(),
        verdict: None,
        key_id,
    })
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    file: String,
}

pub async fn verify_record(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<VerifyForm>,
) -> Result<Html<String>, WebError> {
    let input: String = form.file.chars().take(20_000).collect();
    let verdict = authorization::verify_text(&st.ctx, &input).await?;
    let (key_id, _) = authorization::public_key_pem(&st.ctx).await?;
    kit::render(&VerifyAuthorizationPage {
        chrome: PageChrome::new(&st, &viewer, "授权存证验证", ""),
        input,
        verdict: Some(verdict),
        key_id,
    })
}

pub async fn public_key(State(st): State<AppState>) -> Result<Response, WebError> {
    let (_, pem) = authorization::public_key_pem(&st.ctx).await?;
    let mut r = pem.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
    Ok(r)
}
