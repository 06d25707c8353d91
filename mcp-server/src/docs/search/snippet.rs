//! Snippets: the passage of a hit's prose with the most query words, in bold.

use std::collections::HashSet;
use std::sync::RwLock;

use rustc_hash::FxHashMap;

use tantivy::tokenizer::TextAnalyzer;

use crate::docs::markup::Clean;

/// Characters of context in a snippet.
const SNIPPET_CHARS: usize = 240;

/// Each word of the corpus's text a snippet has looked at, as written, and what it stems to
/// (`None`: a stop word, or nothing): kept by the index for all its searches, so a word is
/// stemmed once per index, not once per search (stemming was a third of a snippet's time on
/// real documentation). It holds at most the distinct words of the corpus's text.
#[derive(Default)]
pub(super) struct Stems(RwLock<FxHashMap<Box<str>, Option<Box<str>>>>);

impl Stems {
    /// `then` of what `word` stems to, stemming it with `analyzer` the first time.
    fn with_stem<T>(
        &self,
        word: &str,
        analyzer: &mut TextAnalyzer,
        then: impl Fn(Option<&str>) -> T,
    ) -> T {
        let known = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(stem) = known.get(word) {
            return then(stem.as_deref());
        }
        drop(known);
        let mut stream = analyzer.token_stream(word);
        let stem: Option<Box<str>> = stream
            .advance()
            .then(|| stream.token().text.as_str().into());
        let found = then(stem.as_deref());
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(word.into(), stem);
        found
    }

    /// Words stemmed so far.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

/// What the snippets of one search share: the query's terms, their openings, one analyzer and
/// the words already stemmed (a word such as "service" recurs in every hit; stemming it once
/// per search, not once per occurrence, was most of a search's time).
pub(super) struct Highlighter<'c> {
    /// The query's analyzed terms; a term's place here is its id.
    terms: Vec<String>,
    prefixes: Prefixes,
    analyzer: TextAnalyzer,
    /// Each word already looked at, as written, and the id of the term it stems to.
    stems: FxHashMap<&'c str, Option<usize>>,
    /// The stems of the index's words.
    shared: &'c Stems,
}

impl<'c> Highlighter<'c> {
    pub(super) fn new(
        terms: &HashSet<String>,
        analyzer: &TextAnalyzer,
        shared: &'c Stems,
    ) -> Highlighter<'c> {
        Highlighter {
            terms: terms.iter().cloned().collect(),
            prefixes: Prefixes::new(terms),
            analyzer: analyzer.clone(),
            stems: FxHashMap::default(),
            shared,
        }
    }

    /// The query's analyzed terms; a term's place here is its id.
    pub(super) fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The id of the term `word` stems to, if any.
    fn term_of(&mut self, word: &'c str) -> Option<usize> {
        if let Some(&known) = self.stems.get(word) {
            return known;
        }
        let terms = &self.terms;
        let id = self.shared.with_stem(word, &mut self.analyzer, |stem| {
            stem.and_then(|stem| terms.iter().position(|t| t == stem))
        });
        self.stems.insert(word, id);
        id
    }

    /// About [`SNIPPET_CHARS`] of a unit's prose around the most query words, with them in
    /// bold; its opening when no word matched the prose (a title match). `held` has a bit
    /// (`1 << (id % 64)`) for each term the text (prose and code) holds, as the index says.
    pub(super) fn snippet(&mut self, text: &'c Clean, held: u64) -> String {
        self.snippet_reading(text, Reading::UntilHeld(held))
    }

    /// [`Highlighter::snippet`], reading the prose as `reading` says (the same snippet either
    /// way: a test compares them).
    pub(super) fn snippet_reading(&mut self, text: &'c Clean, reading: Reading) -> String {
        let source: &'c str = if text.prose.trim().is_empty() {
            &text.code
        } else {
            &text.prose
        };
        let (matches, best) = self.best_window(source, reading);
        if matches.is_empty() {
            return opening(source);
        }
        let first = matches[best].0;
        // Start at the line or sentence the first match is in, when it is close.
        let line_start = source[..first].rfind('\n').map_or(0, |n| n + 1);
        let start = if first - line_start <= SNIPPET_CHARS / 4 {
            line_start
        } else {
            floor_boundary(source, first - SNIPPET_CHARS / 8)
        };
        let end = floor_boundary(source, (start + SNIPPET_CHARS).min(source.len()));
        let mut out = String::with_capacity(end - start + 32);
        if start > 0 && start != line_start {
            out.push('…');
        }
        let mut from = start;
        for &(s, e, _) in matches.iter().filter(|(s, e, _)| *s >= start && *e <= end) {
            out.push_str(&source[from..s]);
            out.push_str("**");
            out.push_str(&source[s..e]);
            out.push_str("**");
            from = e;
        }
        out.push_str(&source[from..end]);
        if end < source.len() {
            out.push('…');
        }
        crate::docs::markup::collapse(&out)
    }
}

