//! One tantivy index over some of the units (every unit, or the default view's), with its
//! query parser for phrases and operators and its impacts for plain words.

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
