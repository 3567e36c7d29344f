//! 统一社会信用代码 — GB 32100-2015.
//!
//! 18 characters: registration authority (1), organisation type (1), division
//! code (6), organisation code (9, GB 11714), check character (1). The code set
//! is the digits and the capital letters without I, O, Z, S and V.

use crate::reference::division;
use crate::text::to_half_width;
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;

/// The 31 characters of the code set, in value order.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights W_i = 3^(i-1) mod 31 for i = 1..=17.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

fn value_of(c: char) -> Option<u32> {
    CHARSET.iter().position(|&b| b as char == c).and_then(|p| u32::try_from(p).ok())
}

fn check_char_for(body: &[u32]) -> char {
    let sum: u32 = body.iter().zip(WEIGHTS.iter()).map(|(v, w)| v * w).sum();
    let c = 31 - (sum % 31);
    let c = if c == 31 { 0 } else { c };
    CHARSET[c as usize] as char
}

/// Why a string is not a credit code. The messages are shown to users as they are.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreditCodeError {
    #[error("请填写统一社会信用代码")]
    Empty,
    #[error("统一社会信用代码应为18位，当前为{0}位")]
    Length(usize),
    #[error("统一社会信用代码第{position}位“{ch}”不是合法字符（只能是数字和除 I、O、Z、S、V 以外的大写字母）")]
    IllegalChar { position: usize, ch: char },
    #[error("统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{found}”")]
    CheckChar { expected: char, found: char },
}

/// A unified social credit code whose characters and check character are valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses user input: surrounding spaces are trimmed, full-width characters
    /// become half-width and lower-case letters upper-case before checking.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let normalised: String = to_half_width(input.trim()).to_ascii_uppercase();
        if normalised.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let chars: Vec<char> = normalised.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let mut values = Vec::with_capacity(18);
        for (i, &c) in chars.iter().enumerate() {
            match value_of(c) {
                Some(v) => values.push(v),
                None => {
                    return Err(CreditCodeError::IllegalChar { position: i + 1, ch: c });
                }
            }
        }
        let expected = check_char_for(&values[..17]);
        let found = chars[17];
        if expected != found {
            return Err(CreditCodeError::CheckChar { expected, found });
        }
        Ok(CreditCode(normalised))
    }

    /// Builds a code from its first 17 characters by appending the check character.
    /// Returns `None` if any character is outside the code set.
    pub fn from_body(body17: &str) -> Option<Self> {
        if body17.chars().count() != 17 {
            return None;
        }
        let values: Option<Vec<u32>> = body17.chars().map(value_of).collect();
        let check = check_char_for(&values?);
        Some(CreditCode(format!("{body17}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 登记管理部门代码 (first character) decoded to a name.
    pub fn registration_authority(&self) -> &'static str {
        match self.0.as_bytes()[0] {
            b'1' => "机构编制",
            b'2' => "外交",
            b'3' => "司法行政",
            b'4' => "文化",
            b'5' => "民政",
            b'6' => "旅游",
            b'7' => "宗教",
            b'8' => "工会",
            b'9' => "市场监督管理（工商）",
            b'A' => "中央军委改革和编制办公室",
            b'N' => "农业",
            b'Y' => "其他",
            _ => "未知",
        }
    }

    /// 机构类别代码 (second character) decoded in the context of the first.
    pub fn organisation_type(&self) -> &'static str {
        let b = self.0.as_bytes();
        match (b[0], b[1]) {
            (b'1', b'1') => "机关",
            (b'1', b'2') => "事业单位",
            (b'1', b'3') => "中央编办直接管理机构编制的群众团体",
            (b'5', b'1') => "社会团体",
            (b'5', b'2') => "民办非企业单位",
            (b'5', b'3') => "基金会",
            (b'9', b'1') => "企业",
            (b'9', b'2') => "个体工商户",
            (b'9', b'3') => "农民专业合作社",
            (b'N', b'1') => "农村集体经济组织",
            (_, b'9') => "其他",
            _ => "未知",
        }
    }

    /// 登记管理机关行政区划码 (characters 3–8).
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }

    /// The division's name where it is a known division.
    pub fn division_name(&self) -> Option<&'static str> {
        division::county_name(self.division_code())
    }

    /// 主体标识码 (组织机构代码, characters 9–17).
    pub fn organisation_code(&self) -> &str {
        &self.0[8..17]
    }

    /// Whether characters 3–8 name Tongzhou District (110112).
    pub fn registered_in_tongzhou(&self) -> bool {
        self.division_code() == division::TONGZHOU
    }
}

