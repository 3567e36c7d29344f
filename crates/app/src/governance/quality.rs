//! Data quality (数据质量) in the five dimensions of the tender: rules the
//! operator configures per field (required, format, range, reference table,
//! cross-field, freshness, uniqueness) with weights; a score per record, per
//! source and for the dataset; a report with the top issues and a trend.

use crate::actor::{AccessError, Actor};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use chrono::{DateTime, Duration, Utc};
use qifu_db::entity::{enterprise, quality_rule, quality_score, system_meta};
use qifu_domain::accounts::Permission;
use qifu_domain::governance::{Check, Dimension, EnterpriseField, RuleKind, weighted_score};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Scores every record (nightly, and from the back office).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreAll;

impl crate::jobs::Job for ScoreAll {
    const KIND: &'static str = "governance.score_all";
    const DEADLINE_SECS: u64 = 1800;
}

/// A rule as shipped: field, dimension, kind, lower and upper bounds, weight.
pub type DefaultRule = (EnterpriseField, Dimension, RuleKind, Option<f64>, Option<f64>, i32);

/// The rules a fresh installation starts with (the operator edits them).
pub fn default_rules() -> Vec<DefaultRule> {
    use Dimension as D;
    use EnterpriseField as F;
    use RuleKind as K;
    vec![
        (F::Name, D::Completeness, K::Required, None, None, 3),
        (F::CreditCode, D::Completeness, K::Required, None, None, 3),
        (F::LegalRep, D::Completeness, K::Required, None, None, 2),
        (F::Industry, D::Completeness, K::Required, None, None, 2),
        (F::Division, D::Completeness, K::Required, None, None, 2),
        (F::Address, D::Completeness, K::Required, None, None, 1),
        (F::EntityType, D::Completeness, K::Required, None, None, 1),
        (F::RegisteredCapital, D::Completeness, K::Required, None, None, 1),
        (F::Employees, D::Completeness, K::Required, None, None, 1),
        (F::Revenue, D::Completeness, K::Required, None, None, 1),
        (F::CreditCode, D::Accuracy, K::Valid, None, None, 3),
        (F::Industry, D::Accuracy, K::Reference, None, None, 2),
        (F::Division, D::Accuracy, K::Reference, None, None, 2),
        (F::Employees, D::Accuracy, K::Range, Some(0.0), Some(100_000.0), 1),
        (F::Revenue, D::Accuracy, K::Range, Some(0.0), Some(10_000_000.0), 1),
        (F::Employees, D::Consistency, K::CrossField, None, None, 2),
        (F::FoundedOn, D::Consistency, K::CrossField, None, None, 1),
        (F::Name, D::Timeliness, K::Fresh, None, Some(365.0), 1),
        (F::CreditCode, D::Uniqueness, K::Unique, None, None, 3),
        (F::Name, D::Uniqueness, K::Unique, None, None, 1),
    ]
}

/// The enabled rules, seeded with the defaults on first use.
pub async fn rules<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<Vec<quality_rule::Model>, DbErr> {
    let have = quality_rule::Entity::find().order_by_asc(quality_rule::Column::Id).all(conn).await?;
    if !have.is_empty() {
        return Ok(have.into_iter().filter(|r| r.enabled).collect());
    }
    for (field, dimension, kind, min, max, weight) in default_rules() {
        quality_rule::ActiveModel {
            field: Set(field),
            dimension: Set(dimension),
            kind: Set(kind),
            min_value: Set(min),
            max_value: Set(max),
            weight: Set(weight),
            enabled: Set(true),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    quality_rule::Entity::find().order_by_asc(quality_rule::Column::Id).all(conn).await
}

/// What one record's check found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub field: EnterpriseField,
    pub dimension: Dimension,
    pub message: String,
}

/// The dataset facts a record's uniqueness is checked against.
#[derive(Debug, Default)]
pub struct Population {
    credit_codes: HashMap<String, u32>,
    name_keys: HashMap<String, u32>,
}

impl Population {
    pub fn add(&mut self, e: &enterprise::Model) {
        *self.credit_codes.entry(e.credit_code.clone()).or_default() += 1;
        *self.name_keys.entry(qifu_domain::governance::name_key(&e.name)).or_default() += 1;
    }
}

/// A record's score per dimension and in all (0–100), and its issues.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub by_dimension: HashMap<Dimension, f64>,
    pub total: f64,
    pub issues: Vec<Issue>,
}

