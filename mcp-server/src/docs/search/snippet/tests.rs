use super::*;
use proptest::prelude::*;

/// The words as the tokenizer splits them, one character at a time (the plain definition
/// the fast scan must keep).
fn reference(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The stems a search looked up are the index's: the next search with the same words
/// stems none again and highlights the same way.
#[test]
fn stems_are_kept_across_searches() {
    let text =
        crate::docs::markup::clean("Draining tasks drain their streams; a drained task stops.\n");
    let analyzer = super::super::analyzer();
    let terms: HashSet<String> = ["drain".to_string()].into();
    let shared = Stems::default();
    let first = Highlighter::new(&terms, &analyzer, &shared).snippet(&text, 1);
    assert_eq!(
        first,
        "**Draining** tasks **drain** their streams; a **drained** task stops."
    );
    let known = shared.len();
    assert_eq!(known, 3, "Draining, drain, drained");
    let again = Highlighter::new(&terms, &analyzer, &shared).snippet(&text, 1);
    assert_eq!((again, shared.len()), (first, known));
}

/// Words for generated prose: query words in several forms, and others.
const PROSE: [&str; 12] = [
    "drain",
    "draining",
    "drained",
    "timeout",
    "timeouts",
    "idle",
    "stream",
    "the",
    "task",
    "configuration",
    "of",
    "ALB",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Reading a unit only up to the first window that holds every query word the text holds
    /// gives the snippet that reading all of it gives: long units, words far apart or close,
    /// one query word or several, some never in the text.
    #[test]
    fn reading_until_the_held_words_gives_the_same_snippet(
        // Most words are filler (an index past PROSE), so query words are often far apart.
        words in proptest::collection::vec((0..PROSE.len() * 6, 0..4usize), 0..240),
        terms in proptest::collection::hash_set(
            prop_oneof![Just("drain"), Just("timeout"), Just("idl"), Just("stream"), Just("zebra")],
            1..4,
        ),
    ) {
        let mut text = String::new();
        for (word, gap) in words {
            text.push_str(PROSE.get(word).unwrap_or(&"configuration"));
            text.push_str([" ", " ", "\n", ". "][gap]);
        }
        let text = crate::docs::markup::clean(&text);
        let terms: HashSet<String> = terms.into_iter().map(String::from).collect();
        let analyzer = super::super::analyzer();
        let shared = Stems::default();
        let whole = Highlighter::new(&terms, &analyzer, &shared).snippet_reading(&text, Reading::Whole);
        // The words the text holds, as the index would say: those the whole reading found.
        let mut reader = Highlighter::new(&terms, &analyzer, &shared);
        let source = if text.prose.trim().is_empty() { &text.code } else { &text.prose };
        let held = reader
            .best_window(source, Reading::Whole)
            .0
            .iter()
            .fold(0u64, |held, &(_, _, id)| held | 1 << (id % 64));
        let until = reader.snippet_reading(&text, Reading::UntilHeld(held));
        prop_assert_eq!(until, whole);
    }

    /// The opening read from a prefix is the opening of the whole text collapsed: long and
    /// short texts, runs of spaces and lines, several-byte characters at the cut.
    #[test]
    fn the_opening_of_a_prefix_is_the_opening_of_the_whole(
        text in "([a-zé日🦀]{1,12}[ \\n\\t\u{3000}]{1,30}){0,400}",
    ) {
        let collapsed = crate::docs::markup::collapse(&text);
        let whole = match collapsed.char_indices().nth(SNIPPET_CHARS) {
            Some((cut, _)) => format!("{}…", &collapsed[..cut]),
            None => collapsed,
        };
        prop_assert_eq!(opening(&text), whole);
    }

    /// ASCII, accented and CJK letters, digits, emoji, combining marks and punctuation in
    /// any order: the same words at the same offsets.
    #[test]
    fn the_fast_scan_finds_the_tokenizer_words(text in "[a-zA-Z0-9 .,_\\-éÉßİ日本語🦀\u{301}\n]{0,60}") {
        prop_assert_eq!(words(&text).collect::<Vec<_>>(), reference(&text));
    }

    /// The prefix test without allocating says what lower-casing the first three
    /// characters into a string says.
    #[test]
    fn prefixes_compare_lowercased_openings(
        word in "[a-zA-ZéÉßİ日]{1,6}",
        terms in proptest::collection::hash_set("[a-zéßi日]{1,4}", 1..4),
    ) {
        let lowered: String = word.chars().take(3).flat_map(char::to_lowercase).collect();
        let expected = terms.iter().any(|term| {
            let prefix: String = term.chars().take(3).collect();
            lowered.starts_with(prefix.as_str())
                || prefix.starts_with(lowered.as_str()) && lowered.len() == word.len()
        });
        prop_assert_eq!(Prefixes::new(&terms).may_match(&word), expected);
    }
}
