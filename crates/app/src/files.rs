//! Uploaded files: size-limited, type-checked by content (not by name or the
//! browser's claim), hashed with SM3 and stored outside any served folder.
//!
//! Hardening (docs/SECURITY.md):
//! - PDFs with active content (`/JavaScript`, `/JS`, `/OpenAction`, `/Launch`,
//!   `/EmbeddedFile`) are refused; PNG and JPEG images are decoded and encoded
//!   again, which drops metadata (EXIF, GPS) and anything appended or hidden
//!   (polyglots);
//! - bytes are encrypted at rest with SM4-GCM under a key derived from the
//!   field key (files written before this are still read as they are);
//! - folders are 0700 and files 0600;
//! - a file goes when its last reference goes ([`release`], a job), and a
//!   file that nothing references is not served.

use crate::actor::Actor;
use crate::context::Ctx;
use crate::crypto::sm3_hex;
use qifu_db::entity::file;
use qifu_domain::files::FilePurpose;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};

/// A file as uploaded: the name the browser gave and the bytes (not yet checked).
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Kinds of content accepted, recognised by their leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Png,
    Jpeg,
    Pdf,
}

impl Kind {
    pub fn sniff(bytes: &[u8]) -> Option<Kind> {
        if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Kind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Kind::Jpeg)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Kind::Pdf)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Pdf => "application/pdf",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Kind::Png => "png",
            Kind::Jpeg => "jpg",
            Kind::Pdf => "pdf",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("请上传文件")]
    Missing,
    #[error("文件不能超过{0}MB")]
    TooLarge(usize),
    #[error("文件格式不符合要求：只能上传{0}")]
    WrongType(&'static str),
    /// A PDF with active content (scripts, actions, embedded files).
    #[error("PDF 文件含有脚本、自动动作或嵌入文件（{0}），不能上传；请另存为普通 PDF 后重试")]
    ActivePdf(&'static str),
    /// An image that does not decode.
    #[error("图片文件已损坏或无法识别，请重新导出后上传")]
    BadImage,
    #[error("文件无法保存：{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Largest licence image accepted.
pub const LICENCE_MAX_BYTES: usize = 5 * 1024 * 1024;

/// Checks an upload: present, within `max`, and one of `allowed` by content.
pub fn check(bytes: &[u8], max: usize, allowed: &[Kind], allowed_label: &'static str) -> Result<Kind, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Missing);
    }
    if bytes.len() > max {
        return Err(UploadError::TooLarge(max / 1024 / 1024));
    }
    match Kind::sniff(bytes) {
        Some(Kind::Pdf) if allowed.contains(&Kind::Pdf) => match pdf_active_content(bytes) {
            Some(name) => Err(UploadError::ActivePdf(name)),
            None => Ok(Kind::Pdf),
        },
        Some(k) if allowed.contains(&k) => Ok(k),
        _ => Err(UploadError::WrongType(allowed_label)),
    }
}

/// PDF names that make a document act (run script, launch, open an embedded
/// file). Names may be written with `#xx` escapes (`/J#61vaScript`), so they
/// are decoded before matching; a name is matched whole (`/JS` not in `/JSON`).
const PDF_ACTIVE: &[&str] = &["JavaScript", "JS", "OpenAction", "Launch", "EmbeddedFile", "EmbeddedFiles", "AA", "RichMedia"];

/// The first active-content name in a PDF, if any.
pub fn pdf_active_content(bytes: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'/' {
            i += 1;
            continue;
        }
        // A name runs until whitespace or a delimiter.
        let mut name = Vec::new();
        let mut j = i + 1;
        while j < bytes.len() {
            let c = bytes[j];
            if c.is_ascii_whitespace() || b"()<>[]{}/%".contains(&c) || c == 0 {
                break;
            }
            if c == b'#' && j + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[j + 1..j + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    name.push(b);
                    j += 3;
                    continue;
                }
            }
            name.push(c);
            j += 1;
        }
        if let Some(hit) = PDF_ACTIVE.iter().find(|a| a.as_bytes() == name.as_slice()) {
            return Some(hit);
        }
        i = j.max(i + 1);
    }
    None
}

