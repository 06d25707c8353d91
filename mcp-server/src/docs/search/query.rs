//! What a query may be, and what of it reaches the engine: bounds on hostile queries, the
//! engine syntax a user does not mean, and question filler (`filler`).

use std::collections::HashMap;
use std::sync::RwLock;

use rustc_hash::FxHashSet;
use tantivy::tokenizer::TextAnalyzer;

use super::SearchError;
use super::impacts::{Plain, Term};

mod filler;

#[cfg(test)]
use filler::is_filler;
pub use filler::{FILLER, without_filler};

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
    let plain: String = if query.is_ascii() {
        // Most queries: a byte at a time, where a character's letter test is not ASCII's.
        let bytes = query
            .bytes()
            .map(|b| if kept(char::from(b)) { b } else { b' ' });
        String::from_utf8(bytes.collect()).expect("ASCII in, ASCII out")
    } else {
        query
            .chars()
            .map(|c| match c {
                // The apostrophe phones and editors type.
                '\u{2019}' => '\'',
                c if kept(c) => c,
                _ => ' ',
            })
            .collect()
    };
    if plain.contains('\'') {
        apostrophes(&plain)
    } else {
        plain
    }
}

/// The parser reads `'` as a quote, so `doesn't stop` was an unclosed one (a syntax error,
/// read leniently as `doesn` and the phrase "t stop"). An apostrophe inside a word joins it as
/// a hyphen does (`doesn-t`: the phrase of its parts, as the analyzer splits `doesn't` in
/// the pages); any other is a space, and so is a `-` or `+` right after one (`'-v'` quotes
/// an option, not an excluded word).
fn apostrophes(query: &str) -> String {
    let chars: Vec<char> = query.chars().collect();
    let letter = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(|c| c.is_alphanumeric())
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            '\'' if letter(i.checked_sub(1)) && letter(Some(i + 1)) => '-',
            '\'' => ' ',
            '-' | '+' if i > 0 && chars[i - 1] == '\'' && !letter(i.checked_sub(2)) => ' ',
            c => c,
        })
        .collect()
}

/// Whether [`plain_syntax`] keeps `c`.
fn kept(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '"' | '+' | '-' | '(' | ')' | '_' | '.' | '\'')
}

/// Refuses what the query parser should never see: queries too long or too deeply nested.
pub(super) fn check_query(query: &str) -> Result<(), SearchError> {
    // No more bytes than allowed characters is no more characters either.
    if query.len() > MAX_QUERY_CHARS {
        let chars = query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::QueryTooLong(chars));
        }
    }
    let mut depth = 0usize;
    // Brackets are ASCII, and no byte of a longer character is.
    for b in query.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_QUERY_NESTING {
                    return Err(SearchError::QueryTooNested);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The clauses of a query the score tables can answer (see [`Plain`]): plain words (letters and
/// digits, the common question), and quoted phrases and joined words (`load-balancer`,
/// `idle_timeout`, `v1.2`), each `(quoted, clause)` once and in order (a clause written twice
/// counts once: `drain drain`; two ways of writing one word count twice: `drain draining`,
/// `drain "drain"`). `None` for anything else (operators, `AND`/`OR`, a quote inside a word, an
/// unclosed quote), which the parser handles.
fn plain_clauses(query: &str) -> Option<Vec<(bool, &str)>> {
    let mut clauses: Vec<(bool, &str)> = Vec::with_capacity(8);
    // Past a few clauses a set finds repeats; a hostile query of 250 one-letter words would
    // make a list's scan quadratic.
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
        let repeated = if clauses.len() < 16 {
            clauses.contains(&(quoted, clause))
        } else {
            if seen.is_empty() {
                seen.extend(clauses.iter().copied());
            }
            !seen.insert((quoted, clause))
        };
        if !repeated {
            clauses.push((quoted, clause));
        }
    }
    Some(clauses)
}

/// What the score tables can answer of a query: its [`plain_clauses`], each analyzed into
/// words and phrases of two words, stop words left out; `None` when one of them is longer or
/// has a stop word inside. Each word is analyzed once, not once per field as the parser does.
/// `analyzed` gives what the analyzer makes of a clause.
fn plain_of<'a>(
    clauses: &[(bool, &str)],
    mut analyzed: impl FnMut(&str) -> &'a Option<Analyzed>,
) -> Option<Plain<'a>> {
    let mut plain = Plain::default();
    for &(_, clause) in clauses {
        match analyzed(clause).as_ref()? {
            Analyzed::Nothing => {}
            Analyzed::Word(word) => plain.words.push(word),
            Analyzed::Pair(first, second) => plain.phrases.push((first, second)),
        }
    }
    Some(plain)
}

