//! The score tables against the engine: plain words and two-word phrases rank as tantivy
//! ranks the parser's query, in every unit's tables and in the default view's own.

use super::*;

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
