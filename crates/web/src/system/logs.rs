//! The login log, the operation log, the audit log (with its chain check) and
//! the SMS outbox.

use crate::AppState;
use crate::error::WebError;
use crate::guard::{Needs, Staff, perm};
use crate::kit::files::xlsx_response;
use crate::kit::fmt::day_start;
use crate::kit::{self, AdminChrome, PageQuery, Pager, lenient_u64};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use qifu_domain::accounts::LoginResult;
use qifu_domain::messages::SmsStatus;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "system/admin_login_log.html")]
pub struct LoginLogPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::login_log::Model>,
    pub pager: Pager,
    pub f: LogQueryView,
    pub export_href: String,
}

#[derive(Template)]
#[template(path = "system/admin_operation_log.html")]
pub struct OperationLogPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::audit::Model>,
    pub pager: Pager,
    pub f: LogQueryView,
    pub export_href: String,
    /// The auditor's full view with hashes and the chain check.
    pub audit: bool,
    pub verification: Option<qifu_app::audit::Verification>,
}

#[derive(Template)]
#[template(path = "system/admin_sms.html")]
pub struct SmsPage {
    pub admin: AdminChrome,
    pub rows: Vec<qifu_db::entity::sms_outbox::Model>,
    pub pager: Pager,
}

/// Filter values as the log pages show them again.
#[derive(Clone, Debug, Default)]
pub struct LogQueryView {
    pub who: String,
    pub action: String,
    pub result: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize, Default)]
pub struct LogQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    who: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    result: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    export: String,
    #[serde(default)]
    verify: String,
}

impl LogQuery {
    fn view(&self) -> LogQueryView {
        let keep = |s: &str| s.trim().chars().take(64).collect::<String>();
        let date = |s: &str| if day_start(s).is_some() { s.trim().to_owned() } else { String::new() };
        LogQueryView {
            who: keep(&self.who),
            action: keep(&self.action),
            result: keep(&self.result),
            from: date(&self.from),
            to: date(&self.to),
        }
    }

    fn query_string(&self) -> String {
        let v = self.view();
        serde_urlencoded::to_string([("who", v.who), ("action", v.action), ("result", v.result), ("from", v.from), ("to", v.to)])
            .unwrap_or_default()
    }

    fn range(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (day_start(&self.from), day_start(&self.to).map(|t| t + chrono::Duration::days(1)))
    }
}

pub async fn login_log(
    State(st): State<AppState>,
    staff: Staff<perm::LoginLogView>,
    Query(q): Query<LogQuery>,
) -> Result<Response, WebError> {
    let (from, to) = q.range();
    let view = q.view();
    let f = qifu_app::audit::LoginLogFilter { username: view.who.clone(), result: view.result.clone(), from, to };
    if q.export == "xlsx" {
        let bytes = qifu_app::audit::login_log_xlsx(&st.ctx, &staff.actor, &staff.viewer.meta, &f).await?;
        return Ok(xlsx_response(bytes, "login-log"));
    }
    let (rows, total) = qifu_app::audit::login_log(&st.ctx, &staff.actor, &f, q.page).await?;
    let qs = q.query_string();
    let page = LoginLogPage {
        admin: staff.chrome(&st, "登录日志", "login_log").await?,
        rows,
        pager: Pager::new(q.page, 30, total, format!("/admin/login-log?{qs}")),
        f: view,
        export_href: format!("/admin/login-log?{qs}&export=xlsx"),
    };
    Ok(Html(page.render()?).into_response())
}

/// The operation log, or (`audit`) the auditor's full view of the same chain.
async fn op_log<P: Needs>(st: &AppState, staff: &Staff<P>, q: &LogQuery, audit: bool) -> Result<Response, WebError> {
    let actor = &staff.actor;
    let (from, to) = q.range();
    let view = q.view();
    let f = qifu_app::audit::LogFilter { actor: view.who.clone(), action: view.action.clone(), from, to };
    if q.export == "xlsx" {
        let bytes = qifu_app::audit::operation_log_xlsx(&st.ctx, actor, &staff.viewer.meta, &f, audit).await?;
        return Ok(xlsx_response(bytes, if audit { "audit-log" } else { "operation-log" }));
    }
    let (rows, total) = if audit {
        qifu_app::audit::audit_log(&st.ctx, actor, &f, q.page).await?
    } else {
        qifu_app::audit::operation_log(&st.ctx, actor, &f, q.page).await?
    };
    let verification = if audit && q.verify == "1" { Some(qifu_app::audit::verify_as(&st.ctx, actor).await?) } else { None };
    let path = if audit { "/admin/audit" } else { "/admin/operation-log" };
    let qs = q.query_string();
    let page = OperationLogPage {
        admin: staff
            .chrome(st, if audit { "审计日志" } else { "操作日志" }, if audit { "audit" } else { "operation_log" })
            .await?,
        rows,
        pager: Pager::new(q.page, 30, total, format!("{path}?{qs}")),
        f: view,
        export_href: format!("{path}?{qs}&export=xlsx"),
        audit,
        verification,
    };
    Ok(Html(page.render()?).into_response())
}

pub async fn operation_log(
    State(st): State<AppState>,
    staff: Staff<perm::OperationLogView>,
    Query(q): Query<LogQuery>,
) -> Result<Response, WebError> {
    op_log(&st, &staff, &q, false).await
}

pub async fn audit_log(
    State(st): State<AppState>,
    staff: Staff<perm::AuditView>,
    Query(q): Query<LogQuery>,
) -> Result<Response, WebError> {
    op_log(&st, &staff, &q, true).await
}

pub async fn sms_outbox(
    State(st): State<AppState>,
    staff: Staff<perm::SmsOutboxView>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, WebError> {
    let (rows, total) = qifu_app::outbox::list(&st.ctx, &staff.actor, &staff.viewer.meta, q.page).await?;
    kit::render(&SmsPage {
        admin: staff.chrome(&st, "短信发件箱", "sms").await?,
        rows,
        pager: Pager::new(q.page, 30, total, "/admin/sms".to_owned()),
    })
}
