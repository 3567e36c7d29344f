//! Data governance in the back office (数据治理): imports with their staged
//! rows and error files, the review queue of disagreeing sources and the
//! survivorship rules, the quality report and rules, and the data catalogue.

use crate::AppState;
use crate::error::WebError;
use crate::extract::{CsrfForm, MultipartForm};
use crate::guard::{Staff, perm};
use crate::kit::{self, AdminChrome, Empty, Pager, parse_id};
use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use qifu_app::governance::{import, quality, reviews};
use qifu_db::entity::{import_batch, import_row, quality_rule};
use qifu_domain::governance::{BatchState, EnterpriseField, FieldSource, ReviewState, Survivorship};
use serde::Deserialize;

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/imports", get(list_imports).post(upload))
        .route("/admin/imports/registry-sync", post(sync_registry))
        .route("/admin/imports/{id}", get(show_import))
        .route("/admin/imports/{id}/errors.csv", get(error_file))
        .route("/admin/imports/{id}/commit", post(commit))
        .route("/admin/imports/{id}/discard", post(discard))
        .route("/admin/data-reviews", get(list_reviews))
        .route("/admin/data-reviews/rules", post(save_rule))
        .route("/admin/data-reviews/{id}/{action}", post(decide))
        .route("/admin/quality", get(show_quality))
        .route("/admin/quality/rescore", post(rescore))
        .route("/admin/quality/rules/{id}", post(save_quality_rule))
        .route("/admin/data-catalog", get(show_catalog))
}

impl From<import::ImportError> for WebError {
    fn from(e: import::ImportError) -> Self {
        match e {
            import::ImportError::File(m) => WebError::invalid(m),
            import::ImportError::State(m) => WebError::Conflict(m.to_owned()),
            import::ImportError::Access(a) => a.into(),
        }
    }
}

impl From<reviews::ReviewError> for WebError {
    fn from(e: reviews::ReviewError) -> Self {
        match e {
            reviews::ReviewError::State(m) => WebError::Conflict(m.to_owned()),
            reviews::ReviewError::Access(a) => a.into(),
        }
    }
}

type Manager = Staff<perm::EnterpriseManage>;
type Viewer = Staff<perm::EnterpriseView>;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: String,
    #[serde(deserialize_with = "kit::lenient_u64")]
    page: u64,
}

// ------------------------------------------------------------------ imports

#[derive(Template)]
#[template(path = "governance/admin_imports.html")]
pub struct ImportsPage {
    pub admin: AdminChrome,
    pub batches: Vec<import_batch::Model>,
    pub pager: Pager,
    pub error: Option<String>,
    pub source: String,
    pub fields: &'static [EnterpriseField],
    pub notice: Option<String>,
    /// 本地登记信息库 or 外部登记信息接口.
    pub registry_name: &'static str,
    pub checkpoint: Option<chrono::NaiveDate>,
}

