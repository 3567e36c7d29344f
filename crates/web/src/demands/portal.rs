//! The enterprise's side: applying for a product, its demands, and acting on one.

use super::{ActionForm, DoneQuery, done_notice, run_action};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm};
use crate::guard::{EnterpriseUser, SignedIn};
use crate::kit::{self, FieldErrors, PageChrome, PageQuery, Pager, form, parse_id};
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::demands::{self, ApplyForm, DemandFilter};
use qifu_db::read::ProductCard;
use qifu_domain::accounts::OrgKind;
use qifu_domain::demands::DemandState;

#[derive(Template)]
#[template(path = "demands/apply.html")]
pub struct ApplyPage {
    pub chrome: PageChrome,
    pub card: ProductCard,
    pub financing: bool,
    pub f: ApplyFormView,
    pub errors: FieldErrors,
    pub blocked: Option<String>,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ApplyFormView {
    pub needs: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub expected_date: String,
    pub amount_wan: String,
    pub term_months: String,
    pub purpose: String,
    pub guarantee_mode: String,
    pub financial_summary: String,
}

#[derive(Template)]
#[template(path = "demands/demands.html")]
pub struct MyDemandsPage {
    pub chrome: PageChrome,
    pub rows: Vec<qifu_db::entity::demand::Model>,
    pub pager: Pager,
}

#[derive(Template)]
#[template(path = "demands/demand.html")]
pub struct MyDemandPage {
    pub chrome: PageChrome,
    pub d: demands::DemandView,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

/// The application form; it says why a user who may not apply cannot (not an
/// enterprise, not certified) instead of refusing the page.
async fn apply_page(st: &AppState, me: &SignedIn, id: i64, f: ApplyFormView, errors: FieldErrors) -> Result<ApplyPage, WebError> {
    let card = qifu_db::read::public_product(&st.ctx.db, id).await?.ok_or(WebError::NotFound)?;
    let financing = demands::is_financing(&st.ctx.db, &card.product).await?;
    let blocked = if me.actor.org_kind != OrgKind::Enterprise {
        Some("只有企业用户可以申请服务。".to_owned())
    } else {
        qifu_app::certification::require_certified(&st.ctx, &me.actor).await.err().map(|e| format!("{e}。完成认证后即可申请。"))
    };
    Ok(ApplyPage { chrome: PageChrome::new(st, &me.viewer, "申请服务", "products"), card, financing, f, errors, blocked })
}

pub async fn show_apply(State(st): State<AppState>, me: SignedIn, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let id = parse_id(&id)?;
    let f = ApplyFormView { contact_name: me.actor.display_name.clone(), ..Default::default() };
    kit::render(&apply_page(&st, &me, id, f, FieldErrors::default()).await?)
}

/// The application form: multipart from the page (it may carry an attachment),
/// or URL-encoded from clients without files.
pub async fn apply(State(st): State<AppState>, me: SignedIn, Path(id): Path<String>, req: Request) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let (form, attachment) = if multipart {
        let mp =
            Multipart::from_request(req, &st).await.map_err(|_| WebError::BadRequest("提交的内容无法读取，请重试".to_owned()))?;
        let mp = MultipartForm::read_for(&me.viewer, mp, "attachment", demands::FILE_MAX_BYTES).await?;
        let form: ApplyFormView = mp.form()?;
        (form, Some(mp.file))
    } else {
        let CsrfForm { form, .. } = CsrfForm::<ApplyFormView>::from_request(req, &st).await?;
        (form, None)
    };
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
    match demands::apply(&st.ctx, &me.actor, &me.viewer.meta, id, &input).await {
        Ok(did) => Ok(Redirect::to(&format!("/account/demands/{did}?done=submitted")).into_response()),
        Err(e) => {
            let errors = form::errors(e)?;
            // Refused as a whole (not an enterprise, not certified, product closed): 403.
            let status = if errors.get("form").is_some() { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY };
            form::with_status(status, &apply_page(&st, &me, id, form, errors).await?)
        }
    }
}

pub async fn my_demands(
    State(st): State<AppState>,
    me: EnterpriseUser,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, WebError> {
    let (rows, total) = demands::list(&st.ctx, &me.actor, &DemandFilter::default(), q.page, 20).await?;
    kit::render(&MyDemandsPage {
        chrome: PageChrome::new(&st, &me.viewer, "我的需求", ""),
        rows,
        pager: Pager::new(q.page, 20, total, "/account/demands".to_owned()),
    })
}

async fn my_demand_page(
    st: &AppState,
    me: &SignedIn,
    id: i64,
    errors: FieldErrors,
    notice: Option<String>,
) -> Result<MyDemandPage, WebError> {
    let d = demands::view(&st.ctx, &me.actor, id).await?;
    Ok(MyDemandPage { chrome: PageChrome::new(st, &me.viewer, &format!("需求 {id}"), ""), d, errors, notice })
}

pub async fn my_demand(
    State(st): State<AppState>,
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    kit::render(&my_demand_page(&st, &me, parse_id(&id)?, FieldErrors::default(), done_notice(&q.done)).await?)
}

pub async fn my_demand_action(
    State(st): State<AppState>,
    me: SignedIn,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<ActionForm>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    match run_action(&st, &me.actor, &me.viewer.meta, id, &action, &form).await {
        Ok(done) => Ok(Redirect::to(&format!("/account/demands/{id}?done={done}")).into_response()),
        Err(e) => form::invalid(&my_demand_page(&st, &me, id, e.into_fields()?, None).await?),
    }
}
