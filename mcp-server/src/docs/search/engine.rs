//! One tantivy index over some of the units (every unit, or the default view's), and how a
//! query becomes the engine's: plain words built directly, anything else through the parser.

use std::collections::HashSet;

use tantivy::query::QueryParser;
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use super::fields::{page_intro_text, page_title_text};
use super::{ANALYZER, SearchError, Weights, analyzer};
use crate::docs::corpus::Corpus;

/// One tantivy index over some of the units, with its query parser.
pub(super) struct Engine {
    pub(super) reader: IndexReader,
    pub(super) parser: QueryParser,
    /// The fields a word is searched in, with their weights, in the parser's order.
    fields: Vec<(Field, f32)>,
}

impl Engine {
    /// Indexes the slots whose page is `wanted`, each stored with its slot number and page.
    pub(super) fn build(
        corpus: &Corpus,
        slots: &[(usize, usize)],
        weights: Weights,
        wanted: impl Fn(usize) -> bool,
    ) -> Result<Engine, SearchError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let page_text = schema.add_text_field("page_text", text.clone());
        let heading = schema.add_text_field("heading", text.clone());
        let body = schema.add_text_field("body", text.clone());
        let code = schema.add_text_field("code", text);
        let slot_field = schema.add_u64_field("slot", FAST);
        let page_field = schema.add_u64_field("page", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());

        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 50_000_000)?;
        let mut about = (usize::MAX, String::new());
        for (slot, &(p, u)) in slots.iter().enumerate() {
            if !wanted(p) {
                continue;
            }
            let page = &corpus.pages[p];
            if about.0 != p {
                about = (
                    p,
                    format!("{} {}", page_title_text(page), page_intro_text(page)),
                );
            }
            let unit = &page.units[u];
            let mut document = TantivyDocument::default();
            document.add_text(page_text, &about.1);
            document.add_text(heading, format!("{} {}", unit.context, unit.title));
            document.add_text(body, &unit.text.prose);
            document.add_text(code, &unit.text.code);
            document.add_u64(slot_field, slot as u64);
            document.add_u64(page_field, p as u64);
            writer.add_document(document)?;
        }
        writer.commit()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let mut parser = QueryParser::for_index(&index, vec![page_text, heading, body, code]);
        parser.set_field_boost(page_text, weights.page);
        parser.set_field_boost(heading, weights.heading);
        parser.set_field_boost(code, weights.code);
        let fields = vec![
            (page_text, weights.page),
            (heading, weights.heading),
            (body, 1.0),
            (code, weights.code),
        ];
        Ok(Engine {
            reader,
            parser,
            fields,
        })
    }

    /// The query the parser would build for plain words (letters and digits only, the common
    /// question), built without it: each word analyzed once, not once per field, and no
    /// grammar to run, with the same clauses in the same order (so the same scores; a property
    /// test compares them). With the analyzed words, for highlighting. `None` for anything
    /// else (quotes, operators, `_`, `.`, `'`, a word the analyzer would split), which the
    /// parser handles.
    pub(super) fn plain_words(
        &self,
        analyzer: &TextAnalyzer,
        query: &str,
    ) -> Option<(Box<dyn tantivy::query::Query>, HashSet<String>)> {
        use tantivy::query::{BooleanQuery, BoostQuery, EmptyQuery, Occur, TermQuery};
        if !query
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace())
        {
            return None;
        }
        let words: Vec<&str> = query.split_whitespace().collect();
        if words
            .iter()
            .any(|w| matches!(*w, "AND" | "OR" | "NOT" | "IN"))
        {
            return None;
        }
        let mut analyzer = analyzer.clone();
        let mut clauses: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
        let mut terms = HashSet::new();
        // The parser asks for a word once, however often the query repeats it as written (two
        // forms of a word, `drain draining`, count twice).
        let mut seen = HashSet::new();
        for word in words {
            if !seen.insert(word) {
                continue;
            }
            let mut stream = analyzer.token_stream(word);
            let Some(token) = stream.advance().then(|| stream.token().text.clone()) else {
                continue;
            };
            if stream.advance() {
                return None;
            }
            for &(field, boost) in &self.fields {
                let term = tantivy::Term::from_field_text(field, &token);
                let query: Box<dyn tantivy::query::Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                let query = if (boost - 1.0).abs() < f32::EPSILON {
                    query
                } else {
                    Box::new(BoostQuery::new(query, boost))
                };
                clauses.push((Occur::Should, query));
            }
            terms.insert(token);
        }
        if clauses.is_empty() {
            return Some((Box::new(EmptyQuery), terms));
        }
        Some((Box::new(BooleanQuery::new(clauses)), terms))
    }

    /// The engine's query for `query`. The strict parse flattens nested OR groups (each word is
    /// an OR over the four fields) into one OR of term queries, the shape that block-max WAND
    /// runs on: same matches, same scores, a fraction of the work. A query with a syntax error
    /// (an unclosed quote, a stray `)`) is parsed leniently instead, which forgives it.
    pub(super) fn parse(&self, query: &str) -> Box<dyn tantivy::query::Query> {
        match self.parser.parse_query(query) {
            Ok(parsed) => parsed,
            Err(_) => self.parser.parse_query_lenient(query).0,
        }
    }
}
