use std::collections::HashMap;

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

/// A unit's spots are its words as the analyzer numbers them, at their offsets: forms of one
/// stem share a number, stop words and words too long are left out, and code is the text only
/// when there is no prose.
#[test]
fn spots_number_the_analyzed_words_at_their_offsets() {
    let prose = crate::docs::markup::clean("Draining tasks drain; the drained task stops.\n");
    let code = crate::docs::markup::clean("```\nfn drain() {}\n```\n");
    let analyzer = super::super::analyzer();
    let numbers: HashMap<&str, u32> = [("drain", 7), ("task", 9), ("stop", 11), ("fn", 13)].into();
    let spots = Spots::build([&prose, &code].into_iter(), &analyzer, |word| {
        numbers.get(word).copied()
    });
    assert_eq!(
        spots.of(0),
        [(0, 7), (9, 9), (15, 7), (26, 7), (34, 9), (39, 11)],
        "{:?}",
        prose.prose
    );
    assert_eq!(spots.of(1), [(0, 13), (3, 7)], "{:?}", code.code);
    assert_eq!(
        spots.words_of(0),
        [7, 9, 11],
        "the distinct numbers, sorted"
    );
    assert_eq!(spots.words_of(1), [7, 13]);
    assert_eq!(spots.of(2), [], "no such slot");
    assert_eq!(
        Spots::build([&prose].into_iter(), &analyzer, |_| None).of(0),
        [],
        "words the index does not number"
    );
}

/// The snippet read from spots is the one from splitting and analyzing every word.
#[test]
fn a_snippet_from_spots_is_the_scanned_one() {
    let text =
        crate::docs::markup::clean("Draining tasks drain their streams; a drained task stops.\n");
    let analyzer = super::super::analyzer();
    let numbers: HashMap<String, u32> =
        [("drain".to_string(), 1), ("stream".to_string(), 2)].into();
    let spots = Spots::build([&text].into_iter(), &analyzer, |word| {
        numbers.get(word).copied()
    });
    let terms = ["drain".to_string(), "zebra".to_string()];
    let highlighter = Highlighter::new(&terms, |word| numbers.get(word).copied());
    let snippet = highlighter.snippet(&text, &spots, 0);
    assert_eq!(
        snippet,
        "**Draining** tasks **drain** their streams; a **drained** task stops."
    );
    let scanned = scanned(source(&text), &terms, &analyzer);
    assert_eq!(
        snippet,
        cut(source(&text), scanned.into_iter(), Reading::Whole)
    );
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
        let analyzer = super::super::analyzer();
        let terms: Vec<String> = terms.into_iter().map(String::from).collect();
        let source = source(&text);
        let matches = scanned(source, &terms, &analyzer);
        let whole = cut(source, matches.iter().copied(), Reading::Whole);
        // The words the text holds, as the index would say: those the whole reading found.
        let held = matches.iter().fold(0u64, |held, &(_, _, id)| held | 1 << (id % 64));
        let until = cut(source, matches.into_iter(), Reading::UntilHeld(held));
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
        // And a word's length from where it starts, ASCII read without decoding.
        for (start, word) in reference(&text) {
            prop_assert_eq!(word_len(&text[start..]), word.len(), "{:?} at {}", text, start);
        }
    }
}

/// Spots of another text (offsets past the end, inside a character, or overlapping) are passed
/// over, not a panic: a search given a corpus other than the one indexed still answers.
#[test]
fn spots_of_another_text_are_passed_over() {
    let long = crate::docs::markup::clean("Many words here, and then drain, and drained again.\n");
    let short = crate::docs::markup::clean("日本語 drain\n");
    let analyzer = super::super::analyzer();
    let numbers: HashMap<String, u32> = [("drain".to_string(), 1)].into();
    let spots = Spots::build([&long].into_iter(), &analyzer, |w| numbers.get(w).copied());
    let terms = ["drain".to_string()];
    let highlighter = Highlighter::new(&terms, |w| numbers.get(w).copied());
    // The long text's spots fall past the end of the short one, or inside its characters.
    let snippet = highlighter.snippet_from(&short, spots.of(0), 1);
    assert!(snippet.starts_with("日本語"), "{snippet}");
    let shifted: Vec<(u32, u32)> = (0..12).map(|at| (at, 1)).collect();
    // Words bolded wrong, but the text's own words, whole.
    let snippet = highlighter.snippet_from(&short, &shifted, 1);
    assert_eq!(snippet.replace("**", ""), "日本語 drain", "{snippet}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Reading back at most a quarter of a snippet finds the line start that reading back to it
    /// finds, when it is that close, and nothing when it is farther (texts of long and short
    /// lines, and characters of every width).
    #[test]
    fn a_near_line_start_is_the_line_start(
        text in "([a-z ]{0,90}|é|日本|\n){0,12}",
        at in any::<prop::sample::Index>(),
    ) {
        let at = floor_boundary(&text, at.index(text.len() + 1));
        let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let expected = (at - line_start <= SNIPPET_CHARS / 4).then_some(line_start);
        prop_assert_eq!(line_start_near(&text, at), expected, "{:?} at {}", text, at);
    }
}
