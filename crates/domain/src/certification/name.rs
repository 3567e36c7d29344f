//! Enterprise names normalised for comparison: full-width and half-width
//! characters, （） and (), and spaces do not make two names differ.

use crate::text::to_half_width;

/// The comparison form of an enterprise name.
pub fn normalise_name(s: &str) -> String {
    to_half_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{200B}')
        .map(|c| match c {
            '【' | '［' => '[',
            '】' | '］' => ']',
            _ => c,
        })
        .collect::<String>()
        .to_uppercase()
}

/// Whether two names denote the same registered name.
pub fn same_name(a: &str, b: &str) -> bool {
    normalise_name(a) == normalise_name(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_widths_and_spaces() {
        assert!(same_name("北京运河科技（通州）有限公司", "北京运河科技(通州)有限公司"));
        assert!(same_name("北京 运河科技有限公司", "北京运河科技有限公司"));
        assert!(same_name("北京ＡＢＣ科技有限公司", "北京abc科技有限公司"));
        assert!(same_name("北京运河科技有限公司\u{3000}", "北京运河科技有限公司"));
        assert!(!same_name("北京运河科技有限公司", "北京运河科技股份有限公司"));
    }
}
