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
