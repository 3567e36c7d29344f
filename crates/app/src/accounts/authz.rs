//! Permission checks. Every use case calls `require` with the permission it
//! needs and gets the data scope back.

use super::Actor;
use crate::access::AccessError;
use qifu_domain::accounts::{Permission, Scope};

/// The actor's scope for `p`, or `Forbidden`.
pub fn require(actor: &Actor, p: Permission) -> Result<Scope, AccessError> {
    actor.scope(p).ok_or(AccessError::Forbidden)
}
