//! Full-text search over units of retrieval (see [`super::units`]) with tantivy: BM25 over four
//! fields (the page's title and opening, heading path, prose, code) with weights chosen on the
//! labelled query sets (`tests/relevance/`), English stemming and stop words, question filler
//! dropped from the query (see [`FILLER`]), phrase queries (`"idle timeout"`), one hit per
//! answer (variants of a page are one page, see [`super::variants`], and the same text included
//! in several pages is one hit), and snippets around the matched terms. A query of plain words
//! and two-word phrases (the common question) is scored from tables built with the index (see
//! `impacts`), with the engine's own scores; operators and longer phrases run through tantivy.
//!
//! Why tantivy: it is the maintained Rust search engine with all of that built in; the index
//! lives in RAM (a docs corpus is small) and is rebuilt whole on reload, in well under a second
//! for a thousand pages (see the benchmark).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};

use super::corpus::Corpus;
use super::variants::{self, Variant, VariantRules};

mod engine;
mod error;
mod fields;
mod impacts;
mod query;
mod snippet;
mod views;

use engine::Engine;
use fields::{copies, fingerprint};
use snippet::{Highlighter, Spots};

pub use error::SearchError;
#[cfg(test)]
use query::plain_query;
use query::{Clauses, check_query, plain_syntax};
pub use query::{FILLER, MAX_QUERY_CHARS, MAX_QUERY_NESTING, without_filler};
pub(crate) use snippet::touch;

/// The analyzer every text field uses.
const ANALYZER: &str = "docs_en";
/// Relative weight of a match in each field (above zero); prose is 1. Chosen with `bench_relevance --tune`
/// on the labelled sets (docs/search.md has the figures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// The page: its title, file name, description and opening prose (one field, not two: each
    /// field is a term lookup and a scorer per query word, and two fields of equal weight ranked
    /// the labelled sets no better).
    pub page: f32,
    /// The heading path and the unit's own title.
    pub heading: f32,
    /// Fenced code.
    pub code: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            page: 3.0,
            heading: 4.0,
            code: 0.25,
        }
    }
}

/// One ranked unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the page in the corpus.
    pub page: usize,
    /// Index of the section in the page.
    pub section: usize,
    /// Index of the unit in the page.
    pub unit: usize,
    /// `(page, unit)` of the same text elsewhere (an included fragment), not returned as hits.
    pub also: Vec<(usize, usize)>,
    /// BM25 score with boosts; higher is better.
    pub score: f32,
    /// Text around the matched terms, with the terms in `**bold**`.
    pub snippet: String,
}

/// Which variants one search looks at: `None` takes the defaults (see [`super::variants`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// A version the corpus has (`latest` means the newest released one).
    pub version: Option<String>,
    /// A language the corpus has.
    pub language: Option<String>,
}

/// An in-memory index of every unit of a corpus.
pub struct SearchIndex {
    /// Every unit.
    all: Engine,
    /// The default view (see [`super::variants`]) and an index of its units alone, when that
    /// view leaves pages out.
    default: Option<(Arc<Vec<bool>>, Engine)>,
    analyzer: TextAnalyzer,
    /// The query analyzer, with the clauses it has analyzed.
    clauses: Clauses,
    /// Where the words of each slot's snippet text are.
    spots: Spots,
    /// `(page, unit)` for each slot number stored in the index.
    slots: Vec<(usize, usize)>,
    /// A hash of each slot's title and text, to return the same text once (0: never collapsed,
    /// for units with next to no text of their own).
    fingerprints: Vec<u64>,
    /// For each fingerprint held by several slots: those slots, a fragment's first (the source
    /// the others include).
    copies: FxHashMap<u64, Vec<usize>>,
    /// Each page's place among its variants.
    pub variants: Vec<Variant>,
    /// For each page, the other pages that are variants of it (built once, not per call).
    siblings: Vec<Vec<usize>>,
    /// Every version (oldest first) and language in the corpus.
    pub versions: Vec<String>,
    pub languages: Vec<String>,
    rules: VariantRules,
    /// The pages the default filter searches.
    default_view: Arc<Vec<bool>>,
    /// The pages each other filter searches, built on first use (bounded: only known values get
    /// here).
    views: Mutex<HashMap<Filter, Arc<Vec<bool>>>>,
}

impl SearchIndex {
    /// Indexes every unit of `corpus` with the default variant rules.
    pub fn build(corpus: &Corpus) -> Result<SearchIndex, SearchError> {
        Self::build_with(corpus, &VariantRules::default())
    }

