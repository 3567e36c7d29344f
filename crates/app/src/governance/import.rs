//! Importing enterprise base data (数据导入): a CSV (UTF-8 with or without BOM,
//! or GB18030) or xlsx file is read, its columns mapped to fields (the mapping
//! kept per source), every row cleaned and checked, duplicates found, and the
//! whole staged with per-row errors; nothing reaches the records until the
//! batch is committed. Committing writes accepted rows through
//! [`super::records`] (provenance, survivorship, the review queue) in chunks
//! of rows, each chunk in one transaction; committing again changes nothing.

use super::records::{self, FieldValue, Provenance, values_of};
use crate::actor::{AccessError, Actor};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::NaiveDate;
use qifu_db::entity::{enterprise, import_batch, import_mapping, import_row};
use qifu_domain::accounts::Permission;
use qifu_domain::governance::{BatchState, CleanRow, EnterpriseField, FieldSource, RowError, clean_row};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Largest file accepted (the full 130,000-row extract is about 30 MB as CSV).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(String),
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for ImportError {
    fn from(e: DbErr) -> Self {
        ImportError::Access(AccessError::Db(e))
    }
}

/// A table as read: header names and rows of text.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Reads a CSV or xlsx file (by content: an xlsx is a ZIP).
pub fn read_table(bytes: &[u8]) -> Result<Table, ImportError> {
    if bytes.is_empty() {
        return Err(ImportError::File("文件是空的".to_owned()));
    }
    if bytes.len() > MAX_BYTES {
        return Err(ImportError::File(format!("文件不能超过{}MB", MAX_BYTES / 1024 / 1024)));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes);
    }
    read_csv(bytes)
}

fn read_csv(bytes: &[u8]) -> Result<Table, ImportError> {
    let text = decode(bytes);
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text.as_bytes());
    let headers: Vec<String> =
        rdr.headers().map_err(|e| ImportError::File(format!("无法读取表头：{e}")))?.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| ImportError::File(format!("第{}行无法读取：{e}", i + 2)))?;
        rows.push(r.iter().map(str::to_owned).collect());
    }
    Ok(Table { headers, rows })
}

/// UTF-8 (a BOM is dropped) or, when the bytes are not valid UTF-8, GB18030.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, ImportError> {
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| ImportError::File(format!("无法读取 xlsx 文件：{e}")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| ImportError::File("xlsx 文件中没有工作表".to_owned()))?
        .map_err(|e| ImportError::File(format!("无法读取工作表：{e}")))?;
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
            Data::DateTime(dt) => excel_date(dt.as_f64()).map(|d| d.to_string()).unwrap_or_default(),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(_) => String::new(),
        }
    };
    let mut it = range.rows();
    let headers = it.next().map(|r| r.iter().map(|c| cell(c).trim().to_owned()).collect()).unwrap_or_default();
    let rows = it.map(|r| r.iter().map(cell).collect()).collect();
    Ok(Table { headers, rows })
}

/// An Excel date serial (days since 1899-12-30) as a date.
fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

/// The field a column header most likely holds.
pub fn guess_field(header: &str) -> Option<EnterpriseField> {
    use EnterpriseField as F;
    let h: String = qifu_domain::governance::clean_text(header).replace(' ', "");
    let table: &[(&[&str], F)] = &[
        (&["统一社会信用代码", "信用代码", "社会信用代码", "credit_code"], F::CreditCode),
        (&["企业名称", "名称", "单位名称", "name"], F::Name),
        (&["法定代表人", "法人", "法定代表人姓名", "负责人"], F::LegalRep),
        (&["企业类型", "类型", "市场主体类型"], F::EntityType),
        (&["成立日期", "注册日期", "成立时间"], F::FoundedOn),
        (&["注册资本", "注册资本（万元）", "注册资本(万元)"], F::RegisteredCapital),
        (&["住所", "地址", "注册地址", "经营场所"], F::Address),
        (&["所属街道", "街道乡镇", "街道", "乡镇", "所属街道乡镇", "属地"], F::Division),
        (&["行业代码", "国民经济行业", "行业", "国民经济行业代码"], F::Industry),
        (&["登记状态", "经营状态"], F::RegistryStatus),
        (&["从业人员", "从业人数", "职工人数", "从业人员（人）"], F::Employees),
        (&["营业收入", "营业收入（万元）", "营业收入(万元)"], F::Revenue),
        (&["资产总额", "资产总额（万元）", "资产总额(万元)"], F::TotalAssets),
        (&["规上", "规模以上", "是否规上", "规模以上企业"], F::AboveDesignatedSize),
        (&["联系电话", "电话"], F::Phone),
    ];
    table.iter().find(|(names, _)| names.iter().any(|n| h == *n)).map(|(_, f)| *f)
}

