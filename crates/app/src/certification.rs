//! Enterprise real-name certification (企业实名认证): the enterprise submits its
//! registered name, credit code, legal representative and licence image; the
//! registry decides at once on an exact match, otherwise the operator reviews.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::files::{self, Kind, LICENCE_MAX_BYTES, Upload};
use crate::integrations::registry::RegistryRecord;
use crate::messages;
use qifu_db::entity::{certification, enterprise, organisation, user};
use qifu_domain::accounts::{OrgKind, Permission};
use qifu_domain::certification::{CertificationStatus, MatchResult};
use qifu_domain::certification::{CreditCode, ResidentId, same_name};
use qifu_domain::messages::MessageCategory;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

/// What the enterprise typed.
#[derive(Debug, Clone, Default)]
pub struct CertForm {
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
    pub legal_rep_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("表单有误")]
    Fields(Vec<(&'static str, String)>),
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for CertError {
    fn from(e: DbErr) -> Self {
        CertError::Access(AccessError::Db(e))
    }
}

/// The registry's values as compared, kept with the request (ID masked).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    pub found: bool,
    pub name: String,
    pub credit_code: String,
    pub legal_rep_name: String,
    pub legal_rep_id_masked: String,
    pub legal_rep_id_matches: Option<bool>,
    pub status: String,
    /// Another organisation already certified with this credit code.
    pub conflict_org: Option<String>,
    pub error: Option<String>,
    /// The registry's base fields (营业执照上的信息), where it provides them.
    #[serde(default)]
    pub base: crate::integrations::registry::RegistryBase,
    /// Base fields a new enterprise record needs that the registry did not give:
    /// the reviewer completes them from the licence image.
    #[serde(default)]
    pub incomplete: Vec<String>,
}

/// What the reviewer completes from the licence image when the registry did
/// not give it (every field optional; the ones a new record needs are
/// required then).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReviewInput {
    pub founded_on: String,
    pub industry_code: String,
    pub division_code: String,
    pub entity_type: String,
    pub registered_capital_wan: String,
    pub address: String,
}

/// Outcome of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Certified,
    InReview,
}

/// Only certified enterprises may apply for products, financing and subsidies
/// or receive policy pushes; every such use case calls this.
pub async fn require_certified(ctx: &Ctx, actor: &Actor) -> Result<(), CertError> {
    if actor.org_kind != OrgKind::Enterprise {
        return Err(CertError::State("只有企业用户可以办理"));
    }
    let org = organisation::Entity::find_by_id(actor.org_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    if org.certified_at.is_none() {
        return Err(CertError::State("请先完成企业实名认证"));
    }
    Ok(())
}

/// The enterprise's latest request and whether it is certified.
pub async fn status(ctx: &Ctx, actor: &Actor) -> Result<(Option<certification::Model>, Option<organisation::Model>), DbErr> {
    let latest = certification::Entity::find()
        .filter(certification::Column::OrgId.eq(actor.org_id))
        .order_by_desc(certification::Column::Id)
        .one(&ctx.db)
        .await?;
    let org = organisation::Entity::find_by_id(actor.org_id).one(&ctx.db).await?;
    Ok((latest, org))
}

fn validate(f: &CertForm, licence: &Upload) -> Result<(String, CreditCode, String, ResidentId, Kind), CertError> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = f.name.trim().to_owned();
    if let Err(m) = qifu_domain::accounts::check_org_name(&name) {
        errors.push(("name", m.to_owned()));
    }
    let code = CreditCode::parse(&f.credit_code).map_err(|e| errors.push(("credit_code", e.to_string()))).ok();
    let rep = f.legal_rep_name.trim().to_owned();
    if let Err(m) = qifu_domain::accounts::check_person_name(&rep) {
        errors.push(("legal_rep_name", m.replace("联系人", "法定代表人")));
    }
    let id = ResidentId::parse(&f.legal_rep_id).map_err(|e| errors.push(("legal_rep_id", e.to_string()))).ok();
    let kind = files::check(&licence.bytes, LICENCE_MAX_BYTES, &[Kind::Jpeg, Kind::Png], "JPG 或 PNG 格式的图片")
        .map_err(|e| {
            errors.push((
                "licence",
                match e {
                    files::UploadError::Missing => "请上传营业执照照片或扫描件".to_owned(),
                    other => other.to_string(),
                },
            ))
        })
        .ok();
    match (code, id, kind) {
        (Some(c), Some(i), Some(k)) if errors.is_empty() => Ok((name, c, rep, i, k)),
        _ => Err(CertError::Fields(errors)),
    }
}

