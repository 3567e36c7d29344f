//! Data-use authorisation (企业数据授权): a certified enterprise reads a
//! versioned text and signs it; the platform keeps the canonical record with
//! its SM3 digest and an SM2 signature by the platform key. Anyone can verify a
//! signed record against the published public key; the enterprise can revoke,
//! after which its data is no longer shared with institutions.

use crate::actor::AccessError;
use crate::actor::Actor;
use crate::audit::{self, Entry};
use crate::certification::{CertError, require_certified};
use crate::context::{Ctx, Meta};
use crate::crypto::sm3_hex;
use crate::messages;
use crate::signing::{self, PlatformSigner};
use chrono::{DateTime, Duration};
use qifu_db::entity::{authorization, organisation, platform_key};
use qifu_domain::messages::MessageCategory;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

/// The version of the text below; a new text gets a new version.
pub const TEXT_VERSION: &str = "2026.11-v1";

/// The text the enterprise signs.
pub const TEXT: &str = "企业数据授权书（2026.11-v1）

一、授权的数据：本企业在通州区中小微企业智慧服务平台（以下简称平台）登记和提交的企业基本信息（名称、统一社会信用代码、注册地、行业、成立日期）、经营数据（从业人员、营业收入、资产总额、研发投入）、资质与知识产权信息，以及本企业在平台提交的服务需求和融资需求信息。

二、授权的用途：平台据此为本企业匹配政策、推荐服务产品；在本企业申请服务或融资时，向本企业选定的服务机构提供完成该项服务所必需的数据；平台运营方和主管部门据此进行统计分析。平台不得将上述数据用于其他用途，不得向未经本企业选定的机构提供。

三、授权期限：自签署之日起两年。本企业可随时在平台撤回本授权，撤回后平台停止向服务机构共享本企业数据，已完成的服务不受影响。

四、本授权由平台以国家密码管理局认定的 SM2 算法签名存证，可在平台“授权验证”页面或使用 qifu verify-authorization 命令核验。";

const VALID_YEARS: i64 = 2;

/// The canonical record that is hashed and signed, field order fixed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    #[serde(rename = "type")]
    pub kind: String,
    pub text_version: String,
    pub text_sm3: String,
    pub credit_code: String,
    pub enterprise_name: String,
    pub signer_user_id: i64,
    pub signer_name: String,
    pub signed_at: String,
    pub valid_until: String,
    pub platform_key_id: i64,
}

/// The file an enterprise downloads and anyone can verify.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedFile {
    /// The canonical record exactly as signed (a JSON string).
    pub record: String,
    /// SM3 of `record`, hex.
    pub digest: String,
    /// SM2 signature of `record` with the platform key (r‖s, hex), user ID 1234567812345678.
    pub signature: String,
    pub platform_key_id: i64,
}

