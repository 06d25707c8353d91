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
        index.search(&corpus, "timeout AND (", 5).is_ok(),
        "syntax is forgiven"
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
            | Err(SearchError::BadQuery(_)) => {}
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

/// The default view of a corpus with variants is searched in an index of its own; other views
/// through the index of every page. Each returns only its own variants.
#[test]
fn the_default_view_has_its_own_index_and_other_views_still_filter() {
    let page = |title: &str| {
        format!(
            "# {title}\n\n## Idle timeout\n\nThe idle timeout of the load balancer is {title}.\n"
        )
    };
    let corpus = Corpus::from_texts([
        ("v1.0/guide.md", page("one").as_str()),
        ("v2.0/guide.md", page("two").as_str()),
        ("v2.0/guide.ja.md", page("ni").as_str()),
    ]);
    let index = SearchIndex::build(&corpus).unwrap();
    assert!(
        index.default.is_some(),
        "a view that leaves pages out gets its own index"
    );
    let paths = |filter: &Filter| -> Vec<String> {
        let hits = index
            .search_in(&corpus, "idle timeout", 10, filter)
            .unwrap();
        let mut paths: Vec<String> = hits
            .iter()
            .map(|h| corpus.pages[h.page].path.clone())
            .collect();
        paths.sort();
        paths.dedup();
        paths
    };
    assert_eq!(paths(&Filter::default()), ["v2.0/guide.md"]);
    let latest = Filter {
        version: Some("latest".into()),
        language: None,
    };
    assert_eq!(
        paths(&latest),
        ["v2.0/guide.md"],
        "latest is the default view"
    );
    let old = Filter {
        version: Some("v1.0".into()),
        language: None,
    };
    assert_eq!(paths(&old), ["v1.0/guide.md"]);
    let japanese = Filter {
        version: None,
        language: Some("ja".into()),
    };
    assert_eq!(paths(&japanese), ["v2.0/guide.ja.md"]);

    let plain = Corpus::from_texts([("guide.md", page("one").as_str())]);
    assert!(
        SearchIndex::build(&plain).unwrap().default.is_none(),
        "no variants: one index"
    );
}

/// The default view's own tables number its words apart from every unit's (words only other
/// variants hold shift the numbers): a plain query searched there ranks as the parser's query
/// run by tantivy on that index.
#[test]
fn the_default_views_tables_rank_as_its_engine() {
    let page = |version: &str, words: &str| {
        format!(
            "# Guide {version}\n\n## Idle timeout\n\nThe idle timeout {words} of the load balancer.\n\n## Draining\n\nStreams drain {words} when the task stops.\n"
        )
    };
    let corpus = Corpus::from_texts([
        ("v1.0/guide.md", page("one", "aardvark abacus").as_str()),
        ("v1.0/other.md", page("one", "abbey abbot sticky").as_str()),
        ("v2.0/guide.md", page("two", "zebra sticky").as_str()),
        ("v2.0/other.md", page("two", "yak").as_str()),
        ("v2.0/guide.ja.md", page("ni", "aardvark").as_str()),
    ]);
    let index = SearchIndex::build(&corpus).unwrap();
    let (_, default) = index.default.as_ref().expect("a view of its own");
    for query in [
        "timeout",
        "sticky drain",
        "zebra yak streams",
        "\"idle timeout\" load",
        "balancer task stops zebra",
    ] {
        let hits = index
            .search_in(&corpus, query, 10, &Filter::default())
            .unwrap();
        let found: Vec<(usize, usize, f32)> =
            hits.iter().map(|h| (h.page, h.unit, h.score)).collect();
        let engine: Vec<(usize, usize, f32)> = default
            .ranked(query, 10, None)
            .unwrap()
            .into_iter()
            .map(|(score, slot)| (index.slots[slot].0, index.slots[slot].1, score))
            .collect();
        assert_eq!(found.len(), engine.len(), "{query}: {found:?} / {engine:?}");
        for ((p, u, score), (ep, eu, escore)) in found.iter().zip(&engine) {
            assert_eq!((p, u), (ep, eu), "{query}: {found:?} / {engine:?}");
            assert!((score - escore).abs() <= 1e-4 * escore.max(1.0), "{query}");
        }
    }
}