/// How much of a unit's prose a snippet reads.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Reading {
    /// All of it.
    #[cfg_attr(not(test), allow(dead_code))]
    Whole,
    /// Up to a window that holds every query word the text holds (a bit per term id, as in
    /// [`Highlighter::snippet`]), and the window's text: no later window can hold more, and of
    /// equals the earliest wins. Nothing at all when the text holds none. (Counting every query
    /// word instead read most hits of a question whole: most lack one of its words.)
    UntilHeld(u64),
}

impl<'c> Highlighter<'c> {
    /// The query words in `source` as `(start, end, term)`, in order, and which of them opens
    /// the window of [`SNIPPET_CHARS`] with the most distinct words (the earliest of equals).
    fn best_window(
        &mut self,
        source: &'c str,
        reading: Reading,
    ) -> (Vec<(usize, usize, usize)>, usize) {
        // The distinct words a window can hold at most (a bit per term id, as counted below).
        let every = match reading {
            Reading::UntilHeld(0) => return (Vec::new(), 0),
            Reading::UntilHeld(held) => held,
            // Never compared: the whole text is read.
            Reading::Whole => 0,
        };
        // The earliest window still open (its text not read to the end), and the window found
        // to hold every word.
        let mut open = 0usize;
        let mut full: Option<usize> = None;
        // Stemming every word of the unit costs more than the search: only words that start
        // like a query term (their first three letters, lower-cased) are stemmed and compared.
        let mut matches: Vec<(usize, usize, usize)> = Vec::with_capacity(16);
        for (start, word) in words(source) {
            if let Some(i) = full
                && start >= matches[i].0 + SNIPPET_CHARS
            {
                break;
            }
            if !self.prefixes.may_match(word) {
                continue;
            }
            let Some(id) = self.term_of(word) else {
                continue;
            };
            matches.push((start, start + word.len(), id));
            if reading != Reading::Whole && full.is_none() {
                while matches[open].0 + SNIPPET_CHARS <= start {
                    open += 1;
                }
                // A window that holds every word holds them in every window open with it, the
                // earliest included: so the earliest open window is the one to look at.
                let seen = matches[open..]
                    .iter()
                    .fold(0u64, |seen, &(_, _, id)| seen | 1 << (id % 64));
                // `seen` has no bit `every` lacks: the index's words of the text are the
                // text's words through the same analyzer (a property test holds the snippet
                // to reading the whole text).
                if seen == every {
                    full = Some(open);
                }
            }
        }
        if let Some(i) = full {
            return (matches, i);
        }
        // The window with the most distinct words, earliest first.
        let mut best = (0usize, 0usize);
        for (i, &(start, _, _)) in matches.iter().enumerate() {
            let mut seen = 0u64;
            for &(s, _, id) in &matches[i..] {
                if s >= start + SNIPPET_CHARS {
                    break;
                }
                seen |= 1 << (id % 64);
            }
            let count = seen.count_ones() as usize;
            if count > best.1 {
                best = (i, count);
            }
        }
        (matches, best.0)
    }
}

