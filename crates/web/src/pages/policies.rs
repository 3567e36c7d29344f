//! Policy pages: the back office's policy list, form and rule editor; the
//! portal's policy calculator (政策计算器) for enterprises and visitors; the
//! matching endpoint of the JSON API.

use super::admin::{Empty, chrome, staff};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, Viewer};
use crate::pages::portal::parse_id;
use crate::view::*;
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use qifu_app::policies::{self, PolicyError, PolicyForm, RuleRow};
use qifu_domain::policy::Profile;
use serde::Deserialize;

fn errors_of(e: PolicyError) -> Result<Vec<String>, WebError> {
    match e {
        PolicyError::Access(a) => Err(a.into()),
        PolicyError::Rows(list) => Ok(list.into_iter().map(|(_, m)| m).collect()),
        PolicyError::State(m) => Ok(vec![m.to_owned()]),
    }
}

pub async fn admin_list(State(st): State<AppState>, v: Viewer, Query(q): Query<DoneQuery>) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let rows = policies::list_admin(&st.ctx, actor).await?;
    let notice = match q.done.as_str() {
        "created" => Some("政策已保存为草稿，请设置申报条件后发布。".to_owned()),
        "qualification" => Some("资质已加入名录，企业可在政策计算器中勾选。".to_owned()),
        _ => None,
    };
    let quals = policies::qualification_kinds(&st.ctx.db).await?;
    let page =
        PoliciesAdminPage { admin: chrome(&st, &v, actor, "政策管理", "policies").await?, rows, notice, quals, error: None };
    Ok(Html(page.render()?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
    suggest: String,
}

async fn new_page(st: &AppState, v: &Viewer, f: PolicyForm, errors: Vec<String>) -> Result<String, WebError> {
    let actor = staff(v)?;
    qifu_app::actor::require(actor, qifu_domain::accounts::Permission::PolicyManage)?;
    Ok(PolicyNewPage { admin: chrome(st, v, actor, "新建政策", "policies").await?, f, errors }.render()?)
}

pub async fn admin_new(State(st): State<AppState>, v: Viewer) -> Result<Html<String>, WebError> {
    Ok(Html(new_page(&st, &v, PolicyForm::default(), Vec::new()).await?))
}

pub async fn admin_create(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<PolicyForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match policies::create_policy(&st.ctx, actor, &viewer.meta, &form).await {
        Ok(id) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=created")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(new_page(&st, &viewer, form, errors).await?)).into_response())
        }
    }
}

/// Blank rows offered below the existing ones.
const BLANK_ROWS: usize = 6;

async fn policy_page(
    st: &AppState,
    v: &Viewer,
    id: i64,
    rows: Option<Vec<RuleRow>>,
    errors: Vec<String>,
    notice: Option<String>,
    adopt: bool,
    form: Option<PolicyForm>,
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let (p, saved, pushes) = policies::admin_policy(&st.ctx, actor, id).await?;
    let (suggested, keywords) = policies::suggestions(&st.ctx, actor, id).await?;
    let mut rows = rows.unwrap_or(saved);
    if adopt {
        rows.extend(policies::suggestion_rows(&suggested));
    }
    rows.extend(std::iter::repeat_n(RuleRow::default(), BLANK_ROWS));
    let admin = chrome(st, v, actor, "政策详情", "policies").await?;
    let f = form.unwrap_or_else(|| PolicyForm::of(&p));
    let attachments = policies::attachments(&st.ctx.db, id).await?;
    Ok(PolicyAdminPage { admin, p, rows, pushes, errors, notice, suggested, keywords, adopt, f, attachments }.render()?)
}

pub async fn admin_show(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_str() {
        "created" => Some("政策已保存为草稿，请设置申报条件后发布。"),
        "rule" => Some("申报条件已保存为新版本；已发布的政策将重新匹配并推送给新符合的企业。"),
        "published" => Some("已发布，正在后台匹配全部企业并推送给符合条件的企业。"),
        "withdrawn" => Some("已撤回，门户不再显示，也不再参与匹配。"),
        "tags" => Some("标签已保存。"),
        "edited" => Some("政策信息已保存。"),
        "attached" => Some("附件已上传。"),
        "detached" => Some("附件已删除。"),
        _ => None,
    }
    .map(str::to_owned);
    let adopt = q.suggest == "1";
    let notice = if adopt {
        Some("已把建议的条件加入下方表格：请逐条核对、修改或删除后再保存。".to_owned())
    } else {
        notice
    };
    Ok(Html(policy_page(&st, &v, parse_id(&id)?, None, Vec::new(), notice, adopt, None).await?))
}

