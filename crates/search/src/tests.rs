#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn doc(kind: Kind, id: i64, title: &str, body: &str, public: bool) -> Doc {
    Doc {
        kind,
        id,
        title: title.to_owned(),
        tags: Vec::new(),
        body: body.to_owned(),
        public,
        category: String::new(),
        date: None,
    }
}

fn req(text: &str) -> Request {
    Request {
        text: text.to_owned(),
        kinds: Kind::PUBLIC.to_vec(),
        kind: None,
        category: None,
        since: None,
        public_only: true,
        offset: 0,
        limit: 10,
    }
}

fn ids(r: &Results) -> Vec<i64> {
    r.hits.iter().map(|h| h.id).collect()
}

fn index(docs: &[Doc]) -> SearchIndex {
    let ix = SearchIndex::in_memory().unwrap();
    ix.rebuild(docs.iter().cloned(), 1).unwrap();
    ix
}

#[test]
fn a_title_match_ranks_above_a_body_match() {
    let ix = index(&[
        doc(Kind::Product, 1, "企业年度法律顾问", "提供知识产权相关的咨询。", true),
        doc(Kind::Product, 2, "知识产权贯标辅导", "帮助企业建立管理体系。", true),
    ]);
    let r = ix.search(&req("知识产权"), &Synonyms::default()).unwrap();
    assert_eq!(ids(&r), vec![2, 1]);
    assert!(r.hits[0].title_html.contains("<b>知识产权</b>"), "{}", r.hits[0].title_html);
    assert!(r.hits[1].snippet_html.contains("<b>知识产权</b>"), "{}", r.hits[1].snippet_html);
}

#[test]
fn typical_terms_segment_into_words_that_find_them() {
    let ix = index(&[]);
    let mut a = ix.index.tokenizer_for_field(ix.f.title).unwrap();
    assert_eq!(query::words(&mut a, "专精特新"), vec!["专精特新"]);
    assert_eq!(query::words(&mut a, "高新技术企业"), vec!["高新技术", "企业"]);
    assert_eq!(query::words(&mut a, "知识产权质押融资"), vec!["知识产权", "质押", "融资"]);
    let ix = index(&[
        doc(Kind::Policy, 1, "关于支持专精特新中小企业高质量发展的若干措施", "", true),
        doc(Kind::Policy, 2, "高新技术企业认定奖励", "", true),
        doc(Kind::Product, 3, "知识产权质押融资", "", true),
        doc(Kind::Product, 4, "融资担保", "", true),
    ]);
    let s = Synonyms::default();
    assert_eq!(ids(&ix.search(&req("专精特新"), &s).unwrap()), vec![1]);
    assert_eq!(ids(&ix.search(&req("高新技术企业"), &s).unwrap()), vec![2]);
    assert_eq!(ids(&ix.search(&req("知识产权质押融资"), &s).unwrap()), vec![3], "every word must match");
}

#[test]
fn pinyin_and_initials_find_chinese_titles() {
    let ix = index(&[doc(Kind::Product, 1, "知识产权质押融资", "", true), doc(Kind::Product, 2, "法律咨询", "", true)]);
    let s = Synonyms::default();
    for q in ["zhishichanquan", "zscq", "ZSCQ", "rongzi"] {
        assert_eq!(ids(&ix.search(&req(q), &s).unwrap()), vec![1], "{q}");
    }
    assert_eq!(ids(&ix.search(&req("flzx"), &s).unwrap()), vec![2]);
}

#[test]
fn unpublished_items_are_hidden_from_the_portal_but_not_the_back_office() {
    let ix = index(&[
        doc(Kind::Product, 1, "研发费用加计扣除辅导", "", true),
        doc(Kind::Product, 2, "研发费用归集（草稿）", "", false),
        doc(Kind::Enterprise, 3, "北京研发费用测试有限公司", "", false),
    ]);
    let s = Synonyms::default();
    assert_eq!(ids(&ix.search(&req("研发费用"), &s).unwrap()), vec![1]);
    let mut back = req("研发费用");
    back.public_only = false;
    back.kinds = Kind::ALL.to_vec();
    let r = ix.search(&back, &s).unwrap();
    assert_eq!(r.total(), 3);
    assert_eq!(r.count(Kind::Enterprise), 1);
}

