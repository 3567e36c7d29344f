//! Bounded fuzzing of the parsers that read what people and other systems
//! type: the policy-text rule suggester, row cleaning for imports, and the
//! credit-code and ID-number checks. Each property runs a fixed number of
//! cases (proptest's default 256, or `PROPTEST_CASES`), so CI time is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use qifu_domain::certification::{CreditCode, ResidentId};
use qifu_domain::governance::{EnterpriseField, clean_row};
use qifu_domain::policy::parse::suggest;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

/// Text shaped like policy conditions, so the suggester's patterns fire.
fn policy_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("企业".to_owned()),
            Just("研发费用占比".to_owned()),
            Just("不低于".to_owned()),
            Just("以上".to_owned()),
            Just("（含）".to_owned()),
            Just("万元".to_owned()),
            Just("%".to_owned()),
            Just("成立满".to_owned()),
            Just("年".to_owned()),
            Just("从业人员".to_owned()),
            Just("人".to_owned()),
            Just("高新技术企业".to_owned()),
            Just("注册地在通州区".to_owned()),
            Just("，".to_owned()),
            Just("。".to_owned()),
            "[0-9０-９.]{1,8}",
            "\\PC{0,6}",
        ],
        0..60,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn the_rule_suggester_never_panics_on_any_text(s in "\\PC{0,300}") {
        let _ = suggest(&s);
    }

    #[test]
    fn the_rule_suggester_never_panics_on_policy_like_text(s in policy_like()) {
        for sug in suggest(&s) {
            // Whatever it suggests names a condition that can be described.
            let described = format!("{:?}", sug);
            prop_assert!(!described.is_empty());
        }
    }

    #[test]
    fn row_cleaning_never_panics_and_a_row_with_errors_is_not_accepted(
        values in prop::collection::vec("\\PC{0,40}", EnterpriseField::ALL.len())
    ) {
        let raw: Vec<(EnterpriseField, String)> = EnterpriseField::ALL.iter().copied().zip(values).collect();
        let c = clean_row(&raw, today());
        if !c.errors.is_empty() {
            prop_assert!(!c.accepted());
        }
        if c.accepted() {
            let code = c.row.credit_code.as_deref().unwrap_or("");
            prop_assert!(CreditCode::parse(code).is_ok(), "an accepted credit code is valid: {code}");
        }
        if let Some(d) = c.row.founded_on {
            prop_assert!(d <= today(), "no founding date in the future");
        }
    }

    #[test]
    fn code_checks_never_panic(s in "\\PC{0,40}", ascii in "[0-9A-Za-z]{15,20}") {
        let _ = CreditCode::parse(&s);
        let _ = ResidentId::parse(&s);
        let _ = CreditCode::parse(&ascii);
        let _ = ResidentId::parse(&ascii);
    }
}