/// Checks one record against the rules.
pub fn score(e: &enterprise::Model, rules: &[quality_rule::Model], pop: &Population, now: DateTime<Utc>) -> Score {
    use EnterpriseField as F;
    let present = |f: F| super::records::current(e, f).is_some_and(|v| !v.display().trim().is_empty());
    let number = |f: F| -> Option<f64> {
        match f {
            F::Employees => e.employees.map(f64::from),
            F::Revenue => e.revenue_fen.map(|v| v as f64 / qifu_domain::money::FEN_PER_WAN as f64),
            F::TotalAssets => e.total_assets_fen.map(|v| v as f64 / qifu_domain::money::FEN_PER_WAN as f64),
            F::RegisteredCapital => e.registered_capital_fen.map(|v| v as f64 / qifu_domain::money::FEN_PER_WAN as f64),
            _ => None,
        }
    };
    let mut per: HashMap<Dimension, Vec<(u32, Check)>> = HashMap::new();
    let mut all = Vec::new();
    let mut issues = Vec::new();
    for r in rules {
        let (check, message) = match r.kind {
            RuleKind::Required => (if present(r.field) { Check::Pass } else { Check::Fail }, "未填写".to_owned()),
            RuleKind::Valid => match r.field {
                F::CreditCode => (
                    if qifu_domain::certification::CreditCode::parse(&e.credit_code).is_ok() { Check::Pass } else { Check::Fail },
                    "统一社会信用代码校验位不正确".to_owned(),
                ),
                F::FoundedOn => (Check::Pass, String::new()),
                _ => (Check::NotApplicable, String::new()),
            },
            RuleKind::Reference => match r.field {
                F::Industry => (
                    if qifu_domain::reference::industry::find(&e.industry_code).is_some() { Check::Pass } else { Check::Fail },
                    "行业代码不在 GB/T 4754-2017 中".to_owned(),
                ),
                F::Division => (
                    if qifu_domain::reference::division::street(&e.division_code).is_some() { Check::Pass } else { Check::Fail },
                    "不是通州区的街道或乡镇".to_owned(),
                ),
                _ => (Check::NotApplicable, String::new()),
            },
            RuleKind::Range => match number(r.field) {
                None => (Check::NotApplicable, String::new()),
                Some(v) => {
                    let ok = r.min_value.is_none_or(|m| v >= m) && r.max_value.is_none_or(|m| v <= m);
                    (if ok { Check::Pass } else { Check::Fail }, "数值超出合理范围".to_owned())
                }
            },
            RuleKind::CrossField => match r.field {
                // The size class agrees with the figures it was (or should be) classified from.
                F::Employees => {
                    let ind = qifu_domain::profiles::Indicators {
                        employees: e.employees.map(i64::from),
                        revenue: e.revenue_fen.map(qifu_domain::money::Money::from_fen),
                        total_assets: e.total_assets_fen.map(qifu_domain::money::Money::from_fen),
                    };
                    match qifu_domain::profiles::classify(qifu_domain::profiles::SizeGroup::of_industry(&e.industry_code), &ind) {
                        Ok(c) => (
                            if e.size_class == Some(c) { Check::Pass } else { Check::Fail },
                            format!("企业规模与从业人员、营业收入不一致（按300号标准应为{}）", c.label()),
                        ),
                        Err(_) => (Check::NotApplicable, String::new()),
                    }
                }
                F::FoundedOn => {
                    (if e.founded_on <= now.date_naive() { Check::Pass } else { Check::Fail }, "成立日期晚于今天".to_owned())
                }
                _ => (Check::NotApplicable, String::new()),
            },
            RuleKind::Fresh => {
                let days = r.max_value.unwrap_or(365.0);
                (
                    if (now - e.updated_at) <= Duration::days(days as i64) { Check::Pass } else { Check::Fail },
                    format!("超过{days}天未更新"),
                )
            }
            RuleKind::Unique => match r.field {
                F::CreditCode => (
                    if pop.credit_codes.get(&e.credit_code).copied().unwrap_or(1) <= 1 { Check::Pass } else { Check::Fail },
                    "统一社会信用代码重复".to_owned(),
                ),
                F::Name => (
                    if pop.name_keys.get(&qifu_domain::governance::name_key(&e.name)).copied().unwrap_or(1) <= 1 {
                        Check::Pass
                    } else {
                        Check::Fail
                    },
                    "企业名称与其他记录重复（写法不同）".to_owned(),
                ),
                _ => (Check::NotApplicable, String::new()),
            },
        };
        let w = u32::try_from(r.weight.max(0)).unwrap_or(0);
        per.entry(r.dimension).or_default().push((w, check));
        all.push((w, check));
        if check == Check::Fail {
            issues.push(Issue { field: r.field, dimension: r.dimension, message: message.clone() });
        }
    }
    let by_dimension = per.into_iter().filter_map(|(d, c)| weighted_score(&c).map(|s| (d, s))).collect();
    Score { by_dimension, total: weighted_score(&all).unwrap_or(100.0), issues }
}

