//! Writing enterprise records with provenance and survivorship.

use crate::context::Ctx;
use chrono::NaiveDate;
use qifu_db::entity::{enterprise, enterprise_field_source, field_policy, merge_review};
use qifu_domain::governance::{CleanRow, EnterpriseField, FieldSource, ReviewState, Survivorship};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;

/// A value for one field of the record.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(String),
    Date(NaiveDate),
    /// Money in fen.
    Money(i64),
    Int(i32),
    Bool(bool),
}

impl FieldValue {
    /// How the value is shown and kept in the provenance (money in 万元).
    pub fn display(&self) -> String {
        match self {
            FieldValue::Text(s) => s.clone(),
            FieldValue::Date(d) => d.format("%Y-%m-%d").to_string(),
            FieldValue::Money(f) => qifu_domain::money::Money::from_fen(*f).display_wan(),
            FieldValue::Int(n) => n.to_string(),
            FieldValue::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
        }
    }
}

/// Where a write comes from.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub source: FieldSource,
    /// e.g. `certification:12`, `import:3`.
    pub source_ref: Option<String>,
    pub by_user_id: Option<i64>,
}

/// The values of a clean row, field by field.
pub fn values_of(row: &CleanRow) -> Vec<(EnterpriseField, FieldValue)> {
    use EnterpriseField as F;
    let mut v = Vec::new();
    let mut text = |f: F, s: &Option<String>| {
        if let Some(s) = s.as_ref().filter(|s| !s.is_empty()) {
            v.push((f, FieldValue::Text(s.clone())));
        }
    };
    text(F::Name, &row.name);
    text(F::CreditCode, &row.credit_code);
    text(F::LegalRep, &row.legal_rep_name);
    text(F::EntityType, &row.entity_type);
    text(F::Address, &row.address);
    text(F::Division, &row.division_code);
    text(F::Industry, &row.industry_code);
    text(F::RegistryStatus, &row.registry_status);
    if let Some(d) = row.founded_on {
        v.push((F::FoundedOn, FieldValue::Date(d)));
    }
    if let Some(m) = row.registered_capital_fen {
        v.push((F::RegisteredCapital, FieldValue::Money(m)));
    }
    if let Some(n) = row.employees {
        v.push((F::Employees, FieldValue::Int(n)));
    }
    if let Some(m) = row.revenue_fen {
        v.push((F::Revenue, FieldValue::Money(m)));
    }
    if let Some(m) = row.total_assets_fen {
        v.push((F::TotalAssets, FieldValue::Money(m)));
    }
    if let Some(b) = row.above_designated_size {
        v.push((F::AboveDesignatedSize, FieldValue::Bool(b)));
    }
    v
}

/// The current value of a field on the record.
pub fn current(e: &enterprise::Model, f: EnterpriseField) -> Option<FieldValue> {
    use EnterpriseField as F;
    let t = |s: &str| (!s.is_empty()).then(|| FieldValue::Text(s.to_owned()));
    match f {
        F::Name => t(&e.name),
        F::CreditCode => t(&e.credit_code),
        F::LegalRep => t(&e.legal_rep_name),
        F::EntityType => e.entity_type.as_deref().and_then(t),
        F::FoundedOn => Some(FieldValue::Date(e.founded_on)),
        F::RegisteredCapital => e.registered_capital_fen.map(FieldValue::Money),
        F::Address => e.address.as_deref().and_then(t),
        F::Division => t(&e.division_code),
        F::Industry => t(&e.industry_code),
        F::RegistryStatus => e.registry_status.as_deref().and_then(t),
        F::Employees => e.employees.map(FieldValue::Int),
        F::Revenue => e.revenue_fen.map(FieldValue::Money),
        F::TotalAssets => e.total_assets_fen.map(FieldValue::Money),
        F::AboveDesignatedSize => Some(FieldValue::Bool(e.above_designated_size)),
        F::Phone => e.contact_phone_masked.as_deref().and_then(t),
    }
}

