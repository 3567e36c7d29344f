//! Handlers, grouped by area.

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod authorization;
pub mod certification;
pub mod demands;
pub mod health;
pub mod portal;

use serde::Deserialize;

/// `?page=N` on list pages; anything unparsable is page 1.
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub page: u64,
}

pub fn lenient_u64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()).filter(|n| *n >= 1 && *n <= 100_000).unwrap_or(1))
}
