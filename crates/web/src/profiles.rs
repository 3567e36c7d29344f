//! Enterprise records in the back office (一企一档): the list with its filters
//! and xlsx export, each enterprise's record with where every value came from,
//! corrections and tags.

use crate::AppState;
use crate::error::WebError;
use crate::guard::{Staff, perm};
use crate::kit::files::xlsx_headers;
use crate::kit::{AdminChrome, Pager, lenient_u64};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use qifu_app::actor::Actor;
use qifu_app::profiles::{EnterpriseFilter, ExportError};
use qifu_db::entity::enterprise;
use qifu_domain::profiles::SizeClass;
use serde::Deserialize;

/// The enterprise's own portrait, on the portal.
pub fn routes() -> Router<AppState> {
    Router::new().route("/account/portrait", get(own_portrait))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/enterprises", get(list_enterprises))
        .route("/admin/enterprises/tags", axum::routing::post(add_tag))
        .route("/admin/enterprises/{id}", get(show_enterprise).post(edit_enterprise))
        .route("/admin/enterprises/{id}/tags", axum::routing::post(save_tags))
        .route("/admin/enterprises/{id}/portrait", get(record_portrait))
        .route("/admin/demands/{id}/portrait", get(demand_portrait))
}

impl From<qifu_app::profiles::EditError> for WebError {
    fn from(e: qifu_app::profiles::EditError) -> Self {
        match e {
            qifu_app::profiles::EditError::Fields(f) => WebError::Invalid(f.into()),
            qifu_app::profiles::EditError::Access(a) => a.into(),
        }
    }
}

impl From<ExportError> for WebError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Access(a) => a.into(),
            e @ ExportError::Xlsx(_) => WebError::Internal(e.into()),
        }
    }
}

#[derive(Template)]
#[template(path = "profiles/admin_enterprises.html")]
pub struct EnterprisesPage {
    pub admin: AdminChrome,
    pub items: Vec<enterprise::Model>,
    pub pager: Pager,
    pub q: String,
    pub size: Option<SizeClass>,
    pub street: String,
    pub streets: &'static [qifu_domain::reference::division::Street],
    pub section: String,
    pub above: String,
    pub certified: String,
    pub tag: String,
    pub low: bool,
    pub tags: Vec<String>,
    /// Quality totals of the listed records, by id.
    pub scores: std::collections::HashMap<i64, f64>,
}

impl EnterprisesPage {
    pub fn score_of(&self, id: &i64) -> String {
        self.scores.get(id).map(|s| format!("{s:.0}")).unwrap_or_else(|| "—".to_owned())
    }
}

pub fn sections() -> Vec<(&'static str, &'static str)> {
    qifu_domain::reference::industry::sections().map(|s| (s.code, s.name)).collect()
}

pub fn size_label(s: &Option<SizeClass>) -> &'static str {
    s.map_or("—", |c| c.label())
}

pub fn street_name(code: &str) -> &'static str {
    qifu_domain::reference::division::street(code).map(|s| s.name).unwrap_or("—")
}

pub fn industry_name(code: &str) -> &'static str {
    qifu_domain::reference::industry::find(code).map(|i| i.name).unwrap_or("—")
}

#[derive(Debug, Deserialize)]
pub struct EnterpriseQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    page: u64,
    #[serde(default)]
    q: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    export: String,
    #[serde(default)]
    section: String,
    #[serde(default)]
    above: String,
    #[serde(default)]
    certified: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    low: String,
}

