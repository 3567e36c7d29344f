//! The review queue (数据核对): two sources disagreeing on a field a data clerk
//! decides; accepting the proposal updates the golden record and its provenance.

use super::records::{FieldValue, Provenance, current, record_source};
use crate::actor::{AccessError, Actor};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{enterprise, field_policy, merge_review};
use qifu_domain::accounts::Permission;
use qifu_domain::governance::{EnterpriseField, FieldSource, ReviewState, Survivorship};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<sea_orm::DbErr> for ReviewError {
    fn from(e: sea_orm::DbErr) -> Self {
        ReviewError::Access(AccessError::Db(e))
    }
}

/// A waiting conflict with its enterprise's name.
#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub review: merge_review::Model,
    pub enterprise_name: String,
}

/// The queue: open conflicts first, newest first.
pub async fn list(ctx: &Ctx, actor: &Actor, state: Option<ReviewState>, page: u64) -> Result<(Vec<ReviewRow>, u64), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let mut q = merge_review::Entity::find().order_by_desc(merge_review::Column::Id);
    q = q.filter(merge_review::Column::Status.eq(state.unwrap_or(ReviewState::Open)));
    let total = q.clone().count(&ctx.db).await?;
    let rows = q.offset(page.max(1).saturating_sub(1) * 30).limit(30).all(&ctx.db).await?;
    let names = enterprise::Entity::find()
        .filter(enterprise::Column::Id.is_in(rows.iter().map(|r| r.enterprise_id).collect::<Vec<_>>()))
        .all(&ctx.db)
        .await?;
    Ok((
        rows.into_iter()
            .map(|r| ReviewRow {
                enterprise_name: names.iter().find(|e| e.id == r.enterprise_id).map(|e| e.name.clone()).unwrap_or_default(),
                review: r,
            })
            .collect(),
        total,
    ))
}

/// Open conflicts of one record.
pub async fn open_for(ctx: &Ctx, enterprise_id: i64) -> Result<Vec<merge_review::Model>, sea_orm::DbErr> {
    merge_review::Entity::find()
        .filter(merge_review::Column::EnterpriseId.eq(enterprise_id))
        .filter(merge_review::Column::Status.eq(ReviewState::Open))
        .all(&ctx.db)
        .await
}

/// The value a proposal's text stands for, in the field's type.
fn parse_value(field: EnterpriseField, text: &str) -> Option<FieldValue> {
    use EnterpriseField as F;
    Some(match field {
        F::FoundedOn => FieldValue::Date(qifu_domain::governance::parse_date(text)?),
        F::RegisteredCapital | F::Revenue | F::TotalAssets => {
            FieldValue::Money(qifu_domain::governance::wan_to_fen(qifu_domain::governance::parse_number(text)?))
        }
        F::Employees => FieldValue::Int(i32::try_from(qifu_domain::governance::parse_number(text)?.round() as i64).ok()?),
        F::AboveDesignatedSize => FieldValue::Bool(text == "是"),
        _ => FieldValue::Text(text.to_owned()),
    })
}

/// Decides a conflict: `accept` writes the proposed value to the record (with
/// its original source in the provenance, confirmed by the clerk); otherwise
/// the current value stays. Audited.
pub async fn decide(ctx: &Ctx, actor: &Actor, meta: &Meta, id: i64, accept: bool) -> Result<(), ReviewError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let r = merge_review::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if r.status != ReviewState::Open {
        return Err(ReviewError::State("该差异已处理"));
    }
    let e = enterprise::Entity::find_by_id(r.enterprise_id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    let now = ctx.now();
    if accept {
        let value = parse_value(r.field, &r.proposed_value).ok_or(ReviewError::State("提议的值无法写入该字段"))?;
        if current(&e, r.field).as_ref() != Some(&value) {
            // Written as the clerk's decision on the proposed source's value.
            let from = Provenance {
                source: r.proposed_source,
                source_ref: Some(format!("review:{}", r.id)),
                by_user_id: Some(actor.user_id),
            };
            let mut am: enterprise::ActiveModel = e.clone().into();
            super::records::set_field(&mut am, r.field, &value);
            am.updated_at = Set(now);
            let e = am.update(&txn).await?;
            record_source(&txn, now, e.id, r.field, &value, &from).await?;
            let e = super::records::reclassify(&txn, e).await?;
            crate::index::touch(&txn, now, qifu_search::Kind::Enterprise, e.id).await?;
        }
    }
    let mut am: merge_review::ActiveModel = r.clone().into();
    am.status = Set(if accept { ReviewState::Accepted } else { ReviewState::Kept });
    am.decided_by = Set(Some(actor.user_id));
    am.decided_at = Set(Some(now));
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "enterprise.review",
            "enterprise",
            r.enterprise_id,
            serde_json::json!({"field": r.field, "before": r.current_value, "proposed": r.proposed_value,
                "from": r.proposed_source, "accepted": accept}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a field's survivorship rule (audited).
pub async fn set_rule(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    field: EnterpriseField,
    rule: Survivorship,
) -> Result<(), AccessError> {
    crate::actor::require(actor, Permission::EnterpriseManage)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let before = super::records::policies(&txn).await?.get(&field).copied();
    field_policy::Entity::delete_by_id(field).exec(&txn).await?;
    field_policy::ActiveModel { field: Set(field), rule: Set(rule), updated_at: Set(ctx.now()) }.insert(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "enterprise.survivorship",
            "field_policy",
            0,
            serde_json::json!({"field": field, "before": before, "after": rule}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The sources in trust order, for the page explaining survivorship.
pub fn trust_order() -> Vec<FieldSource> {
    let mut s = FieldSource::ALL.to_vec();
    s.sort_by_key(|x| std::cmp::Reverse(x.trust()));
    s
}
