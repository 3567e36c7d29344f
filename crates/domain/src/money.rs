//! Money in integer fen (分). Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of Chinese yuan held as integer fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Money(i64);

/// Fen in one 万元 (10,000 yuan).
pub const FEN_PER_WAN: i64 = 1_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    /// From 万元 (ten thousand yuan), the unit of the SME size rules.
    pub const fn from_wan(wan: i64) -> Self {
        Money(wan * FEN_PER_WAN)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Whole 万元, rounded down.
    pub const fn wan_floor(self) -> i64 {
        self.0.div_euclid(FEN_PER_WAN)
    }

    /// Formats as 万元 with up to two decimals, e.g. `1234.5万元`.
    pub fn display_wan(self) -> String {
        let hundredths = self.0.div_euclid(FEN_PER_WAN / 100);
        let whole = hundredths.div_euclid(100);
        let frac = hundredths.rem_euclid(100);
        if frac == 0 {
            format!("{whole}万元")
        } else if frac % 10 == 0 {
            format!("{whole}.{}万元", frac / 10)
        } else {
            format!("{whole}.{frac:02}万元")
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}元", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(Money::from_wan(1).fen(), 1_000_000);
        assert_eq!(Money::from_yuan(3).to_string(), "3.00元");
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05元");
        assert_eq!(Money::from_wan(2000).display_wan(), "2000万元");
        assert_eq!(Money::from_fen(12_345_000_000).display_wan(), "12345万元");
        assert_eq!(Money::from_fen(1_500_000).display_wan(), "1.5万元");
        assert_eq!(Money::from_fen(1_230_000).display_wan(), "1.23万元");
        assert_eq!(Money::from_fen(2_999_999).wan_floor(), 2);
    }
}

/// Parses a non-negative decimal amount with at most two decimals, e.g. `1200`
/// or `1200.50`, in the given unit (`fen_per_unit`: 100 for yuan, 1,000,000 for 万元).
pub fn parse_amount(s: &str, fen_per_unit: i64, max_units: i64) -> Result<Money, &'static str> {
    let s = crate::text::to_half_width(s.trim()).replace(',', "");
    if s.is_empty() {
        return Err("请填写金额");
    }
    if s.starts_with('-') {
        return Err("金额不能为负数");
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err("金额格式不正确");
    }
    if frac.len() > 2 {
        return Err("金额最多两位小数");
    }
    let units: i64 = whole.parse().map_err(|_| "金额过大")?;
    if units > max_units {
        return Err("金额过大");
    }
    let cents: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(Money::from_fen(units * fen_per_unit + cents * fen_per_unit / 100))
}

/// Parses a percentage with at most two decimals (e.g. `3.45`) into basis points.
pub fn parse_percent_bp(s: &str) -> Result<i32, &'static str> {
    let m = parse_amount(s, 100, 100)
        .map_err(|e| if e == "金额过大" { "利率不能超过100%" } else { "利率格式不正确，如 3.45" })?;
    i32::try_from(m.fen()).map_err(|_| "利率不能超过100%")
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn amounts_and_rates() {
        assert_eq!(parse_amount("1200", 100, 1_000_000_000), Ok(Money::from_yuan(1200)));
        assert_eq!(parse_amount("1,200.5", 100, 1_000_000_000), Ok(Money::from_fen(120_050)));
        assert_eq!(parse_amount("０.０5", 100, 10), Ok(Money::from_fen(5)));
        assert_eq!(parse_amount("300", FEN_PER_WAN, 100_000), Ok(Money::from_wan(300)));
        assert_eq!(parse_amount("-1", 100, 10), Err("金额不能为负数"));
        assert_eq!(parse_amount("1.234", 100, 10), Err("金额最多两位小数"));
        assert_eq!(parse_amount("1e5", 100, 10), Err("金额格式不正确"));
        assert_eq!(parse_amount("11", 100, 10), Err("金额过大"));
        assert_eq!(parse_amount("", 100, 10), Err("请填写金额"));
        assert_eq!(parse_percent_bp("3.45"), Ok(345));
        assert!(parse_percent_bp("101").is_err());
        assert!(parse_percent_bp("abc").is_err());
    }
}
