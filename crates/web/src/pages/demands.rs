//! Demand pages: applying on the portal, the enterprise's own demands, the
//! institution's inbox and the operator's overview.

use super::PageQuery;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm, Viewer, check_csrf};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::demands::{self, ActionInput, ApplyForm, DemandError, DemandFile, DemandFilter};
use qifu_domain::accounts::{OrgKind, Permission};
use qifu_domain::demands::DemandEvent;
use serde::Deserialize;

fn fields(e: DemandError) -> Result<FieldErrors, WebError> {
    match e {
        DemandError::Access(a) => Err(a.into()),
        DemandError::Fields(list) => Ok(FieldErrors::from(list)),
        DemandError::State(m) => {
            let mut f = FieldErrors::default();
            f.add("form", m);
            Ok(f)
        }
    }
}

async fn apply_page(st: &AppState, v: &Viewer, id: i64, f: ApplyFormView, errors: FieldErrors) -> Result<String, WebError> {
    let actor = v.require()?;
    let card = qifu_db::read::public_product(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let financing = demands::is_financing(&st.ctx.db, &card.product).await?;
    let blocked = if actor.org_kind != OrgKind::Enterprise {
        Some("只有企业用户可以申请服务。".to_owned())
    } else {
        qifu_app::certification::require_certified(&st.ctx, actor).await.err().map(|e| format!("{e}。完成认证后即可申请。"))
    };
    Ok(ApplyPage { chrome: PageChrome::new(st, v, "申请服务", "products"), card, financing, f, errors, blocked }.render()?)
}

pub async fn show_apply(State(st): State<AppState>, v: Viewer, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let actor = v.require()?;
    let f = ApplyFormView { contact_name: actor.display_name.clone(), ..Default::default() };
    Ok(Html(apply_page(&st, &v, id, f, FieldErrors::default()).await?))
}

/// The application form: multipart from the page (it may carry an attachment),
/// or URL-encoded from clients without files.
pub async fn apply(State(st): State<AppState>, Path(id): Path<String>, req: Request) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let (viewer, form, attachment) = if multipart {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, &st).await?;
        let mp = Multipart::from_request(Request::from_parts(parts, body), &st)
            .await
            .map_err(|_| WebError::BadRequest("提交的内容无法读取，请重试".to_owned()))?;
        let mp = MultipartForm::read(mp, "attachment", demands::FILE_MAX_BYTES).await?;
        check_csrf(&viewer, &mp.csrf)?;
        let form: ApplyFormView = mp.form()?;
        (viewer, form, Some(mp.file))
    } else {
        let CsrfForm { viewer, form } = CsrfForm::<ApplyFormView>::from_request(req, &st).await?;
        (viewer, form, None)
    };
    let actor = viewer.require()?;
    let input = ApplyForm {
        needs: form.needs.clone(),
        contact_name: form.contact_name.clone(),
        contact_phone: form.contact_phone.clone(),
        expected_date: form.expected_date.clone(),
        amount_wan: form.amount_wan.clone(),
        term_months: form.term_months.clone(),
        purpose: form.purpose.clone(),
        guarantee_mode: form.guarantee_mode.clone(),
        financial_summary: form.financial_summary.clone(),
        attachment,
    };
    match demands::apply(&st.ctx, actor, &viewer.meta, id, &input).await {
        Ok(did) => Ok(Redirect::to(&format!("/account/demands/{did}?done=submitted")).into_response()),
        Err(e) => {
            let errors = fields(e)?;
            let status = if errors.get("form").is_some() { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY };
            Ok((status, Html(apply_page(&st, &viewer, id, form, errors).await?)).into_response())
        }
    }
}