/// Sets one field on the record being written.
pub fn set_field(am: &mut enterprise::ActiveModel, f: EnterpriseField, v: &FieldValue) {
    use EnterpriseField as F;
    use FieldValue as V;
    match (f, v) {
        (F::Name, V::Text(s)) => am.name = Set(s.clone()),
        (F::CreditCode, V::Text(s)) => am.credit_code = Set(s.clone()),
        (F::LegalRep, V::Text(s)) => am.legal_rep_name = Set(s.clone()),
        (F::EntityType, V::Text(s)) => am.entity_type = Set(Some(s.clone())),
        (F::FoundedOn, V::Date(d)) => am.founded_on = Set(*d),
        (F::RegisteredCapital, V::Money(m)) => am.registered_capital_fen = Set(Some(*m)),
        (F::Address, V::Text(s)) => am.address = Set(Some(s.clone())),
        (F::Division, V::Text(s)) => am.division_code = Set(s.clone()),
        (F::Industry, V::Text(s)) => am.industry_code = Set(s.clone()),
        (F::RegistryStatus, V::Text(s)) => am.registry_status = Set(Some(s.clone())),
        (F::Employees, V::Int(n)) => am.employees = Set(Some(*n)),
        (F::Revenue, V::Money(m)) => am.revenue_fen = Set(Some(*m)),
        (F::TotalAssets, V::Money(m)) => am.total_assets_fen = Set(Some(*m)),
        (F::AboveDesignatedSize, V::Bool(b)) => am.above_designated_size = Set(*b),
        (F::Phone, V::Text(s)) => am.contact_phone_masked = Set(Some(s.clone())),
        _ => {}
    }
}

/// The survivorship rule of each field: the operator's choice, else the default
/// (figures: the newest; industry: a data clerk decides; the rest: the most trusted source).
pub async fn policies<C: ConnectionTrait>(conn: &C) -> Result<HashMap<EnterpriseField, Survivorship>, DbErr> {
    let mut out: HashMap<EnterpriseField, Survivorship> = EnterpriseField::ALL.iter().map(|f| (*f, default_rule(*f))).collect();
    for p in field_policy::Entity::find().all(conn).await? {
        out.insert(p.field, p.rule);
    }
    Ok(out)
}

pub fn default_rule(f: EnterpriseField) -> Survivorship {
    use EnterpriseField as F;
    match f {
        F::Employees | F::Revenue | F::TotalAssets | F::Phone => Survivorship::MostRecent,
        F::Industry => Survivorship::Manual,
        _ => Survivorship::MostTrusted,
    }
}

/// The latest provenance of each field of a record.
pub async fn sources<C: ConnectionTrait>(
    conn: &C,
    enterprise_id: i64,
) -> Result<HashMap<EnterpriseField, enterprise_field_source::Model>, DbErr> {
    let rows = enterprise_field_source::Entity::find()
        .filter(enterprise_field_source::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(enterprise_field_source::Column::Id)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.field, r)).collect())
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub changed: Vec<EnterpriseField>,
    /// Disagreements sent to the review queue.
    pub conflicts: usize,
}