/// The platform key, generated at first start; its secret is stored encrypted.
pub async fn ensure_platform_key<C: ConnectionTrait>(conn: &C, ctx: &Ctx) -> Result<(), DbErr> {
    if platform_key::Entity::find().filter(platform_key::Column::Active.eq(true)).one(conn).await?.is_some() {
        return Ok(());
    }
    let signer = PlatformSigner::generate();
    platform_key::ActiveModel {
        algorithm: Set("SM2".to_owned()),
        public_key: Set(signer.public_key_hex()),
        secret_enc: Set(ctx.crypto.encrypt(&signer.secret_hex())),
        active: Set(true),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

async fn active_key(ctx: &Ctx) -> Result<platform_key::Model, DbErr> {
    platform_key::Entity::find()
        .filter(platform_key::Column::Active.eq(true))
        .order_by_desc(platform_key::Column::Id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("platform key".to_owned()))
}

async fn signer(ctx: &Ctx) -> Result<(i64, PlatformSigner), DbErr> {
    let k = active_key(ctx).await?;
    let secret = ctx.crypto.decrypt(&k.secret_enc).map_err(|e| DbErr::Custom(e.to_string()))?;
    let s = PlatformSigner::from_secret_hex(&secret).map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok((k.id, s))
}

/// The published public key (PEM) and its id.
pub async fn public_key_pem(ctx: &Ctx) -> Result<(i64, String), DbErr> {
    let (id, s) = signer(ctx).await?;
    Ok((id, s.public_key_pem()))
}

/// A public key by id, hex, for verification.
async fn public_key_hex(ctx: &Ctx, id: i64) -> Result<Option<String>, DbErr> {
    Ok(platform_key::Entity::find_by_id(id).one(&ctx.db).await?.map(|k| k.public_key))
}

/// The enterprise's current (unrevoked, unexpired) authorisation.
pub async fn active(ctx: &Ctx, org_id: i64) -> Result<Option<authorization::Model>, DbErr> {
    let now = ctx.now();
    let rows = authorization::Entity::find()
        .filter(authorization::Column::OrgId.eq(org_id))
        .filter(authorization::Column::RevokedAt.is_null())
        .order_by_desc(authorization::Column::Id)
        .all(&ctx.db)
        .await?;
    Ok(rows.into_iter().find(|a| {
        serde_json::from_str::<Record>(&a.record)
            .ok()
            .and_then(|r| DateTime::parse_from_rfc3339(&r.valid_until).ok())
            .is_some_and(|until| until > now)
    }))
}

/// Whether the enterprise's data may be shared with institutions now.
pub async fn data_shared(ctx: &Ctx, org_id: i64) -> Result<bool, DbErr> {
    Ok(active(ctx, org_id).await?.is_some())
}

/// The latest authorisation of the actor's organisation, active or not.
pub async fn latest(ctx: &Ctx, actor: &Actor) -> Result<Option<authorization::Model>, DbErr> {
    authorization::Entity::find()
        .filter(authorization::Column::OrgId.eq(actor.org_id))
        .order_by_desc(authorization::Column::Id)
        .one(&ctx.db)
        .await
}

/// Signs the current text for the actor's certified enterprise.
pub async fn sign(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<authorization::Model, CertError> {
    require_certified(ctx, actor).await?;
    if !actor.is_org_admin {
        return Err(AccessError::Forbidden.into());
    }
    if active(ctx, actor.org_id).await?.is_some() {
        return Err(CertError::State("贵企业已签署数据授权，如需重新签署请先撤回"));
    }
    let org = organisation::Entity::find_by_id(actor.org_id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let (key_id, s) = signer(ctx).await?;
    let now = ctx.now();
    let rec = Record {
        kind: "qifu.data-use-authorization".to_owned(),
        text_version: TEXT_VERSION.to_owned(),
        text_sm3: sm3_hex(TEXT.as_bytes()),
        credit_code: org.credit_code.clone().unwrap_or_default(),
        enterprise_name: org.name.clone(),
        signer_user_id: actor.user_id,
        signer_name: actor.display_name.clone(),
        signed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        valid_until: (now + Duration::days(365 * VALID_YEARS)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        platform_key_id: key_id,
    };
    let record = serde_json::to_string(&rec).map_err(|e| DbErr::Custom(e.to_string()))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let row = authorization::ActiveModel {
        org_id: Set(actor.org_id),
        credit_code: Set(rec.credit_code.clone()),
        text_version: Set(TEXT_VERSION.to_owned()),
        signer_user_id: Set(actor.user_id),
        signed_at: Set(now),
        digest: Set(sm3_hex(record.as_bytes())),
        signature: Set(s.sign(record.as_bytes())),
        key_id: Set(key_id),
        record: Set(record),
        revoked_at: Set(None),
        revoked_by: Set(None),
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
            "authorization.sign",
            "authorization",
            row.id,
            serde_json::json!({"after": {"text_version": TEXT_VERSION, "digest": row.digest}}),
        ),
    )
    .await?;
    messages::notify(
        &txn,
        ctx,
        actor.user_id,
        MessageCategory::Authorization,
        "企业数据授权已签署",
        "贵企业已签署数据授权书，可在“企业数据授权”页面下载签名存证。",
        Some("/account/authorization"),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Revokes the active authorisation; data sharing stops at once.
pub async fn revoke(ctx: &Ctx, actor: &Actor, meta: &Meta) -> Result<(), CertError> {
    if !actor.is_org_admin {
        return Err(AccessError::Forbidden.into());
    }
    let a = active(ctx, actor.org_id).await?.ok_or(CertError::State("没有生效中的数据授权"))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let id = a.id;
    let mut am: authorization::ActiveModel = a.into();
    am.revoked_at = Set(Some(ctx.now()));
    am.revoked_by = Set(Some(actor.user_id));
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok("authorization.revoke", "authorization", id, serde_json::json!({"after": {"revoked": true}})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The downloadable signed file for an authorisation of the actor's organisation.
pub async fn signed_file(ctx: &Ctx, actor: &Actor) -> Result<SignedFile, AccessError> {
    let a = latest(ctx, actor).await?.ok_or(AccessError::NotFound)?;
    Ok(SignedFile { record: a.record, digest: a.digest, signature: a.signature, platform_key_id: a.key_id })
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signature and digest are valid; with the record and its current standing.
    Valid {
        record: Record,
        revoked: bool,
        expired: bool,
    },
    Invalid(String),
}

/// Checks a signed file against `public_key` (hex or PEM).
pub fn verify_file(file: &SignedFile, public_key: &str) -> Result<Record, String> {
    if sm3_hex(file.record.as_bytes()) != file.digest.to_lowercase() {
        return Err("摘要不符：授权记录内容已被改动".to_owned());
    }
    signing::verify(public_key, file.record.as_bytes(), &file.signature).map_err(|e| format!("签名无效：{e}"))?;
    serde_json::from_str::<Record>(&file.record).map_err(|_| "授权记录格式不正确".to_owned())
}

/// Verifies a pasted or uploaded file against the platform's own key, and
/// reports whether the authorisation has since been revoked or has expired.
pub async fn verify_text(ctx: &Ctx, text: &str) -> Result<Verdict, DbErr> {
    let Ok(file) = serde_json::from_str::<SignedFile>(text.trim()) else {
        return Ok(Verdict::Invalid("内容不是平台出具的授权存证文件（JSON 格式不正确）".to_owned()));
    };
    let Some(key) = public_key_hex(ctx, file.platform_key_id).await? else {
        return Ok(Verdict::Invalid("签名所用的平台密钥不存在".to_owned()));
    };
    match verify_file(&file, &key) {
        Err(m) => Ok(Verdict::Invalid(m)),
        Ok(record) => {
            let stored = authorization::Entity::find()
                .filter(authorization::Column::Digest.eq(file.digest.to_lowercase()))
                .one(&ctx.db)
                .await?;
            let revoked = stored.as_ref().is_some_and(|a| a.revoked_at.is_some());
            let expired = DateTime::parse_from_rfc3339(&record.valid_until).is_ok_and(|u| u <= ctx.now());
            Ok(Verdict::Valid { record, revoked, expired })
        }
    }
}
