//! Chinese word segmentation for the index: jieba (search mode, with HMM for
//! unknown words) with the platform's own vocabulary added, so terms such as
//! 专精特新 or 小巨人 stay one word.

use jieba_rs::{Jieba, TokenizeMode};
use std::sync::LazyLock;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Words of enterprise-service policy that the general dictionary splits.
/// Only words that contain no other word of four or more characters: search
/// mode indexes the two- and three-character parts of a word, not longer ones,
/// so a compound such as 知识产权质押 here would hide 知识产权 from queries.
const VOCABULARY: &[&str] = &[
    "专精特新",
    "小巨人",
    "规模以上",
    "规上企业",
    "贷款贴息",
    "稳岗补贴",
    "社保",
    "社会保险",
    "一企一策",
    "首台套",
    "研发费用",
    "加计扣除",
    "政策兑现",
    "免申即享",
    "城市副中心",
    "通州区",
    "营业执照",
    "代理记账",
    "商标注册",
    "专利申请",
    "贯标",
    "数字化转型",
    "上云用云",
    "普惠金融",
];

static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut j = Jieba::new();
    for w in VOCABULARY {
        j.add_word(w, Some(20_000), None);
    }
    j
});

/// Loads the dictionary now rather than on the first search.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// The tantivy tokenizer over the shared jieba instance.
#[derive(Clone, Copy, Default)]
pub struct JiebaTokenizer;

pub struct JiebaStream<'a> {
    tokens: Vec<Token>,
    index: usize,
    _text: std::marker::PhantomData<&'a str>,
}

impl Tokenizer for JiebaTokenizer {
    type TokenStream<'a> = JiebaStream<'a>;

    fn token_stream<'a>(&mut self, text: &'a str) -> JiebaStream<'a> {
        let base = text.as_ptr() as usize;
        let tokens = JIEBA
            .tokenize(text, TokenizeMode::Search, true)
            .into_iter()
            .filter(|t| !t.word.trim().is_empty())
            .map(|t| {
                let from = t.word.as_ptr() as usize - base;
                Token {
                    offset_from: from,
                    offset_to: from + t.word.len(),
                    position: t.start,
                    text: t.word.to_owned(),
                    position_length: t.end - t.start,
                }
            })
            .collect();
        JiebaStream { tokens, index: 0, _text: std::marker::PhantomData }
    }
}

impl TokenStream for JiebaStream<'_> {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index.saturating_sub(1).min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self.index.saturating_sub(1).min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

/// Keywords of a text by TF-IDF over the same dictionary (suggested tags of a policy).
pub fn keywords(text: &str, n: usize) -> Vec<String> {
    use jieba_rs::{KeywordExtract, KeywordExtractConfig, TfIdf};
    // Words every policy uses that say nothing about its subject.
    const STOP: &[&str] = &[
        "给予",
        "支持",
        "开展",
        "企业",
        "进行",
        "申报",
        "实施",
        "鼓励",
        "符合",
        "条件",
        "相关",
        "有关",
        "单位",
        "政策",
        "办法",
        "通知",
        "工作",
        "按照",
        "规定",
        "要求",
        "提供",
        "予以",
        "不超过",
        "以上",
        "以下",
    ];
    static TFIDF: LazyLock<TfIdf> = LazyLock::new(|| {
        let mut cfg = KeywordExtractConfig::builder();
        for w in STOP {
            cfg = cfg.add_stop_word(*w);
        }
        TfIdf::new(None::<&mut std::io::BufReader<&[u8]>>, cfg.build())
    });
    let allowed = ["n", "nr", "ns", "nt", "nz", "vn", "v", "eng", "x"].iter().map(|s| s.to_string()).collect();
    TFIDF
        .extract_keywords(&JIEBA, text, n * 2, allowed)
        .into_iter()
        .map(|k| k.keyword)
        .filter(|k| k.chars().count() >= 2 && !k.chars().all(|c| c.is_ascii_digit()))
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keywords_of_a_policy_paragraph() {
        let k = super::keywords(
            "对通州区专精特新中小企业给予研发费用补贴，支持企业开展数字化转型，对知识产权质押融资给予贷款贴息。",
            5,
        );
        assert_eq!(k.len(), 5, "{k:?}");
        assert!(k.iter().any(|w| w == "知识产权") && k.iter().any(|w| w == "融资"), "{k:?}");
        assert!(!k.iter().any(|w| w == "给予" || w == "企业" || w == "支持"), "no stop words: {k:?}");
    }
}