/// Largest image side accepted for re-encoding.
const IMAGE_MAX_SIDE: u32 = 12_000;

/// Decodes an image and encodes it again: only the pixels survive.
pub fn reencode_image(kind: Kind, bytes: &[u8]) -> Result<Vec<u8>, UploadError> {
    use image::ImageFormat;
    let format = match kind {
        Kind::Png => ImageFormat::Png,
        Kind::Jpeg => ImageFormat::Jpeg,
        Kind::Pdf => return Ok(bytes.to_vec()),
    };
    let mut reader = image::io::Reader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::io::Limits::default();
    limits.max_image_width = Some(IMAGE_MAX_SIDE);
    limits.max_image_height = Some(IMAGE_MAX_SIDE);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|_| UploadError::BadImage)?;
    let mut out = std::io::Cursor::new(Vec::new());
    match kind {
        Kind::Png => img.write_to(&mut out, image::ImageOutputFormat::Png),
        _ => image::DynamicImage::ImageRgb8(img.to_rgb8()).write_to(&mut out, image::ImageOutputFormat::Jpeg(90)),
    }
    .map_err(|_| UploadError::BadImage)?;
    Ok(out.into_inner())
}

/// Writes the bytes under `<data_dir>/uploads` and records them, inside the caller's transaction.
pub async fn store<C: ConnectionTrait>(
    conn: &C,
    ctx: &Ctx,
    org_id: i64,
    purpose: FilePurpose,
    original_name: &str,
    kind: Kind,
    bytes: &[u8],
) -> Result<file::Model, UploadError> {
    let now = ctx.now();
    let clean = reencode_image(kind, bytes)?;
    let bytes = clean.as_slice();
    let key = format!("{}/{}.{}", now.format("%Y/%m"), uuid::Uuid::now_v7().simple(), kind.ext());
    let path = ctx.settings.data_dir.join("uploads").join(&key);
    let sealed = seal(ctx, bytes);
    let root = ctx.settings.data_dir.clone();
    tokio::task::spawn_blocking(move || write_private(&root, &path, &sealed))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    let name: String =
        original_name.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '<' | '>' | '"')).take(200).collect();
    let row = file::ActiveModel {
        org_id: Set(org_id),
        purpose: Set(purpose),
        original_name: Set(if name.is_empty() { format!("upload.{}", kind.ext()) } else { name }),
        content_type: Set(kind.content_type().to_owned()),
        size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        sm3: Set(sm3_hex(bytes)),
        storage_key: Set(key),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row)
}

/// Reads a certification's licence image (营业执照) for an actor: the
/// enterprise's own members, or certification reviewers — who read licence
/// files of certifications only, nothing else that was uploaded. The read is
/// audited (personal data).
pub async fn read(
    ctx: &Ctx,
    actor: &Actor,
    meta: &crate::context::Meta,
    id: i64,
) -> Result<(file::Model, Vec<u8>), crate::actor::AccessError> {
    use qifu_db::entity::certification;
    let f = file::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(crate::actor::AccessError::NotFound)?;
    let of_certification =
        certification::Entity::find().filter(certification::Column::LicenceFileId.eq(f.id)).count(&ctx.db).await? > 0;
    let own = f.org_id == actor.org_id && f.purpose == FilePurpose::Licence;
    let reviewer = actor.can(qifu_domain::accounts::Permission::CertificationReview) && of_certification;
    if !of_certification || !(own || reviewer) {
        return Err(crate::actor::AccessError::NotFound);
    }
    let bytes = read_bytes(ctx, &f).await?;
    crate::audit::record_read(ctx, actor, meta, "file", f.id, serde_json::json!({"purpose": f.purpose, "name": f.original_name}))
        .await?;
    Ok((f, bytes))
}

