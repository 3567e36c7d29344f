//! Accounts: signing in and out, registration and password recovery, the
//! user's own account (password, sessions, sub-accounts, authenticator app),
//! institution onboarding, and the back office's users, organisations, roles,
//! menus and online users; the registration endpoints of the JSON API.

mod account;
pub(crate) mod api;
mod login;
mod menus;
mod onboarding;
mod online;
mod orgs;
mod register;
mod roles;
mod totp;
mod users;

use crate::AppState;
use crate::error::{FieldErrors, WebError};
use axum::Router;
use axum::routing::{get, post};
use qifu_app::accounts::{
    LoginError, MenuError, OnboardingError, PasswordError, RegistrationError, SecondFactorError, SmsCodeError, UserError,
    totp::TotpError,
};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::show_login).post(login::login))
        .route("/login/verify", get(login::show_verify).post(login::verify))
        .route("/logout", post(login::logout))
        .route("/register", get(register::show_register).post(register::register))
        .route("/password/reset", get(register::show_reset).post(register::reset))
        .route("/account", get(account::show_account))
        .route("/account/password", get(account::show_password).post(account::change_password))
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route("/account/users", get(account::show_subaccounts).post(account::create_subaccount))
        .route("/account/users/{id}/{action}", post(account::set_subaccount_status))
        .route("/account/totp", get(totp::show_totp).post(totp::save_totp))
        .route("/institutions/apply", get(onboarding::show_apply).post(onboarding::submit_apply))
}

/// Mounted under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/captcha", get(api::get_captcha))
        .route("/sms-codes", post(api::create_sms_code))
        .route("/registrations", post(api::create_registration))
}

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users::list_users).post(users::create_user))
        .route("/admin/users/{id}/{action}", post(users::user_action))
        .route("/admin/orgs", get(orgs::list_orgs))
        .route("/admin/orgs/new-institution", get(orgs::show_new_institution).post(orgs::create_institution))
        .route("/admin/orgs/{id}/{action}", post(orgs::org_action))
        .route("/admin/institution-applications", get(onboarding::list_applications))
        .route("/admin/institution-applications/{id}", get(onboarding::show_application).post(onboarding::review_application))
        .route("/admin/institution-applications/{id}/licence", get(onboarding::show_licence))
        .route("/admin/roles", get(roles::list_roles))
        .route("/admin/roles/{id}", get(roles::show_role).post(roles::save_role))
        .route("/admin/menus", get(menus::list_menus))
        .route("/admin/menus/{id}", post(menus::update_menu))
        .route("/admin/online", get(online::list_online))
        .route("/admin/online/{id}/force-out", post(online::force_out))
}

// ---- the accounts use cases' errors, converted once ----

impl From<UserError> for WebError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Fields(list) => WebError::Invalid(list.into()),
            UserError::Invalid(m) => WebError::invalid(m),
            UserError::Forbidden(m) => WebError::ForbiddenBecause(m.to_owned()),
            UserError::Access(a) => a.into(),
        }
    }
}

impl From<PasswordError> for WebError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Field(f, m) => WebError::Invalid(vec![(f, m.to_owned())].into()),
            PasswordError::Db(d) => d.into(),
        }
    }
}

impl From<RegistrationError> for WebError {
    fn from(e: RegistrationError) -> Self {
        match e {
            RegistrationError::Fields(list) => WebError::Invalid(list.into()),
            RegistrationError::Db(d) => d.into(),
        }
    }
}

impl From<SmsCodeError> for WebError {
    fn from(e: SmsCodeError) -> Self {
        match e {
            SmsCodeError::Db(d) => d.into(),
            e @ (SmsCodeError::TooSoon(_) | SmsCodeError::PhoneDailyCap | SmsCodeError::IpDailyCap) => {
                WebError::TooMany(e.to_string())
            }
            e @ SmsCodeError::Delivery => WebError::Unavailable(e.to_string()),
        }
    }
}

impl From<LoginError> for WebError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Db(d) => d.into(),
            e @ LoginError::IpThrottled => WebError::TooMany(e.to_string()),
            e @ LoginError::Captcha => WebError::Invalid(vec![("captcha", e.to_string())].into()),
            e @ (LoginError::BadCredentials | LoginError::Locked(_) | LoginError::Disabled | LoginError::ClientCertRequired) => {
                WebError::invalid(e.to_string())
            }
        }
    }
}

impl From<SecondFactorError> for WebError {
    fn from(e: SecondFactorError) -> Self {
        match e {
            SecondFactorError::Db(d) => d.into(),
            SecondFactorError::Sms(s) => s.into(),
            e @ (SecondFactorError::Expired
            | SecondFactorError::NoPhone
            | SecondFactorError::WrongCode
            | SecondFactorError::TooManyFailures(_)) => WebError::invalid(e.to_string()),
        }
    }
}

impl From<TotpError> for WebError {
    fn from(e: TotpError) -> Self {
        match e {
            TotpError::Db(d) => d.into(),
            e @ (TotpError::WrongCode
            | TotpError::Expired
            | TotpError::NotEnrolled
            | TotpError::Invalid
            | TotpError::Replayed
            | TotpError::PasswordRequired
            | TotpError::WrongPassword
            | TotpError::ProofRequired
            | TotpError::TooManyFailures(_)) => WebError::invalid(e.to_string()),
        }
    }
}

impl From<OnboardingError> for WebError {
    fn from(e: OnboardingError) -> Self {
        match e {
            OnboardingError::Fields(list) => WebError::Invalid(list.into()),
            OnboardingError::State(m) => WebError::Conflict(m.to_owned()),
            OnboardingError::Access(a) => a.into(),
        }
    }
}

impl From<MenuError> for WebError {
    fn from(e: MenuError) -> Self {
        match e {
            MenuError::Invalid(m) => WebError::invalid(m),
            MenuError::Access(a) => a.into(),
        }
    }
}

// ---- shared by the account's and the back office's user pages ----

/// What a create-user form keeps after an error.
#[derive(Clone, Debug, Default)]
pub struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub phone: String,
    pub org_id: String,
    pub role: String,
}

/// A new user as submitted (a sub-account, or a user of any organisation in
/// the back office).
#[derive(Debug, Deserialize, Default)]
pub struct SubAccountForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub role: String,
}

impl SubAccountForm {
    fn keep(&self) -> NewUserForm {
        NewUserForm {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            phone: self.phone.clone(),
            org_id: self.org_id.clone(),
            role: self.role.clone(),
        }
    }
}

/// The only message of a refused action on a list page: its whole-form one.
fn form_notice(errors: &FieldErrors) -> Option<String> {
    errors.get("form").map(str::to_owned)
}

/// The notice after a back-office redirect (`?done=`).
fn done_notice(code: &str) -> Option<String> {
    crate::kit::notice(
        code,
        &[
            ("disabled", "账号已停用，其登录会话已结束。"),
            ("enabled", "账号已启用。"),
            ("unlocked", "账号已解锁。"),
            ("org_disabled", "组织已停用，其所有账号已退出登录。"),
            ("org_enabled", "组织已启用。"),
            ("saved", "已保存。"),
            ("forced_out", "该用户已被强制下线。"),
        ],
    )
}

/// `?done=` after a redirect.
#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
}
