//! Mainland mobile phone numbers.

use crate::text::to_half_width;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("请填写手机号码")]
    Empty,
    #[error("手机号码应为11位数字")]
    Format,
    #[error("手机号码号段不正确")]
    Prefix,
}

/// An 11-digit mainland mobile number (13x–19x), without country code.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts spaces, dashes, full-width digits and a +86 / 86 prefix.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let s: String = to_half_width(input.trim()).chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        let s = s.strip_prefix("+86").or_else(|| if s.len() == 13 { s.strip_prefix("86") } else { None }).unwrap_or(&s);
        if s.len() != 11 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Format);
        }
        let b = s.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(PhoneError::Prefix);
        }
        Ok(Phone(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****1234`
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// Never prints the whole number.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_masks() {
        assert_eq!(Phone::parse("138 0013 8000").unwrap().as_str(), "13800138000");
        assert_eq!(Phone::parse("+86 13800138000").unwrap().as_str(), "13800138000");
        assert_eq!(Phone::parse("８６13800138000").unwrap().as_str(), "13800138000");
        assert_eq!(Phone::parse("13800138000").unwrap().masked(), "138****8000");
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("1380013800"), Err(PhoneError::Format));
        assert_eq!(Phone::parse("23800138000"), Err(PhoneError::Prefix));
        assert_eq!(Phone::parse("12800138000"), Err(PhoneError::Prefix));
        assert_eq!(Phone::parse("1380013800a"), Err(PhoneError::Format));
        assert!(!format!("{:?}", Phone::parse("13800138000").unwrap()).contains("0013"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = Phone::parse(&s);
        }
    }
}
