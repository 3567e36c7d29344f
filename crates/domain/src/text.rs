//! Text helpers shared by the parsers.

/// Converts full-width ASCII variants (U+FF01..U+FF5E) and the ideographic
/// space to their half-width forms; other characters are kept.
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A list typed by a person: items separated by commas, 顿号, semicolons or
/// lines (half- or full-width), trimmed, empty ones dropped.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', '，', '、', ';', '；', '\n']).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
}

/// Number of characters (not bytes) in `s`.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_becomes_half_width() {
        assert_eq!(to_half_width("９１１１０１１２ＡＢ（通州）"), "91110112AB(通州)");
        assert_eq!(to_half_width("北京　通州"), "北京 通州");
    }
}
