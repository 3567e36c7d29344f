//! GB/T 4754-2017 国民经济行业分类.

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("../../data/gb4754.tsv");

/// Level of an industry code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 门类 (a letter)
    Section,
    /// 大类 (2 digits)
    Division,
    /// 中类 (3 digits)
    Group,
    /// 小类 (4 digits)
    Class,
}

/// One row of the classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Industry {
    /// The 门类 letter, e.g. `C`.
    pub section: &'static str,
    /// The code: a letter for a section, else 2 to 4 digits.
    pub code: &'static str,
    pub level: Level,
    pub name: &'static str,
}

struct Table {
    rows: Vec<Industry>,
    by_code: HashMap<&'static str, usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<Industry> = TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("section\t"))
            .filter_map(|l| {
                let f: Vec<&'static str> = l.split('\t').collect();
                let level = match *f.get(2)? {
                    "门类" => Level::Section,
                    "大类" => Level::Division,
                    "中类" => Level::Group,
                    "小类" => Level::Class,
                    _ => return None,
                };
                Some(Industry { section: f[0], code: f[1], level, name: f.get(3)? })
            })
            .collect();
        let by_code = rows.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
        Table { rows, by_code }
    })
}

/// Every row in code order.
pub fn all() -> &'static [Industry] {
    &table().rows
}

/// Looks up a code of any level.
pub fn find(code: &str) -> Option<&'static Industry> {
    let t = table();
    t.by_code.get(code).map(|&i| &t.rows[i])
}

/// The 2-digit 大类 codes of a section letter (`I` → `63`, `64`, `65`).
pub fn divisions_of(section: &str) -> Vec<&'static str> {
    all().iter().filter(|r| r.level == Level::Division && r.section == section).map(|r| r.code).collect()
}

/// The 门类 rows (A–T) with their names.
pub fn sections() -> impl Iterator<Item = &'static Industry> {
    all().iter().filter(|r| r.level == Level::Section)
}

/// The 小类 (4-digit) rows, the level enterprises are classified at.
pub fn classes() -> impl Iterator<Item = &'static Industry> {
    all().iter().filter(|r| r.level == Level::Class)
}

/// Name of a code with its parents, e.g. `制造业 / 计算机、通信和其他电子设备制造业 / …`.
pub fn path_name(code: &str) -> Option<String> {
    let row = find(code)?;
    let mut parts = vec![find(row.section)?.name];
    for len in 2..=code.len() {
        if let Some(r) = find(&code[..len]) {
            parts.push(r.name);
        }
    }
    parts.dedup();
    Some(parts.join(" / "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_their_divisions() {
        assert_eq!(divisions_of("I"), vec!["63", "64", "65"]);
        assert_eq!(sections().count(), 20);
    }

    #[test]
    fn table_loads() {
        assert_eq!(all().iter().filter(|r| r.level == Level::Section).count(), 20);
        assert_eq!(all().iter().filter(|r| r.level == Level::Division).count(), 97);
        assert!(classes().count() > 1300);
        assert_eq!(find("6513").map(|r| r.section), Some("I"));
        assert_eq!(find("C").map(|r| r.name), Some("制造业"));
        let p = path_name("0111").unwrap();
        assert!(p.starts_with("农、林、牧、渔业 / 农业"), "{p}");
        assert!(p.ends_with("稻谷种植"), "{p}");
    }
}