/// Writes `values` to an existing record: a missing value is filled; an equal
/// one is left (and its source confirmed); a different one follows the
/// field's survivorship rule — overwritten (most recent; or most trusted when
/// the new source is at least as trusted as the current one), or sent to the
/// review queue (manual, or a less trusted source disagreeing). Each write
/// keeps its provenance. Inside the caller's transaction.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    e: enterprise::Model,
    values: &[(EnterpriseField, FieldValue)],
    from: &Provenance,
) -> Result<(enterprise::Model, Applied), DbErr> {
    let rules = policies(conn).await?;
    let known = sources(conn, e.id).await?;
    let now = ctx.now();
    let mut applied = Applied::default();
    let mut am: enterprise::ActiveModel = e.clone().into();
    for (field, value) in values {
        if *field == EnterpriseField::CreditCode {
            continue; // the key of the record; never changed by a write
        }
        let have = current(&e, *field);
        let current_source = known.get(field).map(|p| p.source).unwrap_or(FieldSource::Import);
        let write = match &have {
            None => true,
            Some(h) if h == value => false,
            Some(h) => match rules.get(field).copied().unwrap_or(Survivorship::MostTrusted) {
                Survivorship::MostRecent => true,
                Survivorship::MostTrusted if from.source.trust() >= current_source.trust() => true,
                _ => {
                    open_review(conn, now, e.id, *field, h, current_source, value, from).await?;
                    applied.conflicts += 1;
                    false
                }
            },
        };
        if write {
            set_field(&mut am, *field, value);
            applied.changed.push(*field);
            record_source(conn, now, e.id, *field, value, from).await?;
        }
    }
    if applied.changed.is_empty() {
        return Ok((e, applied));
    }
    am.updated_at = Set(now);
    let e = am.update(conn).await?;
    let e = reclassify(conn, e).await?;
    crate::index::touch(conn, now, qifu_search::Kind::Enterprise, e.id).await?;
    Ok((e, applied))
}

/// Appends a provenance row.
pub async fn record_source<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
    enterprise_id: i64,
    field: EnterpriseField,
    value: &FieldValue,
    from: &Provenance,
) -> Result<(), DbErr> {
    enterprise_field_source::ActiveModel {
        enterprise_id: Set(enterprise_id),
        field: Set(field),
        value: Set(value.display()),
        source: Set(from.source),
        source_ref: Set(from.source_ref.clone()),
        by_user_id: Set(from.by_user_id),
        at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)] // one review row: every argument is a column
async fn open_review<C: ConnectionTrait>(
    conn: &C,
    now: chrono::DateTime<chrono::Utc>,
    enterprise_id: i64,
    field: EnterpriseField,
    have: &FieldValue,
    have_source: FieldSource,
    proposed: &FieldValue,
    from: &Provenance,
) -> Result<(), DbErr> {
    // The same proposal waiting already: not twice.
    let open = merge_review::Entity::find()
        .filter(merge_review::Column::EnterpriseId.eq(enterprise_id))
        .filter(merge_review::Column::Field.eq(field))
        .filter(merge_review::Column::Status.eq(ReviewState::Open))
        .filter(merge_review::Column::ProposedValue.eq(proposed.display()))
        .one(conn)
        .await?;
    if open.is_some() {
        return Ok(());
    }
    merge_review::ActiveModel {
        enterprise_id: Set(enterprise_id),
        field: Set(field),
        current_value: Set(have.display()),
        current_source: Set(have_source),
        proposed_value: Set(proposed.display()),
        proposed_source: Set(from.source),
        source_ref: Set(from.source_ref.clone()),
        status: Set(ReviewState::Open),
        decided_by: Set(None),
        decided_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Recomputes the size class (300号 rules) when the figures suffice.
pub async fn reclassify<C: ConnectionTrait>(conn: &C, e: enterprise::Model) -> Result<enterprise::Model, DbErr> {
    let ind = qifu_domain::profiles::Indicators {
        employees: e.employees.map(i64::from),
        revenue: e.revenue_fen.map(qifu_domain::money::Money::from_fen),
        total_assets: e.total_assets_fen.map(qifu_domain::money::Money::from_fen),
    };
    match qifu_domain::profiles::classify(qifu_domain::profiles::SizeGroup::of_industry(&e.industry_code), &ind) {
        Ok(class) if e.size_class != Some(class) => {
            let mut am: enterprise::ActiveModel = e.into();
            am.size_class = Set(Some(class));
            am.update(conn).await
        }
        _ => Ok(e),
    }
}

/// What a new record needs besides name, credit code and legal representative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    FoundedOn,
    Industry,
    Division,
}

impl Missing {
    pub fn label(self) -> &'static str {
        match self {
            Missing::FoundedOn => "成立日期",
            Missing::Industry => "国民经济行业",
            Missing::Division => "所属街道乡镇",
        }
    }
}

