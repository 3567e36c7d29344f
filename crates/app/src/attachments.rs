//! Attachments (附件) of products and policies: files checked by content (PDF,
//! JPG, PNG; 8 MB; five per owner), stored with `files::store` and linked to
//! their owner. Who may add or remove them, and when, is the owner's module's
//! business; this one only keeps the links.

use crate::actor::AccessError;
use crate::context::Ctx;
use crate::files::Upload;
use crate::files::{self, Kind};
use qifu_db::entity::{attachment, file};
use qifu_domain::files::AttachmentOwnerKind;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

/// Largest attachment accepted.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Attachments per owner.
pub const MAX_COUNT: u64 = 5;

/// What an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Product(i64),
    Policy(i64),
}

impl Owner {
    fn kind(self) -> AttachmentOwnerKind {
        match self {
            Owner::Product(_) => AttachmentOwnerKind::Product,
            Owner::Policy(_) => AttachmentOwnerKind::Policy,
        }
    }
    fn id(self) -> i64 {
        match self {
            Owner::Product(i) | Owner::Policy(i) => i,
        }
    }
}

/// An attachment as listed: the link id and the file's name and size.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub content_type: String,
}

fn of(owner: Owner) -> sea_orm::Select<attachment::Entity> {
    attachment::Entity::find()
        .filter(attachment::Column::OwnerKind.eq(owner.kind()))
        .filter(attachment::Column::OwnerId.eq(owner.id()))
}

/// The attachments of an owner, oldest first.
pub async fn list<C: ConnectionTrait>(conn: &C, owner: Owner) -> Result<Vec<Attachment>, DbErr> {
    let links = of(owner).order_by_asc(attachment::Column::Id).all(conn).await?;
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

/// Why an upload was refused, in words for the form.
pub fn check(upload: &Upload) -> Result<Kind, String> {
    files::check(&upload.bytes, MAX_BYTES, &[Kind::Pdf, Kind::Jpeg, Kind::Png], "PDF、JPG 或 PNG 文件").map_err(|e| match e {
        files::UploadError::Missing => "请选择要上传的附件".to_owned(),
        other => other.to_string(),
    })
}

/// Stores and links an upload inside the caller's transaction; `Err(Some(msg))` for the form.
pub async fn add<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    owner: Owner,
    org_id: i64,
    upload: &Upload,
) -> Result<Result<file::Model, String>, DbErr> {
    let kind = match check(upload) {
        Ok(k) => k,
        Err(m) => return Ok(Err(m)),
    };
    if of(owner).count(conn).await? >= MAX_COUNT {
        return Ok(Err(format!("最多{MAX_COUNT}个附件，请先删除不需要的附件")));
    }
    let purpose = owner.kind().file_purpose();
    let stored = match files::store(conn, ctx, org_id, purpose, &upload.file_name, kind, &upload.bytes).await {
        Ok(f) => f,
        Err(files::UploadError::Db(d)) => return Err(d),
        Err(other) => return Ok(Err(other.to_string())),
    };
    attachment::ActiveModel {
        owner_kind: Set(owner.kind()),
        owner_id: Set(owner.id()),
        file_id: Set(stored.id),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(Ok(stored))
}

/// Unlinks one attachment of an owner; returns the file id. The file itself
/// is deleted once nothing else links it (a product revision may share it).
pub async fn remove<C: ConnectionTrait>(conn: &C, ctx: &Ctx, owner: Owner, link_id: i64) -> Result<i64, AccessError> {
    let link = of(owner).filter(attachment::Column::Id.eq(link_id)).one(conn).await?.ok_or(AccessError::NotFound)?;
    attachment::Entity::delete_by_id(link.id).exec(conn).await?;
    files::release(conn, ctx, link.file_id).await?;
    Ok(link.file_id)
}

/// The bytes of one attachment of an owner; the caller has checked access.
pub async fn bytes(ctx: &Ctx, owner: Owner, link_id: i64) -> Result<(file::Model, Vec<u8>), AccessError> {
    let link = of(owner).filter(attachment::Column::Id.eq(link_id)).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let f = file::Entity::find_by_id(link.file_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let bytes = files::read_bytes(ctx, &f).await?;
    Ok((f, bytes))
}

/// Links `from`'s files to `to` as well (a product revision starts with the listed version's).
pub async fn copy<C: ConnectionTrait>(conn: &C, ctx: &Ctx, from: Owner, to: Owner) -> Result<(), DbErr> {
    for l in of(from).all(conn).await? {
        attachment::ActiveModel {
            owner_kind: Set(to.kind()),
            owner_id: Set(to.id()),
            file_id: Set(l.file_id),
            created_at: Set(ctx.now()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// `from`'s attachments replace `to`'s (an approved revision's replace the listed version's).
pub async fn replace<C: ConnectionTrait>(conn: &C, ctx: &Ctx, from: Owner, to: Owner) -> Result<(), DbErr> {
    for gone in of(to).all(conn).await? {
        files::release(conn, ctx, gone.file_id).await?;
    }
    attachment::Entity::delete_many()
        .filter(attachment::Column::OwnerKind.eq(to.kind()))
        .filter(attachment::Column::OwnerId.eq(to.id()))
        .exec(conn)
        .await?;
    attachment::Entity::update_many()
        .col_expr(attachment::Column::OwnerId, sea_orm::sea_query::Expr::value(to.id()))
        .filter(attachment::Column::OwnerKind.eq(from.kind()))
        .filter(attachment::Column::OwnerId.eq(from.id()))
        .exec(conn)
        .await?;
    Ok(())
}