    /// Indexes every unit of `corpus`; `rules` say which pages are variants of each other.
    pub fn build_with(corpus: &Corpus, rules: &VariantRules) -> Result<SearchIndex, SearchError> {
        Self::build_weighted(corpus, rules, Weights::default())
    }

    /// Indexes every unit of `corpus` with these field weights (for tuning them).
    pub fn build_weighted(
        corpus: &Corpus,
        rules: &VariantRules,
        weights: Weights,
    ) -> Result<SearchIndex, SearchError> {
        let mut slots = Vec::new();
        let mut fingerprints = Vec::new();
        for (p, page) in corpus.pages.iter().enumerate() {
            for (u, unit) in page.units.iter().enumerate() {
                slots.push((p, u));
                fingerprints.push(fingerprint(unit));
            }
        }
        let variants: Vec<Variant> = rules.variants(corpus.pages.iter().map(|p| p.path.as_str()));
        let (versions, languages) = variants::known(&variants);
        let siblings = views::siblings(&variants);
        let copies = copies(&fingerprints, &slots, corpus);
        let all = Engine::build(corpus, &slots, weights, |_| true)?;
        let analyzer = analyzer();
        let spots = Spots::build(
            slots.iter().map(|&(p, u)| &corpus.pages[p].units[u].text),
            &analyzer,
            |word| all.impacts.number(word),
        );
        // The view most searches use gets an index of its own when it leaves pages out: a
        // search through a filter reads each match's page and cannot skip blocks that will not
        // reach the top (block-max WAND), which costs more than the whole rest of a search.
        let default_view = Arc::new(variants::choose(&variants, rules, None, None));
        let default = if default_view.iter().all(|&shown| shown) {
            None
        } else {
            let shown = default_view.clone();
            let engine = Engine::build(corpus, &slots, weights, move |page| shown[page])?;
            Some((default_view.clone(), engine))
        };
        Ok(SearchIndex {
            fingerprints,
            all,
            default,
            clauses: Clauses::new(analyzer.clone()),
            analyzer,
            spots,
            slots,
            variants,
            siblings,
            versions,
            languages,
            rules: rules.clone(),
            copies,
            views: Mutex::new(HashMap::new()),
            default_view,
        })
    }

    /// Units indexed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Bytes of the score tables of words and word pairs (both indexes), for the memory figures.
    pub fn impact_bytes(&self) -> usize {
        self.all.impacts.bytes() + self.default.as_ref().map_or(0, |(_, e)| e.impacts.bytes())
    }

