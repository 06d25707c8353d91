use super::*;
use proptest::prelude::*;
use tantivy::collector::TopDocs;

mod snippets;

fn corpus() -> Corpus {
    Corpus::from_texts([
        (
            "deployment.md",
            "# Deployment\n\nHow to deploy the service.\n\n## Idle timeout\n\nThe ALB idle timeout must exceed the keep-alive interval. Set idle_timeout.timeout_seconds to 600.\n\n## Stickiness\n\nLegacy sessions need sticky routing.\n",
        ),
        (
            "operations.md",
            "# Operations\n\nDraining moves clients.\n\n## Draining\n\nWhen a task drains, streams end with a retry field and clients reconnect.\n\n## Timeouts\n\nA request that runs past its timeout gets an error. The timeout is configurable, and timeouts of streams differ from idle connections.\n",
        ),
        (
            "troubleshooting.md",
            "# Troubleshooting\n\n## 502 errors\n\nA 502 from the load balancer during deploys means streams were cut while draining.\n",
        ),
    ])
}

fn ranked(index: &SearchIndex, corpus: &Corpus, query: &str) -> Vec<String> {
    index
        .search(corpus, query, 10)
        .unwrap()
        .iter()
        .map(|h| {
            let page = &corpus.pages[h.page];
            format!("{}#{}", page.path, page.sections[h.section].anchor)
        })
        .collect()
}

#[test]
fn a_heading_match_outranks_body_mentions() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    assert_eq!(index.len(), 8);
    let order = ranked(&index, &corpus, "timeouts");
    assert_eq!(order[0], "operations.md#timeouts", "{order:?}");
    assert!(
        order.contains(&"deployment.md#idle-timeout".to_string()),
        "stemming: timeouts ~ timeout"
    );
}

#[test]
fn stemming_matches_other_forms_of_a_word() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    let order = ranked(&index, &corpus, "drained");
    assert_eq!(order[0], "operations.md#draining", "{order:?}");
    assert!(order.contains(&"troubleshooting.md#502-errors".to_string()));
}

#[test]
fn a_phrase_query_needs_the_words_together() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    assert_eq!(
        ranked(&index, &corpus, "\"idle timeout\""),
        ["deployment.md#idle-timeout"]
    );
    let loose = ranked(&index, &corpus, "idle timeout");
    assert!(
        loose.len() > 1,
        "without quotes either word matches: {loose:?}"
    );
}

#[test]
fn snippets_surround_and_bold_the_matched_terms() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    let hits = index.search(&corpus, "sticky", 1).unwrap();
    assert!(
        hits[0].snippet.contains("**sticky**"),
        "{}",
        hits[0].snippet
    );
    assert!(hits[0].score > 0.0);
}

#[test]
fn limit_caps_the_hits_and_empty_queries_are_refused() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    assert_eq!(index.search(&corpus, "timeout", 2).unwrap().len(), 2);
    for empty in ["", "   ", "the of and", "!!!"] {
        assert_eq!(
            index.search(&corpus, empty, 5),
            Err(SearchError::EmptyQuery),
            "{empty:?}"
        );
    }
    assert!(index.search(&corpus, "kubernetes", 5).unwrap().is_empty());
    assert!(
        !index
            .search(&corpus, "timeout AND (", 5)
            .unwrap()
            .is_empty(),
        "syntax is forgiven when what can be read of it is found"
    );
    assert!(
        !index
            .search(&corpus, "timeout \"unclosed", 5)
            .unwrap()
            .is_empty()
    );
    // When nothing is found, the caller hears that the query did not parse.
    for unparsed in ["kubernetes \"unclosed", "kubernetes AND (", "a\"b\"c(d"] {
        assert_eq!(
            index.search(&corpus, unparsed, 5),
            Err(SearchError::Unparsed),
            "{unparsed:?}"
        );
    }
    let message = SearchError::Unparsed.to_string();
    assert!(message.contains("plain keywords"), "{message}");
    // A query that parses and matches nothing is no error; nor is an apostrophe, which the
    // parser would read as an unclosed quote.
    assert!(
        index
            .search(&corpus, "\"kubernetes pods\"", 5)
            .unwrap()
            .is_empty()
    );
    for apostrophes in ["zzq's qqq", "don't", "'zzq' qqq", "qqq'", "\"don't zzq\""] {
        assert!(
            index.search(&corpus, apostrophes, 5).unwrap().is_empty(),
            "{apostrophes:?}"
        );
    }
    assert!(!index.search(&corpus, "doesn't idle", 5).unwrap().is_empty());
    assert_eq!(
        query::plain_syntax("don't 'quoted' it's' l'été"),
        "don-t  quoted  it-s  l-été"
    );
    assert_eq!(
        query::plain_syntax("doesn\u{2019}t '-v' '+x' it's-a"),
        "doesn-t   v    x  it-s-a"
    );
}

#[test]
fn long_and_deeply_nested_queries_are_refused_not_parsed() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    assert_eq!(
        index.search(&corpus, &"(".repeat(1200), 5),
        Err(SearchError::QueryTooLong(1200))
    );
    assert_eq!(
        index.search(&corpus, &format!("{}timeout", "(".repeat(9)), 5),
        Err(SearchError::QueryTooNested)
    );
    let deepest = format!("{}timeout{}", "(".repeat(8), ")".repeat(8));
    assert!(index.search(&corpus, &deepest, 5).is_ok());
    // Balanced groups side by side are not deep.
    assert!(index.search(&corpus, &"(timeout) ".repeat(40), 5).is_ok());
    let message = SearchError::QueryTooLong(1200).to_string();
    assert!(message.contains("500"), "{message}");
}

