//! What a query may be, and what of it reaches the engine: bounds on hostile queries, the
//! engine syntax a user does not mean, and question filler.

use std::collections::HashSet;

use tantivy::tokenizer::TextAnalyzer;

use super::SearchError;

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
pub(super) fn plain_syntax(query: &str) -> String {
    query
        .chars()
        .map(|c| {
            let kept = c.is_alphanumeric()
                || c.is_whitespace()
                || matches!(c, '"' | '+' | '-' | '(' | ')' | '_' | '.' | '\'');
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

/// The analyzed words of a query of plain words (letters and digits only, the common
/// question), one per distinct word as written (two forms of a word, `drain draining`,
/// count twice, as in the parser's query), stop words left out; `None` for anything else
/// (quotes, operators, `_`, `.`, `'`, a word the analyzer would split), which the parser
/// handles. Each word is analyzed once, not once per field as the parser does.
pub(super) fn plain_words(analyzer: &TextAnalyzer, query: &str) -> Option<Vec<String>> {
    if !query
        .chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace())
    {
        return None;
    }
    let words: Vec<&str> = query.split_whitespace().collect();
    if words
        .iter()
        .any(|w| matches!(*w, "AND" | "OR" | "NOT" | "IN"))
    {
        return None;
    }
    let mut analyzer = analyzer.clone();
    let mut tokens = Vec::with_capacity(words.len());
    let mut seen = HashSet::new();
    for word in words {
        if !seen.insert(word) {
            continue;
        }
        let mut stream = analyzer.token_stream(word);
        let Some(token) = stream.advance().then(|| stream.token().text.clone()) else {
            continue;
        };
        if stream.advance() {
            return None;
        }
        tokens.push(token);
    }
    Some(tokens)
}
