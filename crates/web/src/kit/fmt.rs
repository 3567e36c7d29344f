//! Display formats every area's templates use: dates in Beijing time, sizes,
//! shortened text, stars.

use chrono::{DateTime, NaiveDate, Utc};

/// Date in Beijing time, `2026-11-29`.
pub fn ymd(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string()
}

/// Date and time in Beijing time, `2026-11-29 09:30`.
pub fn ymd_hm(t: &DateTime<Utc>) -> String {
    (*t + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()
}

pub fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A `YYYY-MM-DD` date (a filter's from/to) as the start of that day in
/// Beijing, in UTC.
pub fn day_start(s: &str) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let t = d.and_hms_opt(0, 0, 0)? - chrono::Duration::hours(8);
    Some(DateTime::from_naive_utc_and_offset(t, Utc))
}

/// A file size for people: `812 KB`, `3.4 MB`.
pub fn file_size(bytes: &i64) -> String {
    let b = (*bytes).max(0) as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{} KB", ((b / 1024.0).ceil() as i64).max(1))
    }
}

/// The first `n` characters, with `…` when cut.
pub fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// Stars as text, e.g. 4 → "★★★★☆".
pub fn stars(n: &i32) -> String {
    let n = usize::try_from((*n).clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(stars(&4), "★★★★☆");
        assert_eq!(stars(&9), "★★★★★");
        assert_eq!(short("通州区企业服务", 4), "通州区企…");
        assert_eq!(file_size(&(3 * 1024 * 1024 + 400 * 1024)), "3.4 MB");
        assert_eq!(day_start("2026-11-29").map(|t| ymd_hm(&t)).as_deref(), Some("2026-11-29 00:00"));
        assert_eq!(day_start("29/11/2026"), None);
    }
}
