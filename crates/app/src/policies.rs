//! Policies: eligibility rules kept as versions, matching an enterprise (or a
//! visitor's typed attributes) against every open policy — the policy
//! calculator (政策计算器) — and the batch push to eligible enterprises.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::jobs::{self, EnqueueOptions, Job};
use crate::messages;
use chrono::NaiveDate;
use qifu_db::entity::{enterprise, organisation, policy, policy_match, policy_push, policy_rule_version, user};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::accounts::{OrgKind, Permission};
use qifu_domain::messages::MessageCategory;
use qifu_domain::policy::PolicyLevel;
use qifu_domain::policy::PolicyState;
use qifu_domain::policy::{Attribute, Condition, Op, Outcome, Profile, Rule, Verdict, evaluate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("申报条件有误")]
    Rows(Vec<(usize, String)>),
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for PolicyError {
    fn from(e: DbErr) -> Self {
        PolicyError::Access(AccessError::Db(e))
    }
}

/// One row of the rule editor: attribute, operator, value(s) as typed, an
/// optional "any of" group number, and a "not" box.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleRow {
    pub attr: String,
    pub op: String,
    pub value: String,
    /// Rows with the same group (1–9) are alternatives (any of them); rows
    /// without a group must all hold.
    pub group: String,
    pub negate: bool,
}

/// Most rows a rule may have.
pub const RULE_MAX_ROWS: usize = 30;

use qifu_domain::text::split_list;

fn parse_number(s: &str) -> Option<f64> {
    let t: String = s.trim().trim_end_matches(['%', '％', '人', '年']).trim_end_matches("万元").trim().to_owned();
    t.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0 && *n < 1e12)
}