/// Creates the record for a credit code from `values`, or, when one exists
/// (known from an import), writes the values to it; links the organisation and
/// marks it certified. A new record needs the founding date, industry and
/// division: the missing ones are returned (and nothing is written).
pub async fn ensure_certified<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    org_id: i64,
    credit_code: &str,
    values: &[(EnterpriseField, FieldValue)],
    from: &Provenance,
) -> Result<Result<enterprise::Model, Vec<Missing>>, DbErr> {
    let now = ctx.now();
    let existing = enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(credit_code)).one(conn).await?;
    let e = match existing {
        Some(e) => {
            let (e, _) = apply(conn, ctx, e, values, from).await?;
            e
        }
        None => {
            let get = |f: EnterpriseField| values.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone());
            let text = |f: EnterpriseField| match get(f) {
                Some(FieldValue::Text(s)) => Some(s),
                _ => None,
            };
            let founded = match get(EnterpriseField::FoundedOn) {
                Some(FieldValue::Date(d)) => Some(d),
                _ => None,
            };
            let (industry, division) = (text(EnterpriseField::Industry), text(EnterpriseField::Division));
            let mut missing = Vec::new();
            if founded.is_none() {
                missing.push(Missing::FoundedOn);
            }
            if industry.is_none() {
                missing.push(Missing::Industry);
            }
            if division.is_none() {
                missing.push(Missing::Division);
            }
            let (Some(founded), Some(industry), Some(division)) = (founded, industry, division) else {
                return Ok(Err(missing));
            };
            let mut am = enterprise::ActiveModel {
                org_id: Set(Some(org_id)),
                name: Set(text(EnterpriseField::Name).unwrap_or_default()),
                credit_code: Set(credit_code.to_owned()),
                legal_rep_name: Set(text(EnterpriseField::LegalRep).unwrap_or_default()),
                industry_code: Set(industry),
                division_code: Set(division),
                founded_on: Set(founded),
                above_designated_size: Set(false),
                certified: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            for (f, v) in values {
                set_field(&mut am, *f, v);
            }
            let e = am.insert(conn).await?;
            for (f, v) in values {
                record_source(conn, now, e.id, *f, v, from).await?;
            }
            // The key itself came from the same source.
            if !values.iter().any(|(f, _)| *f == EnterpriseField::CreditCode) {
                let code = FieldValue::Text(credit_code.to_owned());
                record_source(conn, now, e.id, EnterpriseField::CreditCode, &code, from).await?;
            }
            let e = reclassify(conn, e).await?;
            crate::index::touch(conn, now, qifu_search::Kind::Enterprise, e.id).await?;
            e
        }
    };
    let mut am: enterprise::ActiveModel = e.clone().into();
    am.org_id = Set(Some(org_id));
    am.certified = Set(true);
    am.updated_at = Set(now);
    let e = am.update(conn).await?;
    crate::index::touch(conn, now, qifu_search::Kind::Enterprise, e.id).await?;
    // A new or newly linked enterprise is matched against the open policies (and pushed).
    crate::jobs::enqueue(conn, ctx, &RematchEnterprise { enterprise_id: e.id }, crate::jobs::EnqueueOptions::default()).await?;
    Ok(Ok(e))
}

/// The enterprise record changed: its policy matches are to be redone. Every
/// area that changes a record enqueues it; the policies area registers the
/// handler (so records need not know about policies).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RematchEnterprise {
    pub enterprise_id: i64,
}

impl crate::jobs::Job for RematchEnterprise {
    const KIND: &'static str = "policies.rematch";
}
