//! Bounded fuzzing of the import reader: any bytes (CSV in UTF-8 or GB18030,
//! or an xlsx, which is a ZIP) give a table or a Chinese message, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use qifu_app::governance::import::read_table;

fn csv_like() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            Just(b",".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\"".to_vec()),
            Just("统一社会信用代码".as_bytes().to_vec()),
            Just("企业名称".as_bytes().to_vec()),
            Just(vec![0xEF, 0xBB, 0xBF]),
            Just(vec![0xB1, 0xB1, 0xBE, 0xA9]),
            prop::collection::vec(any::<u8>(), 0..8),
        ],
        1..80,
    )
    .prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_bytes_give_a_table_or_a_message(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        match read_table(&bytes) {
            Ok(t) => prop_assert!(t.rows.iter().all(|r| r.len() <= t.headers.len().max(r.len()))),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn csv_like_bytes_give_a_table_or_a_message(bytes in csv_like()) {
        if let Err(e) = read_table(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn a_zip_header_with_garbage_is_refused_cleanly(tail in prop::collection::vec(any::<u8>(), 0..1024)) {
        let mut bytes = b"PK\x03\x04".to_vec();
        bytes.extend(tail);
        prop_assert!(read_table(&bytes).is_err());
    }
}