/// Scores every record and keeps the dataset's summary for the trend; returns the number of records.
pub async fn score_all(ctx: &Ctx) -> Result<usize, DbErr> {
    let now = ctx.now();
    let rules = rules(&ctx.db, now).await?;
    // Two passes: the population for uniqueness, then the scores.
    let mut pop = Population::default();
    let mut after = 0i64;
    loop {
        let batch = enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(after))
            .order_by_asc(enterprise::Column::Id)
            .limit(5000)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else { break };
        after = last;
        batch.iter().for_each(|e| pop.add(e));
    }
    let mut n = 0;
    let mut sums: HashMap<Dimension, (f64, u32)> = HashMap::new();
    let (mut total_sum, mut low) = (0.0, 0u32);
    let mut issue_counts: HashMap<String, u32> = HashMap::new();
    after = 0;
    loop {
        let batch = enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(after))
            .order_by_asc(enterprise::Column::Id)
            .limit(2000)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else { break };
        after = last;
        let txn = qifu_db::begin_write(&ctx.db).await?;
        quality_score::Entity::delete_many()
            .filter(quality_score::Column::EnterpriseId.is_in(batch.iter().map(|e| e.id).collect::<Vec<_>>()))
            .exec(&txn)
            .await?;
        let mut rows = Vec::with_capacity(batch.len());
        for e in &batch {
            let s = score(e, &rules, &pop, now);
            for (d, v) in &s.by_dimension {
                let x = sums.entry(*d).or_default();
                x.0 += v;
                x.1 += 1;
            }
            total_sum += s.total;
            if s.total < 60.0 {
                low += 1;
            }
            for i in &s.issues {
                *issue_counts.entry(format!("{}：{}", i.field.label(), i.message)).or_default() += 1;
            }
            let d = |k: Dimension| s.by_dimension.get(&k).copied();
            rows.push(quality_score::ActiveModel {
                enterprise_id: Set(e.id),
                completeness: Set(d(Dimension::Completeness)),
                consistency: Set(d(Dimension::Consistency)),
                accuracy: Set(d(Dimension::Accuracy)),
                timeliness: Set(d(Dimension::Timeliness)),
                uniqueness: Set(d(Dimension::Uniqueness)),
                total: Set(s.total),
                issues: Set(serde_json::to_string(&s.issues).unwrap_or_else(|_| "[]".to_owned())),
                computed_at: Set(now),
            });
            n += 1;
        }
        if !rows.is_empty() {
            quality_score::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
    }
    let mut top: Vec<(String, u32)> = issue_counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(10);
    let summary = Summary {
        at: now,
        records: n,
        total: if n == 0 { 0.0 } else { total_sum / n as f64 },
        by_dimension: Dimension::ALL
            .iter()
            .map(|d| (*d, sums.get(d).map(|(s, c)| s / f64::from((*c).max(1))).unwrap_or(100.0)))
            .collect(),
        below_60: low,
        top_issues: top,
    };
    let key = format!("quality_summary:{}", now.format("%Y-%m-%d"));
    let value = serde_json::to_string(&summary).unwrap_or_default();
    system_meta::Entity::delete_by_id(key.clone()).exec(&ctx.db).await?;
    system_meta::ActiveModel { key: Set(key), value: Set(value), updated_at: Set(now) }.insert(&ctx.db).await?;
    Ok(n)
}

