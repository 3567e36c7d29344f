//! Read models for pages and lists. `web` may read through these; only `app` writes.

use crate::entity::{activity, article, enterprise, institution, organisation, policy, product};
use chrono::{DateTime, Utc};
use qifu_domain::accounts::AccountStatus;
use qifu_domain::catalog::{DeliveryMode, Pricing};
use qifu_domain::content::{ArticleKind, ContentState};
use qifu_domain::demands::ProductState;
use qifu_domain::policy::{PolicyLevel, PolicyState};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

/// What the portal home page shows.
#[derive(Debug, Clone, Default)]
pub struct Home {
    pub policies: Vec<policy::Model>,
    pub products: Vec<ProductCard>,
    pub news: Vec<article::Model>,
    pub announcements: Vec<article::Model>,
    pub activities: Vec<activity::Model>,
    pub counts: Counts,
}

/// Headline figures.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub enterprises: u64,
    pub institutions: u64,
    pub products: u64,
    pub policies: u64,
}

/// A product with the name of its institution.
#[derive(Debug, Clone)]
pub struct ProductCard {
    pub product: product::Model,
    pub institution_name: String,
}

pub async fn home<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<Home, DbErr> {
    let counts = home_counts(db).await?;
    home_with(db, now, counts).await
}

/// The headline figures (four counts; the enterprise count reads the whole table).
pub async fn home_counts<C: ConnectionTrait>(db: &C) -> Result<Counts, DbErr> {
    Ok(Counts {
        enterprises: enterprise::Entity::find().count(db).await?,
        institutions: institution::Entity::find().count(db).await?,
        products: product::Entity::find().filter(product::Column::Status.eq(ProductState::Online)).count(db).await?,
        policies: policy::Entity::find().filter(policy::Column::Status.eq(PolicyState::Published)).count(db).await?,
    })
}

/// The home page's lists, with headline figures the caller already has.
pub async fn home_with<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, counts: Counts) -> Result<Home, DbErr> {
    let policies = policy::Entity::find()
        .filter(policy::Column::Status.eq(PolicyState::Published))
        .order_by_desc(policy::Column::PublishDate)
        .order_by_desc(policy::Column::Id)
        .limit(6)
        .all(db)
        .await?;
    let products = latest_products(db, 6).await?;
    let news = articles(db, ArticleKind::News, 6).await?;
    let announcements = articles(db, ArticleKind::Announcement, 4).await?;
    let activities = activity::Entity::find()
        .filter(activity::Column::Status.eq(ContentState::Published))
        .filter(activity::Column::EndsAt.gte(now))
        .order_by_asc(activity::Column::StartsAt)
        .limit(4)
        .all(db)
        .await?;
    Ok(Home { policies, products, news, announcements, activities, counts })
}

async fn articles<C: ConnectionTrait>(db: &C, kind: ArticleKind, n: u64) -> Result<Vec<article::Model>, DbErr> {
    article::Entity::find()
        .filter(article::Column::Kind.eq(kind))
        .filter(article::Column::Status.eq(ContentState::Published))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(n)
        .all(db)
        .await
}

/// The newest online products with their institutions' names (two queries, no N+1).
pub async fn latest_products<C: ConnectionTrait>(db: &C, n: u64) -> Result<Vec<ProductCard>, DbErr> {
    let products = product::Entity::find()
        .filter(product::Column::Status.eq(ProductState::Online))
        .order_by_desc(product::Column::PublishedAt)
        .order_by_desc(product::Column::Id)
        .limit(n)
        .all(db)
        .await?;
    with_institutions(db, products).await
}

/// A page of rows and the total count.
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
}

pub const PER_PAGE: u64 = 15;

fn offset(page: u64) -> u64 {
    page.max(1).saturating_sub(1) * PER_PAGE
}

