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
}