/// The mapping for a source: saved choices, else guesses from the headers.
pub async fn mapping<C: ConnectionTrait>(
    conn: &C,
    source: &str,
    headers: &[String],
) -> Result<Vec<Option<EnterpriseField>>, DbErr> {
    let saved: HashMap<String, EnterpriseField> = import_mapping::Entity::find()
        .filter(import_mapping::Column::SourceName.eq(source))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.column_name, m.field))
        .collect();
    Ok(headers.iter().map(|h| saved.get(h).copied().or_else(|| guess_field(h))).collect())
}

/// Saves the column → field choices of a source (used for its next files).
pub async fn save_mapping<C: ConnectionTrait>(conn: &C, source: &str, pairs: &[(String, EnterpriseField)]) -> Result<(), DbErr> {
    import_mapping::Entity::delete_many().filter(import_mapping::Column::SourceName.eq(source)).exec(conn).await?;
    for (col, field) in pairs {
        import_mapping::ActiveModel {
            source_name: Set(source.to_owned()),
            column_name: Set(col.clone()),
            field: Set(*field),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// What staging (or committing) counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rows_read: usize,
    pub accepted: usize,
    pub normalised: usize,
    pub rejected: usize,
    pub duplicates: usize,
}

/// Outcome of a staged row.
pub const ACCEPTED: &str = "accepted";
pub const REJECTED: &str = "rejected";
pub const DUPLICATE: &str = "duplicate";

/// A refused value as kept with the row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredError {
    pub field: String,
    pub column: String,
    pub value: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct StoredClean {
    name: Option<String>,
    credit_code: Option<String>,
    legal_rep_name: Option<String>,
    entity_type: Option<String>,
    founded_on: Option<NaiveDate>,
    registered_capital_fen: Option<i64>,
    address: Option<String>,
    division_code: Option<String>,
    industry_code: Option<String>,
    registry_status: Option<String>,
    employees: Option<i32>,
    revenue_fen: Option<i64>,
    total_assets_fen: Option<i64>,
    above_designated_size: Option<bool>,
}

impl From<&CleanRow> for StoredClean {
    fn from(r: &CleanRow) -> Self {
        StoredClean {
            name: r.name.clone(),
            credit_code: r.credit_code.clone(),
            legal_rep_name: r.legal_rep_name.clone(),
            entity_type: r.entity_type.clone(),
            founded_on: r.founded_on,
            registered_capital_fen: r.registered_capital_fen,
            address: r.address.clone(),
            division_code: r.division_code.clone(),
            industry_code: r.industry_code.clone(),
            registry_status: r.registry_status.clone(),
            employees: r.employees,
            revenue_fen: r.revenue_fen,
            total_assets_fen: r.total_assets_fen,
            above_designated_size: r.above_designated_size,
        }
    }
}

impl From<StoredClean> for CleanRow {
    fn from(s: StoredClean) -> Self {
        CleanRow {
            name: s.name,
            credit_code: s.credit_code,
            legal_rep_name: s.legal_rep_name,
            entity_type: s.entity_type,
            founded_on: s.founded_on,
            registered_capital_fen: s.registered_capital_fen,
            address: s.address,
            division_code: s.division_code,
            industry_code: s.industry_code,
            registry_status: s.registry_status,
            employees: s.employees,
            revenue_fen: s.revenue_fen,
            total_assets_fen: s.total_assets_fen,
            above_designated_size: s.above_designated_size,
        }
    }
}

/// Checks a source name typed by a person.
pub fn check_source(source: &str) -> Result<String, ImportError> {
    let s = qifu_domain::governance::clean_text(source);
    if s.is_empty() || s.chars().count() > 50 || qifu_domain::accounts::has_markup(&s) {
        return Err(ImportError::File("请填写数据来源名称（不超过50个字，如“市场监管局登记信息”）".to_owned()));
    }
    Ok(s)
}

/// Stages a file: reads, maps, cleans and checks every row, finds duplicates
/// (the same credit code twice in the file; the same enterprise spelled
/// differently — same name once legal forms and brackets are ignored, and the
/// same legal representative or address), and keeps the outcome per row. A
/// row for an enterprise not yet on the platform must bring its founding
/// date, industry and street (or an address naming the street). Returns the
/// batch id and the counts. Nothing is written to the records.
pub async fn stage(
    ctx: &Ctx,
    by_user_id: Option<i64>,
    source: &str,
    file_name: &str,
    table: &Table,
    mapping: &[Option<EnterpriseField>],
) -> Result<(i64, Counts), ImportError> {
    let source = check_source(source)?;
    if source == REGISTRY_SOURCE {
        return Err(ImportError::File(format!("“{REGISTRY_SOURCE}”由登记信息同步使用，请给文件导入另起来源名称")));
    }
    stage_as(ctx, by_user_id, source, file_name, table, mapping).await
}

async fn stage_as(
    ctx: &Ctx,
    by_user_id: Option<i64>,
    source: String,
    file_name: &str,
    table: &Table,
    mapping: &[Option<EnterpriseField>],
) -> Result<(i64, Counts), ImportError> {
    if !mapping.contains(&Some(EnterpriseField::CreditCode)) {
        return Err(ImportError::File("没有对应“统一社会信用代码”的列：请在列对应关系中指定".to_owned()));
    }
    let today = ctx.now().date_naive();
    let mut counts = Counts { rows_read: table.rows.len(), ..Default::default() };
    // Clean every row first (pure, fast).
    let mut cleaned = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let raw: Vec<(EnterpriseField, String)> = mapping
            .iter()
            .zip(row.iter().chain(std::iter::repeat(&String::new())))
            .filter_map(|(f, v)| f.map(|f| (f, v.clone())))
            .collect();
        let mut c = clean_row(&raw, today);
        // No street given: the address may name it.
        if c.row.division_code.is_none()
            && let Some(addr) = &c.row.address
        {
            c.row.division_code = qifu_domain::reference::division::tongzhou_streets()
                .iter()
                .find(|s| addr.contains(s.name))
                .map(|s| s.code.to_owned());
        }
        cleaned.push(c);
    }
    // Which credit codes the platform already knows.
    let codes: Vec<String> = cleaned.iter().filter_map(|c| c.row.credit_code.clone()).collect();
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    for chunk in codes.chunks(1000) {
        let found: Vec<String> = enterprise::Entity::find()
            .filter(enterprise::Column::CreditCode.is_in(chunk.to_vec()))
            .select_only()
            .column(enterprise::Column::CreditCode)
            .into_tuple()
            .all(&ctx.db)
            .await?;
        known.extend(found);
    }
    let mut first_of_code: HashMap<String, usize> = HashMap::new();
    let mut by_name_key: HashMap<String, Vec<usize>> = HashMap::new();
    let column_of = |f: EnterpriseField| -> String {
        mapping.iter().position(|m| *m == Some(f)).and_then(|i| table.headers.get(i).cloned()).unwrap_or_default()
    };
    // Per row: its JSON, its credit code, its errors, its duplicate note.
    type Staged = (String, Option<String>, Vec<StoredError>, Option<String>);
    let mut staged: Vec<Staged> = Vec::with_capacity(cleaned.len());
    for (i, c) in cleaned.iter().enumerate() {
        let mut errors: Vec<RowError> = c.errors.clone();
        let code = c.row.credit_code.clone();
        if let Some(code) = &code
            && !known.contains(code)
        {
            let need = [
                (c.row.founded_on.is_none(), EnterpriseField::FoundedOn, "新企业须有成立日期"),
                (c.row.industry_code.is_none(), EnterpriseField::Industry, "新企业须有国民经济行业代码"),
                (c.row.division_code.is_none(), EnterpriseField::Division, "新企业须有所属街道乡镇（或含街道乡镇名称的住所）"),
            ];
            for (missing, field, message) in need {
                if missing && !errors.iter().any(|e| e.field == field) {
                    errors.push(RowError { field, value: String::new(), message: message.to_owned() });
                }
            }
        }
        counts.normalised += c.normalised;
        let mut outcome = if errors.is_empty() && c.accepted() { ACCEPTED } else { REJECTED };
        if outcome == ACCEPTED
            && let Some(code) = &code
        {
            if let Some(first) = first_of_code.get(code) {
                outcome = DUPLICATE;
                errors.push(RowError {
                    field: EnterpriseField::CreditCode,
                    value: code.clone(),
                    message: format!("与第{}行的统一社会信用代码重复", first + 2),
                });
            } else {
                first_of_code.insert(code.clone(), i);
                let key = qifu_domain::governance::name_key(c.row.name.as_deref().unwrap_or_default());
                if let Some(same) = by_name_key.get(&key).and_then(|others| {
                    others.iter().find(|j| {
                        let o = &cleaned[**j].row;
                        qifu_domain::governance::probably_same(
                            o.name.as_deref().unwrap_or_default(),
                            o.legal_rep_name.as_deref(),
                            o.address.as_deref(),
                            c.row.name.as_deref().unwrap_or_default(),
                            c.row.legal_rep_name.as_deref(),
                            c.row.address.as_deref(),
                        )
                    })
                }) {
                    outcome = DUPLICATE;
                    errors.push(RowError {
                        field: EnterpriseField::Name,
                        value: c.row.name.clone().unwrap_or_default(),
                        message: format!("与第{}行疑似同一企业（名称写法不同、法定代表人或住所相同），信用代码却不同", same + 2),
                    });
                }
                by_name_key.entry(key).or_default().push(i);
            }
        }
        match outcome {
            ACCEPTED => counts.accepted += 1,
            DUPLICATE => counts.duplicates += 1,
            _ => counts.rejected += 1,
        }
        let stored: Vec<StoredError> = errors
            .iter()
            .map(|e| StoredError {
                field: e.field.code().to_owned(),
                column: column_of(e.field),
                value: e.value.clone(),
                message: e.message.clone(),
            })
            .collect();
        let clean = (outcome == ACCEPTED).then(|| serde_json::to_string(&StoredClean::from(&c.row)).unwrap_or_default());
        staged.push((outcome.to_owned(), clean, stored, code));
    }
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let batch = import_batch::ActiveModel {
        source_name: Set(source.clone()),
        file_name: Set(file_name.chars().filter(|c| !c.is_control()).take(200).collect()),
        status: Set(BatchState::Staged),
        rows_read: Set(i32::try_from(counts.rows_read).unwrap_or(i32::MAX)),
        accepted: Set(i32::try_from(counts.accepted).unwrap_or(i32::MAX)),
        normalised: Set(i32::try_from(counts.normalised).unwrap_or(i32::MAX)),
        rejected: Set(i32::try_from(counts.rejected).unwrap_or(i32::MAX)),
        duplicates: Set(i32::try_from(counts.duplicates).unwrap_or(i32::MAX)),
        created_records: Set(0),
        updated_records: Set(0),
        conflicts: Set(0),
        created_by: Set(by_user_id),
        created_at: Set(now),
        committed_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut rows = Vec::with_capacity(500);
    for (i, ((outcome, clean, errors, code), raw)) in staged.into_iter().zip(&table.rows).enumerate() {
        let raw_map: BTreeMap<&str, &str> =
            table.headers.iter().map(String::as_str).zip(raw.iter().map(String::as_str)).collect();
        rows.push(import_row::ActiveModel {
            batch_id: Set(batch.id),
            row_no: Set(i32::try_from(i + 2).unwrap_or(i32::MAX)),
            raw: Set(serde_json::to_string(&raw_map).unwrap_or_default()),
            clean: Set(clean),
            errors: Set(if errors.is_empty() { None } else { serde_json::to_string(&errors).ok() }),
            outcome: Set(outcome),
            credit_code: Set(code),
            ..Default::default()
        });
        if rows.len() == 500 {
            import_row::Entity::insert_many(std::mem::take(&mut rows)).exec_without_returning(&txn).await?;
        }
    }
    if !rows.is_empty() {
        import_row::Entity::insert_many(rows).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok((batch.id, counts))
}

/// Commits a batch in the background (a job; its progress shows on the batch's page).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitImport {
    pub batch_id: i64,
    pub by_user_id: Option<i64>,
}

impl crate::jobs::Job for CommitImport {
    const KIND: &'static str = "governance.commit_import";
    const DEADLINE_SECS: u64 = 3600;
    fn dedup_key(&self) -> Option<String> {
        Some(format!("commit:{}", self.batch_id))
    }
}

/// What committing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
}

/// Rows committed per transaction.
const CHUNK: u64 = 2000;

/// Writes a staged batch's accepted rows to the records: new enterprises are
/// created, known ones updated through the survivorship rules (conflicts go
/// to the review queue), identical values change nothing.
pub async fn commit(ctx: &Ctx, batch_id: i64, by_user_id: Option<i64>) -> Result<Committed, ImportError> {
    let batch = import_batch::Entity::find_by_id(batch_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    if batch.status == BatchState::Discarded {
        return Err(ImportError::State("该批次已放弃"));
    }
    // Values from the registry sync carry the registry's trust; files are imports.
    let kind = if batch.source_name == REGISTRY_SOURCE { FieldSource::Registry } else { FieldSource::Import };
    let from = Provenance { source: kind, source_ref: Some(format!("import:{batch_id}")), by_user_id };
    let mut out = Committed::default();
    let mut after = 0i32;
    loop {
        let rows = import_row::Entity::find()
            .filter(import_row::Column::BatchId.eq(batch_id))
            .filter(import_row::Column::Outcome.eq(ACCEPTED))
            .filter(import_row::Column::RowNo.gt(after))
            .order_by_asc(import_row::Column::RowNo)
            .limit(CHUNK)
            .all(&ctx.db)
            .await?;
        let Some(last) = rows.last().map(|r| r.row_no) else { break };
        after = last;
        let txn = qifu_db::begin_write(&ctx.db).await?;
        let chunk = commit_rows(&txn, ctx, &rows, &from).await?;
        out.created += chunk.created;
        out.updated += chunk.updated;
        out.unchanged += chunk.unchanged;
        out.conflicts += chunk.conflicts;
        import_batch::Entity::update_many()
            .col_expr(
                import_batch::Column::CreatedRecords,
                sea_orm::sea_query::Expr::value(i32::try_from(out.created).unwrap_or(i32::MAX)),
            )
            .col_expr(
                import_batch::Column::UpdatedRecords,
                sea_orm::sea_query::Expr::value(i32::try_from(out.updated).unwrap_or(i32::MAX)),
            )
            .col_expr(
                import_batch::Column::Conflicts,
                sea_orm::sea_query::Expr::value(i32::try_from(out.conflicts).unwrap_or(i32::MAX)),
            )
            .filter(import_batch::Column::Id.eq(batch_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
    }
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    import_batch::Entity::update_many()
        .col_expr(import_batch::Column::Status, sea_orm::sea_query::Expr::value(BatchState::Committed))
        .col_expr(import_batch::Column::CommittedAt, sea_orm::sea_query::Expr::value(Some(now)))
        .filter(import_batch::Column::Id.eq(batch_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(out)
}

async fn commit_rows<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    rows: &[import_row::Model],
    from: &Provenance,
) -> Result<Committed, ImportError> {
    let mut out = Committed::default();
    let parsed: Vec<CleanRow> = rows
        .iter()
        .filter_map(|r| r.clean.as_deref().and_then(|c| serde_json::from_str::<StoredClean>(c).ok()).map(CleanRow::from))
        .collect();
    let codes: Vec<String> = parsed.iter().filter_map(|r| r.credit_code.clone()).collect();
    let existing: HashMap<String, enterprise::Model> = enterprise::Entity::find()
        .filter(enterprise::Column::CreditCode.is_in(codes))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.credit_code.clone(), e))
        .collect();
    let now = ctx.now();
    let mut new_rows: Vec<(enterprise::ActiveModel, Vec<(EnterpriseField, FieldValue)>)> = Vec::new();
    for row in &parsed {
        let Some(code) = row.credit_code.clone() else { continue };
        let values = values_of(row);
        match existing.get(&code) {
            Some(e) => {
                let differs =
                    values.iter().any(|(f, v)| *f != EnterpriseField::CreditCode && records::current(e, *f).as_ref() != Some(v));
                if !differs {
                    out.unchanged += 1;
                    continue;
                }
                let (_, applied) = records::apply(conn, ctx, e.clone(), &values, from).await?;
                if !applied.changed.is_empty() {
                    out.updated += 1;
                } else {
                    out.unchanged += 1;
                }
                out.conflicts += applied.conflicts;
            }
            None => {
                let (Some(founded), Some(industry), Some(division)) =
                    (row.founded_on, row.industry_code.clone(), row.division_code.clone())
                else {
                    continue; // refused at staging
                };
                let mut am = enterprise::ActiveModel {
                    org_id: Set(None),
                    name: Set(row.name.clone().unwrap_or_default()),
                    credit_code: Set(code.clone()),
                    legal_rep_name: Set(row.legal_rep_name.clone().unwrap_or_default()),
                    industry_code: Set(industry),
                    division_code: Set(division),
                    founded_on: Set(founded),
                    above_designated_size: Set(false),
                    certified: Set(false),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                for (f, v) in &values {
                    records::set_field(&mut am, *f, v);
                }
                // The size class by the 300号 rules, from the figures given.
                let ind = qifu_domain::profiles::Indicators {
                    employees: row.employees.map(i64::from),
                    revenue: row.revenue_fen.map(qifu_domain::money::Money::from_fen),
                    total_assets: row.total_assets_fen.map(qifu_domain::money::Money::from_fen),
                };
                if let Some(ind_code) = &row.industry_code
                    && let Ok(class) =
                        qifu_domain::profiles::classify(qifu_domain::profiles::SizeGroup::of_industry(ind_code), &ind)
                {
                    am.size_class = Set(Some(class));
                }
                new_rows.push((am, values));
            }
        }
    }
    if !new_rows.is_empty() {
        let codes: Vec<String> = new_rows
            .iter()
            .filter_map(|(am, _)| am.credit_code.clone().into_value())
            .filter_map(|v| match v {
                sea_orm::Value::String(Some(s)) => Some(s),
                _ => None,
            })
            .collect();
        let (models, values): (Vec<_>, Vec<_>) = new_rows.into_iter().unzip();
        for chunk in models.chunks(500) {
            enterprise::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
        }
        let ids: HashMap<String, i64> = enterprise::Entity::find()
            .filter(enterprise::Column::CreditCode.is_in(codes.clone()))
            .select_only()
            .column(enterprise::Column::CreditCode)
            .column(enterprise::Column::Id)
            .into_tuple::<(String, i64)>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let mut sources: Vec<(i64, EnterpriseField, String)> = Vec::new();
        let mut changes = Vec::new();
        for (code, vals) in codes.iter().zip(values) {
            let Some(id) = ids.get(code).copied() else { continue };
            out.created += 1;
            changes.push(qifu_db::entity::search_change::ActiveModel {
                kind: Set(qifu_search::Kind::Enterprise.as_str().to_owned()),
                entity_id: Set(id),
                at: Set(now),
                ..Default::default()
            });
            for (f, v) in vals {
                sources.push((id, f, v.display()));
            }
        }
        insert_sources(conn, &sources, from, now).await?;
        for chunk in changes.chunks(1000) {
            qifu_db::entity::search_change::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
        }
    }
    Ok(out)
}

/// The error file of a batch (CSV in UTF-8 with BOM, for Excel): one line per
/// refused value, with its row number, column, value and the reason.
pub async fn error_file<C: ConnectionTrait>(conn: &C, batch_id: i64) -> Result<Vec<u8>, DbErr> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = w.write_record(["行号", "列", "字段", "值", "问题"]);
    let mut after = 0i32;
    loop {
        let rows = import_row::Entity::find()
            .filter(import_row::Column::BatchId.eq(batch_id))
            .filter(import_row::Column::Outcome.ne(ACCEPTED))
            .filter(import_row::Column::RowNo.gt(after))
            .order_by_asc(import_row::Column::RowNo)
            .limit(5000)
            .all(conn)
            .await?;
        let Some(last) = rows.last().map(|r| r.row_no) else { break };
        after = last;
        for r in rows {
            let errors: Vec<StoredError> = r.errors.as_deref().and_then(|e| serde_json::from_str(e).ok()).unwrap_or_default();
            for e in errors {
                let label = EnterpriseField::parse(&e.field).map(|f| f.label()).unwrap_or("");
                let _ = w.write_record([r.row_no.to_string().as_str(), &e.column, label, &e.value, &e.message]);
            }
        }
    }
    Ok(w.into_inner().unwrap_or_default())
}

/// Batches for the back office, newest first.
pub async fn batches(ctx: &Ctx, actor: &Actor, page: u64) -> Result<(Vec<import_batch::Model>, u64), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let q = import_batch::Entity::find().order_by_desc(import_batch::Column::Id);
    let total = q.clone().count(&ctx.db).await?;
    Ok((q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?, total))
}

/// One batch with the first rows of each outcome, for its page.
pub async fn batch(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(import_batch::Model, Vec<import_row::Model>), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let b = import_batch::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let rows = import_row::Entity::find()
        .filter(import_row::Column::BatchId.eq(id))
        .filter(import_row::Column::Outcome.ne(ACCEPTED))
        .order_by_asc(import_row::Column::RowNo)
        .limit(200)
        .all(&ctx.db)
        .await?;
    Ok((b, rows))
}

/// The error file of a batch for the back office.
pub async fn batch_errors(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(import_batch::Model, Vec<u8>), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let b = import_batch::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    Ok((b, error_file(&ctx.db, id).await?))
}

/// Stages an uploaded file from the back office (audited), saving the mapping for the source.
pub async fn upload(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    source: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<(i64, Counts), ImportError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let source = check_source(source)?;
    let table = read_table(bytes)?;
    let map = mapping(&ctx.db, &source, &table.headers).await?;
    let (id, counts) = stage(ctx, Some(actor.user_id), &source, file_name, &table, &map).await?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let pairs: Vec<(String, EnterpriseField)> =
        table.headers.iter().zip(&map).filter_map(|(h, f)| f.map(|f| (h.clone(), f))).collect();
    save_mapping(&txn, &source, &pairs).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "enterprise.import_stage",
            "import_batch",
            id,
            serde_json::json!({"source": source, "file": file_name, "counts": counts}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((id, counts))
}

/// Commits a staged batch from the back office: a job (audited).
pub async fn request_commit(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), ImportError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let b = import_batch::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if b.status != BatchState::Staged {
        return Err(ImportError::State("该批次不是待确认状态"));
    }
    crate::jobs::enqueue(&txn, ctx, &CommitImport { batch_id: id, by_user_id: Some(actor.user_id) }, Default::default()).await?;
    // Shown as 写入中 with the counts growing until the job has written every chunk.
    let mut am: import_batch::ActiveModel = b.into();
    am.status = Set(BatchState::Committing);
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("enterprise.import_commit", "import_batch", id, serde_json::json!({})))
        .await?;
    txn.commit().await?;
    Ok(())
}

/// Discards a staged batch (audited).
pub async fn discard(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64) -> Result<(), ImportError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let b = import_batch::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if b.status != BatchState::Staged {
        return Err(ImportError::State("只能放弃待确认的批次"));
    }
    let mut am: import_batch::ActiveModel = b.into();
    am.status = Set(BatchState::Discarded);
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("enterprise.import_discard", "import_batch", id, serde_json::json!({})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---- The registry sync (登记信息同步): the registry's batch interface, incremental by change date ----

/// The source name of batches from the registry sync (refused for files).
pub const REGISTRY_SOURCE: &str = "市场监管局登记信息接口";

/// Where the sync keeps the last change date it has taken in.
const SYNC_CHECKPOINT: &str = "registry_sync:last_changed_on";

/// Pages read in one sync at most (a runaway cursor must end).
const MAX_PAGES: usize = 10_000;

/// What a sync did.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    /// From which change date it asked.
    pub since: Option<NaiveDate>,
    pub pages: usize,
    pub batch_id: Option<i64>,
    pub counts: Counts,
    pub committed: Committed,
    /// The newest change date taken in, kept for the next sync.
    pub checkpoint: Option<NaiveDate>,
}

/// The change date the next sync starts from, if a sync has run.
pub async fn sync_checkpoint<C: ConnectionTrait>(conn: &C) -> Result<Option<NaiveDate>, DbErr> {
    use qifu_db::entity::system_meta;
    Ok(system_meta::Entity::find_by_id(SYNC_CHECKPOINT.to_owned())
        .one(conn)
        .await?
        .and_then(|m| NaiveDate::parse_from_str(&m.value, "%Y-%m-%d").ok()))
}

/// Takes in every registration the registry changed on or after `since` (or
/// after the last sync's newest change date; everything on the first run):
/// the changes are staged and committed like an import — cleaned, checked,
/// duplicates found, per-row errors kept — with the registry as the source of
/// the values. The checkpoint moves only when the whole sync committed; a
/// failure of the registry midway stages nothing and moves nothing.
pub async fn sync_registry(ctx: &Ctx, by_user_id: Option<i64>, since: Option<NaiveDate>) -> Result<SyncReport, ImportError> {
    let since = match since {
        Some(d) => Some(d),
        None => sync_checkpoint(&ctx.db).await?,
    };
    let from = since.unwrap_or(NaiveDate::MIN);
    let mut report = SyncReport { since, ..Default::default() };
    let fields = [
        EnterpriseField::CreditCode,
        EnterpriseField::Name,
        EnterpriseField::LegalRep,
        EnterpriseField::RegistryStatus,
        EnterpriseField::EntityType,
        EnterpriseField::FoundedOn,
        EnterpriseField::RegisteredCapital,
        EnterpriseField::Address,
        EnterpriseField::Division,
        EnterpriseField::Industry,
    ];
    let mut table = Table { headers: fields.iter().map(|f| f.label().to_owned()).collect(), rows: Vec::new() };
    let mut newest: Option<NaiveDate> = None;
    let mut cursor: Option<String> = None;
    loop {
        if report.pages >= MAX_PAGES {
            return Err(ImportError::File(format!("登记信息接口的变更数据超过 {MAX_PAGES} 页，已停止：请检查接口的分页游标")));
        }
        let page = ctx
            .registry
            .changes(from, cursor.as_deref())
            .await
            .map_err(|e| ImportError::File(format!("{e}；本次同步未写入任何数据，可稍后重试")))?;
        report.pages += 1;
        for ch in page.changes {
            newest = newest.max(Some(ch.changed_on));
            let r = ch.record;
            let b = r.base;
            table.rows.push(vec![
                r.credit_code,
                r.name,
                r.legal_rep_name,
                r.status,
                b.entity_type.unwrap_or_default(),
                b.founded_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                b.registered_capital_fen
                    .map(|f| format!("{}", f as f64 / qifu_domain::money::FEN_PER_WAN as f64))
                    .unwrap_or_default(),
                b.address.unwrap_or_default(),
                b.division_code.unwrap_or_default(),
                b.industry_code.unwrap_or_default(),
            ]);
        }
        match page.next_cursor {
            Some(c) if Some(&c) != cursor.as_ref() => cursor = Some(c),
            Some(_) => return Err(ImportError::File("登记信息接口的分页游标没有前进，已停止".to_owned())),
            None => break,
        }
    }
    if table.rows.is_empty() {
        return Ok(report);
    }
    let mapping: Vec<Option<EnterpriseField>> = fields.iter().map(|f| Some(*f)).collect();
    let name = format!("登记信息变更（自 {}）", since.map_or("最早".to_owned(), |d| d.format("%Y-%m-%d").to_string()));
    let (batch, counts) = stage_as(ctx, by_user_id, REGISTRY_SOURCE.to_owned(), &name, &table, &mapping).await?;
    report.batch_id = Some(batch);
    report.counts = counts;
    report.committed = commit(ctx, batch, by_user_id).await?;
    if let Some(d) = newest {
        use qifu_db::entity::system_meta;
        let now = ctx.now();
        let txn = qifu_db::begin_write(&ctx.db).await?;
        system_meta::Entity::delete_by_id(SYNC_CHECKPOINT.to_owned()).exec(&txn).await?;
        system_meta::ActiveModel {
            key: Set(SYNC_CHECKPOINT.to_owned()),
            value: Set(d.format("%Y-%m-%d").to_string()),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        report.checkpoint = Some(d);
    }
    Ok(report)
}

/// The nightly registry sync, when the registry is an outside service.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncRegistry;

impl crate::jobs::Job for SyncRegistry {
    const KIND: &'static str = "governance.registry_sync";
    const DEADLINE_SECS: u64 = 3600;
}

/// Starts a sync from the back office (as a job; the batch appears on the page). Audited.
pub async fn request_sync(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), ImportError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    crate::jobs::enqueue(&txn, ctx, &SyncRegistry, crate::jobs::EnqueueOptions::default()).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("governance.registry_sync", "import_batch", "registry", serde_json::json!({})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Writes provenance rows (one per field per record: 1.1 million for the
/// initial load). On PostgreSQL a chunk goes as one JSON parameter expanded by
/// `json_to_recordset`, much faster than multi-row VALUES over the wire; on
/// SQLite multi-row INSERTs are already fast.
async fn insert_sources<C: ConnectionTrait>(
    conn: &C,
    rows: &[(i64, EnterpriseField, String)],
    from: &Provenance,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    use qifu_db::entity::enterprise_field_source;
    if conn.get_database_backend() != sea_orm::DbBackend::Postgres {
        for chunk in rows.chunks(1000) {
            let models: Vec<enterprise_field_source::ActiveModel> = chunk
                .iter()
                .map(|(id, f, v)| enterprise_field_source::ActiveModel {
                    enterprise_id: Set(*id),
                    field: Set(*f),
                    value: Set(v.clone()),
                    source: Set(from.source),
                    source_ref: Set(from.source_ref.clone()),
                    by_user_id: Set(from.by_user_id),
                    at: Set(now),
                    ..Default::default()
                })
                .collect();
            enterprise_field_source::Entity::insert_many(models).exec_without_returning(conn).await?;
        }
        return Ok(());
    }
    for chunk in rows.chunks(20_000) {
        let json: Vec<serde_json::Value> =
            chunk.iter().map(|(id, f, v)| serde_json::json!({"e": id, "f": f.code(), "v": v})).collect();
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "INSERT INTO enterprise_field_sources (enterprise_id, field, value, source, source_ref, by_user_id, at) \
             SELECT x.e, x.f, x.v, $2, $3, $4, $5 FROM json_to_recordset($1::json) AS x(e bigint, f text, v text)",
            [
                serde_json::Value::Array(json).to_string().into(),
                from.source.code().into(),
                from.source_ref.clone().into(),
                from.by_user_id.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}
