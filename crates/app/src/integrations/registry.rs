//! The market-regulation registry (市场监管登记信息): who holds a credit code,
//! under what name and legal representative. Behind a trait: a local table
//! (filled by demo data now, by imports later) and an HTTP JSON client.

use qifu_domain::certification::CreditCode;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

/// What the registry says about one credit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRecord {
    pub credit_code: String,
    pub name: String,
    pub legal_rep_name: String,
    /// The legal representative's ID number, where the registry provides it.
    pub legal_rep_id: Option<String>,
    /// e.g. 存续, 在业, 吊销, 注销
    pub status: String,
    /// The record's base fields, where the registry provides them.
    pub base: RegistryBase,
}

/// The base fields of a registration (营业执照上的信息), each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistryBase {
    /// 企业类型 (有限责任公司（自然人投资或控股） …)
    #[serde(default)]
    pub entity_type: Option<String>,
    /// 成立日期
    #[serde(default)]
    pub founded_on: Option<chrono::NaiveDate>,
    /// 注册资本 in fen
    #[serde(default)]
    pub registered_capital_fen: Option<i64>,
    /// 住所
    #[serde(default)]
    pub address: Option<String>,
    /// The Tongzhou street or town (9-digit code)
    #[serde(default)]
    pub division_code: Option<String>,
    /// GB/T 4754-2017 class code
    #[serde(default)]
    pub industry_code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("登记信息查询服务不可用：{0}")]
    Unavailable(String),
}

pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<RegistryRecord>, RegistryError>> + Send + 'a>>;

pub trait Registry: Send + Sync + Debug {
    fn name(&self) -> &'static str;
    /// The record for a credit code, or `None` if the registry has none.
    fn lookup<'a>(&'a self, code: &'a CreditCode) -> LookupFuture<'a>;
    /// Registrations changed on or after `since`, a page at a time.
    fn changes<'a>(&'a self, since: chrono::NaiveDate, cursor: Option<&'a str>) -> ChangesFuture<'a>;
}

/// A registration that changed, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub record: RegistryRecord,
    /// The day the registry recorded the change (变更日期).
    pub changed_on: chrono::NaiveDate,
}

/// One page of changes; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    pub next_cursor: Option<String>,
}

pub type ChangesFuture<'a> = Pin<Box<dyn Future<Output = Result<ChangePage, RegistryError>> + Send + 'a>>;