/// The stored bytes of a file row; the caller has checked access. A file that
/// nothing references any more (removed, replaced) is not served.
pub(crate) async fn read_bytes(ctx: &Ctx, f: &file::Model) -> Result<Vec<u8>, crate::actor::AccessError> {
    // Storage keys are generated by `store`; still refuse anything that could leave the folder.
    if f.storage_key.contains("..") || f.storage_key.starts_with('/') {
        return Err(crate::actor::AccessError::NotFound);
    }
    if references(&ctx.db, f.id).await? == 0 {
        return Err(crate::actor::AccessError::NotFound);
    }
    let raw = tokio::fs::read(ctx.settings.data_dir.join("uploads").join(&f.storage_key))
        .await
        .map_err(|_| crate::actor::AccessError::NotFound)?;
    open_sealed(ctx, raw).map_err(|_| crate::actor::AccessError::NotFound)
}

/// Leading bytes of a file encrypted at rest: magic, then a 12-byte nonce,
/// then SM4-GCM ciphertext with its tag.
const SEALED_MAGIC: &[u8; 8] = b"QFSM4G1\0";

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

fn file_cipher(ctx: &Ctx) -> Sm4Gcm {
    use aes_gcm::KeyInit;
    // A key of its own for files, derived from the field key (never stored).
    let derived = hex::decode(ctx.crypto.blind_index("qifu upload key v1")).unwrap_or_default();
    let mut key = [0u8; 16];
    for (k, d) in key.iter_mut().zip(derived) {
        *k = d;
    }
    Sm4Gcm::new(&key.into())
}

/// Encrypts bytes for storage.
pub fn seal(ctx: &Ctx, plain: &[u8]) -> Vec<u8> {
    use aes_gcm::aead::Aead;
    let nonce: [u8; 12] = uuid::Uuid::new_v4().as_bytes()[..12].try_into().unwrap_or([0; 12]);
    let ct = file_cipher(ctx).encrypt(aes_gcm::Nonce::from_slice(&nonce), plain).unwrap_or_default();
    let mut out = Vec::with_capacity(SEALED_MAGIC.len() + 12 + ct.len());
    out.extend_from_slice(SEALED_MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Decrypts stored bytes; a file written before encryption (no magic) is returned as it is.
pub fn open_sealed(ctx: &Ctx, raw: Vec<u8>) -> Result<Vec<u8>, crate::crypto::CryptoError> {
    use aes_gcm::aead::Aead;
    let Some(rest) = raw.strip_prefix(SEALED_MAGIC.as_slice()) else { return Ok(raw) };
    if rest.len() < 12 + 16 {
        return Err(crate::crypto::CryptoError::Decrypt);
    }
    let (nonce, ct) = rest.split_at(12);
    file_cipher(ctx).decrypt(aes_gcm::Nonce::from_slice(nonce), ct).map_err(|_| crate::crypto::CryptoError::Decrypt)
}

/// Creates the folders from `root` down to `path`'s parent (0700) and writes `path` (0600).
pub fn write_private(root: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        make_private_dirs(root, parent)?;
    }
    let mut f = private_options().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn private_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Creates `dir` and narrows every folder from `root` to it to 0700.
fn make_private_dirs(root: &std::path::Path, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut d = Some(dir);
        while let Some(p) = d {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))?;
            if p == root || !p.starts_with(root) {
                break;
            }
            d = p.parent();
        }
    }
    Ok(())
}

