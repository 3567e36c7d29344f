//! 公民身份号码 — GB 11643-1999: 6-digit address code, 8-digit birth date,
//! 3-digit sequence (odd for men, even for women), ISO 7064 MOD 11-2 check
//! character (X for 10).

use crate::text::to_half_width;
use chrono::NaiveDate;
use std::fmt;
use thiserror::Error;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ResidentIdError {
    #[error("请填写身份证号码")]
    Empty,
    #[error("身份证号码应为18位，当前为{0}位")]
    Length(usize),
    #[error("身份证号码第{position}位“{ch}”不是合法字符（前17位为数字，第18位为数字或X）")]
    IllegalChar { position: usize, ch: char },
    #[error("身份证号码中的出生日期{0}不是有效日期")]
    BirthDate(String),
    #[error("身份证号码校验位错误：第18位应为“{expected}”，实际为“{found}”")]
    CheckChar { expected: char, found: char },
}

/// The check character for the first 17 digits.
pub fn check_char(body17: &[u32]) -> char {
    let sum: u32 = body17.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize]
}

/// A resident identity number whose characters, birth date and check character are valid.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

impl ResidentId {
    /// Trims, converts full-width characters and upper-cases `x`.
    pub fn parse(input: &str) -> Result<Self, ResidentIdError> {
        let s = to_half_width(input.trim()).to_ascii_uppercase();
        if s.is_empty() {
            return Err(ResidentIdError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(ResidentIdError::Length(chars.len()));
        }
        let mut digits = Vec::with_capacity(17);
        for (i, &c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                return Err(ResidentIdError::IllegalChar { position: i + 1, ch: c });
            }
            if i < 17 {
                digits.push(c.to_digit(10).unwrap_or(0));
            }
        }
        let date = &s[6..14];
        if NaiveDate::parse_from_str(date, "%Y%m%d").ok().filter(|d| d.format("%Y").to_string().as_str() >= "1800").is_none() {
            return Err(ResidentIdError::BirthDate(date.to_owned()));
        }
        let expected = check_char(&digits);
        if expected != chars[17] {
            return Err(ResidentIdError::CheckChar { expected, found: chars[17] });
        }
        Ok(ResidentId(s))
    }

    /// Builds a number from 17 digits by appending the check character.
    pub fn from_body(body17: &str) -> Option<Self> {
        let digits: Option<Vec<u32>> = body17.chars().map(|c| c.to_digit(10)).collect();
        let digits = digits.filter(|d| d.len() == 17)?;
        Self::parse(&format!("{body17}{}", check_char(&digits))).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// 男 for odd sequence numbers, 女 for even.
    pub fn sex(&self) -> &'static str {
        if self.0.as_bytes()[16] % 2 == 1 { "男" } else { "女" }
    }

    /// `110101**********1234`-style masking: the first four and last four kept.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

/// Never prints the whole number.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standard_example_and_public_vectors() {
        // GB 11643-1999's worked example, and the example number printed in the
        // Chinese Wikipedia article on the resident identity card.
        for id in ["11010519491231002X", "440524188001010014"] {
            assert!(ResidentId::parse(id).is_ok(), "{id}: {:?}", ResidentId::parse(id));
        }
        let r = ResidentId::parse("11010519491231002x").unwrap();
        assert_eq!(r.as_str(), "11010519491231002X");
        assert_eq!(r.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(r.sex(), "女");
        assert_eq!(r.masked(), "1101**********002X");
        assert!(!format!("{r:?}").contains("19491231"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(ResidentId::parse(""), Err(ResidentIdError::Empty));
        assert_eq!(ResidentId::parse("1101051949123100"), Err(ResidentIdError::Length(16)));
        assert_eq!(ResidentId::parse("11010519491231002A"), Err(ResidentIdError::IllegalChar { position: 18, ch: 'A' }));
        assert_eq!(ResidentId::parse("1101X519491231002X"), Err(ResidentIdError::IllegalChar { position: 5, ch: 'X' }));
        assert_eq!(ResidentId::parse("110105194913310028"), Err(ResidentIdError::BirthDate("19491331".into())));
        assert_eq!(ResidentId::parse("110105194902300027"), Err(ResidentIdError::BirthDate("19490230".into())));
        assert_eq!(ResidentId::parse("110105194912310021"), Err(ResidentIdError::CheckChar { expected: 'X', found: '1' }));
    }

    proptest! {
        #[test]
        fn from_body_round_trips(addr in 110000u32..660000, y in 1930u32..2020, m in 1u32..13, d in 1u32..29, seq in 0u32..1000) {
            let body = format!("{addr:06}{y:04}{m:02}{d:02}{seq:03}");
            let id = ResidentId::from_body(&body).unwrap();
            prop_assert_eq!(ResidentId::parse(id.as_str()).unwrap(), id);
        }

        #[test]
        fn a_changed_digit_is_caught(seq in 0u32..1000, pos in 0usize..17, delta in 1u32..10) {
            let body = format!("11010519800101{seq:03}");
            let id = ResidentId::from_body(&body).unwrap();
            let mut chars: Vec<char> = id.as_str().chars().collect();
            let dgt = chars[pos].to_digit(10).unwrap();
            chars[pos] = char::from_digit((dgt + delta) % 10, 10).unwrap();
            let changed: String = chars.into_iter().collect();
            prop_assert!(ResidentId::parse(&changed).is_err());
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = ResidentId::parse(&s);
        }
    }
}
