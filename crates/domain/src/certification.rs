//! Certification rules: the unified social credit code (GB 32100-2015), the
//! resident identity number (GB 11643-1999) and enterprise-name comparison.

mod credit_code;
mod name;
mod resident_id;

pub use credit_code::{CreditCode, CreditCodeError, org_code_check_char};
pub use name::{normalise_name, same_name};
pub use resident_id::{ResidentId, ResidentIdError};

use crate::stored::stored_enum;

stored_enum! {
    /// Where an enterprise's real-name certification (实名认证) is.
    pub enum CertificationStatus in ["certifications.status"] {
        Submitted = "submitted" => "已提交",
        /// Waiting for an operator's manual review.
        Review = "review" => "审核中",
        Certified = "certified" => "已认证",
        Rejected = "rejected" => "未通过",
    }
}

stored_enum! {
    /// How the submitted details compare with the enterprise registry.
    pub enum MatchResult in ["certifications.match_result"] {
        Match = "match" => "与登记信息一致",
        Mismatch = "mismatch" => "与登记信息不一致",
        NotFound = "not_found" => "登记信息中未找到",
        /// The credit code is already certified for another organisation.
        Conflict = "conflict" => "代码已被其他企业认证",
        Unavailable = "unavailable" => "登记信息查询失败",
    }
}

/// Whether a registry's status text (登记状态, as the registry writes it:
/// 存续, 在业, 吊销, 注销 …) says the enterprise no longer exists. The text
/// comes from outside and is kept as written; this is the one place read.
pub fn registration_ended(status: &str) -> bool {
    matches!(status.trim(), "吊销" | "注销")
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in CertificationStatus::ALL {
            assert_eq!(CertificationStatus::parse(s.code()), Some(s));
        }
        for m in MatchResult::ALL {
            assert_eq!(MatchResult::parse(m.code()), Some(m));
        }
    }
}
