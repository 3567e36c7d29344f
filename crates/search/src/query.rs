//! From what a person typed to a tantivy query: checks, segmentation into
//! words, synonyms, pinyin.

use super::Synonyms;
use pinyin::ToPinyin;
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

/// Why a query is not run; each has a friendly message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueryProblem {
    #[error("请输入要搜索的关键词，例如“知识产权”“贷款”“专精特新”。")]
    Empty,
    #[error("关键词太长了，请精简到100个字以内。")]
    TooLong,
    #[error("请输入文字或数字作为关键词。")]
    NoWords,
}

/// Longest query accepted, in characters.
pub const QUERY_MAX_CHARS: usize = 100;

/// The query trimmed, or why it cannot be run.
pub fn check_query(raw: &str) -> Result<String, QueryProblem> {
    let q = raw.trim();
    if q.is_empty() {
        return Err(QueryProblem::Empty);
    }
    if q.chars().count() > QUERY_MAX_CHARS {
        return Err(QueryProblem::TooLong);
    }
    if !q.chars().any(char::is_alphanumeric) {
        return Err(QueryProblem::NoWords);
    }
    Ok(q.to_owned())
}

/// Words of `text` as the index segments them, lowercased, with the shorter
/// words that lie inside a longer one dropped (search mode gives 知识, 产权
/// and 知识产权 for 知识产权; the query needs only the longest).
pub(crate) fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut toks: Vec<(usize, usize, String)> = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        if t.text.chars().any(char::is_alphanumeric) {
            toks.push((t.offset_from, t.offset_to, t.text.clone()));
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (i, (a, b, w)) in toks.iter().enumerate() {
        let inside = toks.iter().enumerate().any(|(j, (c, d, _))| j != i && c <= a && b <= d && (d - c) > (b - a));
        if !inside && !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

fn is_han(c: char) -> bool {
    c.to_pinyin().is_some()
}

/// The pinyin forms indexed for a title: for each run of Chinese characters and
/// for each of its words, full pinyin and initials ("zhishichanquan zscq").
pub(crate) fn pinyin_terms(title: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        let full: String = s.chars().filter_map(|c| c.to_pinyin()).map(|p| p.plain()).collect();
        let initials: String = s.chars().filter_map(|c| c.to_pinyin()).map(|p| p.first_letter()).collect();
        if full.len() > 1 {
            out.push(full);
            out.push(initials);
        }
    };
    // Runs of Chinese characters, and every 2-to-6-character window of them,
    // so a word inside a longer title is found by its own pinyin.
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, push: &mut dyn FnMut(&str)| {
        if run.len() >= 2 {
            let s: String = run.iter().collect();
            push(&s);
            for n in 2..=run.len().min(6) {
                for w in run.windows(n) {
                    let s: String = w.iter().collect();
                    push(&s);
                }
            }
        }
        run.clear();
    };
    for c in title.chars() {
        if is_han(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut push);
        }
    }
    flush(&mut run, &mut push);
    out.sort();
    out.dedup();
    out.join(" ")
}

fn term(field: Field, w: &str, boost: f32) -> (Occur, Box<dyn Query>) {
    let q: Box<dyn Query> = Box::new(TermQuery::new(Term::from_field_text(field, w), IndexRecordOption::WithFreqs));
    (Occur::Should, if (boost - 1.0).abs() > f32::EPSILON { Box::new(BoostQuery::new(q, boost)) } else { q })
}

/// One word in any field: title ×3, pinyin ×2.5, tags ×2, body ×1.
fn word_query(title: Field, tags: Field, body: Field, pinyin: Field, w: &str) -> Box<dyn Query> {
    let mut clauses = vec![term(title, w, 3.0), term(tags, w, 2.0), term(body, w, 1.0)];
    if w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic()) {
        clauses.push(term(pinyin, w, 2.5));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The text query: every word must match (in some field); a word that belongs to
/// a synonym group matches any word of the group.
pub(crate) fn build(
    title: Field,
    tags: Field,
    body: Field,
    pinyin: Field,
    mut analyzer: TextAnalyzer,
    text: &str,
    synonyms: &Synonyms,
) -> Option<Box<dyn Query>> {
    let all_of = |analyzer: &mut TextAnalyzer, text: &str| -> Option<Box<dyn Query>> {
        let ws = words(analyzer, text);
        if ws.is_empty() {
            return None;
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> =
            ws.iter().map(|w| (Occur::Must, word_query(title, tags, body, pinyin, w))).collect();
        Some(Box::new(BooleanQuery::new(clauses)))
    };
    // The whole query is a synonym: any member of its group.
    let whole = text.trim().to_lowercase();
    let with_synonyms = |analyzer: &mut TextAnalyzer, word: &str| -> Option<Box<dyn Query>> {
        let group = synonyms.group_of(word)?;
        let alts: Vec<(Occur, Box<dyn Query>)> =
            group.iter().filter_map(|m| all_of(analyzer, m)).map(|q| (Occur::Should, q)).collect();
        (!alts.is_empty()).then(|| Box::new(BooleanQuery::new(alts)) as Box<dyn Query>)
    };
    if let Some(q) = with_synonyms(&mut analyzer, &whole) {
        return Some(q);
    }
    let ws = words(&mut analyzer, text);
    if ws.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for w in &ws {
        let q = with_synonyms(&mut analyzer, w).unwrap_or_else(|| word_query(title, tags, body, pinyin, w));
        clauses.push((Occur::Must, q));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked() {
        assert_eq!(check_query("  "), Err(QueryProblem::Empty));
        assert_eq!(check_query(&"知".repeat(101)), Err(QueryProblem::TooLong));
        assert_eq!(check_query("，。！？…—"), Err(QueryProblem::NoWords));
        assert_eq!(check_query(" 知识产权 ").as_deref(), Ok("知识产权"));
    }

    #[test]
    fn titles_carry_their_pinyin_and_initials() {
        let p = pinyin_terms("知识产权质押融资");
        for t in ["zhishichanquan", "zscq", "zhiya", "rongzi", "zhishichanquanzhiyarongzi", "zscqzyrz"] {
            assert!(p.split(' ').any(|x| x == t), "{t} in {p}");
        }
        assert!(pinyin_terms("ABC 123").is_empty());
    }
}
