//! Transitional: lets code not yet converted to the stored enums (the search
//! indexer, `qifu-app`'s `search.rs`, and the fault-injection tests,
//! `crates/cli/tests/it/faults.rs`, under another change at the time of the
//! typed-states change) compile unchanged. New code must not use these; they
//! go once that code compares with the enums themselves.

use crate::accounts::{AccountStatus, InstitutionKind};
use crate::content::{ActivityKind, ArticleKind, ContentState};
use crate::demands::ProductState;
use crate::messages::{Channel, DeliveryStatus};
use crate::policy::{PolicyLevel, PolicyState};

macro_rules! eq_code {
    ($($t:ty),+) => {$(
        impl PartialEq<&str> for $t {
            fn eq(&self, code: &&str) -> bool {
                self.code() == *code
            }
        }
    )+};
}

eq_code!(AccountStatus, ProductState, PolicyState, ArticleKind, ActivityKind, ContentState, Channel, DeliveryStatus);

impl PolicyLevel {
    /// The stored code; use [`PolicyLevel::code`].
    pub fn as_str(self) -> &'static str {
        self.code()
    }
}

/// `InstitutionKind::parse(&institution.kind)`, written when the column was text.
impl std::ops::Deref for InstitutionKind {
    type Target = str;

    fn deref(&self) -> &str {
        self.code()
    }
}
