//! Snippets found from the index's spots and read only up to the first window holding every
//! query word the hit's text holds, as its spots say, held to splitting and analyzing the
//! whole text.

use super::*;
use crate::docs::search::snippet::{Reading, cut, scanned, source};

/// Words of prose: forms of the same stems, stop words, a split word, accents, a long word the
/// analyzer drops, and filler that matches nothing.
const WORDS: &[&str] = &[
    "drain",
    "drained",
    "draining",
    "timeout",
    "timeouts",
    "idle",
    "stream",
    "streams",
    "the",
    "of",
    "ALB",
    "idle_timeout",
    "café",
    "Antidisestablishmentarianismantidisestablishment",
    "configuration",
    "task",
    "service",
    "filler",
    "words",
    "here",
];

/// A page of generated sections, with code blocks, from `(word, gap)` picks.
fn page(title: &str, words: &[(usize, usize)], code: &[usize]) -> String {
    let mut text = format!("# {title}\n\n");
    for (i, &(word, gap)) in words.iter().enumerate() {
        if i % 90 == 0 {
            text.push_str(&format!("\n\n## Part {i}\n\n"));
        }
        text.push_str(WORDS[word % WORDS.len()]);
        text.push_str([" ", " ", "\n", ". "][gap]);
    }
    text.push_str("\n\n```\n");
    for &word in code {
        text.push_str(WORDS[word % WORDS.len()]);
        text.push(' ');
    }
    text.push_str("\n```\n");
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]
    /// Every hit's snippet, read up to the first window holding the query words its text holds,
    /// is the one reading the whole text gives: words of the query in the text or only in a
    /// title, in prose or only in code, stop words, split and dropped words.
    #[test]
    fn a_snippet_read_until_the_held_words_is_the_whole_reading(
        first in proptest::collection::vec((0..WORDS.len() * 3, 0..4usize), 0..300),
        second in proptest::collection::vec((0..WORDS.len() * 3, 0..4usize), 0..300),
        code in proptest::collection::vec(0..WORDS.len() * 2, 0..20),
        query in proptest::collection::vec(0..WORDS.len() + 2, 1..6),
        quoted in any::<bool>(),
    ) {
        let corpus = Corpus::from_texts([
            ("first.md", page("Draining streams", &first, &code).as_str()),
            ("second.md", page("Idle timeouts", &second, &[]).as_str()),
        ]);
        let index = SearchIndex::build(&corpus).unwrap();
        let mut query: Vec<&str> = query
            .iter()
            .map(|&w| WORDS.get(w).copied().unwrap_or("zebra"))
            .collect();
        if quoted && query.len() >= 2 {
            query[0] = "\"idle timeout\"";
        }
        let query = query.join(" ");
        let Ok(hits) = index.search(&corpus, &query, 10) else {
            return Ok(());
        };
        let terms: Vec<String> = index.snippet_terms(&query).into_iter().collect();
        for hit in hits {
            let text = source(&corpus.pages[hit.page].units[hit.unit].text);
            let matches = scanned(text, &terms, &index.analyzer);
            let whole = cut(text, matches.into_iter(), Reading::Whole);
            prop_assert_eq!(&hit.snippet, &whole, "query {:?}", query);
        }
    }
}