/// Narrows the data directory's own folders and files (keys, uploads,
/// anchors, the SQLite file) to the owner: run at start by `qifu`.
pub fn secure_data_dir(data_dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if !data_dir.exists() {
            return Ok(());
        }
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
        for sub in ["keys", "uploads", "audit-anchors"] {
            let p = data_dir.join(sub);
            if p.is_dir() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let key = crate::crypto::key_file(data_dir);
        if key.exists() {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
        }
        for name in ["qifu.db", "qifu.db-wal", "qifu.db-shm"] {
            let p = data_dir.join(name);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok(())
}

/// How many records point at a file (attachments, certifications, demands,
/// institution applications).
pub async fn references<C: ConnectionTrait>(conn: &C, file_id: i64) -> Result<u64, DbErr> {
    use qifu_db::entity::{attachment, certification, demand, institution_application};
    let mut n = attachment::Entity::find().filter(attachment::Column::FileId.eq(file_id)).count(conn).await?;
    n += certification::Entity::find().filter(certification::Column::LicenceFileId.eq(file_id)).count(conn).await?;
    n += demand::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(demand::Column::AttachmentFileId.eq(file_id))
                .add(demand::Column::ProofFileId.eq(file_id)),
        )
        .count(conn)
        .await?;
    n += institution_application::Entity::find()
        .filter(institution_application::Column::LicenceFileId.eq(file_id))
        .count(conn)
        .await?;
    Ok(n)
}

/// A reference to a file was dropped in the caller's transaction: once that
/// commits, the file is deleted if nothing else points at it (a job, so a
/// rolled-back change never loses a file).
pub async fn release<C: ConnectionTrait>(conn: &C, ctx: &Ctx, file_id: i64) -> Result<(), DbErr> {
    crate::jobs::enqueue(conn, ctx, &PurgeFile { file_id }, Default::default()).await?;
    Ok(())
}

/// Deletes a file (row and bytes) that nothing references.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurgeFile {
    pub file_id: i64,
}

impl crate::jobs::Job for PurgeFile {
    const KIND: &'static str = "files.purge";
    fn dedup_key(&self) -> Option<String> {
        Some(format!("purge:{}", self.file_id))
    }
}

/// The handler of [`PurgeFile`]; `true` when the file was deleted.
pub async fn purge(ctx: &Ctx, file_id: i64) -> Result<bool, DbErr> {
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let Some(f) = file::Entity::find_by_id(file_id).one(&txn).await? else { return Ok(false) };
    if references(&txn, f.id).await? > 0 {
        return Ok(false);
    }
    file::Entity::delete_by_id(f.id).exec(&txn).await?;
    txn.commit().await?;
    if !f.storage_key.contains("..") && !f.storage_key.starts_with('/') {
        let path = ctx.settings.data_dir.join("uploads").join(&f.storage_key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(DbErr::Custom(format!("无法删除文件 {}：{e}", path.display()))),
        }
    }
    Ok(true)
}

/// Drops the licence images of certifications rejected more than
/// `files.rejected_retention_days` ago (daily).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpireRejectedFiles;

impl crate::jobs::Job for ExpireRejectedFiles {
    const KIND: &'static str = "files.expire_rejected";
}

