//! Argon2id password hashing.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    // OWASP's first Argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(pw: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher().hash_password(pw.as_bytes(), &salt)?.to_string())
}

/// Constant-work verification; a malformed stored hash verifies as false.
pub fn verify_password(pw: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(h) => hasher().verify_password(pw.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the user does not exist so
/// that an unknown username takes as long as a wrong password.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("dummy-password-Not-Used-1").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash_password("Qifu@2026demo").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Qifu@2026demo", &h));
        assert!(!verify_password("Qifu@2026demO", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}

use super::Actor;
use super::sms_code::{self, SmsPurpose};
use crate::audit::{self, Entry};
use crate::context::{Ctx, Meta};
use qifu_db::entity::user;
use qifu_domain::accounts::{Phone, check_password_with};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// A field and its message.
    #[error("{1}")]
    Field(&'static str, &'static str),
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn phone_of(ctx: &Ctx, u: &user::Model) -> Option<String> {
    u.phone_enc.as_deref().and_then(|e| ctx.crypto.decrypt(e).ok())
}

/// Changes the actor's own password; also how a forced initial change is done.
pub async fn change_password(
    ctx: &Ctx,
    actor: &Actor,
    meta: &Meta,
    current_session: &str,
    old: &str,
    new: &str,
    confirm: &str,
) -> Result<(), PasswordError> {
    let u = user::Entity::find_by_id(actor.user_id).one(&ctx.db).await?.ok_or(PasswordError::Field("old", "账号不存在"))?;
    if old.is_empty() {
        return Err(PasswordError::Field("old", "请填写原密码"));
    }
    if !verify_password(old, &u.password_hash) {
        return Err(PasswordError::Field("old", "原密码不正确"));
    }
    if new != confirm {
        return Err(PasswordError::Field("confirm", "两次输入的新密码不一致"));
    }
    if new == old {
        return Err(PasswordError::Field("new", "新密码不能与原密码相同"));
    }
    check_password_with(new, Some(&u.username), phone_of(ctx, &u).as_deref(), &[&u.display_name, &actor.org_name])
        .map_err(|m| PasswordError::Field("new", m))?;
    let hash = hash_password(new).map_err(|_| PasswordError::Field("new", "密码无法处理"))?;
    let txn = qifu_db::begin_write(&ctx.db).await?;
    // Every other session of the user ends (a thief's among them); this one stays.
    qifu_db::entity::session::Entity::delete_many()
        .filter(qifu_db::entity::session::Column::UserId.eq(actor.user_id))
        .filter(qifu_db::entity::session::Column::Id.ne(current_session))
        .exec(&txn)
        .await?;
    let uid = u.id;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.must_change_password = Set(false);
    am.password_changed_at = Set(Some(ctx.now()));
    am.updated_at = Set(ctx.now());
    am.update(&txn).await?;
    audit::record(&txn, ctx, Some(actor), meta, Entry::ok("user.change_password", "user", uid, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}

const STAFF_RESET: &str =
    "工作人员账号不能仅凭短信验证码重置密码：请同时填写已绑定的动态口令，或联系安全管理员重置（重置后首次登录须修改密码）";

/// Resets a forgotten password with an SMS code sent to the account's phone.
pub async fn reset_password_by_sms(
    ctx: &Ctx,
    meta: &Meta,
    phone: &Phone,
    code: &str,
    totp_code: &str,
    new: &str,
    confirm: &str,
) -> Result<(), PasswordError> {
    if new != confirm {
        return Err(PasswordError::Field("confirm", "两次输入的新密码不一致"));
    }
    let txn = qifu_db::begin_write(&ctx.db).await?;
    let u = user::Entity::find().filter(user::Column::PhoneHash.eq(ctx.crypto.blind_index(phone.as_str()))).one(&txn).await?;
    // The code is checked (and used up) before revealing whether the phone has an account.
    if !sms_code::verify_code(&txn, ctx, phone, SmsPurpose::ResetPassword, code).await? {
        txn.commit().await?;
        return Err(PasswordError::Field("code", "短信验证码错误或已过期"));
    }
    let Some(u) = u else {
        txn.commit().await?;
        return Err(PasswordError::Field("phone", "该手机号码没有注册账号"));
    };
    // Staff (operator, government) need more than the SMS code: the code of
    // their enrolled authenticator; otherwise the security administrator resets
    // the password (a new initial password, changed at the next sign-in).
    let staff = qifu_db::entity::organisation::Entity::find_by_id(u.org_id).one(&txn).await?.is_some_and(|o| o.kind.is_staff());
    if staff {
        let ok = u.totp_secret_enc.is_some()
            && !totp_code.trim().is_empty()
            && matches!(super::totp::accept_code(&txn, ctx, &u, totp_code).await, Ok(true));
        if !ok {
            txn.commit().await?;
            return Err(PasswordError::Field("totp", STAFF_RESET));
        }
    }
    check_password_with(new, Some(&u.username), Some(phone.as_str()), &[&u.display_name])
        .map_err(|m| PasswordError::Field("new", m))?;
    let hash = hash_password(new).map_err(|_| PasswordError::Field("new", "密码无法处理"))?;
    let uid = u.id;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.must_change_password = Set(false);
    am.failed_logins = Set(0);
    am.locked_until = Set(None);
    am.password_changed_at = Set(Some(ctx.now()));
    am.update(&txn).await?;
    super::session::end_all_for_user(&txn, uid).await?;
    audit::record(&txn, ctx, None, meta, Entry::ok("user.reset_password_sms", "user", uid, serde_json::json!({}))).await?;
    txn.commit().await?;
    Ok(())
}
