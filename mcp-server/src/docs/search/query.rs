//! What a query may be, and what of it reaches the engine: bounds on hostile queries, the
//! engine syntax a user does not mean, and question filler.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustc_hash::FxHashSet;
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
    let mut kept = String::with_capacity(query.len());
    let mut in_quotes = false;
    let mut dropped = false;
    let mut has_words = false;
    for word in query.split_whitespace() {
        let quotes = word.bytes().filter(|&b| b == b'"').count();
        let inside = in_quotes || word.starts_with('"');
        if quotes % 2 == 1 {
            in_quotes = !in_quotes;
        }
        let operator = word.starts_with(['+', '-']) || word.contains(':');
        if !inside && !operator && is_filler(word) {
            dropped = true;
            continue;
        }
        if !kept.is_empty() {
            kept.push(' ');
        }
        kept.push_str(word);
        has_words = has_words || word.chars().any(char::is_alphanumeric);
    }
    if !dropped || !has_words {
        return query.to_string();
    }
    kept
}

/// Whether `word`'s letters and digits, lower-cased, are a [`FILLER`] word; without allocating
/// (this runs for every word of every query).
fn is_filler(word: &str) -> bool {
    // Every filler word is short ASCII: a word with more letters, or others, is none.
    // (Lower-casing one non-ASCII letter gives ASCII, the Kelvin sign's "k", and no filler word
    // has a "k"; a test compares this with lower-casing into a string.)
    let mut bare = [0u8; 16];
    let mut len = 0;
    for c in word.chars().filter(|c| c.is_alphanumeric()) {
        if !c.is_ascii() || len == bare.len() {
            return false;
        }
        bare[len] = c.to_ascii_lowercase() as u8;
        len += 1;
    }
    let bare = &bare[..len];
    FILLER.iter().any(|filler| filler.as_bytes() == bare)
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
pub(super) fn plain_query(clauses: &Clauses, query: &str) -> Option<Plain> {
    let mut plain = Plain::default();
    let mut seen: FxHashSet<(bool, &str)> = FxHashSet::default();
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
        match clauses.analyzed(clause)? {
            Analyzed::Nothing => {}
            Analyzed::Word(word) => plain.words.push(word),
            Analyzed::Pair(first, second) => plain.phrases.push((first, second)),
        }
    }
    Some(plain)
}

/// What the analyzer makes of one clause of a query, as the tables can take it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Analyzed {
    /// Stop words, or nothing at all.
    Nothing,
    /// One analyzed word (shared: every search with the clause takes it).
    Word(Arc<str>),
    /// Two analyzed words one after the other: a phrase to the parser (a quoted one, or a word
    /// the analyzer splits in two, `idle_timeout`, `load-balancer`), not one around a stop word.
    Pair(Arc<str>, Arc<str>),
}

/// Clauses kept by [`Clauses`]: at most this many (then it starts again), each at most
/// [`MAX_KEPT_BYTES`] long, so a client sending nonsense words fills about 1 MiB at most.
const MAX_KEPT: usize = 4096;
const MAX_KEPT_BYTES: usize = 48;

/// The query analyzer, with what it made of the clauses queries have had: a question's words
/// recur across searches, and stemming them was about a twentieth of a `search_docs` call.
pub(super) struct Clauses {
    analyzer: TextAnalyzer,
    /// `None`: the clause has more than two words, or words around a stop word. Keyed with
    /// the standard library's randomly seeded hasher, not a fixed one: the keys are clients'
    /// words, and colliding words chosen offline would make every lookup a long scan.
    known: RwLock<HashMap<Box<str>, Option<Analyzed>>>,
}

impl Clauses {
    pub(super) fn new(analyzer: TextAnalyzer) -> Clauses {
        Clauses {
            analyzer,
            known: RwLock::default(),
        }
    }

    /// What the analyzer makes of `clause`; `None` when the tables cannot take it.
    pub(super) fn analyzed(&self, clause: &str) -> Option<Analyzed> {
        let known = self
            .known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(analyzed) = known.get(clause) {
            return analyzed.clone();
        }
        drop(known);
        let analyzed = self.analyze(clause);
        if clause.len() <= MAX_KEPT_BYTES {
            let mut known = self
                .known
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if known.len() >= MAX_KEPT {
                known.clear();
            }
            known.insert(clause.into(), analyzed.clone());
        }
        analyzed
    }

    /// [`Clauses::analyzed`], from the analyzer itself.
    pub(super) fn analyze(&self, clause: &str) -> Option<Analyzed> {
        let mut analyzer = self.analyzer.clone();
        let mut tokens: Vec<(usize, String)> = Vec::with_capacity(2);
        let mut stream = analyzer.token_stream(clause);
        while stream.advance() {
            if tokens.len() == 2 {
                return None;
            }
            let token = stream.token();
            tokens.push((token.position, token.text.clone()));
        }
        match tokens.as_slice() {
            [] => Some(Analyzed::Nothing),
            [(_, word)] => Some(Analyzed::Word(word.as_str().into())),
            [(p, first), (q, second)] if *q == *p + 1 => Some(Analyzed::Pair(
                first.as_str().into(),
                second.as_str().into(),
            )),
            _ => None,
        }
    }

    /// Clauses kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.known.read().unwrap().len()
    }
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

#[cfg(test)]
mod tests;