/// The editor posts `attr_N`, `op_N`, `value_N`, `group_N` and `negate_N`.
fn rows_from(fields: &[(String, String)]) -> Vec<RuleRow> {
    let mut rows: std::collections::BTreeMap<usize, RuleRow> = Default::default();
    for (k, v) in fields {
        let Some((name, idx)) = k.rsplit_once('_') else { continue };
        let Ok(i) = idx.parse::<usize>() else { continue };
        if i >= policies::RULE_MAX_ROWS + BLANK_ROWS {
            continue;
        }
        let r = rows.entry(i).or_default();
        let v: String = v.chars().take(500).collect();
        match name {
            "attr" => r.attr = v,
            "op" => r.op = v,
            "value" => r.value = v,
            "group" => r.group = v,
            "negate" => r.negate = v == "1",
            _ => {}
        }
    }
    rows.into_values().collect()
}

pub async fn admin_save_rule(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let rows = rows_from(&form);
    match policies::save_rule(&st.ctx, actor, &viewer.meta, id, &rows).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=rule")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            let kept: Vec<RuleRow> = rows.into_iter().filter(|r| !(r.attr.is_empty() && r.value.trim().is_empty())).collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(policy_page(&st, &viewer, id, Some(kept), errors, None, false, None).await?),
            )
                .into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TagsForm {
    tags: String,
}

pub async fn admin_save_tags(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<TagsForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    match policies::save_tags(&st.ctx, actor, &viewer.meta, id, &form.tags).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=tags")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(policy_page(&st, &viewer, id, None, errors, None, false, None).await?))
                .into_response())
        }
    }
}

pub async fn admin_action(
    State(st): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    let r = match action.as_str() {
        "publish" => policies::publish(&st.ctx, actor, &viewer.meta, id).await,
        "withdraw" => policies::withdraw(&st.ctx, actor, &viewer.meta, id).await,
        _ => return Err(WebError::NotFound),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done={action}ed")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            Ok((StatusCode::CONFLICT, Html(policy_page(&st, &viewer, id, None, errors, None, false, None).await?))
                .into_response())
        }
    }
}

/// A visitor's typed attributes, as query pairs (qualifications repeat).
/// The visitor's form as typed, to show it again.
fn calc_form(pairs: &[(String, String)]) -> CalcForm {
    let get = |k: &str| {
        pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.trim().chars().take(40).collect::<String>()).unwrap_or_default()
    };
    CalcForm {
        division: get("division"),
        industry: get("industry"),
        size_class: get("size_class"),
        above: get("above"),
        years: get("years"),
        employees: get("employees"),
        revenue: get("revenue"),
        assets: get("assets"),
        rd: get("rd"),
        credit: get("credit"),
        quals: pairs.iter().filter(|(k, _)| k == "qual").map(|(_, v)| v.clone()).collect(),
    }
}

