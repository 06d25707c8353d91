//! What a query may be, and what of it reaches the engine: bounds on hostile queries, the
//! engine syntax a user does not mean, and question filler.

use std::collections::HashSet;

use tantivy::tokenizer::TextAnalyzer;

use super::SearchError;
use super::impacts::Plain;

/// Words of a question that say how it is asked, not what it is about: dropped from the query
/// (unless quoted or `+`required, or all the query has), so a heading "How do I ...?" does not
/// outrank the answer. English stop words (`the`, `is`, ...) are dropped by the analyzer.
pub const FILLER: &[&str] = &[
    "how",
    "do",
    "does",
    "did",
    "doing",
    "i",
    "im",
    "me",
    "my",
    "we",
    "our",
    "us",
    "you",
    "your",
    "what",
    "whats",
    "which",
    "who",
    "where",
    "when",
    "why",
    "can",
    "could",
    "should",
    "would",
    "shall",
    "may",
    "might",
    "must",
    "want",
    "need",
    "please",
    "possible",
    "able",
    "way",
    "ways",
    "about",
    "tell",
    "explain",
    "someone",
    "something",
    "anything",
    "any",
    "some",
    "am",
    "its",
];
/// Longest query accepted, in characters: a question or a handful of keywords is far shorter,
/// and the query parser's work grows with the text.
pub const MAX_QUERY_CHARS: usize = 500;
/// Deepest nesting of `(`, `[` and `{` accepted: tantivy's query parser recurses on each level,
/// and about 1,200 levels overflow a thread's stack and abort the process.
pub const MAX_QUERY_NESTING: usize = 8;

/// The query with only the syntax `search_docs` documents: words, `"phrases"`, `+required`,
/// `-excluded`, parentheses, `AND`/`OR`. The rest of tantivy's syntax (`/regex/`, `field:`,
/// `^boost`, `~slop`, `*`, ranges) would turn a pasted path or error message (`/mcp`,
/// `Error: x`) into something else, so those characters are spaces.
///
/// Every kind of whitespace becomes a plain space too: the parser's grammar separates words only
/// by space, tab, CR and LF, and a no-break space pasted with a question (`idle\u{A0}timeout`)
/// ended the query there.
pub(super) fn plain_syntax(query: &str) -> String {
    query
        .chars()
        .map(|c| {
            let kept =
                c.is_alphanumeric() || matches!(c, '"' | '+' | '-' | '(' | ')' | '_' | '.' | '\'');
            if kept { c } else { ' ' }
        })
        .collect()
}

/// The query without [`FILLER`] words outside quotes; the query itself when nothing else is left.
pub fn without_filler(query: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut in_quotes = false;
    let mut dropped = false;
    for word in query.split_whitespace() {
        let quotes = word.matches('"').count();
        let inside = in_quotes || word.starts_with('"');
        if quotes % 2 == 1 {
            in_quotes = !in_quotes;
        }
        let bare: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let operator = word.starts_with(['+', '-']) || word.contains(':');
        if !inside && !operator && FILLER.contains(&bare.as_str()) {
            dropped = true;
            continue;
        }
        kept.push(word);
    }
    let has_words = kept.iter().any(|w| w.chars().any(char::is_alphanumeric));
    if !dropped || !has_words {
        return query.to_string();
    }
    kept.join(" ")
}

/// Refuses what the query parser should never see: queries too long or too deeply nested.
pub(super) fn check_query(query: &str) -> Result<(), SearchError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong(chars));
    }
    let mut depth = 0usize;
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_QUERY_NESTING {
                    return Err(SearchError::QueryTooNested);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// What the score tables can answer of a query (see [`Plain`]): plain words (letters and
/// digits, the common question), and quoted phrases and joined words (`load-balancer`,
/// `idle_timeout`, `v1.2`) that analyze to one word or to two words one after the other, each
/// counted as the parser's query counts it (a clause written twice counts once: `drain drain`;
/// two ways of writing one word count twice: `drain draining`, `drain "drain"`), stop words left
/// out. `None` for anything else (operators, `AND`/`OR`, longer phrases or phrases around a
/// stop word, a quote inside a word, an unclosed quote), which the parser handles. Each word is
/// analyzed once, not once per field as the parser does.
pub(super) fn plain_query(analyzer: &TextAnalyzer, query: &str) -> Option<Plain> {
    let mut analyzer = analyzer.clone();
    let mut plain = Plain::default();
    let mut seen: HashSet<(bool, &str)> = HashSet::new();
    let mut rest = query.trim_start();
    while !rest.is_empty() {
        let (quoted, clause, after) = match rest.strip_prefix('"') {
            Some(inside) => {
                let end = inside.find('"')?;
                let after = &inside[end + 1..];
                // A closing quote glued to a word (`"a b"c`) is the parser's business.
                if after.starts_with(|c: char| !c.is_whitespace()) {
                    return None;
                }
                (true, &inside[..end], after)
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let word = &rest[..end];
                if !joined_word(word) || matches!(word, "AND" | "OR" | "NOT" | "IN") {
                    return None;
                }
                (false, word, &rest[end..])
            }
        };
        rest = after.trim_start();
        if !seen.insert((quoted, clause)) {
            continue;
        }
        let mut tokens: Vec<(usize, String)> = Vec::with_capacity(2);
        let mut stream = analyzer.token_stream(clause);
        while stream.advance() {
            if tokens.len() == 2 {
                return None;
            }
            let token = stream.token();
            tokens.push((token.position, token.text.clone()));
        }
        match tokens.as_mut_slice() {
            [] => {}
            [(_, word)] => plain.words.push(std::mem::take(word)),
            // A word the analyzer splits in two (`idle_timeout`, `load-balancer`) is a phrase
            // to the parser, as a quoted one is; not one around a stop word.
            [(p, first), (q, second)] if *q == *p + 1 => plain
                .phrases
                .push((std::mem::take(first), std::mem::take(second))),
            _ => return None,
        }
    }
    Some(plain)
}

/// A word of letters and digits, or of runs of them joined by `-`, `_` or `.` (a leading `-` or
/// `+` is an operator; `'` may open a quoted phrase in the parser's grammar).
fn joined_word(word: &str) -> bool {
    let alphanumeric = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    alphanumeric(word.chars().next())
        && alphanumeric(word.chars().next_back())
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