fn yes_no(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

pub async fn list_enterprises(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseView>,
    Query(q): Query<EnterpriseQuery>,
) -> Result<Response, WebError> {
    let term: String = q.q.trim().chars().take(100).collect();
    let size = SizeClass::parse(&q.size);
    let section = q.section.trim().chars().take(1).collect::<String>().to_uppercase();
    let filter = EnterpriseFilter {
        q: term.clone(),
        size_class: size,
        division_code: Some(q.street.clone()),
        section: (!section.is_empty()).then(|| section.clone()),
        above: yes_no(&q.above),
        certified: yes_no(&q.certified),
        tag: Some(q.tag.trim().chars().take(20).collect::<String>()).filter(|t| !t.is_empty()),
        low_quality: q.low == "1",
    };
    if q.export == "xlsx" {
        return export_enterprises(&st, &staff.actor, &staff.viewer.meta, &filter).await;
    }
    let page = qifu_app::profiles::list_enterprises(&st.ctx, &staff.actor, &filter, q.page, 20).await?;
    let base = format!(
        "/admin/enterprises?{}",
        serde_urlencoded::to_string([
            ("q", term.as_str()),
            ("size", size.map_or("", SizeClass::code)),
            ("street", q.street.as_str()),
            ("section", section.as_str()),
            ("above", q.above.as_str()),
            ("certified", q.certified.as_str()),
            ("tag", q.tag.as_str()),
            ("low", q.low.as_str()),
        ])
        .unwrap_or_default()
    );
    let pager = Pager::new(page.page, page.per_page, page.total, base);
    let scores = qifu_app::profiles::scores_of(&st.ctx, &page.items.iter().map(|e| e.id).collect::<Vec<_>>()).await?;
    let page = EnterprisesPage {
        admin: staff.chrome(&st, "企业管理", "enterprises").await?,
        items: page.items,
        pager,
        q: term,
        size,
        street: q.street,
        streets: qifu_domain::reference::division::tongzhou_streets(),
        section,
        above: q.above,
        certified: q.certified,
        tag: q.tag,
        low: q.low == "1",
        tags: qifu_app::profiles::tag_names(&st.ctx).await?,
        scores,
    };
    Ok(Html(page.render()?).into_response())
}

/// The enterprise list as xlsx, written to a temporary file in constant memory
/// and streamed from it (130,000 rows never sit in memory at once).
async fn export_enterprises(
    st: &AppState,
    actor: &Actor,
    meta: &qifu_app::Meta,
    filter: &EnterpriseFilter,
) -> Result<Response, WebError> {
    let tmp = tempfile::NamedTempFile::new().map_err(|e| WebError::Internal(e.into()))?;
    // Writing 130,000 rows and zipping them is seconds of CPU: it runs on a
    // blocking thread (driving its database reads from there), not on the
    // workers that serve everyone else's pages.
    let (ctx, who, f, path) = (st.ctx.clone(), actor.clone(), filter.clone(), tmp.path().to_owned());
    let handle = tokio::runtime::Handle::current();
    let written =
        tokio::task::spawn_blocking(move || handle.block_on(qifu_app::profiles::export_enterprises(&ctx, &who, &f, &path)))
            .await
            .map_err(|e| WebError::Internal(anyhow::anyhow!("导出任务异常结束：{e}")))??;
    // Exports of personal data are audited (who, which filter, how many rows).
    let rows = usize::try_from(written).unwrap_or(usize::MAX);
    qifu_app::audit::record_export(
        &st.ctx,
        actor,
        meta,
        "enterprises",
        serde_json::json!({"filter": format!("{filter:?}")}),
        rows,
    )
    .await?;
    // Unlinked now; the open handle keeps the data readable until the stream ends.
    let file = tokio::fs::File::from_std(tmp.reopen().map_err(|e| WebError::Internal(e.into()))?);
    drop(tmp);
    let mut r = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    xlsx_headers(&mut r, "enterprises");
    Ok(r)
}

#[derive(Template)]
#[template(path = "profiles/admin_enterprise.html")]
pub struct EnterprisePage {
    pub admin: AdminChrome,
    pub d: qifu_app::profiles::Dossier,
    pub all_tags: Vec<String>,
    pub can_manage: bool,
    pub errors: crate::kit::FieldErrors,
    pub notice: Option<String>,
    pub streets: &'static [qifu_domain::reference::division::Street],
}

impl EnterprisePage {
    pub fn who(&self, id: &Option<i64>) -> String {
        match id {
            Some(i) => self.d.people.get(i).cloned().unwrap_or_else(|| format!("用户 {i}")),
            None => "系统".to_owned(),
        }
    }

    /// A field the platform derives by rule when no source gave it (规上 from revenue).
    pub fn derived(f: &qifu_domain::governance::EnterpriseField) -> bool {
        *f == qifu_domain::governance::EnterpriseField::AboveDesignatedSize
    }

    /// A field's value as shown: codes with their names.
    pub fn shown(f: &qifu_domain::governance::EnterpriseField, v: &Option<String>) -> String {
        use qifu_domain::governance::EnterpriseField as F;
        match (f, v) {
            (_, None) => "—".to_owned(),
            (F::Industry, Some(c)) => {
                qifu_domain::reference::industry::path_name(c).map(|n| format!("{c} {n}")).unwrap_or_else(|| c.clone())
            }
            (F::Division, Some(c)) => format!("{} {c}", street_name(c)),
            (_, Some(v)) => v.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
}

async fn enterprise_page<P: crate::guard::Needs>(
    st: &AppState,
    staff: &Staff<P>,
    id: i64,
    errors: crate::kit::FieldErrors,
    notice: Option<String>,
) -> Result<EnterprisePage, WebError> {
    let d = qifu_app::profiles::dossier(&st.ctx, &staff.actor, id).await?;
    Ok(EnterprisePage {
        admin: staff.chrome(st, &d.enterprise.name.clone(), "enterprises").await?,
        d,
        all_tags: qifu_app::profiles::tag_names(&st.ctx).await?,
        can_manage: staff.actor.can(qifu_domain::accounts::Permission::EnterpriseManage),
        errors,
        notice,
        streets: qifu_domain::reference::division::tongzhou_streets(),
    })
}

pub async fn show_enterprise(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseView>,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let notice = crate::kit::notice(
        &q.done,
        &[("saved", "已保存；与更可信来源不一致的修改已转入“数据核对”等待确认。"), ("tags", "标签已保存。")],
    );
    crate::kit::render(&enterprise_page(&st, &staff, crate::kit::parse_id(&id)?, Default::default(), notice).await?)
}

pub async fn edit_enterprise(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseManage>,
    axum::extract::Path(id): axum::extract::Path<String>,
    crate::extract::CsrfForm { form, .. }: crate::extract::CsrfForm<qifu_app::profiles::RecordEdit>,
) -> Result<Response, WebError> {
    let id = crate::kit::parse_id(&id)?;
    match qifu_app::profiles::edit_record(&st.ctx, &staff.actor, &staff.viewer.meta, id, &form).await {
        Ok(_) => Ok(axum::response::Redirect::to(&format!("/admin/enterprises/{id}?done=saved")).into_response()),
        Err(e) => {
            let errors = crate::kit::form::errors(e)?;
            crate::kit::form::invalid(&enterprise_page(&st, &staff, id, errors, None).await?)
        }
    }
}

pub async fn save_tags(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseManage>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> Result<Response, WebError> {
    let id = crate::kit::parse_id(&id)?;
    // Repeated `tag` fields: read as pairs (a form struct would take only one).
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&raw).map_err(|_| WebError::BadRequest("表单内容格式不正确".into()))?;
    let token = pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    crate::extract::check_csrf(&staff.viewer, token)?;
    let tags: Vec<String> = pairs.into_iter().filter(|(k, _)| k == "tag").map(|(_, v)| v).take(50).collect();
    qifu_app::profiles::set_tags(&st.ctx, &staff.actor, &staff.viewer.meta, id, &tags).await?;
    Ok(axum::response::Redirect::to(&format!("/admin/enterprises/{id}?done=tags")).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewTag {
    name: String,
    back: String,
}

pub async fn add_tag(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseManage>,
    crate::extract::CsrfForm { form, .. }: crate::extract::CsrfForm<NewTag>,
) -> Result<Response, WebError> {
    qifu_app::profiles::add_tag(&st.ctx, &staff.actor, &staff.viewer.meta, &form.name).await?;
    let back = crate::error::safe_next(Some(&form.back))
        .filter(|b| b.starts_with("/admin/enterprises"))
        .unwrap_or_else(|| "/admin/enterprises".to_owned());
    Ok(axum::response::Redirect::to(&back).into_response())
}

/// A record's quality issues (JSON kept with its score) as one line.
pub fn issues_text(json: &str) -> String {
    let issues: Vec<qifu_app::governance::quality::Issue> = serde_json::from_str(json).unwrap_or_default();
    issues.iter().map(|i| format!("{}{}（{}）", i.field.label(), i.message, i.dimension.label())).collect::<Vec<_>>().join("；")
}

// ---- The enterprise portrait (企业画像) ----

impl From<qifu_app::portrait::PortraitError> for WebError {
    fn from(e: qifu_app::portrait::PortraitError) -> Self {
        use qifu_app::portrait::PortraitError as E;
        match e {
            E::Access(a) => a.into(),
            e @ E::NotAuthorised => WebError::ForbiddenBecause(e.to_string()),
            e @ E::NoRecord => WebError::Conflict(e.to_string()),
        }
    }
}

/// What the portrait pages show, for either layout.
pub struct Portrait {
    pub v: qifu_app::portrait::PortraitView,
    /// The radar chart, drawn on the server (its labels escaped).
    pub radar: String,
    /// Where “back” goes.
    pub back: (String, &'static str),
}

impl Portrait {
    fn new(v: qifu_app::portrait::PortraitView, back: (String, &'static str)) -> Self {
        let items: Vec<(&str, u8)> = v.scores.iter().map(|s| (s.axis.label(), s.value)).collect();
        let radar = crate::kit::radar::radar_svg(&items);
        Portrait { v, radar, back }
    }

    pub fn wan(fen: &Option<i64>) -> String {
        fen.map(|f| format!("{:.2} 万元", f as f64 / 1_000_000.0)).unwrap_or_else(|| "—".to_owned())
    }

    pub fn rd(bp: &Option<i32>) -> String {
        bp.map(|b| format!("{:.2}%", f64::from(b) / 100.0)).unwrap_or_else(|| "—".to_owned())
    }

    pub fn dim(v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.0}")).unwrap_or_else(|| "—".to_owned())
    }
}

#[derive(Template)]
#[template(path = "profiles/portrait_portal.html")]
pub struct OwnPortraitPage {
    pub chrome: crate::kit::PageChrome,
    pub p: Portrait,
}

#[derive(Template)]
#[template(path = "profiles/portrait_admin.html")]
pub struct AdminPortraitPage {
    pub admin: AdminChrome,
    pub p: Portrait,
}

/// The enterprise's own portrait.
pub async fn own_portrait(State(st): State<AppState>, me: crate::guard::EnterpriseUser) -> Result<Html<String>, WebError> {
    use qifu_app::portrait::{PortraitError, Whom, view};
    match view(&st.ctx, &me.actor, &me.viewer.meta, Whom::Own).await {
        Ok(v) => crate::kit::render(&OwnPortraitPage {
            chrome: crate::kit::PageChrome::new(&st, &me.viewer, "企业画像", ""),
            p: Portrait::new(v, ("/account".to_owned(), "我的账号")),
        }),
        Err(PortraitError::NoRecord) => Err(WebError::Conflict("企业尚未完成实名认证，认证通过后即生成企业画像".to_owned())),
        Err(e) => Err(e.into()),
    }
}

/// An enterprise's portrait for staff who may view enterprises.
pub async fn record_portrait(
    State(st): State<AppState>,
    staff: Staff<perm::EnterpriseView>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Html<String>, WebError> {
    let id = crate::kit::parse_id(&id)?;
    let v = qifu_app::portrait::view(&st.ctx, &staff.actor, &staff.viewer.meta, qifu_app::portrait::Whom::Record(id)).await?;
    crate::kit::render(&AdminPortraitPage {
        admin: staff.chrome(&st, &format!("企业画像：{}", v.enterprise.name), "enterprises").await?,
        p: Portrait::new(v, (format!("/admin/enterprises/{id}"), "企业档案")),
    })
}

/// The portrait of the enterprise behind a demand: for the demand's
/// institution while the enterprise's data-use authorisation is in force, and
/// for the operator.
pub async fn demand_portrait(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Html<String>, WebError> {
    let id = crate::kit::parse_id(&id)?;
    let v = qifu_app::portrait::view(&st.ctx, &staff.actor, &staff.viewer.meta, qifu_app::portrait::Whom::Demand(id)).await?;
    crate::kit::render(&AdminPortraitPage {
        admin: staff.chrome(&st, &format!("企业画像：{}", v.enterprise.name), "demands").await?,
        p: Portrait::new(v, (format!("/admin/demands/{id}"), "需求详情")),
    })
}
