//! All integration tests, in one binary. Each test starts the real server on
//! 127.0.0.1:0 with a fresh database (SQLite, or PostgreSQL when
//! QIFU_TEST_DATABASE_URL is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod access_helpers;
mod api_doc;
mod auth;
mod authorization;
mod certification;
mod cli;
mod crawl;
mod demands;
mod demo;
mod faults;
mod governance;
mod jobs;
mod layout;
mod messages;
mod onboarding;
mod policies;
mod portal;
mod portrait;
mod products;
mod registry_http;
mod scopes;
mod search;
mod search_faults;
mod sec_auth;
mod sec_ops;
mod security;
mod signing;
mod sms_aliyun;
mod totp;
mod web_base;
mod web_guard;

pub use qifu_testkit::{PASSWORD, TestApp};