/// Plain words from the corpus's vocabulary, stop words, filler and unknown words among them.
const PLAIN: &str = "((idle|timeout|timeouts|drain|draining|stream|sticky|502|the|is|load|balancer|ALB|Deploys|zebra|über) ){1,6}";

/// `(slot, score)` of every unit a query finds, in slot order, as `rank` ranks them.
fn by_slot(mut ranked: Vec<(f32, usize)>) -> Vec<(usize, f32)> {
    ranked.sort_by_key(|&(_, slot)| slot);
    ranked
        .into_iter()
        .map(|(score, slot)| (slot, score))
        .collect()
}

/// Quoted phrases of two words from the corpus's vocabulary (some that never occur together,
/// around a stop word, or of one word), mixed with plain words.
const PHRASED: &str = "((idle|timeout|timeouts|drain|draining|stream|streams|sticky|load|balancer|the|zebra|\"idle timeout\"|\"Idle  Timeout\"|\"idle timeouts\"|\"load balancer\"|\"the load balancer\"|\"streams end\"|idle_timeout|Idle-Timeout|load-balancer|keep-alive|v1\\.2|timeout_seconds|a-b-c|idle\\.timeout\\.seconds|\"timeout idle\"|\"timeouts streams\"|\"sticky routing\"|\"drain\"|\"the\"|\"from the load\"|\"idle the timeout\") ){1,5}";

/// The tables' best 20 for `query` and the engine's, in slot order, checked to be the same
/// units with the same scores (up to the order floats are added in); the tables' best first.
fn same_as_the_engine(
    index: &SearchIndex,
    corpus: &Corpus,
    query: &str,
    second_page: bool,
) -> Result<(), TestCaseError> {
    let Some(plain) = index.plain_query(query) else {
        // Longer phrases and phrases around a stop word go to the parser.
        prop_assert!(
            [
                "\"idle the timeout\"",
                "\"from the load\"",
                "idle.timeout.seconds"
            ]
            .iter()
            .any(|declined| query.contains(declined)),
            "{}",
            query
        );
        return Ok(());
    };
    let terms: HashSet<String> = plain.plain().terms().map(|t| t.text.to_string()).collect();
    prop_assert_eq!(&terms, &index.terms(query));
    if plain.words.is_empty() && plain.phrases.is_empty() {
        // Only stop words: the parser's query has no term either; search_in refuses both.
        let mut any = false;
        index.all.parse(query).query_terms(&mut |_, _| any = true);
        prop_assert!(!any);
        return Ok(());
    }
    // Every unit, or only those of one page (a view through a filter).
    let keep = |slot: usize| !second_page || index.slots[slot].0 == 1;
    let view = Arc::new(
        (0..corpus.pages.len())
            .map(|p| !second_page || p == 1)
            .collect::<Vec<bool>>(),
    );
    let fast = index.all.impacts.top(&plain.plain(), 20, keep);
    let engine = index
        .all
        .ranked(query, 20, second_page.then_some(&view))
        .unwrap();
    for pair in fast.windows(2) {
        prop_assert!(pair[0].0 >= pair[1].0, "best first: {:?}", fast);
    }
    let (fast, engine) = (by_slot(fast), by_slot(engine));
    prop_assert_eq!(fast.len(), engine.len(), "{:?} / {:?}", fast, engine);
    for ((slot, score), (engine_slot, engine_score)) in fast.iter().zip(&engine) {
        prop_assert_eq!(slot, engine_slot);
        prop_assert!(
            (score - engine_score).abs() <= 1e-4 * engine_score.max(1.0),
            "{} / {}",
            score,
            engine_score
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Plain words skip the query parser and the engine: their impacts find the same units
    /// with the same scores as the parser's query run by tantivy, best first, and highlight the
    /// same words.
    #[test]
    fn plain_words_rank_as_the_engine_ranks_them(query in PLAIN, second_page in any::<bool>()) {
        same_as_the_engine(&SearchIndex::build(&corpus()).unwrap(), &corpus(), &query, second_page)?;
    }

    /// So do two-word phrases, from the pair tables, alone or among words.
    #[test]
    fn phrases_rank_as_the_engine_ranks_them(query in PHRASED, second_page in any::<bool>()) {
        same_as_the_engine(&SearchIndex::build(&corpus()).unwrap(), &corpus(), &query, second_page)?;
    }
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