/// Builds the rule from the editor's rows; every row's problem at once.
pub fn rule_from_rows(rows: &[RuleRow]) -> Result<Option<Rule>, Vec<(usize, String)>> {
    let mut errors = Vec::new();
    let rows: Vec<(usize, &RuleRow)> =
        rows.iter().enumerate().filter(|(_, r)| !(r.attr.is_empty() && r.value.trim().is_empty())).collect();
    if rows.len() > RULE_MAX_ROWS {
        return Err(vec![(0, format!("申报条件最多{RULE_MAX_ROWS}条"))]);
    }
    // Groups stay where their first row was, so the trace follows the editor's order.
    enum Slot {
        One(Rule),
        Group(u8),
    }
    let mut top: Vec<Slot> = Vec::new();
    let mut groups: std::collections::BTreeMap<u8, Vec<Rule>> = Default::default();
    for (i, r) in rows {
        let n = i + 1;
        // An operator-defined attribute is written "名称:取值" with the attribute "custom".
        let (attr_code, raw_value) = match (r.attr.trim(), r.value.split_once([':', '：'])) {
            ("custom", Some((name, v))) => (format!("custom:{}", name.trim()), v.to_owned()),
            ("custom", None) => {
                errors.push((n, format!("第{n}条：自定义属性请写成“属性名:数值”，如 出口额:200")));
                continue;
            }
            (code, _) => (code.to_owned(), r.value.clone()),
        };
        let Some(attr) = Attribute::parse_code(&attr_code) else {
            errors.push((n, format!("第{n}条：请选择条件项（自定义属性名不超过20字）")));
            continue;
        };
        let Some(op) = Op::parse(r.op.trim()) else {
            errors.push((n, format!("第{n}条：请选择比较方式")));
            continue;
        };
        let mut cond = Condition { attr: attr.clone(), op, texts: Vec::new(), numbers: Vec::new() };
        let value = raw_value.trim();
        if matches!(&attr, Attribute::Custom(k) if k.chars().any(|c| !c.is_alphanumeric())) {
            errors.push((n, format!("第{n}条：自定义属性名只能包含文字和数字")));
            continue;
        }
        if value.chars().count() > 500 {
            errors.push((n, format!("第{n}条：取值不能超过500字")));
            continue;
        }
        let numeric_op =
            matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le | Op::Between) || (attr.is_numeric() && matches!(op, Op::Eq | Op::Ne));
        if numeric_op {
            if !attr.is_numeric() {
                errors.push((n, format!("第{n}条：“{}”不能比较大小", attr.label())));
                continue;
            }
            let parts = split_list(&value.replace(['~', '～', '至', '-', '–'], ","));
            let nums: Vec<Option<f64>> = parts.iter().map(|p| parse_number(p)).collect();
            let want = if op == Op::Between { 2 } else { 1 };
            if nums.len() != want || nums.iter().any(Option::is_none) {
                errors.push((
                    n,
                    if op == Op::Between {
                        format!("第{n}条：请填写两个数，如 100-500（单位{}）", attr.unit())
                    } else {
                        format!("第{n}条：请填写一个不小于0的数（单位{}）", attr.unit())
                    },
                ));
                continue;
            }
            cond.numbers = nums.into_iter().flatten().collect();
            if op == Op::Between && cond.numbers[0] > cond.numbers[1] {
                errors.push((n, format!("第{n}条：范围的下限不能大于上限")));
                continue;
            }
        } else {
            cond.texts = split_list(value);
            let needs_text = !(matches!(op, Op::Has | Op::NotHas) && attr == Attribute::AboveDesignatedSize);
            if needs_text && cond.texts.is_empty() {
                errors.push((n, format!("第{n}条：请填写取值")));
                continue;
            }
            if cond.texts.iter().any(|t| t.chars().count() > 50 || t.chars().any(|c| matches!(c, '<' | '>' | '"' | '\\'))) {
                errors.push((n, format!("第{n}条：取值包含不允许的字符或过长")));
                continue;
            }
            if attr == Attribute::SizeClass {
                let mapped: Vec<String> = cond
                    .texts
                    .iter()
                    .map(|t| {
                        qifu_domain::profiles::SizeClass::ALL
                            .into_iter()
                            .find(|c| c.label() == t || c.code() == t || c.label().trim_end_matches('型') == t)
                            .map(|c| c.code().to_owned())
                            .unwrap_or_default()
                    })
                    .collect();
                if mapped.iter().any(String::is_empty) {
                    errors.push((n, format!("第{n}条：企业规模只能是 大型、中型、小型、微型")));
                    continue;
                }
                cond.texts = mapped;
            }
            if attr == Attribute::Division {
                let mapped: Vec<String> = cond
                    .texts
                    .iter()
                    .map(|t| {
                        if t == "通州区" || t == "110112" {
                            return "110112".to_owned();
                        }
                        qifu_domain::reference::division::tongzhou_streets()
                            .iter()
                            .find(|s| s.name == t || s.code == t)
                            .map(|s| s.code.to_owned())
                            .unwrap_or_default()
                    })
                    .collect();
                if mapped.iter().any(String::is_empty) {
                    errors.push((n, format!("第{n}条：注册地请填写“通州区”或区内街道、乡镇的名称")));
                    continue;
                }
                cond.texts = mapped;
            }
        }
        let rule = Rule::Cond { cond };
        let rule = if r.negate { Rule::Not { rule: Box::new(rule) } } else { rule };
        match r.group.trim().parse::<u8>().ok().filter(|g| (1..=9).contains(g)) {
            Some(g) => {
                if !groups.contains_key(&g) {
                    top.push(Slot::Group(g));
                }
                groups.entry(g).or_default().push(rule);
            }
            None => top.push(Slot::One(rule)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let rules: Vec<Rule> = top
        .into_iter()
        .map(|slot| match slot {
            Slot::One(r) => r,
            Slot::Group(g) => {
                let mut members = groups.remove(&g).unwrap_or_default();
                if members.len() == 1 { members.remove(0) } else { Rule::Any { rules: members } }
            }
        })
        .collect();
    Ok((!rules.is_empty()).then_some(Rule::All { rules }))
}

/// The editor's rows for a stored rule (rules are always built by the editor:
/// all of conditions, negated conditions and groups of alternatives).
pub fn rows_of(rule: &Rule) -> Vec<RuleRow> {
    fn row(cond: &Condition, group: String, negate: bool) -> RuleRow {
        let value = if cond.numbers.is_empty() {
            cond.texts
                .iter()
                .map(|t| match cond.attr {
                    Attribute::SizeClass => {
                        qifu_domain::profiles::SizeClass::parse(t).map(|c| c.label().to_owned()).unwrap_or_default()
                    }
                    Attribute::Division if t == "110112" => "通州区".to_owned(),
                    Attribute::Division => {
                        qifu_domain::reference::division::street(t).map(|s| s.name.to_owned()).unwrap_or_default()
                    }
                    _ => t.clone(),
                })
                .collect::<Vec<_>>()
                .join("、")
        } else {
            cond.numbers.iter().map(|n| format!("{n}")).collect::<Vec<_>>().join("-")
        };
        match &cond.attr {
            Attribute::Custom(k) => {
                RuleRow { attr: "custom".into(), op: cond.op.code().to_owned(), value: format!("{k}:{value}"), group, negate }
            }
            a => RuleRow { attr: a.code(), op: cond.op.code().to_owned(), value, group, negate },
        }
    }
    fn walk(r: &Rule, group: &str, negate: bool, out: &mut Vec<RuleRow>, next_group: &mut u8) {
        match r {
            Rule::Cond { cond } => out.push(row(cond, group.to_owned(), negate)),
            Rule::Not { rule } => walk(rule, group, !negate, out, next_group),
            Rule::All { rules } => rules.iter().for_each(|x| walk(x, group, negate, out, next_group)),
            Rule::Any { rules } => {
                let g = next_group.to_string();
                *next_group += 1;
                rules.iter().for_each(|x| walk(x, &g, negate, out, next_group));
            }
        }
    }
    let mut out = Vec::new();
    let mut g = 1;
    walk(rule, "", false, &mut out, &mut g);
    out
}

/// The policy's current rule and its version.
pub async fn current_rule<C: ConnectionTrait>(conn: &C, p: &policy::Model) -> Result<Option<(i32, Rule)>, DbErr> {
    if p.rule_version == 0 {
        return Ok(None);
    }
    let row = policy_rule_version::Entity::find()
        .filter(policy_rule_version::Column::PolicyId.eq(p.id))
        .filter(policy_rule_version::Column::Version.eq(p.rule_version))
        .one(conn)
        .await?;
    Ok(row.and_then(|r| serde_json::from_str::<Rule>(&r.rule).ok().map(|rule| (r.version, rule))))
}

/// Saves the editor's rows as the policy's next rule version. Results computed
/// before keep their version. A published policy is pushed again.
pub async fn save_rule(ctx: &Ctx, actor: &Actor, meta: &Meta, policy_id: i64, rows: &[RuleRow]) -> Result<i32, PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let rule = rule_from_rows(rows).map_err(PolicyError::Rows)?;
    let Some(rule) = rule else { return Err(PolicyError::Rows(vec![(0, "请至少填写一条申报条件".to_owned())])) };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = policy::Entity::find_by_id(policy_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let version = p.rule_version + 1;
    let json = serde_json::to_string(&rule).map_err(|_| PolicyError::State("申报条件无法保存"))?;
    policy_rule_version::ActiveModel {
        policy_id: Set(p.id),
        version: Set(version),
        rule: Set(json.clone()),
        created_by: Set(Some(actor.user_id)),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let published = p.status == PolicyState::Published;
    let mut am: policy::ActiveModel = p.into();
    am.rule_version = Set(version);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.rule_save", "policy", policy_id, serde_json::json!({"after": {"version": version, "rule": json}})),
    )
    .await?;
    if published {
        jobs::enqueue(&txn, ctx, &PushPolicy { policy_id, version }, EnqueueOptions::default()).await?;
    }
    txn.commit().await?;
    Ok(version)
}

/// Publishes a draft (or withdrawn) policy and pushes it to eligible enterprises.
pub async fn publish(ctx: &Ctx, actor: &Actor, meta: &Meta, policy_id: i64) -> Result<(), PolicyError> {
    set_status(ctx, actor, meta, policy_id, PolicyState::Published).await
}

/// Withdraws a policy: it leaves the portal and matching.
pub async fn withdraw(ctx: &Ctx, actor: &Actor, meta: &Meta, policy_id: i64) -> Result<(), PolicyError> {
    set_status(ctx, actor, meta, policy_id, PolicyState::Withdrawn).await
}

async fn set_status(ctx: &Ctx, actor: &Actor, meta: &Meta, policy_id: i64, to: PolicyState) -> Result<(), PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = policy::Entity::find_by_id(policy_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let from = p.status;
    if from == to {
        return Err(PolicyError::State(if to == PolicyState::Published { "该政策已发布" } else { "该政策已撤回" }));
    }
    if to == PolicyState::Published && p.valid_until.is_some_and(|d| d < ctx.now().date_naive()) {
        return Err(PolicyError::State("该政策已过有效期，不能发布"));
    }
    let version = p.rule_version;
    let mut am: policy::ActiveModel = p.into();
    am.status = Set(to);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, policy_id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.status", "policy", policy_id, serde_json::json!({"before": {"status": from}, "after": {"status": to}})),
    )
    .await?;
    if to == PolicyState::Published && version > 0 {
        jobs::enqueue(&txn, ctx, &PushPolicy { policy_id, version }, EnqueueOptions::default()).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Policies open for matching on `today`: published, within validity, with a rule.
pub async fn open_policies<C: ConnectionTrait>(conn: &C, today: NaiveDate) -> Result<Vec<(policy::Model, i32, Rule)>, DbErr> {
    let ps = policy::Entity::find()
        .filter(policy::Column::Status.eq(PolicyState::Published))
        .filter(policy::Column::RuleVersion.gt(0))
        .all(conn)
        .await?;
    let ps: Vec<policy::Model> = ps.into_iter().filter(|p| p.valid_until.is_none_or(|d| d >= today)).collect();
    // Every current rule in one query, not one per policy.
    let rules = policy_rule_version::Entity::find()
        .filter(policy_rule_version::Column::PolicyId.is_in(ps.iter().map(|p| p.id).collect::<Vec<_>>()))
        .all(conn)
        .await?;
    Ok(ps
        .into_iter()
        .filter_map(|p| {
            let row = rules.iter().find(|r| r.policy_id == p.id && r.version == p.rule_version)?;
            let rule = serde_json::from_str::<Rule>(&row.rule).ok()?;
            Some((p, row.version, rule))
        })
        .collect())
}

/// One result of the calculator.
#[derive(Debug, Clone)]
pub struct MatchRow {
    pub policy: policy::Model,
    pub version: i32,
    pub outcome: Outcome,
}

/// Best first: 符合, 接近, 待完善, 不符合; then the larger support; then the nearer deadline.
fn sort_rows(rows: &mut [MatchRow]) {
    let rank = |v: Verdict| match v {
        Verdict::Eligible => 0,
        Verdict::Near => 1,
        Verdict::Incomplete => 2,
        Verdict::Ineligible => 3,
    };
    rows.sort_by(|a, b| {
        rank(a.outcome.verdict)
            .cmp(&rank(b.outcome.verdict))
            .then(b.policy.amount_max_wan.unwrap_or(0).cmp(&a.policy.amount_max_wan.unwrap_or(0)))
            .then(
                a.policy
                    .apply_until
                    .or(a.policy.valid_until)
                    .unwrap_or(NaiveDate::MAX)
                    .cmp(&b.policy.apply_until.or(b.policy.valid_until).unwrap_or(NaiveDate::MAX)),
            )
    });
}

/// The enterprise row of the actor's organisation, if it is certified and linked.
pub async fn own_enterprise(ctx: &Ctx, actor: &Actor) -> Result<Option<enterprise::Model>, DbErr> {
    if actor.org_kind != OrgKind::Enterprise {
        return Ok(None);
    }
    enterprise::Entity::find().filter(enterprise::Column::OrgId.eq(actor.org_id)).one(&ctx.db).await
}

/// The calculator for a signed-in enterprise: every open policy against its
/// profile. Results are kept with the rule version they used.
pub async fn calculate_for(ctx: &Ctx, actor: &Actor) -> Result<Option<(enterprise::Model, Vec<MatchRow>)>, DbErr> {
    let Some(e) = own_enterprise(ctx, actor).await? else { return Ok(None) };
    let today = ctx.now().date_naive();
    let profile = crate::profiles::profile_of(&e, None, today);
    // The results already kept, read once; only new or changed ones are written.
    let kept = policy_match::Entity::find().filter(policy_match::Column::EnterpriseId.eq(e.id)).all(&ctx.db).await?;
    let mut rows = Vec::new();
    for (p, version, rule) in open_policies(&ctx.db, today).await? {
        let outcome = evaluate(&rule, &profile);
        let trace = serde_json::to_string(&outcome.trace).unwrap_or_default();
        let same =
            kept.iter().any(|m| m.policy_id == p.id && m.version == version && m.verdict == outcome.verdict && m.trace == trace);
        if !same {
            record(&ctx.db, ctx, p.id, version, e.id, &outcome).await?;
        }
        rows.push(MatchRow { policy: p, version, outcome });
    }
    sort_rows(&mut rows);
    Ok(Some((e, rows)))
}

/// The calculator for a visitor's typed attributes (nothing is stored).
pub async fn calculate_visitor(ctx: &Ctx, profile: &Profile) -> Result<Vec<MatchRow>, DbErr> {
    let today = ctx.now().date_naive();
    let mut rows: Vec<MatchRow> = open_policies(&ctx.db, today)
        .await?
        .into_iter()
        .map(|(p, version, rule)| MatchRow { outcome: evaluate(&rule, profile), policy: p, version })
        .collect();
    sort_rows(&mut rows);
    Ok(rows)
}

/// Keeps a result with its version (once per policy, version and enterprise).
async fn record<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    policy_id: i64,
    version: i32,
    enterprise_id: i64,
    o: &Outcome,
) -> Result<(), DbErr> {
    let trace = serde_json::to_string(&o.trace).unwrap_or_default();
    let existing = policy_match::Entity::find()
        .filter(policy_match::Column::PolicyId.eq(policy_id))
        .filter(policy_match::Column::Version.eq(version))
        .filter(policy_match::Column::EnterpriseId.eq(enterprise_id))
        .one(conn)
        .await?;
    match existing {
        Some(m) => {
            let mut am: policy_match::ActiveModel = m.into();
            am.verdict = Set(o.verdict);
            am.trace = Set(trace);
            am.computed_at = Set(ctx.now());
            am.update(conn).await?;
        }
        None => {
            let row = policy_match::ActiveModel {
                policy_id: Set(policy_id),
                version: Set(version),
                enterprise_id: Set(enterprise_id),
                verdict: Set(o.verdict),
                trace: Set(trace),
                computed_at: Set(ctx.now()),
                ..Default::default()
            };
            if let Err(e) = row.insert(conn).await
                && !qifu_db::is_unique_violation(&e)
            {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Results kept for an enterprise and a policy, newest version first.
pub async fn results_of(ctx: &Ctx, policy_id: i64, enterprise_id: i64) -> Result<Vec<policy_match::Model>, DbErr> {
    policy_match::Entity::find()
        .filter(policy_match::Column::PolicyId.eq(policy_id))
        .filter(policy_match::Column::EnterpriseId.eq(enterprise_id))
        .order_by_desc(policy_match::Column::Version)
        .all(&ctx.db)
        .await
}

/// Attributes an enterprise fills in from the result page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub employees: String,
    pub revenue_wan: String,
    pub total_assets_wan: String,
    pub rd_ratio: String,
    pub qualifications: Vec<String>,
    pub credit_standing: String,
    pub qualifications_given: String,
    /// Operator-defined attributes: name → number as typed.
    pub custom: Vec<(String, String)>,
}

/// Saves what the enterprise filled in and re-matches it in the background.
pub async fn fill_profile(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &ProfileForm) -> Result<(), PolicyError> {
    if !actor.is_org_admin {
        return Err(AccessError::Forbidden.into());
    }
    let e = own_enterprise(ctx, actor).await?.ok_or(PolicyError::State("请先完成企业实名认证，再完善企业信息"))?;
    let mut errors = Vec::new();
    let num = |s: &str, label: &str, errors: &mut Vec<(usize, String)>| -> Option<f64> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let v = parse_number(s);
        if v.is_none() {
            errors.push((0, format!("{label}请填写不小于0的数字")));
        }
        v
    };
    let employees = num(&f.employees, "从业人员", &mut errors);
    let revenue = num(&f.revenue_wan, "年营业收入", &mut errors);
    let assets = num(&f.total_assets_wan, "资产总额", &mut errors);
    let rd = num(&f.rd_ratio, "研发费用占比", &mut errors);
    if rd.is_some_and(|r| r > 100.0) {
        errors.push((0, "研发费用占比不能超过100%".to_owned()));
    }
    let credit = f.credit_standing.trim();
    if !credit.is_empty() && !["A", "B", "C", "D"].contains(&credit) {
        errors.push((0, "信用等级只能是 A、B、C、D".to_owned()));
    }
    let known = qualification_kinds(&ctx.db).await?;
    let quals: Vec<String> = f.qualifications.iter().map(|q| q.trim().to_owned()).filter(|q| known.contains(q)).collect();
    let mut custom: std::collections::BTreeMap<String, f64> =
        e.custom_attrs.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
    for (k, v) in f.custom.iter().take(20) {
        let k = k.trim();
        if k.is_empty() || k.chars().count() > 20 || v.trim().is_empty() {
            continue;
        }
        match parse_number(v) {
            Some(n) => {
                custom.insert(k.to_owned(), n);
            }
            None => errors.push((0, format!("{k}请填写不小于0的数字"))),
        }
    }
    if !errors.is_empty() {
        return Err(PolicyError::Rows(errors));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let id = e.id;
    let mut am: enterprise::ActiveModel = e.into();
    if let Some(v) = employees {
        am.employees = Set(Some(v.round() as i32));
    }
    if let Some(v) = revenue {
        am.revenue_fen = Set(Some((v * qifu_domain::money::FEN_PER_WAN as f64).round() as i64));
    }
    if let Some(v) = assets {
        am.total_assets_fen = Set(Some((v * qifu_domain::money::FEN_PER_WAN as f64).round() as i64));
    }
    if let Some(v) = rd {
        am.rd_ratio_bp = Set(Some((v * 100.0).round() as i32));
    }
    if !credit.is_empty() {
        am.credit_standing = Set(Some(credit.to_owned()));
    }
    if f.qualifications_given == "1" {
        am.qualifications = Set(Some(quals.join(",")));
    }
    if !custom.is_empty() {
        am.custom_attrs = Set(serde_json::to_string(&custom).ok());
    }
    am.updated_at = Set(ctx.now());
    let e = am.update(&txn).await?;
    // New indicators may change the size class: recompute it by the 300号 rules when they suffice.
    let ind = crate::profiles::indicators(&e);
    if let Ok(class) = qifu_domain::profiles::classify(qifu_domain::profiles::SizeGroup::of_industry(&e.industry_code), &ind)
        && e.size_class != Some(class)
    {
        let mut am: enterprise::ActiveModel = e.into();
        am.size_class = Set(Some(class));
        am.update(&txn).await?;
    }
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Enterprise, id).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("enterprise.profile_fill", "enterprise", id, serde_json::json!({})))
        .await?;
    jobs::enqueue(&txn, ctx, &RematchEnterprise { enterprise_id: id }, EnqueueOptions::default()).await?;
    txn.commit().await?;
    Ok(())
}

/// Matches every registered enterprise against one policy version and pushes
/// the eligible ones (once each).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushPolicy {
    pub policy_id: i64,
    pub version: i32,
}

impl Job for PushPolicy {
    const KIND: &'static str = "policies.push";
    /// Matching every enterprise of the district takes a while.
    const DEADLINE_SECS: u64 = 1800;
}

/// Re-matches one enterprise after its record changed. The job is declared
/// where enterprise records change (governance); its handler is here.
pub use crate::governance::records::RematchEnterprise;

/// What a push run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub matched: u64,
    pub eligible: u64,
    pub pushed: u64,
}

/// Pushes one policy to one eligible enterprise unless it opted out or was
/// already pushed: the unique (policy, enterprise) row makes it once.
async fn push_one(ctx: &Ctx, p: &policy::Model, version: i32, e: &enterprise::Model) -> Result<bool, DbErr> {
    let Some(org_id) = e.org_id else { return Ok(false) };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let org = organisation::Entity::find_by_id(org_id).one(&txn).await?;
    if org.as_ref().is_none_or(|o| o.policy_push_opt_out || !o.status.is_active()) {
        return Ok(false);
    }
    let already = policy_push::Entity::find()
        .filter(policy_push::Column::PolicyId.eq(p.id))
        .filter(policy_push::Column::EnterpriseId.eq(e.id))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Ok(false);
    }
    let row = policy_push::ActiveModel {
        policy_id: Set(p.id),
        enterprise_id: Set(e.id),
        org_id: Set(org_id),
        version: Set(version),
        pushed_at: Set(ctx.now()),
        ..Default::default()
    };
    if let Err(err) = row.insert(&txn).await {
        return if qifu_db::is_unique_violation(&err) { Ok(false) } else { Err(err) };
    }
    let admins = user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::IsOrgAdmin.eq(true))
        .filter(user::Column::Status.eq(AccountStatus::Active))
        .all(&txn)
        .await?;
    for u in admins {
        messages::notify(
            &txn,
            ctx,
            u.id,
            MessageCategory::Policy,
            &format!("您的企业符合政策：{}", p.title),
            "根据企业信息匹配，您的企业符合该政策的申报条件，请查看详情并及时申报。",
            Some(&format!("/policies/{}", p.id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// The handler of [`PushPolicy`]: idempotent (a second run pushes nobody twice).
pub async fn push_policy(ctx: &Ctx, job: &PushPolicy) -> Result<PushReport, DbErr> {
    let mut report = PushReport::default();
    let Some(p) = policy::Entity::find_by_id(job.policy_id).one(&ctx.db).await? else { return Ok(report) };
    let today = ctx.now().date_naive();
    if p.status != PolicyState::Published || p.rule_version != job.version || p.valid_until.is_some_and(|d| d < today) {
        return Ok(report);
    }
    let Some((version, rule)) = current_rule(&ctx.db, &p).await? else { return Ok(report) };
    let mut after = 0i64;
    loop {
        let batch = enterprise::Entity::find()
            .filter(enterprise::Column::Id.gt(after))
            .filter(enterprise::Column::OrgId.is_not_null())
            .order_by_asc(enterprise::Column::Id)
            .limit(1000)
            .all(&ctx.db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else { break };
        after = last;
        for e in &batch {
            report.matched += 1;
            let profile = crate::profiles::profile_of(e, None, today);
            // The verdict first; the trace only for results worth keeping.
            if !matches!(qifu_domain::policy::verdict(&rule, &profile), Verdict::Eligible | Verdict::Near) {
                continue;
            }
            let outcome = evaluate(&rule, &profile);
            record(&ctx.db, ctx, p.id, version, e.id, &outcome).await?;
            if outcome.verdict == Verdict::Eligible {
                report.eligible += 1;
                if push_one(ctx, &p, version, e).await? {
                    report.pushed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// The handler of [`RematchEnterprise`]: every open policy for one enterprise.
pub async fn rematch_enterprise(ctx: &Ctx, job: &RematchEnterprise) -> Result<PushReport, DbErr> {
    let mut report = PushReport::default();
    let Some(e) = enterprise::Entity::find_by_id(job.enterprise_id).one(&ctx.db).await? else { return Ok(report) };
    let today = ctx.now().date_naive();
    let profile = crate::profiles::profile_of(&e, None, today);
    for (p, version, rule) in open_policies(&ctx.db, today).await? {
        report.matched += 1;
        let outcome = evaluate(&rule, &profile);
        record(&ctx.db, ctx, p.id, version, e.id, &outcome).await?;
        if outcome.verdict == Verdict::Eligible {
            report.eligible += 1;
            if push_one(ctx, &p, version, &e).await? {
                report.pushed += 1;
            }
        }
    }
    Ok(report)
}

/// Counts for the back office: pushes of a policy.
pub async fn push_count(ctx: &Ctx, policy_id: i64) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    policy_push::Entity::find().filter(policy_push::Column::PolicyId.eq(policy_id)).count(&ctx.db).await
}

/// Policies for the back office, newest first.
pub async fn list_admin(ctx: &Ctx, actor: &Actor) -> Result<Vec<policy::Model>, AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    Ok(policy::Entity::find().order_by_desc(policy::Column::Id).limit(200).all(&ctx.db).await?)
}

pub async fn admin_policy(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(policy::Model, Vec<RuleRow>, u64), AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let p = policy::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let rows = current_rule(&ctx.db, &p).await?.map(|(_, r)| rows_of(&r)).unwrap_or_default();
    let pushes = push_count(ctx, id).await?;
    Ok((p, rows, pushes))
}

/// Support types (支持方式) a policy may offer.
pub const SUPPORT_TYPES: &[&str] = &["资金补贴", "奖励", "贷款贴息", "税收优惠", "资质认定", "租金减免", "其他"];

/// The policy form as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    pub title: String,
    pub doc_no: String,
    pub issuer: String,
    pub level: String,
    pub support_type: String,
    pub amount_max_wan: String,
    pub publish_date: String,
    pub valid_until: String,
    pub summary: String,
    pub body: String,
    pub source_url: String,
    /// 政策解读 (plain text).
    pub interpretation: String,
}

impl PolicyForm {
    /// The form of a stored policy, for editing.
    pub fn of(p: &policy::Model) -> PolicyForm {
        PolicyForm {
            title: p.title.clone(),
            doc_no: p.doc_no.clone().unwrap_or_default(),
            issuer: p.issuer.clone(),
            level: p.level.code().to_owned(),
            support_type: p.support_type.clone(),
            amount_max_wan: p.amount_max_wan.map(|a| a.to_string()).unwrap_or_default(),
            publish_date: p.publish_date.to_string(),
            valid_until: p.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            summary: p.summary.clone(),
            body: p.body.clone(),
            source_url: p.source_url.clone().unwrap_or_default(),
            interpretation: p.interpretation.clone(),
        }
    }
}

/// A checked policy form.
struct ValidPolicy {
    title: String,
    doc_no: Option<String>,
    issuer: String,
    level: PolicyLevel,
    support_type: String,
    amount: Option<i64>,
    publish_date: NaiveDate,
    valid_until: Option<NaiveDate>,
    summary: String,
    body: String,
    source_url: Option<String>,
    interpretation: String,
}

fn clean_line(errors: &mut Vec<(usize, String)>, label: &str, s: &str, min: usize, max: usize) -> String {
    let t = s.trim();
    let n = t.chars().count();
    if n < min {
        errors.push((0, if min <= 1 { format!("请填写{label}") } else { format!("{label}至少{min}个字") }));
    } else if n > max {
        errors.push((0, format!("{label}不能超过{max}个字")));
    } else if t.chars().any(|c| c.is_control() || matches!(c, '<' | '>')) {
        errors.push((0, format!("{label}包含不允许的字符")));
    }
    t.to_owned()
}

fn validate_policy(ctx: &Ctx, f: &PolicyForm) -> Result<ValidPolicy, PolicyError> {
    let mut errors = Vec::new();
    let title = clean_line(&mut errors, "政策标题", &f.title, 4, 200);
    let doc_no = clean_line(&mut errors, "文号", &f.doc_no, 0, 100);
    let issuer = clean_line(&mut errors, "发布机构", &f.issuer, 2, 100);
    let level = PolicyLevel::parse(&f.level);
    if level.is_none() {
        errors.push((0, "请选择政策层级".to_owned()));
    }
    if !SUPPORT_TYPES.contains(&f.support_type.as_str()) {
        errors.push((0, "请选择支持方式".to_owned()));
    }
    let amount = if f.amount_max_wan.trim().is_empty() {
        None
    } else {
        match parse_number(&f.amount_max_wan) {
            Some(v) => Some(v.round() as i64),
            None => {
                errors.push((0, "最高支持金额请填写不小于0的数字（万元）".to_owned()));
                None
            }
        }
    };
    let today = ctx.now().date_naive();
    let date = |s: &str, label: &str, errors: &mut Vec<(usize, String)>| -> Option<NaiveDate> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        if d.is_none() {
            errors.push((0, format!("{label}格式应为 2026-11-29")));
        }
        d
    };
    let publish_date = date(&f.publish_date, "发布日期", &mut errors).unwrap_or(today);
    let valid_until = date(&f.valid_until, "有效期", &mut errors);
    if valid_until.is_some_and(|v| v < publish_date) {
        errors.push((0, "有效期不能早于发布日期".to_owned()));
    }
    let summary = clean_line(&mut errors, "摘要", &f.summary, 1, 500);
    if f.body.chars().count() > 50_000 {
        errors.push((0, "正文不能超过5万字".to_owned()));
    }
    let source = f.source_url.trim();
    if !source.is_empty() && !source.starts_with("https://") && !source.starts_with("http://") {
        errors.push((0, "原文链接应以 http:// 或 https:// 开头".to_owned()));
    } else if source.len() > 500 {
        errors.push((0, "原文链接不能超过500个字符".to_owned()));
    }
    let interpretation = f.interpretation.trim().to_owned();
    if interpretation.chars().count() > 5000 {
        errors.push((0, "政策解读不能超过5000字".to_owned()));
    }
    let Some(level) = level.filter(|_| errors.is_empty()) else {
        return Err(PolicyError::Rows(errors));
    };
    Ok(ValidPolicy {
        title,
        doc_no: (!doc_no.is_empty()).then_some(doc_no),
        issuer,
        level,
        support_type: f.support_type.clone(),
        amount,
        publish_date,
        valid_until,
        body: crate::html::clean(if f.body.trim().is_empty() { &summary } else { &f.body }, &ctx.settings.messages.public_url),
        summary,
        source_url: (!source.is_empty()).then(|| source.to_owned()),
        interpretation,
    })
}

/// Creates a draft policy; returns its id.
pub async fn create_policy(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &PolicyForm) -> Result<i64, PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let v = validate_policy(ctx, f)?;
    let title = v.title.clone();
    let now = ctx.now();
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = policy::ActiveModel {
        title: Set(v.title),
        doc_no: Set(v.doc_no),
        issuer: Set(v.issuer),
        level: Set(v.level),
        publish_date: Set(v.publish_date),
        valid_until: Set(v.valid_until),
        support_type: Set(v.support_type),
        summary: Set(v.summary),
        body: Set(v.body),
        source_url: Set(v.source_url),
        status: Set(PolicyState::Draft),
        created_at: Set(now),
        updated_at: Set(now),
        region: Set("通州区".to_owned()),
        tags: Set(String::new()),
        amount_max_wan: Set(v.amount),
        apply_until: Set(None),
        interpretation: Set(v.interpretation),
        rule_version: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, p.id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.create", "policy", p.id, serde_json::json!({"after": {"title": title}})),
    )
    .await?;
    txn.commit().await?;
    Ok(p.id)
}

/// Suggested conditions (with the words they came from) and keywords for a policy's text.
pub async fn suggestions(
    ctx: &Ctx,
    actor: &Actor,
    id: i64,
) -> Result<(Vec<qifu_domain::policy::parse::Suggestion>, Vec<String>), AccessError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let p = policy::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let text = format!("{}。{}。{}", p.title, p.summary, crate::search::plain_text(&p.body));
    let conds = qifu_domain::policy::parse::suggest(&text);
    let words = tokio::task::spawn_blocking(move || qifu_search::keywords(&text, 8)).await.unwrap_or_default();
    Ok((conds, words))
}

/// The editor rows of suggested conditions.
pub fn suggestion_rows(s: &[qifu_domain::policy::parse::Suggestion]) -> Vec<RuleRow> {
    s.iter().flat_map(|x| rows_of(&Rule::Cond { cond: x.condition.clone() })).collect()
}

/// Saves the policy's tags (comma or 、 separated; at most 12, each up to 16 characters).
pub async fn save_tags(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, input: &str) -> Result<(), PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let tags = split_list(input);
    if tags.len() > 12
        || tags.iter().any(|t| t.chars().count() > 16 || t.chars().any(|c| !c.is_alphanumeric() && c != '“' && c != '”'))
    {
        return Err(PolicyError::Rows(vec![(0, "标签最多12个，每个不超过16个字，只能包含文字和数字".to_owned())]));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = policy::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = p.tags.clone();
    let mut am: policy::ActiveModel = p.into();
    am.tags = Set(tags.join(","));
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.tags", "policy", id, serde_json::json!({"before": before, "after": tags.join(",")})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Whether the actor's enterprise receives policy pushes.
pub async fn push_opted_out(ctx: &Ctx, actor: &Actor) -> Result<bool, DbErr> {
    Ok(organisation::Entity::find_by_id(actor.org_id).one(&ctx.db).await?.is_some_and(|o| o.policy_push_opt_out))
}

/// The enterprise administrator turns policy pushes off or on again.
pub async fn set_push_opt_out(ctx: &Ctx, actor: &Actor, meta: &Meta, opt_out: bool) -> Result<(), PolicyError> {
    if actor.org_kind != OrgKind::Enterprise || !actor.is_org_admin {
        return Err(AccessError::Forbidden.into());
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let org = organisation::Entity::find_by_id(actor.org_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = org.policy_push_opt_out;
    let mut am: organisation::ActiveModel = org.into();
    am.policy_push_opt_out = Set(opt_out);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("org.policy_push", "organisation", actor.org_id, serde_json::json!({"before": before, "after": opt_out})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Edits a policy's record (its rule is edited separately and versioned).
pub async fn update_policy(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, f: &PolicyForm) -> Result<(), PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let v = validate_policy(ctx, f)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let p = policy::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let before = p.title.clone();
    let mut am: policy::ActiveModel = p.into();
    am.title = Set(v.title.clone());
    am.doc_no = Set(v.doc_no);
    am.issuer = Set(v.issuer);
    am.level = Set(v.level);
    am.publish_date = Set(v.publish_date);
    am.valid_until = Set(v.valid_until);
    am.support_type = Set(v.support_type);
    am.summary = Set(v.summary);
    am.body = Set(v.body);
    am.source_url = Set(v.source_url);
    am.amount_max_wan = Set(v.amount);
    am.interpretation = Set(v.interpretation);
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Policy, id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.update", "policy", id, serde_json::json!({"before": {"title": before}, "after": {"title": v.title}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Attachments of a policy (申报表, 实施细则 …).
pub async fn attachments<C: ConnectionTrait>(conn: &C, policy_id: i64) -> Result<Vec<crate::attachments::Attachment>, DbErr> {
    crate::attachments::list(conn, crate::attachments::Owner::Policy(policy_id)).await
}

/// Adds an attachment to a policy (PDF, JPG or PNG by content, 8 MB, five per policy).
pub async fn add_attachment(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    policy_id: i64,
    upload: &crate::files::Upload,
) -> Result<(), PolicyError> {
    use crate::attachments::{self as att, Owner};
    crate::actor::require(actor, Permission::PolicyManage)?;
    att::check(upload).map_err(|m| PolicyError::Rows(vec![(0, m)]))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    policy::Entity::find_by_id(policy_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let stored = att::add(&txn, ctx, Owner::Policy(policy_id), actor.org_id, upload)
        .await?
        .map_err(|m| PolicyError::Rows(vec![(0, m.replace("最多", "每条政策最多"))]))?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "policy.attachment_add",
            "policy",
            policy_id,
            serde_json::json!({"after": {"file": stored.original_name, "sm3": stored.sm3}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn remove_attachment(ctx: &Ctx, actor: &Actor, meta: &Meta, policy_id: i64, link_id: i64) -> Result<(), PolicyError> {
    crate::actor::require(actor, Permission::PolicyManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let file_id = crate::attachments::remove(&txn, ctx, crate::attachments::Owner::Policy(policy_id), link_id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.attachment_remove", "policy", policy_id, serde_json::json!({"before": {"file_id": file_id}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An attachment of a public (published or expired) policy, for anyone; of any policy for its managers.
pub async fn attachment_file(
    ctx: &Ctx,
    actor: Option<&Actor>,
    policy_id: i64,
    link_id: i64,
) -> Result<(qifu_db::entity::file::Model, Vec<u8>), AccessError> {
    let p = policy::Entity::find_by_id(policy_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let public = p.status.is_public();
    if !public && !actor.is_some_and(|a| a.can(Permission::PolicyManage)) {
        return Err(AccessError::NotFound);
    }
    crate::attachments::bytes(ctx, crate::attachments::Owner::Policy(policy_id), link_id).await
}

/// The qualifications enterprises can declare (资质名录), oldest first.
pub async fn qualification_kinds<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, DbErr> {
    use qifu_db::entity::qualification_kind;
    Ok(qualification_kind::Entity::find()
        .order_by_asc(qualification_kind::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|q| q.name)
        .collect())
}

/// The operator adds a qualification to the list.
pub async fn add_qualification_kind(ctx: &Ctx, actor: &Actor, meta: &Meta, name: &str) -> Result<(), PolicyError> {
    use qifu_db::entity::qualification_kind;
    crate::actor::require(actor, Permission::PolicyManage)?;
    let name = name.trim();
    let n = name.chars().count();
    if !(2..=32).contains(&n) || name.chars().any(|c| c.is_control() || matches!(c, '<' | '>' | ',' | '，' | '"' | '\\')) {
        return Err(PolicyError::Rows(vec![(0, "资质名称应为2到32个字，不能包含逗号和尖括号".to_owned())]));
    }
    if qualification_kinds(&ctx.db).await?.iter().any(|q| q == name) {
        return Err(PolicyError::Rows(vec![(0, format!("资质“{name}”已在名录中"))]));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let row = qualification_kind::ActiveModel { name: Set(name.to_owned()), created_at: Set(ctx.now()), ..Default::default() }
        .insert(&txn)
        .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("policy.qualification_add", "qualification_kind", row.id, serde_json::json!({"after": name})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A visitor's typed attributes (query pairs; `qual` repeats) as a profile:
/// anything unknown or malformed is left out, so it counts as not given.
pub fn visitor_profile(pairs: &[(String, String)], known_quals: &[String]) -> Profile {
    let get = |k: &str| {
        pairs.iter().find(|(a, _)| a == k).map(|(_, v)| v.trim().chars().take(40).collect::<String>()).unwrap_or_default()
    };
    let opt = |k: &str| Some(get(k)).filter(|s| !s.is_empty());
    let num = |k: &str| parse_number(&get(k));
    Profile {
        division: opt("division").filter(|d| qifu_domain::reference::division::street(d).is_some()),
        industry: opt("industry").filter(|i| i.chars().all(|c| c.is_ascii_alphanumeric()) && i.len() <= 5),
        size_class: opt("size_class").filter(|s| qifu_domain::profiles::SizeClass::parse(s).is_some()),
        above_designated_size: match get("above").as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        years_since_founding: num("years"),
        employees: num("employees"),
        revenue: num("revenue"),
        total_assets: num("assets"),
        rd_ratio: num("rd"),
        qualifications: (get("quals_given") == "1")
            .then(|| pairs.iter().filter(|(k, v)| k == "qual" && known_quals.contains(v)).map(|(_, v)| v.clone()).collect()),
        credit_standing: opt("credit").filter(|c| ["A", "B", "C", "D"].contains(&c.as_str())),
        certified: None,
        custom: Default::default(),
    }
}

/// The policies area's jobs.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, job: PushPolicy| async move {
        let r = push_policy(&ctx, &job).await?;
        tracing::info!(policy = job.policy_id, version = job.version, ?r, "policy pushed");
        Ok(())
    });
    r.register(|ctx: Ctx, job: RematchEnterprise| async move {
        let r = rematch_enterprise(&ctx, &job).await?;
        tracing::info!(enterprise = job.enterprise_id, ?r, "enterprise re-matched");
        Ok(())
    });
}
