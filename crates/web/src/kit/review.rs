//! Review queues (实名认证, 机构入驻, 产品上架): the list's query, the
//! reviewer's decision.

use super::pager::lenient_u64;
use crate::error::WebError;
use serde::Deserialize;

/// A review queue's list: its page, status tab and the notice after a decision.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default, deserialize_with = "lenient_u64")]
    pub page: u64,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub done: String,
}

impl QueueQuery {
    /// The status tab asked for: the queue's default (what waits for review)
    /// when none is given, `None` for 全部 (`all`, or a state the queue does not know).
    pub fn status_or<T>(&self, default: T, parse: fn(&str) -> Option<T>) -> Option<T> {
        if self.status.is_empty() { Some(default) } else { parse(&self.status) }
    }
}

/// The code of a status tab for links: the state's, or `all`.
pub fn tab_code(code: Option<&'static str>) -> &'static str {
    code.unwrap_or("all")
}

/// A reviewer's decision: approve, or reject with a reason.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Decision {
    pub decision: String,
    pub reason: String,
}

impl Decision {
    /// Whether the item is approved; anything but the two choices is a bad
    /// request whose message names them (`reject` is the queue's word for no).
    pub fn approve(&self, reject: &str) -> Result<bool, WebError> {
        match self.decision.as_str() {
            "approve" => Ok(true),
            "reject" => Ok(false),
            _ => Err(WebError::BadRequest(format!("请选择通过或{reject}"))),
        }
    }
}