/// Filters of the portal's policy list; empty values mean "any".
#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    pub level: Option<PolicyLevel>,
    pub support_type: String,
    pub issuer: String,
    /// A tag (分类标签) the policy carries.
    pub tag: String,
    /// Only policies still within their validity on this day.
    pub open_on: Option<chrono::NaiveDate>,
}

pub async fn published_policies<C: ConnectionTrait>(db: &C, f: &PolicyFilter, page: u64) -> Result<Paged<policy::Model>, DbErr> {
    let mut q = policy::Entity::find()
        .filter(policy::Column::Status.is_in([PolicyState::Published, PolicyState::Expired]))
        .order_by_desc(policy::Column::PublishDate)
        .order_by_desc(policy::Column::Id);
    if let Some(level) = f.level {
        q = q.filter(policy::Column::Level.eq(level));
    }
    if !f.support_type.is_empty() {
        q = q.filter(policy::Column::SupportType.eq(f.support_type.as_str()));
    }
    if !f.issuer.is_empty() {
        q = q.filter(policy::Column::Issuer.eq(f.issuer.as_str()));
    }
    if !f.tag.is_empty() {
        q = q.filter(
            sea_orm::Condition::any()
                .add(policy::Column::Tags.eq(f.tag.as_str()))
                .add(policy::Column::Tags.starts_with(format!("{},", f.tag)))
                .add(policy::Column::Tags.ends_with(format!(",{}", f.tag)))
                .add(policy::Column::Tags.contains(format!(",{},", f.tag))),
        );
    }
    if let Some(day) = f.open_on {
        q = q
            .filter(policy::Column::Status.eq(PolicyState::Published))
            .filter(sea_orm::Condition::any().add(policy::Column::ValidUntil.is_null()).add(policy::Column::ValidUntil.gte(day)));
    }
    let total = q.clone().count(db).await?;
    Ok(Paged { items: q.offset(offset(page)).limit(PER_PAGE).all(db).await?, total })
}

