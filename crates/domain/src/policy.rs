//! Policies (惠企政策): their eligibility rules are evaluated by the one engine
//! in [`crate::eligibility`]; proposing conditions from a policy's text lives here.

pub mod parse;

pub use crate::eligibility::*;

use crate::stored::stored_enum;

stored_enum! {
    /// Where a policy is.
    pub enum PolicyState in ["policies.status"] {
        Draft = "draft" => "草稿",
        Published = "published" => "已发布",
        Withdrawn = "withdrawn" => "已撤回",
        /// Published, past its valid-until date.
        Expired = "expired" => "已过期",
    }
}

impl PolicyState {
    /// Shown on the portal (an expired policy stays readable).
    pub fn is_public(self) -> bool {
        matches!(self, PolicyState::Published | PolicyState::Expired)
    }
}

stored_enum! {
    /// Who issued a policy.
    pub enum PolicyLevel in ["policies.level", "crawl_sources.level"] {
        National = "national" => "国家",
        City = "city" => "北京市",
        District = "district" => "通州区",
    }
}

stored_enum! {
    /// How serious an entry of a crawl log is.
    pub enum CrawlLogLevel in ["crawl_logs.level"] {
        Info = "info" => "信息",
        /// A page skipped (robots.txt, unchanged, not a policy).
        Warn = "warn" => "跳过",
        Error = "error" => "错误",
    }
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in PolicyState::ALL {
            assert_eq!(PolicyState::parse(s.code()), Some(s));
        }
        for l in PolicyLevel::ALL {
            assert_eq!(PolicyLevel::parse(l.code()), Some(l));
        }
        for l in CrawlLogLevel::ALL {
            assert_eq!(CrawlLogLevel::parse(l.code()), Some(l));
        }
    }
}