pub async fn my_demands(State(st): State<AppState>, v: Viewer, Query(q): Query<PageQuery>) -> Result<Html<String>, WebError> {
    let actor = v.require()?;
    if actor.org_kind != OrgKind::Enterprise {
        return Err(WebError::Forbidden);
    }
    let (rows, total) = demands::list(&st.ctx, actor, &DemandFilter::default(), q.page, 20).await?;
    Ok(Html(
        MyDemandsPage {
            chrome: PageChrome::new(&st, &v, "我的需求", ""),
            rows,
            pager: Pager::new(q.page, 20, total, "/account/demands".to_owned()),
        }
        .render()?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}

fn done_notice(code: &str) -> Option<String> {
    Some(
        match code {
            "submitted" => "需求已提交，服务机构受理后会通知您。",
            "done" => "已办理。",
            "message" => "留言已发送。",
            "rated" => "感谢您的评价。",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn my_demand_page(
    st: &AppState,
    v: &Viewer,
    id: i64,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<String, WebError> {
    let actor = v.require()?;
    let d = demands::view(&st.ctx, actor, id).await?;
    Ok(MyDemandPage { chrome: PageChrome::new(st, v, &format!("需求 {id}"), ""), d, errors, notice }.render()?)
}

pub async fn my_demand(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    Ok(Html(my_demand_page(&st, &v, parse_id(&id)?, FieldErrors::default(), done_notice(&q.done)).await?))
}

#[derive(Debug, Deserialize, Default)]
pub struct ActionForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    granted_amount_wan: String,
    #[serde(default)]
    granted_rate: String,
    #[serde(default)]
    granted_term_months: String,
    #[serde(default)]
    to_institution: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

fn event_of(action: &str) -> Option<DemandEvent> {
    Some(match action {
        "accept" => DemandEvent::Accept,
        "decline" => DemandEvent::Decline,
        "start" => DemandEvent::Start,
        "deliver" => DemandEvent::Deliver,
        "confirm" => DemandEvent::Confirm,
        "close" => DemandEvent::Close,
        "withdraw" => DemandEvent::Withdraw,
        "reassign" => DemandEvent::Reassign,
        _ => return None,
    })
}

/// Runs an action or posts a message; returns the field errors on failure.
async fn run_action(
    st: &AppState,
    v: &Viewer,
    id: i64,
    action: &str,
    f: &ActionForm,
) -> Result<Result<&'static str, FieldErrors>, WebError> {
    let actor = v.require()?;
    let r = if action == "message" {
        demands::post_message(&st.ctx, actor, id, &f.body).await.map(|_| "message")
    } else if action == "rate" {
        demands::rate(&st.ctx, actor, &v.meta, id, &f.rating, &f.comment).await.map(|_| "rated")
    } else {
        let ev = event_of(action).ok_or(WebError::NotFound)?;
        let input = ActionInput {
            note: f.note.clone(),
            assignee_user_id: f.assignee.trim().parse().ok(),
            granted_amount_wan: f.granted_amount_wan.clone(),
            granted_rate: f.granted_rate.clone(),
            granted_term_months: f.granted_term_months.clone(),
            to_institution_id: f.to_institution.trim().parse().ok(),
            proof: None,
        };
        demands::act(&st.ctx, actor, &v.meta, id, ev, &input).await.map(|_| "done")
    };
    match r {
        Ok(done) => Ok(Ok(done)),
        Err(e) => Ok(Err(fields(e)?)),
    }
}

pub async fn my_demand_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, form }: CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match run_action(&st, &viewer, id, &action, &form).await? {
        Ok(done) => Ok(Redirect::to(&format!("/account/demands/{id}?done={done}")).into_response()),
        Err(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(my_demand_page(&st, &viewer, id, errors, None).await?)).into_response())
        }
    }
}

// ---- back office ----

fn staff(v: &Viewer) -> Result<&qifu_app::actor::Actor, WebError> {
    let actor = v.require()?;
    qifu_app::actor::require(actor, Permission::BackOffice)?;
    Ok(actor)
}

async fn chrome(st: &AppState, v: &Viewer, actor: &qifu_app::actor::Actor, title: &str) -> Result<AdminChrome, WebError> {
    Ok(AdminChrome {
        base: PageChrome::new(st, v, title, ""),
        menu: qifu_app::accounts::back_office_menu(&st.ctx, actor).await?,
        active: "demands",
    })
}

#[derive(Debug, Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default, deserialize_with = "super::lenient_u64")]
    page: u64,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    export: String,
}

