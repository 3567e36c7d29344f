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

/// The record's figures as the 300号 size rules read them.
pub fn indicators(e: &enterprise::Model) -> qifu_domain::profiles::Indicators {
    qifu_domain::profiles::Indicators {
        employees: e.employees.map(i64::from),
        revenue: e.revenue_fen.map(qifu_domain::money::Money::from_fen),
        total_assets: e.total_assets_fen.map(qifu_domain::money::Money::from_fen),
    }
}

/// Why the record has its size class (which figures, which rule).
pub fn size_reason(e: &enterprise::Model) -> String {
    qifu_domain::profiles::explain(qifu_domain::profiles::SizeGroup::of_industry(&e.industry_code), &indicators(e))
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Part of the name, or a credit-code prefix.
    pub q: String,
    pub size_class: Option<SizeClass>,
    pub division_code: Option<String>,
    /// A GB/T 4754 section letter (门类).
    pub section: Option<String>,
    /// 规上 (true) or 规下 (false).
    pub above: Option<bool>,
    pub certified: Option<bool>,
    pub tag: Option<String>,
    /// Only records whose quality score is under 60.
    pub low_quality: bool,
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
    extra_condition(c, filter)
}

/// The filters beyond text, size and street (shared by the list, the ranked search and the export).
fn extra_condition(mut c: Condition, filter: &EnterpriseFilter) -> Condition {
    use qifu_db::entity::quality_score;
    use sea_orm::sea_query::Query;
    if let Some(letter) = filter.section.as_deref().filter(|s| s.len() == 1) {
        let prefixes: Vec<&str> = qifu_domain::reference::industry::divisions_of(letter);
        let mut any = Condition::any();
        for p in &prefixes {
            any = any.add(enterprise::Column::IndustryCode.starts_with(*p));
        }
        c = c.add(if prefixes.is_empty() { Condition::all().add(enterprise::Column::Id.eq(-1)) } else { any });
    }
    if let Some(a) = filter.above {
        c = c.add(enterprise::Column::AboveDesignatedSize.eq(a));
    }
    if let Some(v) = filter.certified {
        c = c.add(enterprise::Column::Certified.eq(v));
    }
    if let Some(t) = filter.tag.as_deref().filter(|t| !t.is_empty()) {
        c = c.add(enterprise::Column::Tags.contains(t));
    }
    if filter.low_quality {
        c = c.add(
            enterprise::Column::Id.in_subquery(
                Query::select()
                    .column(quality_score::Column::EnterpriseId)
                    .from(quality_score::Entity)
                    .and_where(quality_score::Column::Total.lt(60.0))
                    .to_owned(),
            ),
        );
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
        q = q.filter(extra_condition(Condition::all(), filter));
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

/// Everything the platform knows of one enterprise (一企一档), for staff.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub enterprise: enterprise::Model,
    /// Each governed field: its value, and where it came from (latest).
    pub fields:
        Vec<(qifu_domain::governance::EnterpriseField, Option<String>, Option<qifu_db::entity::enterprise_field_source::Model>)>,
    /// Every write, newest first (at most 200).
    pub history: Vec<qifu_db::entity::enterprise_field_source::Model>,
    pub size_reason: String,
    pub above_reason: Option<(bool, String)>,
    pub it_services: bool,
    pub tags: Vec<String>,
    pub users: Vec<qifu_db::entity::user::Model>,
    pub certifications: Vec<qifu_db::entity::certification::Model>,
    pub authorizations: Vec<qifu_db::entity::authorization::Model>,
    pub demands: Vec<qifu_db::entity::demand::Model>,
    /// Eligible and near results with the policy's title.
    pub matches: Vec<(qifu_db::entity::policy_match::Model, String)>,
    pub pushes: Vec<(qifu_db::entity::policy_push::Model, String)>,
    pub quality: Option<qifu_db::entity::quality_score::Model>,
    pub reviews: Vec<qifu_db::entity::merge_review::Model>,
    /// Names of users in the provenance, by id.
    pub people: std::collections::HashMap<i64, String>,
}

pub async fn dossier(ctx: &Ctx, actor: &Actor, id: i64) -> Result<Dossier, AccessError> {
    use qifu_db::entity::{
        authorization, certification, demand, enterprise_field_source, policy, policy_match, policy_push, quality_score, user,
    };
    use qifu_domain::eligibility::Verdict;
    use qifu_domain::governance::EnterpriseField;
    crate::actor::require(actor, Permission::EnterpriseView)?;
    let db = &ctx.db;
    let e = enterprise::Entity::find_by_id(id).one(db).await?.ok_or(AccessError::NotFound)?;
    let latest = crate::governance::records::sources(db, id).await?;
    let fields = EnterpriseField::ALL
        .iter()
        .map(|f| (*f, crate::governance::records::current(&e, *f).map(|v| v.display()), latest.get(f).cloned()))
        .collect();
    let history = enterprise_field_source::Entity::find()
        .filter(enterprise_field_source::Column::EnterpriseId.eq(id))
        .order_by_desc(enterprise_field_source::Column::Id)
        .limit(200)
        .all(db)
        .await?;
    let size_reason = size_reason(&e);
    let above_reason = qifu_domain::profiles::above_designated_size_reason(&e.industry_code, indicators(&e).revenue);
    let org = e.org_id;
    let users = match org {
        Some(o) => user::Entity::find().filter(user::Column::OrgId.eq(o)).order_by_asc(user::Column::Id).all(db).await?,
        None => Vec::new(),
    };
    let certifications = certification::Entity::find()
        .filter(certification::Column::CreditCode.eq(e.credit_code.as_str()))
        .order_by_desc(certification::Column::Id)
        .limit(20)
        .all(db)
        .await?;
    let authorizations = match org {
        Some(o) => {
            authorization::Entity::find()
                .filter(authorization::Column::OrgId.eq(o))
                .order_by_desc(authorization::Column::Id)
                .limit(20)
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let demands = match org {
        Some(o) => {
            demand::Entity::find()
                .filter(demand::Column::EnterpriseOrgId.eq(o))
                .order_by_desc(demand::Column::Id)
                .limit(20)
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let matches_rows = policy_match::Entity::find()
        .filter(policy_match::Column::EnterpriseId.eq(id))
        .filter(policy_match::Column::Verdict.is_in([Verdict::Eligible, Verdict::Near]))
        .order_by_desc(policy_match::Column::ComputedAt)
        .limit(30)
        .all(db)
        .await?;
    let push_rows = policy_push::Entity::find()
        .filter(policy_push::Column::EnterpriseId.eq(id))
        .order_by_desc(policy_push::Column::PushedAt)
        .limit(30)
        .all(db)
        .await?;
    let policy_ids: Vec<i64> = matches_rows.iter().map(|m| m.policy_id).chain(push_rows.iter().map(|p| p.policy_id)).collect();
    let titles: std::collections::HashMap<i64, String> = policy::Entity::find()
        .filter(policy::Column::Id.is_in(policy_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.title))
        .collect();
    let title = |pid: i64| titles.get(&pid).cloned().unwrap_or_default();
    let matches = matches_rows.into_iter().map(|m| (m.clone(), title(m.policy_id))).collect();
    let pushes = push_rows.into_iter().map(|p| (p.clone(), title(p.policy_id))).collect();
    let quality = quality_score::Entity::find_by_id(id).one(db).await?;
    let reviews = crate::governance::reviews::open_for(ctx, id).await?;
    let people_ids: Vec<i64> = history.iter().filter_map(|h| h.by_user_id).collect();
    let people = user::Entity::find()
        .filter(user::Column::Id.is_in(people_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let tags = e.tags.as_deref().map(qifu_domain::text::split_list).unwrap_or_default();
    Ok(Dossier {
        it_services: qifu_domain::profiles::is_it_services(&e.industry_code),
        enterprise: e,
        fields,
        history,
        size_reason,
        above_reason,
        tags,
        users,
        certifications,
        authorizations,
        demands,
        matches,
        pushes,
        quality,
        reviews,
        people,
    })
}

/// An operator's correction of governed fields (each value as typed; empty = unchanged).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RecordEdit {
    pub name: String,
    pub legal_rep_name: String,
    pub entity_type: String,
    pub founded_on: String,
    pub registered_capital: String,
    pub address: String,
    pub division_code: String,
    pub industry_code: String,
    pub registry_status: String,
    pub employees: String,
    pub revenue: String,
    pub total_assets: String,
    pub above_designated_size: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("表单有误")]
    Fields(Vec<(&'static str, String)>),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<sea_orm::DbErr> for EditError {
    fn from(e: sea_orm::DbErr) -> Self {
        EditError::Access(AccessError::Db(e))
    }
}

/// Saves an operator's corrections: cleaned and checked like an import, written
/// with the operator as the source (it overrides less trusted sources; the
/// industry still goes through the review queue unless its rule says otherwise). Audited.
pub async fn edit_record(
    ctx: &Ctx,
    actor: &Actor,
    meta: &crate::context::Meta,
    id: i64,
    f: &RecordEdit,
) -> Result<usize, EditError> {
    use qifu_domain::governance::{EnterpriseField as F, FieldSource, clean_row};
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let raw: Vec<(F, String)> = [
        (F::Name, &f.name),
        (F::LegalRep, &f.legal_rep_name),
        (F::EntityType, &f.entity_type),
        (F::FoundedOn, &f.founded_on),
        (F::RegisteredCapital, &f.registered_capital),
        (F::Address, &f.address),
        (F::Division, &f.division_code),
        (F::Industry, &f.industry_code),
        (F::RegistryStatus, &f.registry_status),
        (F::Employees, &f.employees),
        (F::Revenue, &f.revenue),
        (F::TotalAssets, &f.total_assets),
        (F::AboveDesignatedSize, &f.above_designated_size),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| (k, v.clone()))
    .collect();
    let cleaned = clean_row(&raw, ctx.now().date_naive());
    // Missing name / credit code are expected here (not edited): only the values typed count.
    let errors: Vec<(&'static str, String)> = cleaned
        .errors
        .iter()
        .filter(|e| raw.iter().any(|(k, _)| *k == e.field))
        .map(|e| (e.field.code(), e.message.clone()))
        .collect();
    if !errors.is_empty() {
        return Err(EditError::Fields(errors));
    }
    let values: Vec<_> = crate::governance::records::values_of(&cleaned.row)
        .into_iter()
        .filter(|(k, _)| raw.iter().any(|(r, _)| r == k))
        .collect();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let e = enterprise::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let from = crate::governance::Provenance { source: FieldSource::Operator, source_ref: None, by_user_id: Some(actor.user_id) };
    let (_, applied) = crate::governance::records::apply(&txn, ctx, e, &values, &from).await?;
    crate::audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        crate::audit::Entry::ok(
            "enterprise.edit",
            "enterprise",
            id,
            serde_json::json!({"changed": applied.changed, "to_review": applied.conflicts}),
        ),
    )
    .await?;
    if !applied.changed.is_empty() {
        crate::jobs::enqueue(&txn, ctx, &crate::governance::records::RematchEnterprise { enterprise_id: id }, Default::default())
            .await?;
    }
    txn.commit().await?;
    Ok(applied.changed.len())
}

/// Sets an enterprise's tags (from the operator's list). Audited.
pub async fn set_tags(
    ctx: &Ctx,
    actor: &Actor,
    meta: &crate::context::Meta,
    id: i64,
    tags: &[String],
) -> Result<(), AccessError> {
    use qifu_db::entity::enterprise_tag;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let known: Vec<String> = enterprise_tag::Entity::find().all(&ctx.db).await?.into_iter().map(|t| t.name).collect();
    let chosen: Vec<String> = tags.iter().filter(|t| known.contains(t)).cloned().collect();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let e = enterprise::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = e.tags.clone();
    let mut am: enterprise::ActiveModel = e.into();
    am.tags = Set(if chosen.is_empty() { None } else { Some(chosen.join(",")) });
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Enterprise, id).await?;
    crate::audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        crate::audit::Entry::ok("enterprise.tags", "enterprise", id, serde_json::json!({"before": before, "after": chosen})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The operator's tag list.
pub async fn tag_names(ctx: &Ctx) -> Result<Vec<String>, sea_orm::DbErr> {
    use qifu_db::entity::enterprise_tag;
    Ok(enterprise_tag::Entity::find()
        .order_by_asc(enterprise_tag::Column::Name)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect())
}

/// Adds a tag to the operator's list (2–20 characters of text). Audited.
pub async fn add_tag(ctx: &Ctx, actor: &Actor, meta: &crate::context::Meta, name: &str) -> Result<(), EditError> {
    use qifu_db::entity::enterprise_tag;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let name = qifu_domain::governance::clean_text(name);
    let n = name.chars().count();
    if !(2..=20).contains(&n) || name.chars().any(|c| !c.is_alphanumeric()) {
        return Err(EditError::Fields(vec![("tag", "标签为2到20个字，只能包含文字和数字".to_owned())]));
    }
    if tag_names(ctx).await?.contains(&name) {
        return Err(EditError::Fields(vec![("tag", "已有这个标签".to_owned())]));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let t = enterprise_tag::ActiveModel { name: Set(name.clone()), created_at: Set(ctx.now()), ..Default::default() }
        .insert(&txn)
        .await?;
    crate::audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        crate::audit::Entry::ok("enterprise.tag_add", "enterprise_tag", t.id, serde_json::json!({"name": name})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Quality totals of some records, by id.
pub async fn scores_of(ctx: &Ctx, ids: &[i64]) -> Result<std::collections::HashMap<i64, f64>, sea_orm::DbErr> {
    use qifu_db::entity::quality_score;
    Ok(quality_score::Entity::find()
        .filter(quality_score::Column::EnterpriseId.is_in(ids.to_vec()))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|q| (q.enterprise_id, q.total))
        .collect())
}
