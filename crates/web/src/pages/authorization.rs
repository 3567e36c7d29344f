//! Data-use authorisation pages and public verification.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::view::{AuthorizationPage, PageChrome, VerifyAuthorizationPage};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::authorization;
use qifu_app::certification::CertError;
use qifu_domain::accounts::OrgKind;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(st: &AppState, v: &Viewer, notice: Option<String>, error: Option<String>) -> Result<String, WebError> {
    let actor = v.require()?;
    if actor.org_kind != OrgKind::Enterprise {
        return Err(WebError::Forbidden);
    }
    let (_, org) = qifu_app::certification::status(&st.ctx, actor).await?;
    Ok(AuthorizationPage {
        chrome: PageChrome::new(st, v, "企业数据授权", ""),
        certified: org.is_some_and(|o| o.certified_at.is_some()),
        text: authorization::TEXT,
        text_version: authorization::TEXT_VERSION,
        current: authorization::active(&st.ctx, actor.org_id).await?,
        latest: authorization::latest(&st.ctx, actor).await?,
        notice,
        error,
        is_admin: actor.is_org_admin,
    }
    .render()?)
}

pub async fn show_authorization(
    State(st): State<AppState>,
    v: Viewer,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_deref() {
        Some("signed") => Some("授权书已签署，平台已以 SM2 签名存证。".to_owned()),
        Some("revoked") => Some("授权已撤回，平台已停止向服务机构共享贵企业数据。".to_owned()),
        _ => None,
    };
    Ok(Html(page(&st, &v, notice, None).await?))
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    #[serde(default)]
    agree: String,
}

fn outcome(r: Result<(), CertError>, ok: &str) -> Result<Result<String, String>, WebError> {
    match r {
        Ok(()) => Ok(Ok(ok.to_owned())),
        Err(CertError::Access(a)) => Err(a.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

pub async fn sign(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<SignForm>) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    if form.agree != "1" {
        let html = page(&st, &viewer, None, Some("请先勾选“我已阅读并同意以上授权书”".to_owned())).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response());
    }
    match outcome(authorization::sign(&st.ctx, actor, &viewer.meta).await.map(|_| ()), "/account/authorization?done=signed")? {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(m) => Ok((StatusCode::CONFLICT, Html(page(&st, &viewer, None, Some(m)).await?)).into_response()),
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn revoke(State(st): State<AppState>, CsrfForm { viewer, .. }: CsrfForm<Empty>) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    match outcome(authorization::revoke(&st.ctx, actor, &viewer.meta).await, "/account/authorization?done=revoked")? {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(m) => Ok((StatusCode::CONFLICT, Html(page(&st, &viewer, None, Some(m)).await?)).into_response()),
    }
}

pub async fn download(State(st): State<AppState>, v: Viewer) -> Result<Response, WebError> {
    let actor = v.require()?;
    let file = authorization::signed_file(&st.ctx, actor).await?;
    let body = serde_json::to_string_pretty(&file).map_err(|e| WebError::Internal(e.into()))?;
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r.headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"qifu-authorization.json\""));
    Ok(r)
}

pub async fn show_verify(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    let (key_id, _) = authorization::public_key_pem(&st.ctx).await?;
    Ok(Html(
        VerifyAuthorizationPage {
            chrome: PageChrome::new(&st, &v, "授权存证验证", ""),
            input: String::new(),
            verdict: None,
            key_id,
        }
        .render()?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    file: String,
}

pub async fn verify(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<VerifyForm>,
) -> Result<Html<String>, WebError> {
    let input: String = form.file.chars().take(20_000).collect();
    let verdict = authorization::verify_text(&st.ctx, &input).await?;
    let (key_id, _) = authorization::public_key_pem(&st.ctx).await?;
    Ok(Html(
        VerifyAuthorizationPage {
            chrome: PageChrome::new(&st, &viewer, "授权存证验证", ""),
            input,
            verdict: Some(verdict),
            key_id,
        }
        .render()?,
    ))
}

pub async fn public_key(State(st): State<AppState>) -> Result<Response, WebError> {
    let (_, pem) = authorization::public_key_pem(&st.ctx).await?;
    let mut r = pem.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-pem-file"));
    Ok(r)
}