pub async fn calculator(
    State(st): State<AppState>,
    v: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Html<String>, WebError> {
    let chrome = PageChrome::new(&st, &v, "政策计算器", "policies");
    let mine = match v.actor() {
        Some(actor) => policies::calculate_for(&st.ctx, actor).await?,
        None => None,
    };
    let quals = policies::qualification_kinds(&st.ctx.db).await?;
    let profile = policies::visitor_profile(&pairs, &quals);
    let form = calc_form(&pairs);
    let ran = pairs.iter().any(|(k, _)| k == "run");
    let (enterprise, rows) = match mine {
        Some((e, rows)) if !ran => (Some(e), rows),
        _ if ran => (None, policies::calculate_visitor(&st.ctx, &profile).await?),
        _ => (None, Vec::new()),
    };
    let notice = pairs.iter().find(|(k, _)| k == "done").map(|_| "已保存，以下结果已按最新信息重新计算。".to_owned());
    let opted_out = match (v.actor(), &enterprise) {
        (Some(a), Some(_)) => policies::push_opted_out(&st.ctx, a).await?,
        _ => false,
    };
    let page = CalculatorPage {
        chrome,
        enterprise,
        rows,
        ran,
        form,
        streets: qifu_domain::reference::division::tongzhou_streets(),
        quals,
        errors: Vec::new(),
        notice,
        opted_out,
    };
    Ok(Html(page.render()?))
}

pub async fn fill_profile(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    let get =
        |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.chars().take(40).collect::<String>()).unwrap_or_default();
    let f = policies::ProfileForm {
        employees: get("employees"),
        revenue_wan: get("revenue"),
        total_assets_wan: get("assets"),
        rd_ratio: get("rd"),
        qualifications: form.iter().filter(|(k, _)| k == "qual").map(|(_, v)| v.clone()).collect(),
        credit_standing: get("credit"),
        qualifications_given: get("quals_given"),
        custom: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("custom:").map(|name| (name.to_owned(), v.chars().take(20).collect())))
            .collect(),
    };
    match policies::fill_profile(&st.ctx, actor, &viewer.meta, &f).await {
        Ok(()) => Ok(Redirect::to("/policies/calculator?done=1").into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            let chrome = PageChrome::new(&st, &viewer, "政策计算器", "policies");
            let (enterprise, rows) = match policies::calculate_for(&st.ctx, actor).await? {
                Some((e, r)) => (Some(e), r),
                None => (None, Vec::new()),
            };
            let page = CalculatorPage {
                chrome,
                enterprise,
                rows,
                ran: false,
                form: CalcForm::default(),
                streets: qifu_domain::reference::division::tongzhou_streets(),
                quals: policies::qualification_kinds(&st.ctx.db).await?,
                errors,
                notice: None,
                opted_out: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

/// `POST /api/v1/policy-matches` with a profile as JSON: every open policy's
/// verdict and trace, best first.
pub async fn api_match(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let profile: Profile = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("请求内容不是有效的企业信息：{}", e.to_string().chars().take(120).collect::<String>());
            return (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": {"code": "invalid_profile", "message": msg}})))
                .into_response();
        }
    };
    match policies::calculate_visitor(&st.ctx, &profile).await {
        Ok(rows) => Json(serde_json::json!({
            "results": rows.iter().map(|r| serde_json::json!({
                "policy_id": r.policy.id,
                "title": r.policy.title,
                "rule_version": r.version,
                "verdict": r.outcome.verdict.code(),
                "verdict_label": r.outcome.verdict.label(),
                "trace": r.outcome.trace,
            })).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "policy matching failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"error": {"code": "unavailable", "message": "暂时无法计算，请稍后再试"}})),
            )
                .into_response()
        }
    }
}

// ---- policy aggregation ----

async fn sources_page(
    st: &AppState,
    v: &Viewer,
    f: qifu_app::crawl::SourceForm,
    notice: Option<String>,
    error: Option<String>,
) -> Result<String, WebError> {
    let actor = staff(v)?;
    let sources = qifu_app::crawl::list_sources(&st.ctx, actor).await?;
    Ok(CrawlSourcesPage { admin: chrome(st, v, actor, "政策归集", "crawl").await?, sources, f, notice, error }.render()?)
}

pub async fn crawl_sources(State(st): State<AppState>, v: Viewer, Query(q): Query<DoneQuery>) -> Result<Html<String>, WebError> {
    let notice = match q.done.as_str() {
        "created" => Some("采集来源已保存。".to_owned()),
        "run" => Some("已加入任务队列，几秒后开始采集；结果见日志。".to_owned()),
        _ => None,
    };
    Ok(Html(sources_page(&st, &v, Default::default(), notice, None).await?))
}

pub async fn create_crawl_source(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<qifu_app::crawl::SourceForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match qifu_app::crawl::create_source(&st.ctx, actor, &viewer.meta, &form).await {
        Ok(_) => Ok(Redirect::to("/admin/crawl-sources?done=created").into_response()),
        Err(qifu_app::crawl::CrawlError::Access(a)) => Err(a.into()),
        Err(e) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(sources_page(&st, &viewer, form, None, Some(e.to_string())).await?))
                .into_response())
        }
    }
}

