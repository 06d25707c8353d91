//! One tantivy index over some of the units (every unit, or the default view's), with its
//! query parser for phrases and operators and its impacts for plain words.

use std::sync::Arc;

use tantivy::collector::{FilterCollector, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{FAST, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

use super::fields::{page_intro_text, page_title_text};
use super::impacts::Impacts;
use super::{ANALYZER, SearchError, Weights, analyzer};
use crate::docs::corpus::Corpus;

/// One tantivy index over some of the units, with its query parser.
pub(super) struct Engine {
    pub(super) reader: IndexReader,
    pub(super) parser: QueryParser,
    /// Each word's score per unit, for plain-word queries (the same scores the parser's
    /// query gives them).
    pub(super) impacts: Impacts,
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
        // The fields in the parser's order, with its boosts, so a word's impact sums the
        // same terms its query would.
        let fields = [
            (page_text, weights.page),
            (heading, weights.heading),
            (body, 1.0),
            (code, weights.code),
        ];
        let searcher = reader.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.fast_fields().u64("slot"))
            .collect::<Result<Vec<_>, _>>()?;
        let impacts = Impacts::build(&searcher, &fields, |segment, doc| {
            columns[segment as usize].first(doc).map(|slot| slot as u32)
        })?;
        Ok(Engine {
            reader,
            parser,
            impacts,
        })
    }

    /// The engine's query for `query` (see [`Engine::parse_noting`]).
    #[cfg(test)]
    pub(super) fn parse(&self, query: &str) -> Box<dyn tantivy::query::Query> {
        self.parse_noting(query).0
    }

    /// The engine's query for `query`, and whether it has a syntax error. The strict parse
    /// flattens nested OR groups (each word is an OR over the four fields) into one OR of term
    /// queries, the shape that block-max WAND runs on: same matches, same scores, a fraction of
    /// the work. A query with a syntax error (an unclosed quote, a stray `)`) is parsed
    /// leniently instead, which forgives it.
    fn parse_noting(&self, query: &str) -> (Box<dyn tantivy::query::Query>, bool) {
        match self.parser.parse_query(query) {
            Ok(parsed) => (parsed, false),
            Err(_) => (self.parser.parse_query_lenient(query).0, true),
        }
    }

    /// The best `wanted` `(score, slot)` for a query that is more than plain words (phrases,
    /// operators), run by tantivy; only the pages `view` shows when one is given.
    pub(super) fn ranked(
        &self,
        query: &str,
        wanted: usize,
        view: Option<&Arc<Vec<bool>>>,
    ) -> Result<Vec<(f32, usize)>, SearchError> {
        let (parsed, unparsed) = self.parse_noting(query);
        let mut has_terms = false;
        parsed.query_terms(&mut |_, _| has_terms = true);
        if !has_terms {
            return Err(SearchError::EmptyQuery);
        }
        let searcher = self.reader.searcher();
        // What the query asks is the caller's; errors running it are the caller's too.
        let bad = |error: tantivy::TantivyError| SearchError::BadQuery(error.to_string());
        let top_docs = TopDocs::with_limit(wanted).order_by_score();
        // A view of every page needs no filter, and without one the engine skips blocks that
        // cannot reach the top (block-max WAND).
        let top = match view {
            Some(view) => {
                let view = view.clone();
                let collector = FilterCollector::new(
                    "page".to_string(),
                    move |page: u64| view.get(page as usize).copied().unwrap_or(false),
                    top_docs,
                );
                searcher.search(&parsed, &collector).map_err(bad)?
            }
            None => searcher.search(&parsed, &top_docs).map_err(bad)?,
        };
        // The slot column of each segment, opened on first use (one segment, normally).
        let mut columns = Vec::new();
        columns.resize_with(searcher.segment_readers().len(), || None);
        let mut ranked = Vec::with_capacity(top.len());
        for (score, address) in top {
            let segment = address.segment_ord as usize;
            if columns[segment].is_none() {
                columns[segment] = Some(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .u64("slot")?,
                );
            }
            let column = columns[segment].as_ref().expect("opened above");
            if let Some(slot) = column.first(address.doc_id) {
                ranked.push((score, slot as usize));
            }
        }
        // What the lenient parse made of a query with a syntax error found nothing: the
        // caller hears that the query did not parse, not only that nothing matched.
        if ranked.is_empty() && unparsed {
            return Err(SearchError::Unparsed);
        }
        Ok(ranked)
    }
}
