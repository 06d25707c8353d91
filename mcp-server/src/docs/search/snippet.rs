//! Snippets: the passage of a hit's prose with the most query words, in bold.

#[cfg(test)]
use tantivy::tokenizer::TextAnalyzer;

use crate::docs::markup::{Clean, Collapsed};

mod spots;

pub(super) use spots::Spots;

/// Characters of context in a snippet.
const SNIPPET_CHARS: usize = 240;

/// The text a unit's snippet is cut from: its prose, or its code when it has no prose.
pub(super) fn source(text: &Clean) -> &str {
    if text.prose.trim().is_empty() {
        &text.code
    } else {
        &text.prose
    }
}

/// Reads an item of each of the first `lines` cache lines of `items`. A search reads a few
/// places of a large index (each hit's spots and text) that the server's other work has pushed
/// out of the CPU's caches; read one after the other, each waits for memory in turn. Reading
/// them all first lets the CPU wait for all at once (its loads do not depend on each other), and
/// the work that follows finds them in cache.
pub(crate) fn touch<T: Copy>(items: &[T], lines: usize) {
    let step = (64 / std::mem::size_of::<T>().max(1)).max(1);
    for item in items.iter().step_by(step).take(lines) {
        std::hint::black_box(*item);
    }
}

/// What the snippets of one search share: the numbers of the query's terms in the index.
pub(super) struct Highlighter {
    /// The distinct numbers of the query's terms that some unit holds; a number's place here is
    /// its term's id.
    numbers: Vec<u32>,
    /// A bit for the low eight bits of each term's number: most words are turned away by it.
    sieve: [u64; 4],
}

impl Highlighter {
    /// The highlighter of the query's analyzed `terms` (their order gives their ids; a term
    /// given twice, or that no unit holds, has none), numbered by `number`.
    #[cfg(test)]
    pub(super) fn new(
        terms: impl IntoIterator<Item = impl AsRef<str>>,
        number: impl Fn(&str) -> Option<u32>,
    ) -> Highlighter {
        Self::of_numbers(terms.into_iter().map(|term| number(term.as_ref())))
    }

    /// The highlighter of the query's terms by their numbers (`None` for a term no unit holds):
    /// see [`Highlighter::new`].
    pub(super) fn of_numbers(terms: impl IntoIterator<Item = Option<u32>>) -> Highlighter {
        let mut numbers: Vec<u32> = Vec::new();
        for n in terms.into_iter().flatten() {
            if !numbers.contains(&n) {
                numbers.push(n);
            }
        }
        let mut sieve = [0u64; 4];
        for &n in &numbers {
            sieve[(n as usize >> 6) & 3] |= 1 << (n & 63);
        }
        Highlighter { numbers, sieve }
    }

    /// The id of the term numbered `number`, if the query has it.
    fn id_of(&self, number: u32) -> Option<usize> {
        if self.sieve[(number as usize >> 6) & 3] & (1 << (number & 63)) == 0 {
            return None;
        }
        self.numbers.iter().position(|&n| n == number)
    }

    /// About [`SNIPPET_CHARS`] of a unit's prose around the most query words, with them in
    /// bold; its opening when no word matched the prose (a title match). `text` is slot
    /// `slot`'s, whose spots `spots` keeps.
    pub(super) fn snippet(&self, text: &Clean, spots: &Spots, slot: usize) -> String {
        // A bit (`1 << (id % 64)`) for each term the text holds.
        let words = spots.words_of(slot);
        let held = self
            .numbers
            .iter()
            .enumerate()
            .filter(|&(_, n)| words.binary_search(n).is_ok())
            .fold(0, |mask, (id, _)| mask | 1 << (id % 64));
        self.snippet_from(text, spots.of(slot), held)
    }

    /// [`Highlighter::snippet`] from `spots` (the text's), reading until a window holds every
    /// term `held` has a bit for.
    pub(super) fn snippet_from(&self, text: &Clean, spots: &[(u32, u32)], held: u64) -> String {
        let source = source(text);
        // Spots of another text (never, with the snapshot's own corpus) are passed over where
        // they fall outside it, inside a character, or on a word already taken.
        let mut taken = 0;
        let matches = spots.iter().filter_map(move |&(start, number)| {
            let id = self.id_of(number)?;
            let start = start as usize;
            if start < taken {
                return None;
            }
            let end = start + word_len(source.get(start..)?);
            taken = end;
            Some((start, end, id))
        });
        cut(source, matches, Reading::UntilHeld(held))
    }
}

