//! Product attachments (产品附件): brochures, fee schedules, sample contracts.
//! They belong to one product row and change only while that row is editable
//! (draft or rejected); a listed product's attachments change through its
//! revision, so the approved version keeps its files until the revision is
//! approved.

use super::CatalogError;
use super::products::product_for;
use crate::access::AccessError;
use crate::accounts::Actor;
use crate::audit::{self, Entry};
use crate::certification::Upload;
use crate::context::{Ctx, Meta};
use crate::files::{self, Kind};
use qifu_db::entity::{file, product, product_file};
use qifu_domain::accounts::Permission;
use qifu_domain::demands::ProductState;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

/// Largest attachment accepted.
pub const ATTACHMENT_MAX_BYTES: usize = 8 * 1024 * 1024;
/// Attachments per product.
pub const ATTACHMENTS_MAX: u64 = 5;

/// An attachment as listed: the link row id and the file's name and size.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub content_type: String,
}

/// The attachments of a product row, oldest first.
pub async fn list<C: ConnectionTrait>(conn: &C, product_id: i64) -> Result<Vec<Attachment>, DbErr> {
    let links = product_file::Entity::find()
        .filter(product_file::Column::ProductId.eq(product_id))
        .order_by_asc(product_file::Column::Id)
        .all(conn)
        .await?;
    let files = file::Entity::find().filter(file::Column::Id.is_in(links.iter().map(|l| l.file_id))).all(conn).await?;
    Ok(links
        .into_iter()
        .filter_map(|l| {
            files.iter().find(|f| f.id == l.file_id).map(|f| Attachment {
                id: l.id,
                name: f.original_name.clone(),
                size: f.size,
                content_type: f.content_type.clone(),
            })
        })
        .collect())
}

fn editable(p: &product::Model) -> Result<(), CatalogError> {
    match ProductState::parse(&p.status) {
        Some(ProductState::Draft | ProductState::Rejected) => Ok(()),
        Some(ProductState::Submitted) => Err(CatalogError::State("产品正在审核中，审核完成后才能增减附件")),
        _ => Err(CatalogError::State("已上架的产品请先点“保存修改”生成修改稿，再在修改稿中增减附件")),
    }
}

/// Adds an attachment (PDF, JPG or PNG by content, at most 8 MB, five per product).
pub async fn add(ctx: &Ctx, actor: &Actor, meta: &Meta, product_id: i64, upload: &Upload) -> Result<i64, CatalogError> {
    let p = product_for(ctx, actor, product_id).await?;
    crate::accounts::require(actor, Permission::ProductManage)?;
    editable(&p)?;
    let kind = files::check(&upload.bytes, ATTACHMENT_MAX_BYTES, &[Kind::Pdf, Kind::Jpeg, Kind::Png], "PDF、JPG 或 PNG 文件")
        .map_err(|e| {
            CatalogError::Fields(vec![(
                "attachment",
                match e {
                    files::UploadError::Missing => "请选择要上传的附件".to_owned(),
                    other => other.to_string(),
                },
            )])
        })?;
    let txn = ctx.db.begin().await?;
    let count = product_file::Entity::find().filter(product_file::Column::ProductId.eq(p.id)).count(&txn).await?;
    if count >= ATTACHMENTS_MAX {
        return Err(CatalogError::Fields(vec![(
            "attachment",
            format!("每个产品最多{ATTACHMENTS_MAX}个附件，请先删除不需要的附件"),
        )]));
    }
    let org_id = super::products::institution_org(&txn, p.institution_id).await?;
    let stored = files::store(&txn, ctx, org_id, "product_attachment", &upload.file_name, kind, &upload.bytes).await.map_err(
        |e| match e {
            files::UploadError::Db(d) => CatalogError::from(d),
            other => CatalogError::StateOwned(other.to_string()),
        },
    )?;
    let link = product_file::ActiveModel {
        product_id: Set(p.id),
        file_id: Set(stored.id),
        created_at: Set(ctx.now()),
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
            "product.attachment_add",
            "product",
            p.id,
            serde_json::json!({"after": {"file": stored.original_name, "size": stored.size, "sm3": stored.sm3}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(link.id)
}

/// Removes an attachment from an editable product row.
pub async fn remove(ctx: &Ctx, actor: &Actor, meta: &Meta, product_id: i64, link_id: i64) -> Result<(), CatalogError> {
    let p = product_for(ctx, actor, product_id).await?;
    crate::accounts::require(actor, Permission::ProductManage)?;
    editable(&p)?;
    let txn = ctx.db.begin().await?;
    let link = product_file::Entity::find_by_id(link_id)
        .filter(product_file::Column::ProductId.eq(p.id))
        .one(&txn)
        .await?
        .ok_or(AccessError::NotFound)?;
    product_file::Entity::delete_by_id(link.id).exec(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("product.attachment_remove", "product", p.id, serde_json::json!({"before": {"file_id": link.file_id}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn bytes_of(ctx: &Ctx, product_id: i64, link_id: i64) -> Result<(file::Model, Vec<u8>), AccessError> {
    let link = product_file::Entity::find_by_id(link_id)
        .filter(product_file::Column::ProductId.eq(product_id))
        .one(&ctx.db)
        .await?
        .ok_or(AccessError::NotFound)?;
    let f = file::Entity::find_by_id(link.file_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let bytes = files::read_bytes(ctx, &f).await?;
    Ok((f, bytes))
}

/// An attachment of a listed product, for anyone.
pub async fn public_file(ctx: &Ctx, product_id: i64, link_id: i64) -> Result<(file::Model, Vec<u8>), AccessError> {
    let listed = product::Entity::find_by_id(product_id)
        .filter(product::Column::Status.eq(ProductState::Online.code()))
        .count(&ctx.db)
        .await?;
    if listed == 0 {
        return Err(AccessError::NotFound);
    }
    bytes_of(ctx, product_id, link_id).await
}

/// An attachment of any product the actor may manage or review.
pub async fn admin_file(ctx: &Ctx, actor: &Actor, product_id: i64, link_id: i64) -> Result<(file::Model, Vec<u8>), CatalogError> {
    product_for(ctx, actor, product_id).await?;
    Ok(bytes_of(ctx, product_id, link_id).await?)
}

/// A new revision starts with the listed version's attachments.
pub(crate) async fn copy_to<C: ConnectionTrait>(conn: &C, ctx: &Ctx, from: i64, to: i64) -> Result<(), DbErr> {
    for l in product_file::Entity::find().filter(product_file::Column::ProductId.eq(from)).all(conn).await? {
        product_file::ActiveModel {
            product_id: Set(to),
            file_id: Set(l.file_id),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// An approved revision's attachments replace the listed version's.
pub(crate) async fn replace<C: ConnectionTrait>(conn: &C, revision: i64, listed: i64) -> Result<(), DbErr> {
    product_file::Entity::delete_many().filter(product_file::Column::ProductId.eq(listed)).exec(conn).await?;
    product_file::Entity::update_many()
        .col_expr(product_file::Column::ProductId, sea_orm::sea_query::Expr::value(listed))
        .filter(product_file::Column::ProductId.eq(revision))
        .exec(conn)
        .await?;
    Ok(())
}