pub async fn crawl_source(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let actor = staff(&v)?;
    let (s, logs) = qifu_app::crawl::source(&st.ctx, actor, parse_id(&id)?).await?;
    let notice = (q.done == "run").then(|| "已加入任务队列，几秒后开始采集；刷新页面查看日志。".to_owned());
    Ok(Html(CrawlSourcePage { admin: chrome(&st, &v, actor, "采集日志", "crawl").await?, s, logs, notice }.render()?))
}

pub async fn run_crawl_source(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    qifu_app::crawl::request_run(&st.ctx, actor, &viewer.meta, id).await?;
    Ok(Redirect::to(&format!("/admin/crawl-sources/{id}?done=run")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PushForm {
    receive: String,
}

/// The enterprise turns policy pushes on or off.
pub async fn set_push(State(st): State<AppState>, CsrfForm { viewer, form }: CsrfForm<PushForm>) -> Result<Response, WebError> {
    let actor = viewer.require()?;
    match policies::set_push_opt_out(&st.ctx, actor, &viewer.meta, form.receive != "1").await {
        Ok(()) => Ok(Redirect::to("/policies/calculator?done=1").into_response()),
        Err(e) => Err(WebError::BadRequest(errors_of(e)?.join("；"))),
    }
}

pub async fn admin_edit(
    State(st): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { viewer, form }: CsrfForm<PolicyForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    match policies::update_policy(&st.ctx, actor, &viewer.meta, id, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=edited")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(policy_page(&st, &viewer, id, None, errors, None, false, Some(form)).await?),
            )
                .into_response())
        }
    }
}

// ---- policy attachments ----

pub async fn add_attachment(
    State(st): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    mp: axum::extract::Multipart,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    let mp = crate::extract::MultipartForm::read(mp, "attachment", qifu_app::attachments::MAX_BYTES).await?;
    crate::extract::check_csrf(&v, &mp.csrf)?;
    let actor = staff(&v)?;
    match policies::add_attachment(&st.ctx, actor, &v.meta, id, &mp.file).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=attached")).into_response()),
        Err(e) => {
            let errors = errors_of(e)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(policy_page(&st, &v, id, None, errors, None, false, None).await?))
                .into_response())
        }
    }
}

pub async fn remove_attachment(
    State(st): State<AppState>,
    Path((id, fid)): Path<(String, String)>,
    CsrfForm { viewer, .. }: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    let id = parse_id(&id)?;
    match policies::remove_attachment(&st.ctx, actor, &viewer.meta, id, parse_id(&fid)?).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/policies/{id}?done=detached")).into_response()),
        Err(e) => Err(WebError::BadRequest(errors_of(e)?.join("；"))),
    }
}

/// A policy's attachment: public for published policies, for managers otherwise.
pub async fn attachment(
    State(st): State<AppState>,
    v: Viewer,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (f, bytes) = policies::attachment_file(&st.ctx, v.actor(), parse_id(&id)?, parse_id(&fid)?).await?;
    Ok(super::file_response(&f, bytes))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QualificationForm {
    name: String,
}

pub async fn add_qualification(
    State(st): State<AppState>,
    CsrfForm { viewer, form }: CsrfForm<QualificationForm>,
) -> Result<Response, WebError> {
    let actor = staff(&viewer)?;
    match policies::add_qualification_kind(&st.ctx, actor, &viewer.meta, &form.name).await {
        Ok(()) => Ok(Redirect::to("/admin/policies?done=qualification").into_response()),
        Err(e) => {
            let error = Some(errors_of(e)?.join("；"));
            let rows = policies::list_admin(&st.ctx, actor).await?;
            let quals = policies::qualification_kinds(&st.ctx.db).await?;
            let page = PoliciesAdminPage {
                admin: chrome(&st, &viewer, actor, "政策管理", "policies").await?,
                rows,
                notice: None,
                quals,
                error,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}
