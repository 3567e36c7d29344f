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
