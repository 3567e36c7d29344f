//! Enterprise profiles (企业画像): the one profile every eligibility check
//! reads, and the back-office listing of the enterprise base.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::context::Ctx;
use chrono::{Datelike, NaiveDate};
use qifu_db::entity::enterprise;
use qifu_domain::accounts::Permission;
use qifu_domain::profiles::Profile;
use qifu_domain::profiles::SizeClass;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// Full years between two dates.
fn years_between(from: NaiveDate, to: NaiveDate) -> f64 {
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    f64::from(y.max(0))
}

/// The one enterprise profile (企业画像) every eligibility check reads —
/// policy matching, product eligibility and recommendations — built from the
/// enterprise's record; `certified` is whether its organisation is certified,
/// where the caller knows.
pub fn profile_of(e: &enterprise::Model, certified: Option<bool>, today: NaiveDate) -> Profile {
    let wan = |fen: Option<i64>| fen.map(|f| f as f64 / qifu_domain::money::FEN_PER_WAN as f64);
    Profile {
        division: Some(e.division_code.clone()),
        industry: Some(e.industry_code.clone()),
        // The eligibility engine reads the size class as its code.
        size_class: e.size_class.map(|s| s.code().to_owned()),
        above_designated_size: Some(e.above_designated_size),
        years_since_founding: Some(years_between(e.founded_on, today)),
        employees: e.employees.map(f64::from),
        revenue: wan(e.revenue_fen),
        total_assets: wan(e.total_assets_fen),
        rd_ratio: e.rd_ratio_bp.map(|b| f64::from(b) / 100.0),
        qualifications: e.qualifications.as_ref().map(|q| qifu_domain::text::split_list(q)),
        credit_standing: e.credit_standing.clone(),
        certified,
        custom: e.custom_attrs.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Part of the name, or a credit-code prefix.
    pub q: String,
    pub size_class: Option<SizeClass>,
    pub division_code: Option<String>,
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// The filter in the database (no ranked search): name part, credit-code
/// prefix or legal representative; size class; division.
fn db_condition(filter: &EnterpriseFilter) -> Condition {
    let mut c = Condition::all();
    let term = filter.q.trim();
    if !term.is_empty() {
        c = c.add(
            Condition::any()
                .add(enterprise::Column::Name.contains(term))
                .add(enterprise::Column::CreditCode.starts_with(term.to_ascii_uppercase()))
                .add(enterprise::Column::LegalRepName.eq(term)),
        );
    }
    if let Some(s) = filter.size_class {
        c = c.add(enterprise::Column::SizeClass.eq(s));
    }
    if let Some(d) = filter.division_code.as_deref().filter(|s| !s.is_empty()) {
        c = c.add(enterprise::Column::DivisionCode.eq(d));
    }
    c
}

/// Lists enterprises for operator and government staff.
pub async fn list_enterprises(
    ctx: &Ctx,
    actor: &Actor,
    filter: &EnterpriseFilter,
    page: u64,
    per_page: u64,
) -> Result<Page<enterprise::Model>, AccessError> {
    let grant = crate::actor::require(actor, Permission::EnterpriseView)?;
    let per_page = per_page.clamp(10, 100);
    let page = page.max(1);
    let mut q = enterprise::Entity::find().order_by_asc(enterprise::Column::Id);
    let term = filter.q.trim();
    // With the search index: name, credit code, legal representative, industry and
    // street, best match first; the size and street filters narrow it further.
    let ranked = if term.is_empty() {
        None
    } else {
        match crate::search::enterprise_ids(ctx, &grant, term, 2000).await {
            Ok(ids) => Some(ids),
            Err(crate::search::SearchFailure::NotReady) => None,
            Err(e) => {
                tracing::warn!(error = %e, "enterprise search failed; using the database");
                None
            }
        }
    };
    if let Some(ids) = ranked {
        let mut q = enterprise::Entity::find().filter(enterprise::Column::Id.is_in(ids.clone()));
        if let Some(s) = filter.size_class {
            q = q.filter(enterprise::Column::SizeClass.eq(s));
        }
        if let Some(d) = filter.division_code.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(enterprise::Column::DivisionCode.eq(d));
        }
        let mut rows = q.all(&ctx.db).await?;
        rows.sort_by_key(|e| ids.iter().position(|id| *id == e.id).unwrap_or(usize::MAX));
        let total = rows.len() as u64;
        let items = rows.into_iter().skip(usize::try_from((page - 1) * per_page).unwrap_or(0)).take(per_page as usize).collect();
        return Ok(Page { items, total, page, per_page });
    }
    q = q.filter(db_condition(filter));
    let total = q.clone().count(&ctx.db).await?;
    let items = q.offset((page - 1) * per_page).limit(per_page).all(&ctx.db).await?;
    Ok(Page { items, total, page, per_page })
}

/// Writes the enterprises matching `filter` (the database filters; no ranked
/// search) to an xlsx file at `path`, streaming: rows are read 2,000 at a time
/// by id and written in constant-memory mode, so memory does not grow with the
/// number of rows. Returns the number of rows written.
pub async fn export_enterprises(
    ctx: &Ctx,
    actor: &Actor,
    filter: &EnterpriseFilter,
    path: &std::path::Path,
) -> Result<u64, ExportError> {
    use rust_xlsxwriter::{Format, Workbook};
    crate::actor::require(actor, Permission::EnterpriseView)?;
    let mut wb = Workbook::new();
    let mut ws = wb.new_worksheet_with_constant_memory()?;
    ws.set_name("企业名录")?;
    let bold = Format::new().set_bold();
    let headers = [
        "统一社会信用代码",
        "企业名称",
        "法定代表人",
        "行业代码",
        "区划代码",
        "成立日期",
        "规模",
        "规上",
        "已认证",
        "从业人员",
        "营业收入(万元)",
    ];
    for (c, h) in headers.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(0);
        ws.write_string_with_format(0, c, *h, &bold)?;
        ws.set_column_width(c, if c == 1 { 36 } else { 16 })?;
    }
    let mut last = 0_i64;
    let mut row = 1_u32;
    loop {
        let batch = enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(last))
            .filter(db_condition(filter))
            .order_by_asc(enterprise::Column::Id)
            .limit(2000)
            .all(&ctx.db)
            .await?;
        let Some(tail) = batch.last() else { break };
        last = tail.id;
        for e in &batch {
            let size = e.size_class.map_or("", |s| s.label());
            ws.write_string(row, 0, &e.credit_code)?;
            ws.write_string(row, 1, &e.name)?;
            ws.write_string(row, 2, &e.legal_rep_name)?;
            ws.write_string(row, 3, &e.industry_code)?;
            ws.write_string(row, 4, &e.division_code)?;
            ws.write_string(row, 5, e.founded_on.to_string())?;
            ws.write_string(row, 6, size)?;
            ws.write_string(row, 7, if e.above_designated_size { "是" } else { "否" })?;
            ws.write_string(row, 8, if e.certified { "是" } else { "否" })?;
            if let Some(n) = e.employees {
                ws.write_number(row, 9, f64::from(n))?;
            }
            if let Some(f) = e.revenue_fen {
                ws.write_number(row, 10, f as f64 / 1_000_000.0)?;
            }
            row += 1;
        }
        if batch.len() < 2000 {
            break;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.push_worksheet(ws);
    wb.save(path)?;
    Ok(u64::from(row - 1))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("导出失败：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl From<sea_orm::DbErr> for ExportError {
    fn from(e: sea_orm::DbErr) -> Self {
        ExportError::Access(AccessError::Db(e))
    }
}