/// [`Clauses::with_plain`]'s plain query, owned (for tests that keep it).
#[cfg(test)]
pub(super) fn plain_query(
    clauses: &Clauses,
    query: &str,
    number: impl Fn(&str) -> [Option<u32>; 2],
) -> Option<OwnedPlain> {
    clauses.with_plain(query, number, |plain| {
        plain.map(|plain| OwnedPlain {
            words: plain.words.iter().map(|&w| w.clone()).collect(),
            phrases: plain
                .phrases
                .iter()
                .map(|&(a, b)| (a.clone(), b.clone()))
                .collect(),
        })
    })
}

/// A [`Plain`] that owns its words.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OwnedPlain {
    pub(super) words: Vec<Term>,
    pub(super) phrases: Vec<(Term, Term)>,
}

#[cfg(test)]
impl OwnedPlain {
    pub(super) fn plain(&self) -> Plain<'_> {
        Plain {
            words: self.words.iter().collect(),
            phrases: self.phrases.iter().map(|(a, b)| (a, b)).collect(),
        }
    }
}

/// What the analyzer makes of one clause of a query, as the tables can take it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Analyzed {
    /// Stop words, or nothing at all.
    Nothing,
    /// One analyzed word.
    Word(Term),
    /// Two analyzed words one after the other: a phrase to the parser (a quoted one, or a word
    /// the analyzer splits in two, `idle_timeout`, `load-balancer`), not one around a stop word.
    Pair(Term, Term),
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

    /// `then` of what the score tables can answer of `query` (see [`plain_of`]), or of `None`
    /// when they cannot answer it. The kept clauses are read under one read lock, not one per
    /// clause, and lent, not copied: a lock taken and a word's count changed by every search
    /// on two cores moved their memory between the cores. `then` runs under that lock when it
    /// is given a query (keep it short); clauses not kept yet are analyzed outside it.
    /// `number` gives a word's numbers in the score tables (see [`Term`]), for clauses not kept.
    pub(super) fn with_plain<R>(
        &self,
        query: &str,
        number: impl Fn(&str) -> [Option<u32>; 2],
        then: impl FnOnce(Option<&Plain<'_>>) -> R,
    ) -> R {
        let Some(clauses) = plain_clauses(query) else {
            return then(None);
        };
        // Clauses analyzed here: ones not kept, or no longer (another search may start the
        // kept ones again between the reads below). Each round adds every clause it misses,
        // and a clause analyzed here is never missed again: at most one round per clause,
        // and one more.
        let mut fresh: Vec<(&str, Option<Analyzed>)> = Vec::new();
        loop {
            let known = self.read();
            // What is known of each clause, looked up once; the clauses known neither here
            // nor in `fresh`.
            let mut missing: Vec<&str> = Vec::new();
            let found: Vec<Option<&Option<Analyzed>>> = clauses
                .iter()
                .map(|&(_, clause)| {
                    let found = match fresh.iter().find(|(c, _)| *c == clause) {
                        Some((_, analyzed)) => Some(analyzed),
                        None => known.get(clause),
                    };
                    if found.is_none() {
                        missing.push(clause);
                    }
                    found
                })
                .collect();
            if missing.is_empty() {
                let mut found = found.into_iter();
                let plain = plain_of(&clauses, |_| {
                    found
                        .next()
                        .flatten()
                        .expect("one per clause, none missing")
                });
                return match plain {
                    Some(plain) => then(Some(&plain)),
                    None => {
                        drop(known);
                        then(None)
                    }
                };
            }
            drop(found);
            drop(known);
            for clause in missing {
                let analyzed = self.analyze(clause, &number);
                self.keep(clause, &analyzed);
                fresh.push((clause, analyzed));
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Box<str>, Option<Analyzed>>> {
        self.known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps what the analyzer made of `clause`, when it is short enough.
    fn keep(&self, clause: &str, analyzed: &Option<Analyzed>) {
        if clause.len() > MAX_KEPT_BYTES {
            return;
        }
        let mut known = self
            .known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if known.len() >= MAX_KEPT {
            known.clear();
        }
        known.insert(clause.into(), analyzed.clone());
    }

    /// What the analyzer makes of `clause`, its words numbered by `number`; `None` when the
    /// tables cannot take it.
    pub(super) fn analyze(
        &self,
        clause: &str,
        number: impl Fn(&str) -> [Option<u32>; 2],
    ) -> Option<Analyzed> {
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
        let term = |text: &str| Term {
            text: text.into(),
            numbers: number(text),
        };
        match tokens.as_slice() {
            [] => Some(Analyzed::Nothing),
            [(_, word)] => Some(Analyzed::Word(term(word))),
            [(p, first), (q, second)] if *q == *p + 1 => {
                Some(Analyzed::Pair(term(first), term(second)))
            }
            _ => None,
        }
    }

    /// What is kept for `clause`, if anything.
    #[cfg(test)]
    pub(super) fn kept(&self, clause: &str) -> Option<Option<Analyzed>> {
        self.read().get(clause).cloned()
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