/// The snippet of `source` from its query words `matches` (`(start, end, term id)`, in text
/// order), read as `reading` says (the same snippet either way: a test compares them).
pub(super) fn cut(
    source: &str,
    matches: impl Iterator<Item = (usize, usize, usize)>,
    reading: Reading,
) -> String {
    let (matches, best) = best_window(matches, reading);
    if matches.is_empty() {
        return opening(source);
    }
    let first = matches[best].0;
    // Start at the line or sentence the first match is in, when it is close.
    let (start, inside) = match line_start_near(source, first) {
        Some(line_start) => (line_start, false),
        None => (floor_boundary(source, first - SNIPPET_CHARS / 8), true),
    };
    let end = floor_boundary(source, (start + SNIPPET_CHARS).min(source.len()));
    // Written collapsed as it goes: the same as collapsing it once written.
    let mut out = Collapsed::with_capacity(end - start + 32);
    if inside && start > 0 {
        out.push("…");
    }
    let mut from = start;
    for &(s, e, _) in matches.iter().filter(|(s, e, _)| *s >= start && *e <= end) {
        out.push(&source[from..s]);
        out.push_word("**");
        out.push_word(&source[s..e]);
        out.push_word("**");
        from = e;
    }
    out.push(&source[from..end]);
    if end < source.len() {
        out.push("…");
    }
    out.into_string()
}

/// The start of the line `at` is in, when it is at most [`SNIPPET_CHARS`] / 4 bytes before
/// `at`; read back only that far (a long line was read back to its start, for every snippet
/// cut from it: a page of one long line made each a scan of the page).
fn line_start_near(source: &str, at: usize) -> Option<usize> {
    let near = floor_boundary(source, at.saturating_sub(SNIPPET_CHARS / 4 + 1));
    let line_start = match source[near..at].rfind('\n') {
        Some(n) => near + n + 1,
        None if near == 0 => 0,
        None => return None,
    };
    (at - line_start <= SNIPPET_CHARS / 4).then_some(line_start)
}

/// The length of the word that `text` starts with.
fn word_len(text: &str) -> usize {
    // ASCII letters and digits, then whatever follows them as `words` reads it.
    let ascii = text
        .bytes()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(text.len());
    match text.as_bytes().get(ascii) {
        Some(b) if ascii == 0 || !b.is_ascii() => {
            words(text).next().map_or(0, |(_, word)| word.len())
        }
        _ => ascii,
    }
}

/// The query words of `source` as a search found them before spots: every word split and
/// analyzed in turn (the plain definition the spots must keep).
#[cfg(test)]
pub(super) fn scanned(
    source: &str,
    terms: &[String],
    analyzer: &TextAnalyzer,
) -> Vec<(usize, usize, usize)> {
    let mut analyzer = analyzer.clone();
    words(source)
        .filter_map(|(start, word)| {
            let mut stream = analyzer.token_stream(word);
            if !stream.advance() {
                return None;
            }
            let id = terms.iter().position(|t| *t == stream.token().text)?;
            Some((start, start + word.len(), id))
        })
        .collect()
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

/// The query words `matches` (as [`cut`] takes them) read as `reading` says, and which of them
/// opens the window of [`SNIPPET_CHARS`] with the most distinct words (the earliest of equals).
fn best_window(
    matches: impl Iterator<Item = (usize, usize, usize)>,
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
    let mut found: Vec<(usize, usize, usize)> = Vec::with_capacity(16);
    for (start, end, id) in matches {
        if let Some(i) = full
            && start >= found[i].0 + SNIPPET_CHARS
        {
            break;
        }
        found.push((start, end, id));
        if reading != Reading::Whole && full.is_none() {
            while found[open].0 + SNIPPET_CHARS <= start {
                open += 1;
            }
            // A window that holds every word holds them in every window open with it, the
            // earliest included: so the earliest open window is the one to look at.
            let seen = found[open..]
                .iter()
                .fold(0u64, |seen, &(_, _, id)| seen | 1 << (id % 64));
            // `seen` has no bit `every` lacks: both come from the text's spots (a property test
            // holds the snippet to reading the whole text).
            if seen == every {
                full = Some(open);
            }
        }
    }
    if let Some(i) = full {
        return (found, i);
    }
    // The window with the most distinct words, earliest first.
    let mut best = (0usize, 0usize);
    for (i, &(start, _, _)) in found.iter().enumerate() {
        let mut seen = 0u64;
        for &(s, _, id) in &found[i..] {
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
    (found, best.0)
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
/// so once the collapsed prefix passes [`SNIPPET_CHARS`] the opening is known. The text is
/// collapsed a few lines at a time (a long unit with none of the query's words was collapsed
/// whole once, then four times the opening's length).
fn opening(text: &str) -> String {
    let mut out = Collapsed::with_capacity(SNIPPET_CHARS + 16);
    let mut from = 0;
    while from < text.len() {
        // Past a character's start, whatever the width of the one at `from`.
        let end = floor_boundary(text, (from + SNIPPET_CHARS / 2).min(text.len()));
        out.push(&text[from..end]);
        from = end;
        let collapsed = out.as_str();
        // Fewer bytes than characters wanted are fewer characters too.
        if collapsed.len() > SNIPPET_CHARS
            && let Some((cut, _)) = collapsed.char_indices().nth(SNIPPET_CHARS)
        {
            return format!("{}…", &collapsed[..cut]);
        }
    }
    out.into_string()
}

#[cfg(test)]
mod tests;
