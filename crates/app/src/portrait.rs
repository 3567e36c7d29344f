//! The enterprise portrait (企业画像) for the three who may see it: the
//! enterprise itself, platform staff who may view enterprises, and an
//! institution the enterprise chose (one of its demands) — the last only while
//! the enterprise's data-use authorisation is in force. A revoked or expired
//! authorisation hides it at once: nothing is cached.

use crate::actor::{AccessError, Actor};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{category, demand, enterprise, product, quality_score};
use qifu_domain::accounts::{OrgKind, Permission};
use qifu_domain::demands::Party;
use qifu_domain::profiles::portrait::{Score, Signals, portrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// Whose portrait, reached how.
#[derive(Debug, Clone, Copy)]
pub enum Whom {
    /// The signed-in enterprise's own.
    Own,
    /// An enterprise record, from the back office.
    Record(i64),
    /// The enterprise behind a demand, for the demand's institution (or the operator).
    Demand(i64),
}

/// Why a portrait cannot be shown; the page says which.
#[derive(Debug, thiserror::Error)]
pub enum PortraitError {
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The enterprise has no record yet (not certified).
    #[error("企业尚未完成实名认证，暂无企业画像")]
    NoRecord,
    /// An institution asked, and the enterprise's data-use authorisation is not in force.
    #[error("该企业未签署或已撤回数据授权，服务机构不能查看其企业画像")]
    NotAuthorised,
}

impl From<sea_orm::DbErr> for PortraitError {
    fn from(e: sea_orm::DbErr) -> Self {
        PortraitError::Access(AccessError::Db(e))
    }
}

/// What the portrait page shows.
#[derive(Debug, Clone)]
pub struct PortraitView {
    pub enterprise: enterprise::Model,
    pub scores: Vec<Score>,
    pub tags: Vec<String>,
    pub size_reason: String,
    pub quality: Option<quality_score::Model>,
    /// Seen by an institution under the enterprise's authorisation.
    pub under_authorisation: bool,
}

/// The portrait, after checking who may see it. Institution reads are audited
/// as reads of personal data.
pub async fn view(ctx: &Ctx, actor: &Actor, meta: &Meta, whom: Whom) -> Result<PortraitView, PortraitError> {
    let db = &ctx.db;
    let (e, institution) = match whom {
        Whom::Own => {
            if actor.org_kind != OrgKind::Enterprise {
                return Err(AccessError::Forbidden.into());
            }
            let e = enterprise::Entity::find()
                .filter(enterprise::Column::OrgId.eq(actor.org_id))
                .one(db)
                .await?
                .ok_or(PortraitError::NoRecord)?;
            (e, false)
        }
        Whom::Record(id) => {
            crate::actor::require(actor, Permission::EnterpriseView)?;
            (enterprise::Entity::find_by_id(id).one(db).await?.ok_or(AccessError::NotFound)?, false)
        }
        Whom::Demand(id) => {
            let d = crate::demands::view(ctx, actor, id).await?;
            let institution = d.party == Party::Institution;
            if institution && !crate::authorization::data_shared(ctx, d.demand.enterprise_org_id).await? {
                return Err(PortraitError::NotAuthorised);
            }
            let e = enterprise::Entity::find()
                .filter(enterprise::Column::OrgId.eq(d.demand.enterprise_org_id))
                .one(db)
                .await?
                .ok_or(PortraitError::NoRecord)?;
            (e, institution)
        }
    };
    let signals = signals(ctx, &e).await?;
    let profile = crate::profiles::profile_of(&e, Some(e.certified), ctx.now().date_naive());
    let scores = portrait(&profile, &signals);
    let size_reason = crate::profiles::size_reason(&e);
    let quality = quality_score::Entity::find_by_id(e.id).one(db).await?;
    if institution {
        crate::audit::record_read(ctx, actor, meta, "enterprise_portrait", e.id, serde_json::json!({"demand": whom_id(whom)}))
            .await?;
    }
    Ok(PortraitView { tags: signals.tags, enterprise: e, scores, size_reason, quality, under_authorisation: institution })
}

fn whom_id(w: Whom) -> Option<i64> {
    match w {
        Whom::Demand(id) | Whom::Record(id) => Some(id),
        Whom::Own => None,
    }
}

/// Financing and digital demands of the enterprise, its registry status and tags.
async fn signals(ctx: &Ctx, e: &enterprise::Model) -> Result<Signals, sea_orm::DbErr> {
    let db = &ctx.db;
    let (mut financing, mut digital) = (0u32, 0u32);
    if let Some(org) = e.org_id {
        let demands = demand::Entity::find().filter(demand::Column::EnterpriseOrgId.eq(org)).all(db).await?;
        if !demands.is_empty() {
            let cats: HashMap<i64, category::Model> =
                category::Entity::find().all(db).await?.into_iter().map(|c| (c.id, c)).collect();
            let product_ids: Vec<i64> = demands.iter().map(|d| d.product_id).collect();
            let products: HashMap<i64, i64> = product::Entity::find()
                .filter(product::Column::Id.is_in(product_ids))
                .all(db)
                .await?
                .into_iter()
                .map(|p| (p.id, p.category_id))
                .collect();
            for d in &demands {
                let Some(c) = products.get(&d.product_id).and_then(|cid| cats.get(cid)) else { continue };
                let top = c.parent_id.and_then(|p| cats.get(&p)).unwrap_or(c);
                if top.kind.is_financing() {
                    financing += 1;
                } else if [c.name.as_str(), top.name.as_str()].iter().any(|n| n.contains("数字") || n.contains("信息化")) {
                    digital += 1;
                }
            }
        }
    }
    Ok(Signals {
        registry_status: e.registry_status.clone(),
        financing_demands: financing,
        digital_demands: digital,
        tags: e.tags.as_deref().map(qifu_domain::text::split_list).unwrap_or_default(),
    })
}
