//! Administrative divisions: Beijing's districts and Tongzhou's streets and towns.

use std::sync::OnceLock;

/// County-level code of Tongzhou District, Beijing.
pub const TONGZHOU: &str = "110112";

const BEIJING_COUNTIES: &[(&str, &str)] = &[
    ("110000", "北京市"),
    ("110100", "北京市市辖区"),
    ("110101", "北京市东城区"),
    ("110102", "北京市西城区"),
    ("110105", "北京市朝阳区"),
    ("110106", "北京市丰台区"),
    ("110107", "北京市石景山区"),
    ("110108", "北京市海淀区"),
    ("110109", "北京市门头沟区"),
    ("110111", "北京市房山区"),
    ("110112", "北京市通州区"),
    ("110113", "北京市顺义区"),
    ("110114", "北京市昌平区"),
    ("110115", "北京市大兴区"),
    ("110116", "北京市怀柔区"),
    ("110117", "北京市平谷区"),
    ("110118", "北京市密云区"),
    ("110119", "北京市延庆区"),
    ("120000", "天津市"),
    ("130000", "河北省"),
    ("131000", "河北省廊坊市"),
    ("131082", "河北省三河市"),
    ("310000", "上海市"),
    ("350100", "福建省福州市"),
    ("440300", "广东省深圳市"),
];

/// Name of a known county-level (or provincial) division by its 6-digit code.
pub fn county_name(code: &str) -> Option<&'static str> {
    BEIJING_COUNTIES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A street (街道), town (镇) or township (乡) of Tongzhou.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Street {
    /// 9-digit NBS code, e.g. `110112001`.
    pub code: &'static str,
    pub name: &'static str,
    /// 街道 / 镇 / 乡
    pub kind: &'static str,
}

const STREETS_TSV: &str = include_str!("../../data/tongzhou_streets.tsv");

/// All streets and towns of Tongzhou in code order.
pub fn tongzhou_streets() -> &'static [Street] {
    static STREETS: OnceLock<Vec<Street>> = OnceLock::new();
    STREETS.get_or_init(|| {
        STREETS_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("code\t"))
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Street { code: f.next()?, name: f.next()?, kind: f.next()? })
            })
            .collect()
    })
}

/// Finds a Tongzhou street or town by its 9-digit code.
pub fn street(code: &str) -> Option<&'static Street> {
    tongzhou_streets().iter().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_load() {
        let s = tongzhou_streets();
        assert_eq!(s.len(), 22);
        assert_eq!(street("110112104").map(|s| s.name), Some("宋庄镇"));
        assert!(s.iter().all(|s| s.code.starts_with(TONGZHOU)));
        assert_eq!(county_name("110112"), Some("北京市通州区"));
        assert_eq!(county_name("999999"), None);
    }
}
