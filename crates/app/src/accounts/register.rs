//! Enterprise quick registration (快速注册): phone, enterprise name, contact,
//! password and the SMS code that proves the phone.

use super::sms_code::{self, SmsPurpose};
use super::{CreateUserError, UserInsert, insert_org, insert_user};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::{organisation, role, user};
use qifu_domain::accounts::{BuiltinRole, OrgKind, Phone, check_org_name, check_password, check_person_name};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub phone: String,
    pub enterprise_name: String,
    pub contact_name: String,
    pub password: String,
    pub confirm: String,
    pub sms_code: String,
    /// The channel code the visitor arrived with (`?ch=`).
    pub channel: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Every field error at once, so the form can show them together.
    #[error("注册信息有误")]
    Fields(Vec<(&'static str, String)>),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub fn clean_channel(ch: &str) -> Option<String> {
    let ch = ch.trim();
    (!ch.is_empty() && ch.len() <= 32 && ch.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then(|| ch.to_owned())
}

/// Registers an enterprise organisation and its administrator. Returns the user
/// id and the generated username.
pub async fn register_enterprise(ctx: &Ctx, meta: &Meta, r: &Registration) -> Result<(i64, String), RegistrationError> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let phone = match Phone::parse(&r.phone) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(("phone", e.to_string()));
            None
        }
    };
    let ent = r.enterprise_name.trim();
    if let Err(m) = check_org_name(ent) {
        errors.push(("enterprise_name", m.to_owned()));
    }
    let contact = r.contact_name.trim();
    if let Err(m) = check_person_name(contact) {
        errors.push(("contact_name", m.to_owned()));
    }
    if let Err(m) = check_password(&r.password, None, phone.as_ref().map(Phone::as_str)) {
        errors.push(("password", m.to_owned()));
    } else if r.password != r.confirm {
        errors.push(("confirm", "两次输入的密码不一致".to_owned()));
    }
    let code = r.sms_code.trim();
    if code.is_empty() {
        errors.push(("sms_code", "请填写短信验证码".to_owned()));
    } else if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(("sms_code", "短信验证码为6位数字".to_owned()));
    }
    if let Some(p) = &phone {
        let taken =
            user::Entity::find().filter(user::Column::PhoneHash.eq(ctx.crypto.blind_index(p.as_str()))).one(&ctx.db).await?;
        if taken.is_some() {
            errors.push(("phone", "该手机号码已注册，请直接登录或找回密码".to_owned()));
        }
    }
    let Some(phone) = phone.filter(|_| errors.is_empty()) else {
        return Err(RegistrationError::Fields(errors));
    };
    let txn = qifu_db::begin_write(&ctx.db).await?;
    if !sms_code::verify_code(&txn, ctx, &phone, SmsPurpose::Register, code).await? {
        txn.commit().await?;
        return Err(RegistrationError::Fields(vec![("sms_code", "短信验证码错误或已过期，请重新获取".to_owned())]));
    }
    let org_id = insert_org(&txn, ctx, OrgKind::Enterprise, ent, None).await?;
    let channel = clean_channel(&r.channel);
    if channel.is_some() {
        let org = organisation::Entity::find_by_id(org_id).one(&txn).await?.ok_or(DbErr::RecordNotFound("org".into()))?;
        let mut am: organisation::ActiveModel = org.into();
        am.channel = Set(channel.clone());
        am.update(&txn).await?;
    }
    super::ensure_builtin_roles(&txn, ctx).await?;
    let role = role::Entity::find()
        .filter(role::Column::Code.eq(BuiltinRole::EnterpriseAdmin.code()))
        .one(&txn)
        .await?
        .ok_or(DbErr::RecordNotFound("role".into()))?;
    let mut username = String::new();
    for _ in 0..5 {
        let candidate = format!("qy{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        if user::Entity::find().filter(user::Column::Username.eq(candidate.as_str())).one(&txn).await?.is_none() {
            username = candidate;
            break;
        }
    }
    let uid = insert_user(
        &txn,
        ctx,
        UserInsert {
            org_id,
            username: &username,
            display_name: contact,
            password: &r.password,
            phone: Some(&phone),
            must_change_password: false,
            is_org_admin: true,
            role_ids: &[role.id],
        },
    )
    .await
    .map_err(|e| match e {
        CreateUserError::PhoneTaken => RegistrationError::Fields(vec![("phone", "该手机号码已注册".to_owned())]),
        CreateUserError::Db(d) => RegistrationError::Db(d),
        other => RegistrationError::Fields(vec![("password", other.to_string())]),
    })?;
    audit::record(
        &txn,
        ctx,
        None,
        meta,
        Entry::ok(
            "user.register",
            "organisation",
            org_id,
            serde_json::json!({"after": {"enterprise_name": ent, "contact": contact, "phone": phone.masked(), "channel": channel, "user_id": uid}}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((uid, username))
}
