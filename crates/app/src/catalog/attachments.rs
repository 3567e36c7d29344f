//! Product attachments (产品附件): brochures, fee schedules, sample contracts.
//! They belong to one product row and change only while that row is editable
//! (draft or rejected); a listed product's attachments change through its
//! revision, so the approved version keeps its files until the revision is
//! approved.

use super::CatalogError;
use super::products::product_for;
use crate::actor::AccessError;
use crate::actor::Actor;
use crate::attachments::{self as att, Owner};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::files::Upload;
use qifu_db::entity::{file, product};
use qifu_domain::accounts::Permission;
use qifu_domain::demands::ProductState;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

pub use crate::attachments::Attachment;
/// Largest attachment accepted.
pub const ATTACHMENT_MAX_BYTES: usize = att::MAX_BYTES;

/// The attachments of a product row, oldest first.
pub async fn list<C: ConnectionTrait>(conn: &C, product_id: i64) -> Result<Vec<Attachment>, DbErr> {
    att::list(conn, Owner::Product(product_id)).await
}

fn editable(p: &product::Model) -> Result<(), CatalogError> {
    match p.status {
        ProductState::Draft | ProductState::Rejected => Ok(()),
        ProductState::Submitted => Err(CatalogError::State("产品正在审核中，审核完成后才能增减附件")),
        _ => Err(CatalogError::State("已上架的产品请先点“保存修改”生成修改稿，再在修改稿中增减附件")),
    }
}

/// Adds an attachment (PDF, JPG or PNG by content, at most 8 MB, five per product).
pub async fn add(ctx: &Ctx, actor: &Actor, meta: &Meta, product_id: i64, upload: &Upload) -> Result<i64, CatalogError> {
    let p = product_for(ctx, actor, product_id).await?;
    crate::actor::require(actor, Permission::ProductManage)?;
    editable(&p)?;
    att::check(upload).map_err(|m| CatalogError::Fields(vec![("attachment", m)]))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let org_id = super::products::institution_org(&txn, p.institution_id).await?;
    let stored = att::add(&txn, ctx, Owner::Product(p.id), org_id, upload)
        .await?
        .map_err(|m| CatalogError::Fields(vec![("attachment", m.replace("最多", "每个产品最多"))]))?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            "product.attachment_add",
            "product",
            p.id,
            serde_json::json!({"after": {"file": stored.original_name, "size": stored.size, "sm3": stored.sm3}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(stored.id)
}

/// Removes an attachment from an editable product row.
pub async fn remove(ctx: &Ctx, actor: &Actor, meta: &Meta, product_id: i64, link_id: i64) -> Result<(), CatalogError> {
    let p = product_for(ctx, actor, product_id).await?;
    crate::actor::require(actor, Permission::ProductManage)?;
    editable(&p)?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let file_id = att::remove(&txn, ctx, Owner::Product(p.id), link_id).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("product.attachment_remove", "product", p.id, serde_json::json!({"before": {"file_id": file_id}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An attachment of a listed product, for anyone.
pub async fn public_file(ctx: &Ctx, product_id: i64, link_id: i64) -> Result<(file::Model, Vec<u8>), AccessError> {
    let listed =
        product::Entity::find_by_id(product_id).filter(product::Column::Status.eq(ProductState::Online)).count(&ctx.db).await?;
    if listed == 0 {
        return Err(AccessError::NotFound);
    }
    att::bytes(ctx, Owner::Product(product_id), link_id).await
}

/// An attachment of any product the actor may manage or review (the read is audited).
pub async fn admin_file(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    product_id: i64,
    link_id: i64,
) -> Result<(file::Model, Vec<u8>), CatalogError> {
    product_for(ctx, actor, product_id).await?;
    let (f, bytes) = att::bytes(ctx, Owner::Product(product_id), link_id).await?;
    audit::record_read(ctx, actor, meta, "product", product_id, serde_json::json!({"file": f.id, "name": f.original_name}))
        .await?;
    Ok((f, bytes))
}

/// A new revision starts with the listed version's attachments.
pub(crate) async fn copy_to<C: ConnectionTrait>(conn: &C, ctx: &Ctx, from: i64, to: i64) -> Result<(), DbErr> {
    att::copy(conn, ctx, Owner::Product(from), Owner::Product(to)).await
}

/// An approved revision's attachments replace the listed version's.
pub(crate) async fn replace<C: ConnectionTrait>(conn: &C, ctx: &Ctx, revision: i64, listed: i64) -> Result<(), DbErr> {
    att::replace(conn, ctx, Owner::Product(revision), Owner::Product(listed)).await
}