fn compare(
    name: &str,
    code: &CreditCode,
    rep: &str,
    id: &ResidentId,
    rec: Option<&RegistryRecord>,
    crypto_mask: impl Fn(&str) -> String,
) -> (bool, Snapshot) {
    match rec {
        None => (false, Snapshot { found: false, ..Default::default() }),
        Some(r) => {
            let id_matches = r.legal_rep_id.as_deref().map(|rid| ResidentId::parse(rid).is_ok_and(|p| p == *id));
            let exact = same_name(name, &r.name)
                && r.credit_code == code.as_str()
                && rep.trim() == r.legal_rep_name.trim()
                && id_matches != Some(false)
                && !qifu_domain::certification::registration_ended(&r.status);
            (
                exact,
                Snapshot {
                    found: true,
                    name: r.name.clone(),
                    credit_code: r.credit_code.clone(),
                    legal_rep_name: r.legal_rep_name.clone(),
                    legal_rep_id_masked: r.legal_rep_id.as_deref().map(&crypto_mask).unwrap_or_default(),
                    legal_rep_id_matches: id_matches,
                    status: r.status.clone(),
                    conflict_org: None,
                    error: None,
                    base: r.base.clone(),
                    incomplete: Vec::new(),
                },
            )
        }
    }
}

fn mask_id(raw: &str) -> String {
    ResidentId::parse(raw).map(|r| r.masked()).unwrap_or_else(|_| "****".to_owned())
}