fn day(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(chrono::DateTime::from_naive_utc_and_offset(d.and_hms_opt(0, 0, 0)? - chrono::Duration::hours(8), chrono::Utc))
}

pub async fn inbox(State(st): State<AppState>, v: Viewer, Query(q): Query<InboxQuery>) -> Result<Response, WebError> {
    let actor = staff(&v)?;
    let f = DemandFilter {
        status: q.status.clone(),
        product_id: None,
        from: day(&q.from),
        to: day(&q.to).map(|t| t + chrono::Duration::days(1)),
        overdue_only: q.overdue == "1",
    };
    let keep = |s: &str| if day(s).is_some() { s.trim().to_owned() } else { String::new() };
    let qs = serde_urlencoded::to_string([
        ("status", q.status.as_str()),
        ("from", &keep(&q.from)),
        ("to", &keep(&q.to)),
        ("overdue", q.overdue.as_str()),
    ])
    .unwrap_or_default();
    if q.export == "xlsx" {
        let bytes = demands::export(&st.ctx, actor, &f).await?;
        let mut r = bytes.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        );
        r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"demands.xlsx\""));
        return Ok(r);
    }
    let (rows, total) = demands::list(&st.ctx, actor, &f, q.page, 20).await?;
    let page = AdminDemandsPage {
        admin: chrome(&st, &v, actor, if actor.org_kind == OrgKind::Institution { "需求受理" } else { "服务需求" }).await?,
        rows,
        pager: Pager::new(q.page, 20, total, format!("/admin/demands?{qs}")),
        status: q.status.clone(),
        overdue: q.overdue == "1",
        from: keep(&q.from),
        to: keep(&q.to),
        export_href: format!("/admin/demands?{qs}&export=xlsx"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn admin_page(st: &AppState, v: &Viewer, id: i64, errors: FieldErrors, notice: Option<String>) -> Result<String, WebError> {
    let actor = staff(v)?;
    let d = demands::view(&st.ctx, actor, id).await?;
    let staff_list = demands::assignable_staff(&st.ctx, actor).await?;
    let institutions = qifu_db::read::active_institutions(&st.ctx.db).await?;
    Ok(AdminDemandPage {
        admin: chrome(st, v, actor, &format!("需求 {id}")).await?,
        d,
        staff: staff_list,
        institutions,
        errors,
        notice,
    }
    .render()?)
}

pub async fn admin_demand(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    Ok(Html(admin_page(&st, &v, parse_id(&id)?, FieldErrors::default(), done_notice(&q.done)).await?))
}

/// Delivery with an optional proof file (a multipart form).
pub async fn admin_deliver(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    mp: Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = MultipartForm::read(mp, "proof", demands::FILE_MAX_BYTES).await?;
    check_csrf(&v, &mp.csrf)?;
    let actor = staff(&v)?;
    let f: ActionForm = mp.form()?;
    let input = ActionInput { note: f.note, proof: Some(mp.file), ..Default::default() };
    match demands::act(&st.ctx, actor, &v.meta, id, DemandEvent::Deliver, &input).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/demands/{id}?done=done")).into_response()),
        Err(e) => {
            let errors = fields(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(admin_page(&st, &v, id, errors, None).await?)).into_response())
        }
    }
}

/// A demand's attachment or delivery proof, for either side and the operator.
pub async fn demand_file(
    State(st): State<AppState>,
    v: Viewer,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let actor = v.require()?;
    let which = match which.as_str() {
        "attachment" => DemandFile::Attachment,
        "proof" => DemandFile::Proof,
        _ => return Err(WebError::NotFound),
    };
    let (f, bytes) = demands::demand_file(&st.ctx, actor, parse_id(&id)?, which).await?;
    Ok(super::file_response(&f, bytes))
}

pub async fn admin_demand_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, form }: CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    staff(&viewer)?;
    match run_action(&st, &viewer, id, &action, &form).await? {
        Ok(done) => Ok(Redirect::to(&format!("/admin/demands/{id}?done={done}")).into_response()),
        Err(errors) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(admin_page(&st, &viewer, id, errors, None).await?)).into_response())
        }
    }
}