/// GB 11714 check character for an 8-character organisation-code body
/// (digits and capital letters), or `None` for an illegal character.
pub fn org_code_check_char(body8: &str) -> Option<char> {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if body8.chars().count() != 8 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in body8.chars().zip(W) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&value)
    }
}

impl From<CreditCode> for String {
    fn from(value: CreditCode) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Codes published on public registers (company websites, notices).
    const PUBLISHED: &[&str] = &[
        "91350100M000100Y43", // the example printed in GB 32100-2015, Annex
        "91110000802100433B", // China Mobile Communications Group Co., Ltd.
        "91440300708461136T", // Huawei Technologies Co., Ltd.
        "9111000071093123XX", // State Grid Corporation of China
        "911100001000044477", // Bank of China Ltd. (check)
        "91110108551385082Q", // Xiaomi Technology (Beijing)
    ];

    #[test]
    fn published_codes_are_valid() {
        for code in PUBLISHED {
            let parsed = CreditCode::parse(code);
            assert!(parsed.is_ok(), "{code}: {parsed:?}");
        }
    }

    #[test]
    fn decodes_parts() {
        let c = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(c.registration_authority(), "市场监督管理（工商）");
        assert_eq!(c.organisation_type(), "企业");
        assert_eq!(c.division_code(), "350100");
        assert_eq!(c.organisation_code(), "M000100Y4");
        let t = CreditCode::from_body("91110112MA01ABCD1").unwrap();
        assert_eq!(t.division_name(), Some("北京市通州区"));
        assert!(t.registered_in_tongzhou());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(CreditCode::parse("  "), Err(CreditCodeError::Empty));
        assert_eq!(CreditCode::parse("9135010"), Err(CreditCodeError::Length(7)));
        assert_eq!(CreditCode::parse("91350100M000100Y4I"), Err(CreditCodeError::IllegalChar { position: 18, ch: 'I' }));
        assert_eq!(CreditCode::parse("91350100M0001O0Y43"), Err(CreditCodeError::IllegalChar { position: 14, ch: 'O' }));
        assert_eq!(CreditCode::parse("91350100M000100Y44"), Err(CreditCodeError::CheckChar { expected: '3', found: '4' }));
        let msg = CreditCode::parse("91350100M000100Y44").unwrap_err().to_string();
        assert!(msg.contains("校验位"), "{msg}");
    }

    #[test]
    fn input_is_normalised() {
        let c = CreditCode::parse(" ９１３５０１００m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn org_code_check() {
        // GB 11714 worked example: D2143569 → check digit X (commonly cited).
        assert_eq!(org_code_check_char("D2143569"), Some('X'));
        assert_eq!(org_code_check_char("M000100Y"), Some('4'));
        assert_eq!(org_code_check_char("abc"), None);
    }

    proptest! {
        #[test]
        fn from_body_always_parses(body in "[0-9A-HJ-NP-RT-UW-Y]{17}") {
            let code = CreditCode::from_body(&body).unwrap();
            prop_assert_eq!(CreditCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn one_changed_character_is_caught(body in "[0-9A-HJ-NP-RT-UW-Y]{17}", pos in 0usize..17, delta in 1u32..31) {
            let code = CreditCode::from_body(&body).unwrap();
            let mut chars: Vec<char> = code.as_str().chars().collect();
            let v = value_of(chars[pos]).unwrap();
            chars[pos] = CHARSET[((v + delta) % 31) as usize] as char;
            let changed: String = chars.into_iter().collect();
            prop_assert!(CreditCode::parse(&changed).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = CreditCode::parse(&s);
        }
    }
}
