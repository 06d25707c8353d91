//! Question filler: the words of a question that say how it is asked, not what it is about.

/// Declares [`FILLER`] and the test of a word against it from one list: the test is one
/// comparison tree that the compiler builds by length and bytes, where scanning the list compared
/// every word of every query with each filler word in turn.
macro_rules! filler_words {
    ($(#[$doc:meta])* $($word:literal,)*) => {
        $(#[$doc])*
        pub const FILLER: &[&str] = &[$($word),*];

        /// Whether `bare` (lower-case) is a [`FILLER`] word.
        fn is_filler_bare(bare: &str) -> bool {
            matches!(bare, $($word)|*)
        }
    };
}

filler_words! {
    /// Words of a question that say how it is asked, not what it is about: dropped from the query
    /// (unless quoted or `+`required, or all the query has), so a heading "How do I ...?" does not
    /// outrank the answer. English stop words (`the`, `is`, ...) are dropped by the analyzer.
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
pub(super) fn is_filler(word: &str) -> bool {
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
    // Only ASCII was copied in.
    std::str::from_utf8(&bare[..len]).is_ok_and(is_filler_bare)
}