#[test]
fn synonyms_widen_a_query() {
    let ix = index(&[
        doc(Kind::Product, 1, "小微企业信用贷款", "", true),
        doc(Kind::Product, 2, "科技型企业股权融资", "", true),
        doc(Kind::Policy, 3, "社会保险补贴申领指南", "", true),
    ]);
    let none = Synonyms::default();
    assert_eq!(ids(&ix.search(&req("贷款"), &none).unwrap()), vec![1]);
    let s = Synonyms(vec![vec!["贷款".into(), "融资".into()], vec!["社保".into(), "社会保险".into()]]);
    let mut got = ids(&ix.search(&req("贷款"), &s).unwrap());
    got.sort();
    assert_eq!(got, vec![1, 2]);
    assert_eq!(ids(&ix.search(&req("社保"), &s).unwrap()), vec![3]);
}

#[test]
fn groups_count_filter_and_page() {
    let mut docs = Vec::new();
    for i in 0..25 {
        let mut d = doc(Kind::Product, i, &format!("财税代理服务{i}"), "代理记账", true);
        d.category = if i % 2 == 0 { "工商财税".into() } else { "法律咨询".into() };
        d.date = Some(Utc.timestamp_opt(1_700_000_000 + i * 86_400, 0).single().unwrap());
        docs.push(d);
    }
    docs.push(doc(Kind::Policy, 100, "财税支持政策", "", true));
    let ix = index(&docs);
    let s = Synonyms::default();
    let r = ix.search(&req("财税"), &s).unwrap();
    assert_eq!((r.count(Kind::Product), r.count(Kind::Policy), r.total()), (25, 1, 26));
    assert_eq!(r.of(Kind::Product).count(), 10, "per-kind preview is limited");
    let mut page = req("财税");
    page.kind = Some(Kind::Product);
    page.offset = 20;
    assert_eq!(ix.search(&page, &s).unwrap().hits.len(), 5, "the third page holds the rest");
    page.offset = 0;
    page.category = Some("工商财税".into());
    assert_eq!(ix.search(&page, &s).unwrap().count(Kind::Product), 13);
    page.category = None;
    page.since = Some(Utc.timestamp_opt(1_700_000_000 + 20 * 86_400, 0).single().unwrap());
    assert_eq!(ix.search(&page, &s).unwrap().count(Kind::Product), 5);
}

#[test]
fn updates_replace_and_deletes_remove_and_the_checkpoint_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");
    {
        let (ix, opened) = SearchIndex::open(&path).unwrap();
        assert_eq!(opened, Opened::Fresh);
        ix.rebuild([doc(Kind::Product, 1, "旧名称服务", "", true)].into_iter(), 7).unwrap();
        ix.apply(&[doc(Kind::Product, 1, "新名称服务", "", true), doc(Kind::News, 2, "活动通知", "", true)], &[], 9, &[])
            .unwrap();
        let s = Synonyms::default();
        assert!(ix.search(&req("旧名称"), &s).unwrap().hits.is_empty());
        assert_eq!(ids(&ix.search(&req("新名称"), &s).unwrap()), vec![1]);
        ix.apply(&[], &[(Kind::News, 2)], 10, &[]).unwrap();
        assert_eq!(ix.len(), 1);
    }
    let (ix, opened) = SearchIndex::open(&path).unwrap();
    assert_eq!(opened, Opened::Existing(10), "the applied change id survives a restart");
    assert_eq!(ix.checkpoint(), 10);
    drop(ix);
    // A corrupt index is moved aside and a fresh one made.
    std::fs::write(path.join("meta.json"), b"{ not json").unwrap();
    let (ix, opened) = SearchIndex::open(&path).unwrap();
    assert_eq!(opened, Opened::Fresh);
    assert!(ix.is_empty());
    // A second writer on the same folder is refused, not corrupting it.
    assert!(matches!(SearchIndex::open(&path), Err(SearchError::Locked)));
}

#[test]
fn hostile_text_is_escaped_in_titles_and_snippets() {
    let ix = index(&[doc(Kind::News, 1, "<script>alert(1)</script>通知", "<img src=x onerror=alert(1)> 通知正文", true)]);
    let r = ix.search(&req("通知"), &Synonyms::default()).unwrap();
    assert!(!r.hits[0].title_html.contains("<script>"), "{}", r.hits[0].title_html);
    assert!(!r.hits[0].snippet_html.contains("<img"), "{}", r.hits[0].snippet_html);
}