    /// Bytes of the words' places in the snippet texts, for the memory figures.
    pub fn spot_bytes(&self) -> usize {
        self.spots.bytes()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The best `limit` units for `query` in the default view.
    pub fn search(
        &self,
        corpus: &Corpus,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        self.search_in(corpus, query, limit, &Filter::default())
    }

    /// The best `limit` units for `query` among the pages `filter` looks at. Words are OR-ed
    /// and ranked by BM25; quotes make a phrase; `+word` requires a word. Syntax errors are
    /// forgiven (see `Engine::parse`).
    pub fn search_in(
        &self,
        corpus: &Corpus,
        query: &str,
        limit: usize,
        filter: &Filter,
    ) -> Result<Vec<Hit>, SearchError> {
        check_query(query)?;
        let query = without_filler(&plain_syntax(query));
        let view = self.view(filter)?;
        let engine = match &self.default {
            Some((shown, engine)) if Arc::ptr_eq(shown, &view) || **shown == **view => engine,
            _ => &self.all,
        };
        let limit = limit.max(1);
        // Room for the repeats that collapse into one hit.
        let wanted = limit * 2 + 8;
        let filtered = std::ptr::eq(engine, &self.all) && !view.iter().all(|&shown| shown);
        let number = |term: &str| self.all.impacts.number(term);
        // Which numbers of a query's words (see `impacts::Term`) this engine's tables take.
        let numbered = if std::ptr::eq(engine, &self.all) {
            0
        } else {
            1
        };
        // The plain query's lists and terms are read while its clauses are lent (see
        // `Clauses::with_plain`); the scoring runs after.
        let plain = self.clauses.with_plain(
            &query,
            |word| self.numbers(word),
            |plain| {
                plain.map(|plain| {
                    if plain.words.is_empty() && plain.phrases.is_empty() {
                        return Err(SearchError::EmptyQuery);
                    }
                    Ok((
                        engine.impacts.lists(plain, numbered),
                        Highlighter::of_numbers(plain.terms().map(|term| term.numbers[0])),
                    ))
                })
            },
        );
        let (top, highlighter) = match plain.transpose()? {
            Some((lists, highlighter)) => {
                let top = engine
                    .impacts
                    .top_of(&lists, wanted, |slot| !filtered || view[self.slots[slot].0]);
                (top, highlighter)
            }
            None => (
                engine.ranked(&query, wanted, filtered.then_some(&view))?,
                Highlighter::of_numbers(self.terms(&query).iter().map(|term| number(term))),
            ),
        };
        let mut hits: Vec<Hit> = Vec::with_capacity(limit);
        // The slot of each hit, whose snippet it gets.
        let mut slots: Vec<usize> = Vec::with_capacity(limit);
        // Fingerprints of the hits so far (a few: a list is quicker than hashing).
        let mut seen: Vec<u64> = Vec::with_capacity(limit);
        // The fingerprints of the best are read first, all together (see `snippet::touch`).
        for &(_, slot) in &top {
            std::hint::black_box(self.fingerprints[slot]);
        }
        for (score, slot) in top {
            let print = self.fingerprints[slot];
            if print != 0 && seen.contains(&print) {
                continue;
            }
            if hits.len() == limit {
                break;
            }
            // The same text in several pages is one hit: the fragment they include when it is
            // one, else the copy that ranked best; the others are listed with it.
            let mut primary = slot;
            let mut also = Vec::new();
            if let Some(group) = self.copies.get(&print) {
                seen.push(print);
                let visible: Vec<usize> = group
                    .iter()
                    .copied()
                    .filter(|s| view[self.slots[*s].0])
                    .collect();
                if let Some(&first) = visible.first()
                    && corpus.pages[self.slots[first].0].fragment
                {
                    primary = first;
                }
                also = visible
                    .into_iter()
                    .filter(|s| *s != primary)
                    .map(|s| self.slots[s])
                    .collect();
            }
            let (p, u) = self.slots[primary];
            hits.push(Hit {
                page: p,
                // Below, once the hits' units are read together.
                section: 0,
                unit: u,
                also,
                score,
                snippet: String::new(),
            });
            slots.push(primary);
        }
        // The hits' spots and text are read first, all together (see `snippet::touch`).
        for (hit, &slot) in hits.iter().zip(&slots) {
            self.spots
                .touch(slot, &corpus.pages[hit.page].units[hit.unit].text);
        }
        for (hit, &slot) in hits.iter_mut().zip(&slots) {
            let unit = &corpus.pages[hit.page].units[hit.unit];
            hit.section = unit.section;
            hit.snippet = highlighter.snippet(&unit.text, &self.spots, slot);
        }
        Ok(hits)
    }

    /// The terms a search for `query` highlights in its snippets, as [`Self::search_in`]
    /// works them out.
    #[cfg(test)]
    fn snippet_terms(&self, query: &str) -> HashSet<String> {
        let query = without_filler(&plain_syntax(query));
        match self.plain_query(&query) {
            Some(plain) => plain.plain().terms().map(|t| t.text.to_string()).collect(),
            None => self.terms(&query),
        }
    }

    /// The numbers of an analyzed word in each engine's tables (see `impacts::Term`).
    fn numbers(&self, word: &str) -> [Option<u32>; 2] {
        let default = self.default.as_ref();
        [
            self.all.impacts.number(word),
            default.and_then(|(_, engine)| engine.impacts.number(word)),
        ]
    }

    /// The plain query of `query` (see `Clauses::with_plain`), owned.
    #[cfg(test)]
    fn plain_query(&self, query: &str) -> Option<query::OwnedPlain> {
        plain_query(&self.clauses, query, |word| self.numbers(word))
    }

    /// The analyzed (stemmed) words of a query that goes to tantivy, for highlighting.
    fn terms(&self, query: &str) -> HashSet<String> {
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(query);
        let mut terms = HashSet::new();
        while stream.advance() {
            terms.insert(stream.token().text.clone());
        }
        terms
    }
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(
            StopWordFilter::new(Language::English).expect("English stop words ship with tantivy"),
        )
        .filter(Stemmer::new(Language::English))
        .build()
}

#[cfg(test)]
mod tests;
