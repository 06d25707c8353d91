use super::*;
use proptest::prelude::*;

/// Numbers for no word: these tests have no score tables.
fn none(_: &str) -> [Option<u32>; 2] {
    [None, None]
}

fn term(text: &str) -> Term {
    Term {
        text: text.into(),
        numbers: [None, None],
    }
}

/// Filler words with their letters cased and punctuated any way, other words, digits, and the
/// non-ASCII letters whose lower case is or holds ASCII (the Kelvin sign, dotted capital I).
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            proptest::sample::select(FILLER),
            "[?!,.'\"]{0,2}",
            any::<u64>()
        )
            .prop_map(|(word, tail, case)| {
                let cased: String = word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if case >> (i % 64) & 1 == 1 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect();
                format!("{cased}{tail}")
            }),
        "[a-zA-Z0-9'?\u{212A}\u{130}é]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    /// The test without allocating says what lower-casing the word's letters and digits into a
    /// string and looking it up says.
    #[test]
    fn filler_is_told_as_by_lower_casing_into_a_string(word in word()) {
        let bare: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        prop_assert_eq!(is_filler(&word), FILLER.contains(&bare.as_str()), "{:?}", word);
    }

    /// A clause read from what is kept is what the analyzer makes of it, the first time and
    /// after, for words, joined words, phrases, stop words and long clauses; what is kept is
    /// what the analyzer made, for clauses short enough to keep.
    #[test]
    fn kept_clauses_analyze_as_the_analyzer_does(
        clauses in proptest::collection::vec(
            prop_oneof![
                "[a-zA-Z]{1,10}",
                "[a-z]{1,6}[-_.][a-z0-9]{1,6}",
                Just("the".to_string()),
                Just("draining streams".to_string()),
                Just("of the".to_string()),
                "[a-z ]{40,80}",
            ],
            1..20,
        ),
    ) {
        let kept = Clauses::new(crate::docs::search::analyzer());
        for clause in clauses.iter().chain(&clauses) {
            let analyzed = kept.analyze(clause, none);
            let fresh = plain_of(&[(true, clause)], |_| &analyzed).map(|plain| OwnedPlain {
                words: plain.words.iter().map(|&w| w.clone()).collect(),
                phrases: plain.phrases.iter().map(|&(a, b)| (a.clone(), b.clone())).collect(),
            });
            prop_assert_eq!(plain_query(&kept, &format!("\"{clause}\""), none), fresh, "{:?}", clause);
            let expected = (clause.len() <= MAX_KEPT_BYTES).then(|| analyzed.clone());
            prop_assert_eq!(kept.kept(clause), expected, "{:?}", clause);
        }
    }

    /// ASCII queries, read a byte at a time, keep what reading characters keeps (apostrophes
    /// then read alike).
    #[test]
    fn plain_syntax_reads_ascii_as_characters(query in "[ -~\t\n]{0,40}|.{0,20}") {
        let by_chars: String = query
            .chars()
            .map(|c| if c == '\u{2019}' { '\'' } else if kept(c) { c } else { ' ' })
            .collect();
        prop_assert_eq!(plain_syntax(&query), apostrophes(&by_chars));
    }

    /// A query of many clauses, some repeated, is read as each clause once in order, past the
    /// few a list compares and the set takes over from.
    #[test]
    fn repeated_clauses_count_once(
        words in proptest::collection::vec("[a-e]{1,2}", 1..60),
    ) {
        let query = words.join(" ");
        let mut once: Vec<(bool, &str)> = Vec::new();
        for word in &words {
            if !once.contains(&(false, word.as_str())) {
                once.push((false, word.as_str()));
            }
        }
        prop_assert_eq!(plain_clauses(&query), Some(once));
    }
}

#[test]
fn clauses_analyze_to_words_pairs_or_nothing() {
    let kept = Clauses::new(crate::docs::search::analyzer());
    assert_eq!(
        kept.analyze("Draining", none),
        Some(Analyzed::Word(term("drain")))
    );
    assert_eq!(
        kept.analyze("idle_timeout", none),
        Some(Analyzed::Pair(term("idl"), term("timeout")))
    );
    assert_eq!(kept.analyze("the", none), Some(Analyzed::Nothing));
    assert_eq!(
        kept.analyze("drain the task", none),
        None,
        "around a stop word"
    );
    assert_eq!(kept.analyze("one two three", none), None, "three words");
    let numbered = kept.analyze("Streams", |word| [Some(word.len() as u32), None]);
    assert_eq!(
        numbered,
        Some(Analyzed::Word(Term {
            text: "stream".into(),
            numbers: [Some(6), None]
        })),
        "a word is numbered as analyzed"
    );
}

/// A client sending nonsense words does not grow what is kept past its bound, and what is
/// kept still answers right.
#[test]
fn kept_clauses_are_bounded() {
    let kept = Clauses::new(crate::docs::search::analyzer());
    for i in 0..MAX_KEPT * 3 {
        plain_query(&kept, &format!("nonsense{i} streams"), none);
        assert!(kept.len() <= MAX_KEPT);
    }
    plain_query(&kept, &"long".repeat(MAX_KEPT_BYTES), none);
    assert!(kept.len() <= MAX_KEPT);
    assert_eq!(
        plain_query(&kept, "streams Streams", none),
        Some(OwnedPlain {
            words: vec![term("stream"), term("stream")],
            phrases: vec![],
        })
    );
}