/// Characters the query syntax gives meaning to, and some it does not.
const HOSTILE: &str = "[()\\[\\]{}\"+\\-:^~*?!&|/\\\\ aéb日😀]{0,500}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Any query within the limits parses and runs on a thread with a quarter of a tokio
    /// worker's stack, so the limits leave a wide margin; anything else is refused.
    #[test]
    fn any_query_is_answered_or_refused_never_a_crash(query in HOSTILE) {
        let outcome = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                let corpus = corpus();
                let index = SearchIndex::build(&corpus).unwrap();
                index.search(&corpus, &query, 5).map(|_| ())
            })
            .unwrap()
            .join()
            .expect("the search thread neither panics nor overflows");
        match outcome {
            Ok(())
            | Err(SearchError::EmptyQuery)
            | Err(SearchError::QueryTooNested)
            | Err(SearchError::BadQuery(_))
            | Err(SearchError::Unparsed) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}

/// The top documents and scores of `query` as the engine runs it.
fn top_scores(index: &SearchIndex, query: &dyn tantivy::query::Query) -> Vec<(u32, u32)> {
    let searcher = index.all.reader.searcher();
    searcher
        .search(query, &TopDocs::with_limit(20).order_by_score())
        .unwrap()
        .into_iter()
        .map(|(score, address)| (address.doc_id, (score * 1000.0).round() as u32))
        .collect()
}

/// Words, phrases and operators from the corpus's own vocabulary, so queries match something.
const WORDY: &str = "((\\+|-|\")?(idle|timeout|timeouts|drain|draining|stream|sticky|502|the|load balancer|ALB)\"? ){1,6}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// The flattened query (the shape block-max WAND runs on) finds the same units with the
    /// same scores as the same parse left nested.
    #[test]
    fn the_flattened_query_ranks_like_the_nested_one(query in WORDY) {
        let corpus = corpus();
        let index = SearchIndex::build(&corpus).unwrap();
        let flat = index.all.parse(&query);
        let nested = match tantivy::query_grammar::parse_query(&query) {
            Ok(ast) => index.all.parser.build_query_from_user_input_ast(ast).unwrap_or_else(|_| flat.box_clone()),
            Err(_) => index.all.parser.parse_query_lenient(&query).0,
        };
        prop_assert_eq!(top_scores(&index, flat.as_ref()), top_scores(&index, nested.as_ref()));
    }
}

#[test]
fn plain_words_become_one_flat_or_of_terms() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    let parsed = index.all.parse("idle timeout");
    let flat = parsed
        .downcast_ref::<tantivy::query::BooleanQuery>()
        .expect("an OR of words");
    // Two words in four fields; no nested groups.
    assert_eq!(flat.clauses().len(), 8, "{parsed:?}");
    assert!(
        flat.clauses()
            .iter()
            .all(|(_, q)| q.downcast_ref::<tantivy::query::BooleanQuery>().is_none())
    );
}

/// A no-break or em space pasted with a question separates words as a space does, whether the
/// score tables or the parser answer (the parser's grammar stopped at the first such space).
#[test]
fn unicode_spaces_separate_words() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    for (pasted, typed) in [
        ("idle\u{A0}timeout", "idle timeout"),
        ("\u{A0}idle sticky", "idle sticky"),
        ("\"idle timeout\"\u{2003}sticky", "\"idle timeout\" sticky"),
        ("idle\u{3000}+timeout", "idle +timeout"),
        ("-sticky\u{A0}drain\u{0B}timeouts", "-sticky drain timeouts"),
    ] {
        assert_eq!(
            ranked(&index, &corpus, pasted),
            ranked(&index, &corpus, typed),
            "{pasted:?}"
        );
    }
}

/// A plain query's words, as strings to compare.
fn words(words: &[impacts::Term]) -> Vec<&str> {
    words.iter().map(|word| &*word.text).collect()
}

fn pairs(pairs: &[(impacts::Term, impacts::Term)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(a, b)| (&*a.text, &*b.text)).collect()
}

#[test]
fn anything_but_plain_words_and_short_phrases_goes_to_the_parser() {
    let corpus = corpus();
    let index = SearchIndex::build(&corpus).unwrap();
    for query in [
        "+idle",
        "-idle",
        "idle_timeout_seconds",
        "-idle_timeout",
        "idle_",
        "don't",
        "(idle)",
        "idle OR drain",
        "a AND b",
        "\"idle timeout seconds\"",
        "\"idle the timeout\"",
        "\"idle timeout",
        "\"idle timeout\"s",
        "x\"idle timeout\"",
    ] {
        assert!(index.plain_query(query).is_none(), "{query}");
    }
    let plain = |query| index.plain_query(query).unwrap();
    assert_eq!(
        words(&plain("idle Timeout idle timeouts").words),
        ["idl", "timeout", "timeout"],
        "analyzed once per distinct word as written"
    );
    let phrased = plain("drain \"Idle timeouts\" \"drain\" \"idle timeouts\" \"Idle timeouts\"");
    assert_eq!(words(&phrased.words), ["drain", "drain"]);
    assert_eq!(
        pairs(&plain("load-balancer idle_timeout").phrases),
        [("load", "balanc"), ("idl", "timeout")],
        "a word the analyzer splits in two is a phrase, as to the parser"
    );
    assert_eq!(
        pairs(&phrased.phrases),
        [("idl", "timeout"), ("idl", "timeout")]
    );
}

mod best_few;
mod tables;
