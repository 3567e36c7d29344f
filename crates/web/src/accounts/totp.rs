//! The staff's authenticator app (动态口令): enrolment and removal. Only 工作人员
//! (the operator's and government users) use one.

use crate::AppState;
use crate::error::WebError;
use crate::extract::CsrfForm;
use crate::guard::StaffOrgUser;
use crate::kit::{self, PageChrome, form};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use qifu_app::accounts::totp::{self, Enrolment};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "accounts/totp.html")]
pub struct TotpPage {
    pub chrome: PageChrome,
    pub enrolled: bool,
    pub enrolment: Option<Enrolment>,
    pub error: Option<String>,
    pub notice: Option<String>,
}

async fn totp_page(
    st: &AppState,
    me: &StaffOrgUser,
    notice: Option<String>,
    error: Option<String>,
    keep: Option<Enrolment>,
) -> Result<TotpPage, WebError> {
    let enrolled = totp::enrolled(&st.ctx, me.actor.user_id).await?;
    let enrolment = if enrolled { None } else { Some(keep.unwrap_or_else(|| totp::start_enrolment(&st.ctx, &me.actor))) };
    Ok(TotpPage { chrome: PageChrome::new(st, &me.viewer, "动态口令", ""), enrolled, enrolment, error, notice })
}

pub async fn show_totp(State(st): State<AppState>, me: StaffOrgUser) -> Result<Html<String>, WebError> {
    kit::render(&totp_page(&st, &me, None, None, None).await?)
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    sealed: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

pub async fn save_totp(
    State(st): State<AppState>,
    me: StaffOrgUser,
    CsrfForm { form, .. }: CsrfForm<TotpForm>,
) -> Result<Response, WebError> {
    let (actor, meta) = (&me.actor, &me.viewer.meta);
    let result = match form.action.as_str() {
        "remove" => totp::remove(&st.ctx, actor, meta, &form.password, &form.code).await.map(|_| "已解除绑定。"),
        _ => totp::confirm_enrolment(&st.ctx, actor, meta, &form.sealed, &form.code, &form.password)
            .await
            .map(|_| "绑定成功，下次登录可使用动态口令。"),
    };
    match result {
        Ok(n) => Ok(kit::render(&totp_page(&st, &me, Some(n.to_owned()), None, None).await?)?.into_response()),
        Err(e) => {
            let error = form::errors(e)?.summary();
            // Keep the same secret so the user can retry with the app as already set up.
            let keep = totp::resume_enrolment(&st.ctx, actor, &form.sealed);
            form::invalid(&totp_page(&st, &me, None, Some(error), keep).await?)
        }
    }
}
