//! Enterprise profiles: back-office listing of the enterprise base.

use crate::access::AccessError;
use crate::accounts::Actor;
use crate::context::Ctx;
use qifu_db::entity::enterprise;
use qifu_domain::accounts::Permission;
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Part of the name, or a credit-code prefix.
    pub q: String,
    pub size_class: Option<String>,
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

/// Lists enterprises for operator and government staff.
pub async fn list_enterprises(
    ctx: &Ctx,
    actor: &Actor,
    filter: &EnterpriseFilter,
    page: u64,
    per_page: u64,
) -> Result<Page<enterprise::Model>, AccessError> {
    crate::accounts::require(actor, Permission::EnterpriseView)?;
    let per_page = per_page.clamp(10, 100);
    let page = page.max(1);
    let mut q = enterprise::Entity::find().order_by_asc(enterprise::Column::Id);
    let term = filter.q.trim();
    // With the search index: name, credit code, legal representative, industry and
    // street, best match first; the size and street filters narrow it further.
    let ranked = if term.is_empty() {
        None
    } else {
        match crate::search::enterprise_ids(ctx, actor, term, 2000).await {
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
        if let Some(s) = filter.size_class.as_deref().filter(|s| !s.is_empty()) {
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
    if !term.is_empty() {
        let upper = term.to_ascii_uppercase();
        q = q.filter(
            Condition::any()
                .add(enterprise::Column::Name.contains(term))
                .add(enterprise::Column::CreditCode.starts_with(&upper))
                .add(enterprise::Column::LegalRepName.eq(term)),
        );
    }
    if let Some(s) = filter.size_class.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(enterprise::Column::SizeClass.eq(s));
    }
    if let Some(d) = filter.division_code.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(enterprise::Column::DivisionCode.eq(d));
    }
    let total = q.clone().count(&ctx.db).await?;
    let items = q.offset((page - 1) * per_page).limit(per_page).all(&ctx.db).await?;
    Ok(Page { items, total, page, per_page })
}
