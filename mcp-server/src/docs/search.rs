//! Full-text search over sections with tantivy: BM25 ranking, English stemming and stop words,
//! boosts for section and page titles, phrase queries (`"idle timeout"`), and snippets around
//! the matched terms.
//!
//! Why tantivy: it is the maintained Rust search engine with all of that built in; the index
//! lives in RAM (a docs corpus is small) and is rebuilt whole on reload, in well under a second
//! for a thousand pages (see the benchmark).

use std::fmt;

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use super::corpus::Corpus;

/// The analyzer every text field uses.
const ANALYZER: &str = "docs_en";
/// Relative weight of a match in a section heading, a page title, and body text.
const SECTION_TITLE_BOOST: f32 = 3.0;
const PAGE_TITLE_BOOST: f32 = 2.0;
/// Characters of context in a snippet.
const SNIPPET_CHARS: usize = 240;
/// Longest query accepted, in characters: a question or a handful of keywords is far shorter,
/// and the query parser's work grows with the text.
pub const MAX_QUERY_CHARS: usize = 500;
/// Deepest nesting of `(`, `[` and `{` accepted: tantivy's query parser recurses on each level,
/// and about 1,200 levels overflow a thread's stack and abort the process.
pub const MAX_QUERY_NESTING: usize = 8;

/// One ranked section.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the page in the corpus.
    pub page: usize,
    /// Index of the section in the page.
    pub section: usize,
    /// BM25 score with boosts; higher is better.
    pub score: f32,
    /// Text around the matched terms, with the terms in `**bold**`.
    pub snippet: String,
}

/// Why a search could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchError {
    /// Nothing searchable in the query (empty, punctuation, or only stop words).
    EmptyQuery,
    /// More than [`MAX_QUERY_CHARS`] characters (how many it had).
    QueryTooLong(usize),
    /// Brackets nested deeper than [`MAX_QUERY_NESTING`].
    QueryTooNested,
    /// The query parsed but names something the index lacks (a field, say).
    BadQuery(String),
    /// The engine failed (an internal error, not the caller's).
    Engine(String),
}

impl fmt::Display for SearchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchError::EmptyQuery => write!(
                f,
                "the query has no searchable words; ask with a few keywords, e.g. \"idle timeout\""
            ),
            SearchError::QueryTooLong(chars) => write!(
                f,
                "the query has {chars} characters; at most {MAX_QUERY_CHARS} are allowed: ask with a few keywords"
            ),
            SearchError::QueryTooNested => write!(
                f,
                "the query nests brackets more than {MAX_QUERY_NESTING} deep; ask with plain keywords"
            ),
            SearchError::BadQuery(why) => write!(
                f,
                "the query cannot run ({why}); ask with plain keywords or a \"quoted phrase\""
            ),
            SearchError::Engine(error) => write!(f, "search failed: {error}"),
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Engine(error.to_string())
    }
}

/// An in-memory index of every section of a corpus.
pub struct SearchIndex {
    reader: IndexReader,
    parser: QueryParser,
    body: Field,
    /// `(page, section)` for each slot number stored in the index.
    slots: Vec<(usize, usize)>,
}

impl SearchIndex {
    /// Indexes every section of `corpus`.
    pub fn build(corpus: &Corpus) -> Result<SearchIndex, SearchError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let page_title = schema.add_text_field("page_title", text.clone());
        let section_title = schema.add_text_field("section_title", text.clone());
        let body = schema.add_text_field("body", text);
        let slot = schema.add_u64_field("slot", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());

        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 50_000_000)?;
        let mut slots = Vec::new();
        for (p, page) in corpus.pages.iter().enumerate() {
            for (s, section) in page.sections.iter().enumerate() {
                let mut document = TantivyDocument::default();
                document.add_text(page_title, &page.title);
                document.add_text(section_title, &section.title);
                document.add_text(body, page.section_text(section));
                document.add_u64(slot, slots.len() as u64);
                writer.add_document(document)?;
                slots.push((p, s));
            }
        }
        writer.commit()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut parser = QueryParser::for_index(&index, vec![page_title, section_title, body]);
        parser.set_field_boost(section_title, SECTION_TITLE_BOOST);
        parser.set_field_boost(page_title, PAGE_TITLE_BOOST);
        Ok(SearchIndex {
            reader,
            parser,
            body,
            slots,
        })
    }

    /// Sections indexed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The best `limit` sections for `query`. Words are OR-ed and ranked by BM25; quotes make a
    /// phrase; `+word` requires a word. Syntax errors are forgiven (the parser's lenient mode).
    pub fn search(
        &self,
        corpus: &Corpus,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        check_query(query)?;
        let (parsed, _errors) = self.parser.parse_query_lenient(query);
        let mut has_terms = false;
        parsed.query_terms(&mut |_, _| has_terms = true);
        if !has_terms {
            return Err(SearchError::EmptyQuery);
        }
        let searcher = self.reader.searcher();
        // What the query asks is the caller's; errors running it are the caller's too.
        let bad = |error: tantivy::TantivyError| SearchError::BadQuery(error.to_string());
        let top = searcher
            .search(&parsed, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(bad)?;
        let mut snippets = SnippetGenerator::create(&searcher, &*parsed, self.body).map_err(bad)?;
        snippets.set_max_num_chars(SNIPPET_CHARS);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let column = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .u64("slot")?;
            let Some(slot) = column.first(address.doc_id) else {
                continue;
            };
            let (p, s) = self.slots[slot as usize];
            let page = &corpus.pages[p];
            let text = page.section_text(&page.sections[s]);
            hits.push(Hit {
                page: p,
                section: s,
                score,
                snippet: render_snippet(&snippets, text),
            });
        }
        Ok(hits)
    }
}

/// Refuses what the query parser should never see: queries too long or too deeply nested.
fn check_query(query: &str) -> Result<(), SearchError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong(chars));
    }
    let mut depth = 0usize;
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_QUERY_NESTING {
                    return Err(SearchError::QueryTooNested);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
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

/// The matched passage with its terms in bold; the section's opening text when only a title
/// matched.
fn render_snippet(generator: &SnippetGenerator, text: &str) -> String {
    let snippet = generator.snippet(text);
    let fragment = snippet.fragment();
    if fragment.trim().is_empty() {
        return opening(text);
    }
    let mut out = String::with_capacity(fragment.len() + 16);
    let mut from = 0;
    for range in snippet.highlighted() {
        out.push_str(&fragment[from..range.start]);
        out.push_str("**");
        out.push_str(&fragment[range.clone()]);
        out.push_str("**");
        from = range.end;
    }
    out.push_str(&fragment[from..]);
    collapse_whitespace(out.trim_start_matches(['#', ' ']))
}

/// The first words of a section, heading line skipped.
fn opening(text: &str) -> String {
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.trim_start().starts_with('#') => rest,
        _ => text,
    };
    let collapsed = collapse_whitespace(body);
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