/// The first three characters of each query term, to pick the words of a unit worth stemming.
struct Prefixes {
    /// Each term's first three characters.
    prefixes: Vec<String>,
    /// Which ASCII bytes some prefix starts with: most words are turned away by their first
    /// byte alone.
    first: [bool; 128],
}

impl Prefixes {
    fn new(terms: &HashSet<String>) -> Prefixes {
        let prefixes: Vec<String> = terms.iter().map(|t| t.chars().take(3).collect()).collect();
        let mut first = [false; 128];
        for prefix in &prefixes {
            match prefix.as_bytes().first() {
                Some(&b) if b.is_ascii() => first[b as usize] = true,
                // A prefix that is empty or starts beyond ASCII: no quick refusal.
                _ => first = [true; 128],
            }
        }
        Prefixes { prefixes, first }
    }

    /// Whether `word` may stem to a term with one of the prefixes: its first three characters,
    /// lower-cased, start with a prefix, or are all of a word a prefix starts with. Without
    /// allocating: this runs for every word of every hit.
    fn may_match(&self, word: &str) -> bool {
        let Some(&b) = word.as_bytes().first() else {
            return false;
        };
        if b.is_ascii() && !self.first[b.to_ascii_lowercase() as usize] {
            return false;
        }
        let mut lowered = [0u8; 48];
        let mut len = 0;
        if word.is_ascii() {
            for &b in word.as_bytes().iter().take(3) {
                lowered[len] = b.to_ascii_lowercase();
                len += 1;
            }
        } else {
            for c in word.chars().take(3).flat_map(char::to_lowercase) {
                len += c.encode_utf8(&mut lowered[len..]).len();
            }
        }
        let lowered = &lowered[..len];
        // Byte loops, not `starts_with`: a library call per comparison of a few bytes cost
        // more than the comparison.
        let opens = |long: &[u8], short: &[u8]| {
            long.len() >= short.len() && long.iter().zip(short).all(|(a, b)| a == b)
        };
        self.prefixes.iter().any(|prefix| {
            let prefix = prefix.as_bytes();
            opens(lowered, prefix) || len == word.len() && opens(prefix, lowered)
        })
    }
}

/// The words of `text` as the tokenizer sees them (runs of letters and digits), with their
/// byte offsets. ASCII is read a byte at a time; other characters are decoded.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    // The character at `i` and its length, and whether it belongs to a word.
    let word_char = move |i: usize| -> (bool, usize) {
        let b = bytes[i];
        if b.is_ascii() {
            (b.is_ascii_alphanumeric(), 1)
        } else {
            let c = text[i..].chars().next().expect("at a character boundary");
            (c.is_alphanumeric(), c.len_utf8())
        }
    };
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let (in_word, len) = word_char(at);
            if !in_word {
                at += len;
                continue;
            }
            let start = at;
            at += len;
            while at < bytes.len() {
                let (in_word, len) = word_char(at);
                if !in_word {
                    break;
                }
                at += len;
            }
            return Some((start, &text[start..at]));
        }
        None
    })
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The first words of a unit's prose.
///
/// Only as much of the text as the opening needs is collapsed: collapsing a prefix gives the
/// first characters of collapsing the whole (a word cut short is the start of the whole word),
/// so a prefix whose collapse passes [`SNIPPET_CHARS`] gives the same opening. A long unit with
/// none of the query's words was collapsed whole before.
fn opening(text: &str) -> String {
    let mut read = (SNIPPET_CHARS + 1) * 4;
    loop {
        let end = floor_boundary(text, read.min(text.len()));
        let collapsed = crate::docs::markup::collapse(&text[..end]);
        match collapsed.char_indices().nth(SNIPPET_CHARS) {
            Some((cut, _)) => return format!("{}…", &collapsed[..cut]),
            None if end == text.len() => return collapsed,
            None => read = read.saturating_mul(2),
        }
    }
}

#[cfg(test)]
mod tests;