/// The handler of [`ExpireRejectedFiles`]: how many files were released.
pub async fn expire_rejected(ctx: &Ctx) -> Result<usize, DbErr> {
    use qifu_db::entity::certification;
    use qifu_domain::certification::CertificationStatus;
    let days = ctx.settings.files.rejected_retention_days;
    if days <= 0 {
        return Ok(0);
    }
    let before = ctx.now() - chrono::Duration::days(days);
    let rows = certification::Entity::find()
        .filter(certification::Column::Status.eq(CertificationStatus::Rejected))
        .filter(certification::Column::LicenceFileId.is_not_null())
        .filter(certification::Column::DecidedAt.lt(before))
        .all(&ctx.db)
        .await?;
    let mut n = 0;
    for c in rows {
        let Some(fid) = c.licence_file_id else { continue };
        let txn = qifu_db::begin_write(&ctx.db).await?;
        certification::Entity::update_many()
            .col_expr(certification::Column::LicenceFileId, sea_orm::sea_query::Expr::value(Option::<i64>::None))
            .filter(certification::Column::Id.eq(c.id))
            .exec(&txn)
            .await?;
        release(&txn, ctx, fid).await?;
        crate::audit::record(
            &txn,
            ctx,
            None,
            &crate::context::Meta::system("files.expire_rejected"),
            crate::audit::Entry::ok(
                "file.expire",
                "certification",
                c.id,
                serde_json::json!({"before": {"licence_file_id": fid}, "retention_days": days}),
            ),
        )
        .await?;
        txn.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// The files' jobs and schedule.
pub fn register_jobs(r: &mut crate::jobs::JobRegistry) {
    r.register(|ctx: Ctx, job: PurgeFile| async move {
        if purge(&ctx, job.file_id).await? {
            tracing::info!(file = job.file_id, "unreferenced file deleted");
        }
        Ok(())
    });
    r.register(|ctx: Ctx, _: ExpireRejectedFiles| async move {
        let n = expire_rejected(&ctx).await?;
        tracing::info!(files = n, "licence images of old rejected certifications released");
        Ok(())
    });
    r.schedule("expire_rejected_files", "0 15 4 * * *", &ExpireRejectedFiles);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(check(&png, 100, &[Kind::Png, Kind::Jpeg], "图片").ok(), Some(Kind::Png));
        assert!(matches!(check(b"MZ\x90\x00 not an image", 100, &[Kind::Png], "图片"), Err(UploadError::WrongType(_))));
        assert!(matches!(
            check(b"<script>alert(1)</script>", 100, &[Kind::Png, Kind::Jpeg], "图片"),
            Err(UploadError::WrongType(_))
        ));
        assert!(matches!(check(&png, 5, &[Kind::Png], "图片"), Err(UploadError::TooLarge(_))));
        assert!(matches!(check(&[], 5, &[Kind::Png], "图片"), Err(UploadError::Missing)));
        assert!(matches!(check(b"%PDF-1.7", 100, &[Kind::Png, Kind::Jpeg], "JPG 或 PNG 图片"), Err(UploadError::WrongType(_))));
    }

    #[test]
    fn pdfs_with_active_content_are_refused() {
        let clean = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R /JSONish 1 >> endobj\n%%EOF";
        assert_eq!(check(clean, 1000, &[Kind::Pdf], "PDF").ok(), Some(Kind::Pdf));
        for (body, name) in [
            ("<< /S /JavaScript /JS (app.alert(1)) >>", "JavaScript"),
            ("<< /JS (x) >>", "JS"),
            ("<< /Type /Catalog /OpenAction 3 0 R >>", "OpenAction"),
            ("<< /S /Launch /F (cmd.exe) >>", "Launch"),
            ("<< /Type /EmbeddedFile /Length 3 >>", "EmbeddedFile"),
            ("<< /S /J#61vaScript >>", "JavaScript"),
        ] {
            let pdf = format!("%PDF-1.7\n1 0 obj {body} endobj\n%%EOF");
            match check(pdf.as_bytes(), 1000, &[Kind::Pdf], "PDF") {
                Err(UploadError::ActivePdf(n)) => assert_eq!(n, name, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    fn tiny_png_with_tail() -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(3, 2, image::Rgba([200, 10, 10, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageOutputFormat::Png).unwrap();
        let mut v = out.into_inner();
        // A tEXt chunk would be metadata; a payload after IEND is a polyglot.
        v.extend_from_slice(b"<script>alert(1)</script>PK\x03\x04");
        v
    }

    #[test]
    fn images_are_reencoded_without_what_was_appended() {
        let png = tiny_png_with_tail();
        let clean = reencode_image(Kind::Png, &png).unwrap();
        assert!(clean.starts_with(&[0x89, b'P', b'N', b'G']));
        assert!(!clean.windows(8).any(|w| w == b"<script>"), "the appended payload is gone");
        let decoded = image::load_from_memory(&clean).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (3, 2));
        // A JPEG with an EXIF segment (GPS position) comes back without it.
        let img = image::RgbImage::from_pixel(4, 4, image::Rgb([1, 2, 3]));
        let mut jpg = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut jpg, image::ImageOutputFormat::Jpeg(80)).unwrap();
        let jpg = jpg.into_inner();
        let mut with_exif = jpg[..2].to_vec();
        let exif = b"Exif\0\0GPSLatitude=39.9N";
        with_exif.extend_from_slice(&[0xFF, 0xE1, 0, u8::try_from(exif.len() + 2).unwrap()]);
        with_exif.extend_from_slice(exif);
        with_exif.extend_from_slice(&jpg[2..]);
        let clean = reencode_image(Kind::Jpeg, &with_exif).unwrap();
        assert!(!clean.windows(11).any(|w| w == b"GPSLatitude"), "metadata dropped");
        assert!(matches!(reencode_image(Kind::Png, b"\x89PNG\r\n\x1a\n garbage"), Err(UploadError::BadImage)));
    }
}