/// Tags of public policies, most used first, for the list's filter.
pub async fn policy_tags<C: ConnectionTrait>(db: &C, limit: usize) -> Result<Vec<String>, DbErr> {
    let rows: Vec<String> = policy::Entity::find()
        .filter(policy::Column::Status.is_in([PolicyState::Published, PolicyState::Expired]))
        .filter(policy::Column::Tags.ne(""))
        .select_only()
        .column(policy::Column::Tags)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for t in rows.iter().flat_map(|r| r.split(',')).filter(|t| !t.is_empty()) {
        *counts.entry(t.to_owned()).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(v.into_iter().take(limit).map(|(t, _)| t).collect())
}

/// The key of the policy list's filter options, conservatively: the number of
/// policies, their latest `updated_at`, and the latest search change (every use
/// case that changes a policy records one, even within the same instant). Equal
/// keys mean equal options; all three come from indexes.
pub type PolicyFacetsKey = (i64, Option<chrono::DateTime<chrono::Utc>>, Option<i64>);

pub async fn policy_facets_key<C: ConnectionTrait>(db: &C) -> Result<PolicyFacetsKey, DbErr> {
    use sea_orm::sea_query::{Expr, Func};
    let row: Option<(i64, Option<chrono::DateTime<chrono::Utc>>)> = policy::Entity::find()
        .select_only()
        .column_as(Expr::expr(Func::count(Expr::col(policy::Column::Id))), "n")
        .column_as(Expr::expr(Func::max(Expr::col(policy::Column::UpdatedAt))), "latest")
        .into_tuple()
        .one(db)
        .await?;
    let change: Option<Option<i64>> = crate::entity::search_change::Entity::find()
        .select_only()
        .column_as(Expr::expr(Func::max(Expr::col(crate::entity::search_change::Column::Id))), "last")
        .into_tuple()
        .one(db)
        .await?;
    let (n, latest) = row.unwrap_or((0, None));
    Ok((n, latest, change.flatten()))
}

/// Issuers of public policies, for the list's filter.
pub async fn policy_issuers<C: ConnectionTrait>(db: &C) -> Result<Vec<String>, DbErr> {
    let mut v: Vec<String> = policy::Entity::find()
        .filter(policy::Column::Status.is_in([PolicyState::Published, PolicyState::Expired]))
        .select_only()
        .column(policy::Column::Issuer)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    v.sort();
    Ok(v)
}

/// Listed products related to a policy: those whose name or summary mentions one of its tags.
pub async fn related_products<C: ConnectionTrait>(db: &C, tags: &[String], limit: u64) -> Result<Vec<ProductCard>, DbErr> {
    if tags.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = sea_orm::Condition::any();
    for t in tags.iter().take(8) {
        any = any.add(product::Column::Name.contains(t.as_str())).add(product::Column::Summary.contains(t.as_str()));
    }
    let rows = product::Entity::find()
        .filter(product::Column::Status.eq(ProductState::Online))
        .filter(any)
        .order_by_desc(product::Column::AppliedCount)
        .limit(limit)
        .all(db)
        .await?;
    with_institutions(db, rows).await
}

pub async fn public_policy<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<policy::Model>, DbErr> {
    policy::Entity::find_by_id(id)
        .filter(policy::Column::Status.is_in([PolicyState::Published, PolicyState::Expired]))
        .one(db)
        .await
}

pub async fn public_product<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<ProductCard>, DbErr> {
    let Some(p) = product::Entity::find_by_id(id).filter(product::Column::Status.eq(ProductState::Online)).one(db).await? else {
        return Ok(None);
    };
    Ok(with_institutions(db, vec![p]).await?.pop())
}

/// Product cards (with institution names) for given products, in the same order.
pub async fn cards<C: ConnectionTrait>(db: &C, products: Vec<product::Model>) -> Result<Vec<ProductCard>, DbErr> {
    with_institutions(db, products).await
}

async fn with_institutions<C: ConnectionTrait>(db: &C, products: Vec<product::Model>) -> Result<Vec<ProductCard>, DbErr> {
    let inst_ids: Vec<i64> = products.iter().map(|p| p.institution_id).collect();
    let insts = institution::Entity::find().filter(institution::Column::Id.is_in(inst_ids)).all(db).await?;
    let org_ids: Vec<i64> = insts.iter().map(|i| i.org_id).collect();
    let orgs = organisation::Entity::find().filter(organisation::Column::Id.is_in(org_ids)).all(db).await?;
    Ok(products
        .into_iter()
        .map(|p| {
            let institution_name = insts
                .iter()
                .find(|i| i.id == p.institution_id)
                .and_then(|i| orgs.iter().find(|o| o.id == i.org_id))
                .map(|o| o.name.clone())
                .unwrap_or_default();
            ProductCard { product: p, institution_name }
        })
        .collect())
}

pub async fn published_articles<C: ConnectionTrait>(
    db: &C,
    kind: Option<ArticleKind>,
    page: u64,
) -> Result<Paged<article::Model>, DbErr> {
    let mut q = article::Entity::find()
        .filter(article::Column::Status.eq(ContentState::Published))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id);
    if let Some(k) = kind {
        q = q.filter(article::Column::Kind.eq(k));
    }
    let total = q.clone().count(db).await?;
    Ok(Paged { items: q.offset(offset(page)).limit(PER_PAGE).all(db).await?, total })
}

pub async fn public_article<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<article::Model>, DbErr> {
    article::Entity::find_by_id(id).filter(article::Column::Status.eq(ContentState::Published)).one(db).await
}

pub async fn published_activities<C: ConnectionTrait>(db: &C, page: u64) -> Result<Paged<activity::Model>, DbErr> {
    let q = activity::Entity::find()
        .filter(activity::Column::Status.eq(ContentState::Published))
        .order_by_desc(activity::Column::StartsAt)
        .order_by_desc(activity::Column::Id);
    let total = q.clone().count(db).await?;
    Ok(Paged { items: q.offset(offset(page)).limit(PER_PAGE).all(db).await?, total })
}

