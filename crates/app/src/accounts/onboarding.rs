//! Institution self-application (机构入驻申请): a service institution applies on
//! the portal with its name, credit code, kind, qualifications, licence and the
//! administrator's phone and password; the operator approves (the organisation,
//! the institution and its administrator are created in one transaction) or
//! rejects with a reason. The applicant hears the outcome by SMS.

use super::{Actor, UserInsert, insert_org, insert_user};
use crate::actor::AccessError;
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use crate::files::Upload;
use crate::files::{self, Kind, LICENCE_MAX_BYTES};
use crate::jobs::{self, EnqueueOptions};
use crate::messages::SendSmsNotice;
use qifu_db::entity::{file, institution, institution_application as app_row, organisation, role, user};
use qifu_domain::accounts::ApplicationStatus;
use qifu_domain::accounts::{BuiltinRole, InstitutionKind, OrgKind, Permission, Phone, check_password};
use qifu_domain::accounts::{check_org_name, check_person_name};
use qifu_domain::certification::CreditCode;
use qifu_domain::messages::MessageCategory;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// What the applicant typed.
#[derive(Debug, Clone, Default)]
pub struct InstitutionApplicationForm {
    pub name: String,
    pub credit_code: String,
    pub kind: String,
    pub intro: String,
    pub qualifications: String,
    pub contact_name: String,
    pub phone: String,
    pub password: String,
    pub confirm: String,
    pub captcha_id: String,
    pub captcha: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    #[error("申请信息有误")]
    Fields(Vec<(&'static str, String)>),
    #[error("{0}")]
    State(&'static str),
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl From<DbErr> for OnboardingError {
    fn from(e: DbErr) -> Self {
        OnboardingError::Access(AccessError::Db(e))
    }
}

impl From<files::UploadError> for OnboardingError {
    fn from(e: files::UploadError) -> Self {
        match e {
            files::UploadError::Db(d) => d.into(),
            other => OnboardingError::Fields(vec![("licence", other.to_string())]),
        }
    }
}

/// Longest introduction and qualification text accepted, in characters.
pub const TEXT_MAX_CHARS: usize = 2000;

fn check_text(errors: &mut Vec<(&'static str, String)>, field: &'static str, label: &str, s: &str, required: bool) {
    let n = s.chars().count();
    if required && n == 0 {
        errors.push((field, format!("请填写{label}")));
    } else if n > TEXT_MAX_CHARS {
        errors.push((field, format!("{label}不能超过{TEXT_MAX_CHARS}字（现有{n}字）")));
    } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        errors.push((field, format!("{label}包含不允许的字符")));
    }
}

/// Records an application. Every field is checked and all errors come back at
/// once; nothing is written unless all pass.
pub async fn apply_institution(
    ctx: &Ctx,
    meta: &Meta,
    f: &InstitutionApplicationForm,
    licence: &Upload,
) -> Result<i64, OnboardingError> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let name = f.name.trim();
    if let Err(m) = check_org_name(name) {
        errors.push(("name", m.replace("企业", "机构")));
    }
    let code = CreditCode::parse(&f.credit_code).map_err(|e| errors.push(("credit_code", e.to_string()))).ok();
    let kind = InstitutionKind::parse(f.kind.trim());
    if kind.is_none() {
        errors.push(("kind", "请选择机构类型".to_owned()));
    }
    let intro = f.intro.trim();
    check_text(&mut errors, "intro", "机构简介", intro, true);
    let quals = f.qualifications.trim();
    check_text(&mut errors, "qualifications", "资质说明", quals, true);
    let contact = f.contact_name.trim();
    if let Err(m) = check_person_name(contact) {
        errors.push(("contact_name", m.to_owned()));
    }
    let phone = Phone::parse(&f.phone).map_err(|e| errors.push(("phone", e.to_string()))).ok();
    if let Err(m) = check_password(&f.password, None, phone.as_ref().map(Phone::as_str)) {
        errors.push(("password", m.to_owned()));
    } else if f.password != f.confirm {
        errors.push(("confirm", "两次输入的密码不一致".to_owned()));
    }
    let licence_kind =
        files::check(&licence.bytes, LICENCE_MAX_BYTES, &[Kind::Jpeg, Kind::Png, Kind::Pdf], "JPG、PNG 或 PDF 文件")
            .map_err(|e| {
                errors.push((
                    "licence",
                    match e {
                        files::UploadError::Missing => "请上传营业执照（或事业单位法人证书）".to_owned(),
                        other => other.to_string(),
                    },
                ))
            })
            .ok();
    if f.captcha.trim().is_empty() {
        errors.push(("captcha", "请填写图形验证码".to_owned()));
    } else if !super::check_captcha(&ctx.db, ctx, &f.captcha_id, &f.captcha).await? {
        errors.push(("captcha", "图形验证码错误或已过期，请重新输入".to_owned()));
    }
    if let Some(c) = &code {
        if organisation::Entity::find().filter(organisation::Column::CreditCode.eq(c.as_str())).one(&ctx.db).await?.is_some() {
            errors.push(("credit_code", "该统一社会信用代码已在平台注册，请直接登录".to_owned()));
        } else if pending_with(ctx, app_row::Column::CreditCode, c.as_str()).await? {
            errors.push(("credit_code", "该机构的入驻申请正在审核中，请耐心等待短信通知".to_owned()));
        }
    }
    if let Some(p) = &phone {
        let hash = ctx.crypto.blind_index(p.as_str());
        if user::Entity::find().filter(user::Column::PhoneHash.eq(hash.as_str())).one(&ctx.db).await?.is_some() {
            errors.push(("phone", "该手机号码已是平台用户，请换一个手机号码".to_owned()));
        } else if pending_with(ctx, app_row::Column::ContactPhoneHash, &hash).await? {
            errors.push(("phone", "该手机号码已用于一份审核中的入驻申请".to_owned()));
        }
    }
    let (Some(code), Some(kind), Some(phone), Some(licence_kind)) = (code, kind, phone, licence_kind) else {
        return Err(OnboardingError::Fields(errors));
    };
    if !errors.is_empty() {
        return Err(OnboardingError::Fields(errors));
    }
    let password_hash = super::hash_password(&f.password).map_err(|_| OnboardingError::State("密码无法处理"))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let stored = files::store(
        &txn,
        ctx,
        0,
        qifu_domain::files::FilePurpose::InstitutionLicence,
        &licence.file_name,
        licence_kind,
        &licence.bytes,
    )
    .await?;
    let row = app_row::ActiveModel {
        name: Set(name.to_owned()),
        credit_code: Set(code.as_str().to_owned()),
        kind: Set(kind),
        intro: Set(intro.to_owned()),
        qualifications: Set(quals.to_owned()),
        contact_name: Set(contact.to_owned()),
        contact_phone_enc: Set(ctx.crypto.encrypt(phone.as_str())),
        contact_phone_hash: Set(ctx.crypto.blind_index(phone.as_str())),
        contact_phone_masked: Set(phone.masked()),
        password_hash: Set(password_hash),
        licence_file_id: Set(stored.id),
        status: Set(ApplicationStatus::Submitted),
        reject_reason: Set(None),
        org_id: Set(None),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        created_at: Set(ctx.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        ctx,
        None,
        meta,
        Entry::ok(
            "institution_application.submit",
            "institution_application",
            row.id,
            serde_json::json!({"after": {"name": name, "credit_code": code.as_str(), "kind": kind.code(), "phone": phone.masked()}}),
        ),
    )
    .await?;
    for op in super::operator_users(&txn).await? {
        crate::messages::notify(
            &txn,
            ctx,
            op.id,
            MessageCategory::Account,
            &format!("新的机构入驻申请：{name}"),
            "请在后台“机构入驻审核”中审核。",
            Some(&format!("/admin/institution-applications/{}", row.id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(row.id)
}

async fn pending_with(ctx: &Ctx, col: app_row::Column, value: &str) -> Result<bool, DbErr> {
    Ok(app_row::Entity::find()
        .filter(col.eq(value))
        .filter(app_row::Column::Status.eq(ApplicationStatus::Submitted))
        .count(&ctx.db)
        .await?
        > 0)
}

/// Applications for the operator, newest first; `status` empty for all.
pub async fn list_applications(
    ctx: &Ctx,
    actor: &Actor,
    status: Option<ApplicationStatus>,
    page: u64,
) -> Result<(Vec<app_row::Model>, u64), AccessError> {
    super::require(actor, Permission::OrgManage)?;
    let mut q = app_row::Entity::find().order_by_desc(app_row::Column::Id);
    if let Some(s) = status {
        q = q.filter(app_row::Column::Status.eq(s));
    }
    let total = q.clone().count(&ctx.db).await?;
    let rows = q.offset(page.max(1).saturating_sub(1) * 20).limit(20).all(&ctx.db).await?;
    Ok((rows, total))
}

/// One application with its licence file row.
pub async fn application(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(app_row::Model, Option<file::Model>), AccessError> {
    super::require(actor, Permission::OrgManage)?;
    let a = app_row::Entity::find_by_id(id).one(&ctx.db).await?.ok_or(AccessError::NotFound)?;
    let f = file::Entity::find_by_id(a.licence_file_id).one(&ctx.db).await?;
    Ok((a, f))
}

/// The licence bytes, for the operator.
pub async fn licence(ctx: &Ctx, actor: &Actor, id: i64) -> Result<(file::Model, Vec<u8>), AccessError> {
    let (_, f) = application(ctx, actor, id).await?;
    let f = f.ok_or(AccessError::NotFound)?;
    let bytes = files::read_bytes(ctx, &f).await?;
    Ok((f, bytes))
}

/// The operator's decision. Approval creates the organisation, the institution
/// and its administrator (with the password the applicant chose) in one
/// transaction; rejection needs a reason. Either way the applicant is texted.
pub async fn review_application(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<Option<i64>, OnboardingError> {
    super::require(actor, Permission::OrgManage)?;
    let reason = reason.trim();
    if !approve {
        if reason.is_empty() {
            return Err(OnboardingError::Fields(vec![("reason", "请填写不通过的原因".to_owned())]));
        }
        if reason.chars().count() > 500 {
            return Err(OnboardingError::Fields(vec![("reason", "原因不能超过500字".to_owned())]));
        }
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let a = app_row::Entity::find_by_id(id).one(&txn).await?.ok_or(AccessError::NotFound)?;
    if a.status != ApplicationStatus::Submitted {
        return Err(OnboardingError::State("该申请已审核，不能重复审核"));
    }
    let now = ctx.now();
    let phone = ctx.crypto.decrypt(&a.contact_phone_enc).ok().and_then(|p| Phone::parse(&p).ok());
    let mut org_id = None;
    if approve {
        if organisation::Entity::find()
            .filter(organisation::Column::CreditCode.eq(a.credit_code.as_str()))
            .one(&txn)
            .await?
            .is_some()
        {
            return Err(OnboardingError::State("该统一社会信用代码已有组织使用，请驳回此申请"));
        }
        let phone = phone.clone().ok_or(OnboardingError::State("申请中的手机号码无法读取，请驳回后让机构重新申请"))?;
        let oid = insert_org(&txn, ctx, OrgKind::Institution, &a.name, Some(a.credit_code.clone())).await?;
        let inst = institution::ActiveModel {
            org_id: Set(oid),
            kind: Set(a.kind),
            intro: Set(a.intro.clone()),
            contact_name: Set(Some(a.contact_name.clone())),
            address: Set(None),
            qualifications: Set(a.qualifications.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        crate::index::touch(&txn, ctx.now(), qifu_search::Kind::Institution, inst.id).await?;
        super::ensure_builtin_roles(&txn, ctx).await?;
        let role = role::Entity::find()
            .filter(role::Column::Code.eq(BuiltinRole::InstitutionAdmin.code()))
            .one(&txn)
            .await?
            .ok_or(AccessError::NotFound)?;
        let username = format!("jg{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        // A throwaway password for the insert; the applicant's own hash replaces it below.
        let uid = insert_user(
            &txn,
            ctx,
            UserInsert {
                org_id: oid,
                username: &username,
                display_name: &a.contact_name,
                password: &super::random_token(),
                phone: Some(&phone),
                must_change_password: false,
                is_org_admin: true,
                role_ids: &[role.id],
            },
        )
        .await
        .map_err(|e| match e {
            super::CreateUserError::PhoneTaken => OnboardingError::State("申请中的手机号码已被其他用户使用，请驳回此申请"),
            super::CreateUserError::Db(d) => d.into(),
            _ => OnboardingError::State("管理员账号无法创建"),
        })?;
        user::ActiveModel {
            id: sea_orm::ActiveValue::Unchanged(uid),
            password_hash: Set(a.password_hash.clone()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        // The licence now belongs to the new organisation.
        file::ActiveModel { id: sea_orm::ActiveValue::Unchanged(a.licence_file_id), org_id: Set(oid), ..Default::default() }
            .update(&txn)
            .await?;
        org_id = Some(oid);
    }
    let status = if approve { ApplicationStatus::Approved } else { ApplicationStatus::Rejected };
    let name = a.name.clone();
    let mut am: app_row::ActiveModel = a.into();
    am.status = Set(status);
    am.reject_reason = Set((!approve).then(|| reason.to_owned()));
    am.org_id = Set(org_id);
    am.reviewed_by = Set(Some(actor.user_id));
    am.reviewed_at = Set(Some(now));
    am.password_hash = Set(String::new());
    am.update(&txn).await?;
    audit::record(
        &txn,
        ctx,
        Some(actor),
        meta,
        Entry::ok(
            if approve { "institution_application.approve" } else { "institution_application.reject" },
            "institution_application",
            id,
            serde_json::json!({
                "before": {"status": ApplicationStatus::Submitted.code()},
                "after": {"status": status.code(), "reason": reason, "org_id": org_id}
            }),
        ),
    )
    .await?;
    if let Some(p) = &phone {
        let title = if approve {
            format!("{}入驻申请已通过，请用申请时的手机号和密码登录", short(&name))
        } else {
            format!("{}入驻申请未通过：{}", short(&name), reason.chars().take(20).collect::<String>())
        };
        let job = SendSmsNotice { user_id: 0, title, to_phone_enc: Some(ctx.crypto.encrypt(p.as_str())) };
        jobs::enqueue(&txn, ctx, &job, EnqueueOptions::default()).await?;
    }
    txn.commit().await?;
    Ok(org_id)
}

fn short(name: &str) -> String {
    if name.chars().count() > 12 { format!("{}…", name.chars().take(12).collect::<String>()) } else { name.to_owned() }
}

/// Applications waiting for review (the back-office dashboard shows it).
pub async fn pending_count(ctx: &Ctx) -> Result<u64, DbErr> {
    app_row::Entity::find().filter(app_row::Column::Status.eq(ApplicationStatus::Submitted)).count(&ctx.db).await
}