/// The dataset's quality on one day.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub at: DateTime<Utc>,
    pub records: usize,
    pub total: f64,
    pub by_dimension: Vec<(Dimension, f64)>,
    pub below_60: u32,
    pub top_issues: Vec<(String, u32)>,
}

/// The quality report: the latest summary, the trend (a summary per day), and the average per source.
#[derive(Debug, Clone)]
pub struct Report {
    pub latest: Option<Summary>,
    pub trend: Vec<Summary>,
    pub by_source: Vec<(qifu_domain::governance::FieldSource, f64, i64)>,
}

pub async fn report(ctx: &Ctx, actor: &Actor) -> Result<Report, AccessError> {
    crate::actor::require(actor, Permission::EnterpriseView)?;
    let rows = system_meta::Entity::find()
        .filter(system_meta::Column::Key.starts_with("quality_summary:"))
        .order_by_asc(system_meta::Column::Key)
        .all(&ctx.db)
        .await?;
    let trend: Vec<Summary> = rows.iter().filter_map(|r| serde_json::from_str(&r.value).ok()).collect();
    let sql = "SELECT s.source AS source, AVG(q.total) AS score, COUNT(*) AS n FROM quality_scores q \
               JOIN (SELECT DISTINCT enterprise_id, source FROM enterprise_field_sources) s ON s.enterprise_id = q.enterprise_id \
               GROUP BY s.source";
    let by_source = ctx
        .db
        .query_all_raw(Statement::from_string(ctx.db.get_database_backend(), sql))
        .await?
        .into_iter()
        .filter_map(|r| {
            let src = qifu_domain::governance::FieldSource::parse(&r.try_get::<String>("", "source").ok()?)?;
            Some((src, r.try_get::<f64>("", "score").ok()?, r.try_get::<i64>("", "n").ok()?))
        })
        .collect();
    Ok(Report { latest: trend.last().cloned(), trend, by_source })
}

/// Runs the scoring now (from the back office; audited).
pub async fn rescore(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    crate::jobs::enqueue(&txn, ctx, &ScoreAll, crate::jobs::EnqueueOptions::default()).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("quality.rescore", "quality", 0, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

/// Saves a rule's weight and whether it is on (audited).
pub async fn set_rule(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, weight: i32, enabled: bool) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let r = quality_rule::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = serde_json::json!({"weight": r.weight, "enabled": r.enabled});
    let mut am: quality_rule::ActiveModel = r.into();
    am.weight = Set(weight.clamp(0, 10));
    am.enabled = Set(enabled);
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "quality.rule",
            "quality_rule",
            id,
            serde_json::json!({"before": before, "after": {"weight": weight, "enabled": enabled}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Every rule, enabled or not, for the back office.
pub async fn all_rules(ctx: &Ctx, actor: &Actor) -> Result<Vec<quality_rule::Model>, AccessError> {
    crate::actor::require(actor, Permission::EnterpriseView)?;
    rules(&ctx.db, ctx.now()).await?;
    Ok(quality_rule::Entity::find().order_by_asc(quality_rule::Column::Id).all(&ctx.db).await?)
}