pub async fn public_activity<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<activity::Model>, DbErr> {
    activity::Entity::find_by_id(id).filter(activity::Column::Status.eq(ContentState::Published)).one(db).await
}

/// Title matches across public content (the full-text index replaces this).
#[derive(Debug, Clone, Default)]
pub struct SearchHits {
    pub policies: Vec<policy::Model>,
    pub products: Vec<ProductCard>,
    pub articles: Vec<article::Model>,
    pub activities: Vec<activity::Model>,
}

impl SearchHits {
    pub fn total(&self) -> usize {
        self.policies.len() + self.products.len() + self.articles.len() + self.activities.len()
    }
}

pub async fn search_titles<C: ConnectionTrait>(db: &C, term: &str) -> Result<SearchHits, DbErr> {
    let policies = policy::Entity::find()
        .filter(policy::Column::Status.is_in([PolicyState::Published, PolicyState::Expired]))
        .filter(policy::Column::Title.contains(term))
        .order_by_desc(policy::Column::PublishDate)
        .limit(20)
        .all(db)
        .await?;
    let products = product::Entity::find()
        .filter(product::Column::Status.eq(ProductState::Online))
        .filter(sea_orm::Condition::any().add(product::Column::Name.contains(term)).add(product::Column::Summary.contains(term)))
        .order_by_desc(product::Column::PublishedAt)
        .limit(20)
        .all(db)
        .await?;
    let articles = article::Entity::find()
        .filter(article::Column::Status.eq(ContentState::Published))
        .filter(article::Column::Title.contains(term))
        .order_by_desc(article::Column::PublishedAt)
        .limit(20)
        .all(db)
        .await?;
    let activities = activity::Entity::find()
        .filter(activity::Column::Status.eq(ContentState::Published))
        .filter(activity::Column::Title.contains(term))
        .order_by_desc(activity::Column::StartsAt)
        .limit(20)
        .all(db)
        .await?;
    Ok(SearchHits { policies, products: with_institutions(db, products).await?, articles, activities })
}

/// Filters of the portal's product list.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub category_id: Option<i64>,
    pub institution_id: Option<i64>,
    pub delivery_mode: Option<DeliveryMode>,
    pub pricing: Option<Pricing>,
    pub keyword: String,
    /// `newest` (default), `popular` or `rated`.
    pub sort: String,
}

/// Online products matching the filter; a category includes its sub-categories.
pub async fn product_list<C: ConnectionTrait>(db: &C, f: &ProductFilter, page: u64) -> Result<Paged<ProductCard>, DbErr> {
    use crate::entity::category;
    let mut q = product::Entity::find().filter(product::Column::Status.eq(ProductState::Online));
    if let Some(cid) = f.category_id {
        let children: Vec<i64> = category::Entity::find()
            .filter(category::Column::ParentId.eq(cid))
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut ids = vec![cid];
        ids.extend(children);
        q = q.filter(product::Column::CategoryId.is_in(ids));
    }
    if let Some(iid) = f.institution_id {
        q = q.filter(product::Column::InstitutionId.eq(iid));
    }
    if let Some(m) = f.delivery_mode {
        q = q.filter(product::Column::DeliveryMode.eq(m));
    }
    if let Some(p) = f.pricing {
        q = q.filter(product::Column::Pricing.eq(p));
    }
    let kw = f.keyword.trim();
    if !kw.is_empty() {
        q = q
            .filter(sea_orm::Condition::any().add(product::Column::Name.contains(kw)).add(product::Column::Summary.contains(kw)));
    }
    q = match f.sort.as_str() {
        "popular" => q.order_by_desc(product::Column::AppliedCount).order_by_desc(product::Column::Id),
        "rated" => q
            // The same average as `product::Model::rating_avg_x100`, in SQL.
            .order_by_desc(Expr::cust("rating_sum * 100 / CASE WHEN rating_count = 0 THEN 1 ELSE rating_count END"))
            .order_by_desc(product::Column::RatingCount)
            .order_by_desc(product::Column::Id),
        _ => q.order_by_desc(product::Column::PublishedAt).order_by_desc(product::Column::Id),
    };
    let total = q.clone().count(db).await?;
    let products = q.offset(offset(page)).limit(PER_PAGE).all(db).await?;
    Ok(Paged { items: with_institutions(db, products).await?, total })
}