/// Submits a certification request for the actor's enterprise.
pub async fn submit(ctx: &Ctx, actor: &Actor, meta: &Meta, f: &CertForm, licence: &Upload) -> Result<Outcome, CertError> {
    if actor.org_kind != OrgKind::Enterprise || !actor.is_org_admin {
        return Err(AccessError::Forbidden.into());
    }
    let (latest, org) = status(ctx, actor).await?;
    if org.as_ref().is_some_and(|o| o.certified_at.is_some()) {
        return Err(CertError::State("贵企业已完成实名认证"));
    }
    if latest.as_ref().is_some_and(|c| c.status == CertificationStatus::Review) {
        return Err(CertError::State("已有认证申请正在审核中，请等待审核结果"));
    }
    let (name, code, rep, id, kind) = validate(f, licence)?;
    let registry = ctx.registry.lookup(&code).await;
    let (mut exact, mut snap) = match &registry {
        Ok(rec) => compare(&name, &code, &rep, &id, rec.as_ref(), mask_id),
        Err(e) => (false, Snapshot { error: Some(e.to_string()), ..Default::default() }),
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let holder = organisation::Entity::find()
        .filter(organisation::Column::CreditCode.eq(code.as_str()))
        .filter(organisation::Column::Id.ne(actor.org_id))
        .one(&txn)
        .await?;
    if let Some(h) = &holder {
        exact = false;
        snap.conflict_org = Some(h.name.clone());
    }
    // A new enterprise record needs its founding date, industry and street: if
    // the registry did not give them, a reviewer completes them from the licence.
    let known = enterprise::Entity::find().filter(enterprise::Column::CreditCode.eq(code.as_str())).one(&txn).await?.is_some();
    if !known {
        let b = &snap.base;
        for (missing, label) in [
            (b.founded_on.is_none(), "成立日期"),
            (b.industry_code.is_none(), "国民经济行业"),
            (b.division_code.is_none(), "所属街道乡镇"),
        ] {
            if missing {
                snap.incomplete.push(label.to_owned());
            }
        }
        if !snap.incomplete.is_empty() {
            exact = false;
        }
    }
    let match_result = if snap.conflict_org.is_some() {
        MatchResult::Conflict
    } else if snap.error.is_some() {
        MatchResult::Unavailable
    } else if !snap.found {
        MatchResult::NotFound
    } else if exact {
        MatchResult::Match
    } else {
        MatchResult::Mismatch
    };
    let file =
        files::store(&txn, ctx, actor.org_id, qifu_domain::files::FilePurpose::Licence, &licence.file_name, kind, &licence.bytes)
            .await
            .map_err(|e| CertError::Fields(vec![("licence", e.to_string())]))?;
    let now = ctx.now();
    let row = certification::ActiveModel {
        org_id: Set(actor.org_id),
        user_id: Set(actor.user_id),
        name: Set(name.clone()),
        credit_code: Set(code.to_string()),
        legal_rep_name: Set(rep.clone()),
        legal_rep_id_enc: Set(ctx.crypto.encrypt(id.as_str())),
        legal_rep_id_hash: Set(ctx.crypto.blind_index(id.as_str())),
        legal_rep_id_masked: Set(id.masked()),
        licence_file_id: Set(Some(file.id)),
        status: Set(if exact { CertificationStatus::Certified } else { CertificationStatus::Review }),
        match_result: Set(match_result),
        registry_snapshot: Set(serde_json::to_string(&snap).unwrap_or_default()),
        reviewer_id: Set(None),
        review_reason: Set(None),
        created_at: Set(now),
        decided_at: Set(if exact { Some(now) } else { None }),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "certification.submit",
            "certification",
            row.id,
            serde_json::json!({"after": {"name": name, "credit_code": code.as_str(), "legal_rep": rep, "legal_rep_id": id.masked(), "match": match_result}}),
        ),
    )
    .await?;
    if exact {
        certify(&txn, ctx, &row, None, None).await?;
        messages::notify(
            &txn,
            ctx,
            actor.user_id,
            MessageCategory::Certification,
            "企业实名认证已通过",
            "贵企业的实名认证信息与登记信息一致，认证已通过。",
            Some("/account/certification"),
        )
        .await?;
    } else {
        messages::notify(
            &txn,
            ctx,
            actor.user_id,
            MessageCategory::Certification,
            "企业实名认证已提交人工审核",
            "您提交的认证信息未能与登记信息自动核对一致，已转运营人员审核，审核结果将通过站内信通知您。",
            Some("/account/certification"),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(if exact { Outcome::Certified } else { Outcome::InReview })
}

/// Marks the organisation certified and creates or links its enterprise record
/// (一企一档) from the registry's values and what the reviewer completed.
async fn certify<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    c: &certification::Model,
    review: Option<&ReviewInput>,
    reviewer: Option<i64>,
) -> Result<(), CertError> {
    let org = organisation::Entity::find_by_id(c.org_id).one(conn).await?.ok_or(AccessError::NotFound)?;
    let mut am: organisation::ActiveModel = org.into();
    am.credit_code = Set(Some(c.credit_code.clone()));
    am.name = Set(c.name.clone());
    am.certified_at = Set(Some(ctx.now()));
    am.updated_at = Set(ctx.now());
    am.update(conn).await.map_err(|e| {
        if qifu_db::is_unique_violation(&e) {
            CertError::State("该统一社会信用代码已被其他企业认证")
        } else {
            e.into()
        }
    })?;
    use crate::governance::records::{FieldValue, Provenance, ensure_certified};
    use qifu_domain::governance::EnterpriseField as F;
    let snap: Snapshot = serde_json::from_str(&c.registry_snapshot).unwrap_or_default();
    // The registry's values, as the registry's.
    let mut registry_values: Vec<(F, FieldValue)> = Vec::new();
    if snap.found {
        registry_values.push((F::Name, FieldValue::Text(snap.name.clone())));
        registry_values.push((F::LegalRep, FieldValue::Text(snap.legal_rep_name.clone())));
        if !snap.status.is_empty() {
            registry_values.push((F::RegistryStatus, FieldValue::Text(snap.status.clone())));
        }
        let b = &snap.base;
        if let Some(v) = &b.entity_type {
            registry_values.push((F::EntityType, FieldValue::Text(v.clone())));
        }
        if let Some(v) = b.founded_on {
            registry_values.push((F::FoundedOn, FieldValue::Date(v)));
        }
        if let Some(v) = b.registered_capital_fen {
            registry_values.push((F::RegisteredCapital, FieldValue::Money(v)));
        }
        if let Some(v) = &b.address {
            registry_values.push((F::Address, FieldValue::Text(v.clone())));
        }
        if let Some(v) = &b.division_code {
            registry_values.push((F::Division, FieldValue::Text(v.clone())));
        }
        if let Some(v) = &b.industry_code {
            registry_values.push((F::Industry, FieldValue::Text(v.clone())));
        }
    }
    // What the reviewer confirmed: the certified name and legal representative,
    // and the base fields completed from the licence.
    let mut reviewed: Vec<(F, FieldValue)> = Vec::new();
    if !snap.found {
        reviewed.push((F::Name, FieldValue::Text(c.name.clone())));
        reviewed.push((F::LegalRep, FieldValue::Text(c.legal_rep_name.clone())));
    }
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    if let Some(r) = review {
        let today = ctx.now().date_naive();
        if !r.founded_on.trim().is_empty() {
            match qifu_domain::governance::parse_date(&r.founded_on).filter(|d| *d <= today) {
                Some(d) => reviewed.push((F::FoundedOn, FieldValue::Date(d))),
                None => errors.push(("founded_on", "成立日期不是有效的日期（如 2020-01-02），且不能晚于今天".to_owned())),
            }
        }
        if !r.industry_code.trim().is_empty() {
            match qifu_domain::governance::clean_industry(&r.industry_code) {
                Some(code) => reviewed.push((F::Industry, FieldValue::Text(code))),
                None => errors.push(("industry_code", "不是 GB/T 4754-2017 的行业代码".to_owned())),
            }
        }
        if !r.division_code.trim().is_empty() {
            match qifu_domain::governance::clean_division(&r.division_code) {
                Some(code) => reviewed.push((F::Division, FieldValue::Text(code))),
                None => errors.push(("division_code", "请选择通州区的街道或乡镇".to_owned())),
            }
        }
        if !r.entity_type.trim().is_empty() {
            reviewed.push((
                F::EntityType,
                FieldValue::Text(qifu_domain::governance::clean_text(&r.entity_type).chars().take(50).collect()),
            ));
        }
        if !r.registered_capital_wan.trim().is_empty() {
            match qifu_domain::governance::parse_number(&r.registered_capital_wan) {
                Some(n) => reviewed.push((F::RegisteredCapital, FieldValue::Money(qifu_domain::governance::wan_to_fen(n)))),
                None => errors.push(("registered_capital_wan", "注册资本应为不小于0的数字（万元）".to_owned())),
            }
        }
        if !r.address.trim().is_empty() {
            reviewed.push((
                F::Address,
                FieldValue::Text(qifu_domain::governance::clean_text(&r.address).chars().take(200).collect()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(CertError::Fields(errors));
    }
    let cert_ref = Some(format!("certification:{}", c.id));
    let from_registry =
        Provenance { source: qifu_domain::governance::FieldSource::Registry, source_ref: cert_ref.clone(), by_user_id: None };
    let from_review =
        Provenance { source: qifu_domain::governance::FieldSource::Review, source_ref: cert_ref, by_user_id: reviewer };
    // The reviewer's values complete the registry's (a field given by both: the registry's).
    let mut values = registry_values.clone();
    for (f, v) in &reviewed {
        if !values.iter().any(|(k, _)| k == f) {
            values.push((*f, v.clone()));
        }
    }
    let e = match ensure_certified(conn, ctx, c.org_id, &c.credit_code, &values, &from_registry).await? {
        Ok(e) => e,
        Err(missing) => {
            let fields: Vec<(&'static str, String)> = missing
                .iter()
                .map(|m| {
                    let f = match m {
                        crate::governance::records::Missing::FoundedOn => "founded_on",
                        crate::governance::records::Missing::Industry => "industry_code",
                        crate::governance::records::Missing::Division => "division_code",
                    };
                    (f, format!("登记信息中没有{}，请根据营业执照补充后再通过", m.label()))
                })
                .collect();
            return Err(CertError::Fields(fields));
        }
    };
    // The provenance of what the reviewer supplied says so (it was written as the registry's above).
    let now = ctx.now();
    for (f, v) in &reviewed {
        if !registry_values.iter().any(|(k, _)| k == f) {
            crate::governance::records::record_source(conn, now, e.id, *f, v, &from_review).await?;
        }
    }
    Ok(())
}

/// A request in the review queue with the submitter's organisation.
#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub cert: certification::Model,
    pub snapshot: Snapshot,
    pub submitter: String,
}

pub async fn list_reviews(
    ctx: &Ctx,
    actor: &Actor,
    status: Option<CertificationStatus>,
    page: u64,
) -> Result<(Vec<ReviewRow>, u64), AccessError> {
    crate::actor::require(actor, Permission::CertificationReview)?;
    let mut q = certification::Entity::find().order_by_desc(certification::Column::Id);
    if let Some(s) = status {
        q = q.filter(certification::Column::Status.eq(s));
    }
    let total = q.clone().count(&ctx.db).await?;
    let rows = q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?;
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(rows.iter().map(|r| r.user_id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|c| ReviewRow {
                snapshot: serde_json::from_str(&c.registry_snapshot).unwrap_or_default(),
                submitter: users.iter().find(|u| u.id == c.user_id).map(|u| u.display_name.clone()).unwrap_or_default(),
                cert: c,
            })
            .collect(),
        total,
    ))
}

pub async fn review_detail(ctx: &Ctx, actor: &Actor, id: i64) -> Result<ReviewRow, AccessError> {
    crate::actor::require(actor, Permission::CertificationReview)?;
    let c = certification::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let submitter = user::Entity::find_by_id(c.user_id).one(&ctx.db).await?.map(|u| u.display_name).unwrap_or_default();
    Ok(ReviewRow { snapshot: serde_json::from_str(&c.registry_snapshot).unwrap_or_default(), submitter, cert: c })
}

/// Approves or rejects a request in review. A rejection needs a reason; the
/// enterprise is notified either way and may resubmit after a rejection.
pub async fn decide(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    id: i64,
    approve: bool,
    reason: &str,
    review: &ReviewInput,
) -> Result<(), CertError> {
    crate::actor::require(actor, Permission::CertificationReview)?;
    let reason = reason.trim();
    if !approve && reason.chars().count() < 2 {
        return Err(CertError::Fields(vec![("reason", "驳回时请填写原因，便于企业修改后重新提交".to_owned())]));
    }
    if reason.chars().count() > 500 {
        return Err(CertError::Fields(vec![("reason", "原因不能超过500字".to_owned())]));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let c = certification::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if c.status != CertificationStatus::Review {
        return Err(CertError::State("该申请已处理"));
    }
    if approve {
        let holder = organisation::Entity::find()
            .filter(organisation::Column::CreditCode.eq(c.credit_code.as_str()))
            .filter(organisation::Column::Id.ne(c.org_id))
            .one(&txn)
            .await?;
        if holder.is_some() {
            return Err(CertError::State("该统一社会信用代码已被其他企业认证，请先核实并处理冲突后再通过"));
        }
        certify(&txn, ctx, &c, Some(review), Some(actor.user_id)).await?;
    }
    let status = if approve { CertificationStatus::Certified } else { CertificationStatus::Rejected };
    let mut am: certification::ActiveModel = c.clone().into();
    am.status = Set(status);
    am.reviewer_id = Set(Some(actor.user_id));
    am.review_reason = Set(if reason.is_empty() { None } else { Some(reason.to_owned()) });
    am.decided_at = Set(Some(ctx.now()));
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            if approve { "certification.approve" } else { "certification.reject" },
            "certification",
            id,
            serde_json::json!({"before": {"status": CertificationStatus::Review}, "after": {"status": status, "reason": reason}}),
        ),
    )
    .await?;
    let (title, body) = if approve {
        ("企业实名认证已通过".to_owned(), "经运营人员审核，贵企业的实名认证已通过。".to_owned())
    } else {
        ("企业实名认证未通过".to_owned(), format!("经运营人员审核，贵企业的实名认证未通过，原因：{reason}。请修改后重新提交。"))
    };
    messages::notify(&txn, ctx, c.user_id, MessageCategory::Certification, &title, &body, Some("/account/certification")).await?;
    txn.commit().await?;
    Ok(())
}