async fn imports_page(
    st: &AppState,
    staff: &Manager,
    page: u64,
    error: Option<String>,
    source: String,
) -> Result<ImportsPage, WebError> {
    let (batches, total) = import::batches(&st.ctx, &staff.actor, page).await?;
    Ok(ImportsPage {
        admin: staff.chrome(st, "数据导入", "imports").await?,
        batches,
        pager: Pager::new(page.max(1), 20, total, "/admin/imports".to_owned()),
        error,
        source,
        fields: &EnterpriseField::ALL,
        notice: None,
        registry_name: if st.ctx.registry.name() == "http" { "外部登记信息接口" } else { "本地登记信息库" },
        checkpoint: import::sync_checkpoint(&st.ctx.db).await?,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportsQuery {
    #[serde(deserialize_with = "crate::kit::lenient_u64")]
    page: u64,
    done: String,
}

pub async fn list_imports(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<ImportsQuery>,
) -> Result<Html<String>, WebError> {
    let mut page = imports_page(&st, &staff, q.page, None, String::new()).await?;
    page.notice = kit::notice(&q.done, &[("sync", "已开始同步登记信息，完成后批次显示在下方（刷新查看）。")]);
    kit::render(&page)
}

/// Starts the registry sync (a job).
pub async fn sync_registry(State(st): State<AppState>, staff: Manager, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    import::request_sync(&st.ctx, &staff.actor, &staff.viewer.meta).await?;
    Ok(Redirect::to("/admin/imports?done=sync").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UploadFields {
    source: String,
}

pub async fn upload(State(st): State<AppState>, staff: Manager, mp: Multipart) -> Result<Response, WebError> {
    let form = MultipartForm::read_for(&staff.viewer, mp, "file", import::MAX_BYTES).await?;
    let fields: UploadFields = form.form()?;
    match import::upload(&st.ctx, &staff.actor, &staff.viewer.meta, &fields.source, &form.file.file_name, &form.file.bytes).await
    {
        Ok((id, _)) => Ok(Redirect::to(&format!("/admin/imports/{id}")).into_response()),
        Err(e) => {
            let message = WebError::from(e).into_message()?;
            kit::form::invalid(&imports_page(&st, &staff, 1, Some(message), fields.source).await?)
        }
    }
}

#[derive(Template)]
#[template(path = "governance/admin_import.html")]
pub struct ImportPage {
    pub admin: AdminChrome,
    pub b: import_batch::Model,
    pub rows: Vec<import_row::Model>,
    pub notice: Option<String>,
}

impl ImportPage {
    pub fn row_errors(r: &import_row::Model) -> Vec<import::StoredError> {
        r.errors.as_deref().and_then(|e| serde_json::from_str(e).ok()).unwrap_or_default()
    }

    pub fn outcome_label(r: &import_row::Model) -> &'static str {
        match r.outcome.as_str() {
            import::DUPLICATE => "重复",
            import::REJECTED => "拒绝",
            _ => "接受",
        }
    }

    pub fn staged(&self) -> bool {
        self.b.status == BatchState::Staged
    }

    /// The commit job is writing the batch.
    pub fn committing(&self) -> bool {
        self.b.status == BatchState::Committing
    }
}

pub async fn show_import(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let (b, rows) = import::batch(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    let notice = kit::notice(
        &q.done,
        &[
            ("commit", "已开始写入企业档案（后台任务）：完成后本页显示新建和更新的数量。"),
            ("discard", "已放弃该批次，企业档案没有变化。"),
        ],
    );
    kit::render(&ImportPage { admin: staff.chrome(&st, &format!("导入批次 {}", b.id), "imports").await?, b, rows, notice })
}

pub async fn error_file(State(st): State<AppState>, staff: Manager, Path(id): Path<String>) -> Result<Response, WebError> {
    let (b, bytes) = import::batch_errors(&st.ctx, &staff.actor, parse_id(&id)?).await?;
    let mut r = bytes.into_response();
    use axum::http::{HeaderValue, header};
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"import-{}-errors.csv\"", b.id)) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

pub async fn commit(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    import::request_commit(&st.ctx, &staff.actor, &staff.viewer.meta, id).await?;
    Ok(Redirect::to(&format!("/admin/imports/{id}?done=commit")).into_response())
}

pub async fn discard(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let id = parse_id(&id)?;
    import::discard(&st.ctx, &staff.actor, &staff.viewer.meta, id).await?;
    Ok(Redirect::to(&format!("/admin/imports/{id}?done=discard")).into_response())
}

// ------------------------------------------------------------------ reviews

#[derive(Template)]
#[template(path = "governance/admin_reviews.html")]
pub struct ReviewsPage {
    pub admin: AdminChrome,
    pub rows: Vec<reviews::ReviewRow>,
    pub pager: Pager,
    pub notice: Option<String>,
    pub rules: Vec<(EnterpriseField, Survivorship)>,
    pub trust: Vec<FieldSource>,
}

impl ReviewsPage {
    pub fn same(a: &Survivorship, b: &Survivorship) -> bool {
        a == b
    }
}

pub async fn list_reviews(
    State(st): State<AppState>,
    staff: Manager,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let (rows, total) = reviews::list(&st.ctx, &staff.actor, Some(ReviewState::Open), q.page).await?;
    let policies = qifu_app::governance::records::policies(&st.ctx.db).await?;
    let rules = EnterpriseField::ALL
        .iter()
        .filter(|f| **f != EnterpriseField::CreditCode)
        .map(|f| (*f, policies.get(f).copied().unwrap_or(Survivorship::MostTrusted)))
        .collect();
    let notice = kit::notice(
        &q.done,
        &[
            ("accepted", "已采纳新值，企业档案和来源已更新。"),
            ("kept", "已保留原值。"),
            ("rule", "规则已保存，今后的写入按新规则处理。"),
        ],
    );
    kit::render(&ReviewsPage {
        admin: staff.chrome(&st, "数据核对", "data_reviews").await?,
        rows,
        pager: Pager::new(q.page.max(1), 30, total, "/admin/data-reviews".to_owned()),
        notice,
        rules,
        trust: reviews::trust_order(),
    })
}

pub async fn decide(
    State(st): State<AppState>,
    staff: Manager,
    Path((id, action)): Path<(String, String)>,
    _: CsrfForm<Empty>,
) -> Result<Response, WebError> {
    let accept = match action.as_str() {
        "accept" => true,
        "keep" => false,
        _ => return Err(WebError::NotFound),
    };
    reviews::decide(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?, accept).await?;
    Ok(Redirect::to(if accept { "/admin/data-reviews?done=accepted" } else { "/admin/data-reviews?done=kept" }).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RuleForm {
    field: String,
    rule: String,
}

pub async fn save_rule(
    State(st): State<AppState>,
    staff: Manager,
    CsrfForm { form, .. }: CsrfForm<RuleForm>,
) -> Result<Response, WebError> {
    let field = EnterpriseField::parse(&form.field).ok_or_else(|| WebError::BadRequest("字段不存在".into()))?;
    let rule = Survivorship::parse(&form.rule).ok_or_else(|| WebError::BadRequest("请选择规则".into()))?;
    reviews::set_rule(&st.ctx, &staff.actor, &staff.viewer.meta, field, rule).await?;
    Ok(Redirect::to("/admin/data-reviews?done=rule").into_response())
}

// ------------------------------------------------------------------ quality

#[derive(Template)]
#[template(path = "governance/admin_quality.html")]
pub struct QualityPage {
    pub admin: AdminChrome,
    pub report: quality::Report,
    pub rules: Vec<quality_rule::Model>,
    pub can_manage: bool,
    pub notice: Option<String>,
}

impl QualityPage {
    /// One bar of the dimension chart (SVG, server-rendered).
    pub fn bar_width(score: &f64) -> String {
        format!("{:.1}", score.clamp(0.0, 100.0) * 3.0)
    }

    pub fn trend_points(&self) -> String {
        let n = self.report.trend.len().max(1);
        self.report
            .trend
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let x = if n == 1 { 150.0 } else { 10.0 + 280.0 * i as f64 / (n - 1) as f64 };
                format!("{x:.1},{:.1}", 110.0 - s.total.clamp(0.0, 100.0))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub async fn show_quality(
    State(st): State<AppState>,
    staff: Viewer,
    Query(q): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let report = quality::report(&st.ctx, &staff.actor).await?;
    let rules = quality::all_rules(&st.ctx, &staff.actor).await?;
    let notice = kit::notice(
        &q.done,
        &[("rescore", "已开始重新计算（后台任务），稍后刷新本页。"), ("rule", "规则已保存；重新计算后生效。")],
    );
    kit::render(&QualityPage {
        admin: staff.chrome(&st, "数据质量", "quality").await?,
        report,
        rules,
        can_manage: staff.actor.can(qifu_domain::accounts::Permission::EnterpriseManage),
        notice,
    })
}

pub async fn rescore(State(st): State<AppState>, staff: Manager, _: CsrfForm<Empty>) -> Result<Response, WebError> {
    quality::rescore(&st.ctx, &staff.actor, &staff.viewer.meta).await?;
    Ok(Redirect::to("/admin/quality?done=rescore").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QualityRuleForm {
    weight: String,
    enabled: String,
}

pub async fn save_quality_rule(
    State(st): State<AppState>,
    staff: Manager,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<QualityRuleForm>,
) -> Result<Response, WebError> {
    let weight: i32 = form
        .weight
        .trim()
        .parse()
        .ok()
        .filter(|w| (0..=10).contains(w))
        .ok_or_else(|| WebError::invalid("权重应为0到10的整数"))?;
    quality::set_rule(&st.ctx, &staff.actor, &staff.viewer.meta, parse_id(&id)?, weight, form.enabled == "1").await?;
    Ok(Redirect::to("/admin/quality?done=rule").into_response())
}

// ------------------------------------------------------------------ catalogue

/// One field of the enterprise dataset as the catalogue describes it.
pub struct CatalogField {
    pub field: EnterpriseField,
    pub meaning: &'static str,
    pub kind: &'static str,
    pub sources: &'static str,
    pub cycle: &'static str,
    pub sensitivity: &'static str,
}

#[derive(Template)]
#[template(path = "governance/admin_catalog.html")]
pub struct CatalogPage {
    pub admin: AdminChrome,
    pub fields: Vec<CatalogField>,
    pub rules: Vec<(EnterpriseField, Survivorship)>,
}

pub fn catalog() -> Vec<CatalogField> {
    use EnterpriseField as F;
    let c =
        |field, meaning, kind, sources, cycle, sensitivity| CatalogField { field, meaning, kind, sources, cycle, sensitivity };
    vec![
        c(
            F::CreditCode,
            "统一社会信用代码（GB 32100-2015），企业档案的主键",
            "18位代码，含校验位",
            "登记信息、导入",
            "不变",
            "公开",
        ),
        c(F::Name, "登记的企业名称", "文本，4–100字", "登记信息、认证审核、导入", "变更登记时", "公开"),
        c(F::LegalRep, "法定代表人姓名", "文本", "登记信息、认证审核、导入", "变更登记时", "公开"),
        c(F::EntityType, "企业类型（有限责任公司……）", "文本", "登记信息、导入", "变更登记时", "公开"),
        c(F::FoundedOn, "成立日期", "日期", "登记信息、认证审核、导入", "不变", "公开"),
        c(F::RegisteredCapital, "注册资本", "金额（分），以万元显示", "登记信息、导入", "变更登记时", "公开"),
        c(F::Address, "住所", "文本", "登记信息、导入", "变更登记时", "公开"),
        c(
            F::Division,
            "所属街道乡镇（国家统计局区划代码）",
            "9位代码",
            "登记信息、认证审核、导入（或由住所推出）",
            "变更登记时",
            "公开",
        ),
        c(F::Industry, "国民经济行业（GB/T 4754-2017 小类）", "4位代码", "登记信息、认证审核、导入", "按年", "公开"),
        c(F::RegistryStatus, "登记状态（存续、在业、吊销、注销）", "文本", "登记信息、导入", "实时", "公开"),
        c(F::Employees, "从业人员", "整数（人）", "统计名录、企业填报、导入", "按年", "内部"),
        c(F::Revenue, "营业收入", "金额（分），以万元显示", "统计名录、企业填报、导入", "按年", "内部，对外须企业授权"),
        c(F::TotalAssets, "资产总额", "金额（分），以万元显示", "统计名录、企业填报、导入", "按年", "内部，对外须企业授权"),
        c(F::AboveDesignatedSize, "规模以上（四上）企业", "是/否", "统计局名录、导入", "按年", "公开"),
        c(F::Phone, "联系电话（加密存储，仅显示掩码）", "手机号码", "企业填报", "随时", "个人信息，SM4 加密"),
    ]
}

pub async fn show_catalog(State(st): State<AppState>, staff: Viewer) -> Result<Html<String>, WebError> {
    let policies = qifu_app::governance::records::policies(&st.ctx.db).await?;
    let rules =
        EnterpriseField::ALL.iter().map(|f| (*f, policies.get(f).copied().unwrap_or(Survivorship::MostTrusted))).collect();
    kit::render(&CatalogPage { admin: staff.chrome(&st, "数据目录", "data_catalog").await?, fields: catalog(), rules })
}