/// Categories as a two-level tree: (top, children).
pub async fn category_tree<C: ConnectionTrait>(
    db: &C,
) -> Result<Vec<(crate::entity::category::Model, Vec<crate::entity::category::Model>)>, DbErr> {
    use crate::entity::category;
    let all = category::Entity::find().order_by_asc(category::Column::Sort).order_by_asc(category::Column::Id).all(db).await?;
    Ok(all
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|top| (top.clone(), all.iter().filter(|c| c.parent_id == Some(top.id)).cloned().collect()))
        .collect())
}

/// An institution as the portal shows it.
#[derive(Debug, Clone)]
pub struct InstitutionView {
    pub institution: institution::Model,
    pub name: String,
    pub credit_code: Option<String>,
}

/// Institutions that are active, by name.
pub async fn active_institutions<C: ConnectionTrait>(db: &C) -> Result<Vec<InstitutionView>, DbErr> {
    let insts = institution::Entity::find().order_by_asc(institution::Column::Id).all(db).await?;
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(insts.iter().map(|i| i.org_id).collect::<Vec<_>>()))
        .filter(organisation::Column::Status.eq(AccountStatus::Active))
        .all(db)
        .await?;
    Ok(insts
        .into_iter()
        .filter_map(|i| {
            let o = orgs.iter().find(|o| o.id == i.org_id)?;
            Some(InstitutionView { name: o.name.clone(), credit_code: o.credit_code.clone(), institution: i })
        })
        .collect())
}

/// One active institution.
pub async fn public_institution<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<InstitutionView>, DbErr> {
    Ok(active_institutions(db).await?.into_iter().find(|i| i.institution.id == id))
}

/// One published rating (评价): stars, comment, when, and for which product.
/// The enterprise is not named.
#[derive(Debug, Clone)]
pub struct RatingRow {
    pub rating: i32,
    pub comment: String,
    pub rated_at: DateTime<Utc>,
    pub product_id: i64,
    pub product_name: String,
}

/// The newest ratings of an institution's products, or of one product.
pub async fn recent_ratings<C: ConnectionTrait>(
    db: &C,
    institution_id: Option<i64>,
    product_id: Option<i64>,
    limit: u64,
) -> Result<Vec<RatingRow>, DbErr> {
    use crate::entity::demand;
    let mut q = demand::Entity::find().filter(demand::Column::Rating.is_not_null()).order_by_desc(demand::Column::RatedAt);
    if let Some(i) = institution_id {
        q = q.filter(demand::Column::InstitutionId.eq(i));
    }
    if let Some(p) = product_id {
        q = q.filter(demand::Column::ProductId.eq(p));
    }
    let rows = q.limit(limit).all(db).await?;
    let names: Vec<(i64, String)> = product::Entity::find()
        .filter(product::Column::Id.is_in(rows.iter().map(|d| d.product_id).collect::<Vec<_>>()))
        .select_only()
        .column(product::Column::Id)
        .column(product::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|d| RatingRow {
            rating: d.rating.unwrap_or(0),
            comment: d.rating_comment.unwrap_or_default(),
            rated_at: d.rated_at.unwrap_or(d.updated_at),
            product_id: d.product_id,
            product_name: names.iter().find(|(id, _)| *id == d.product_id).map(|(_, n)| n.clone()).unwrap_or_default(),
        })
        .collect())
}
