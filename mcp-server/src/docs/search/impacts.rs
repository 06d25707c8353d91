//! Plain-word search without the engine's machinery: every analyzed word's BM25 contribution
//! to every unit that holds it, summed over the fields with their weights, computed once per
//! index from tantivy's own postings and statistics.
//!
//! Why: a plain-word query (the common question) is an OR of one term query per word and
//! field, and the score of a unit is the sum of those terms' BM25 scores. Each term's score in
//! a unit depends only on the index (its frequency there, the unit's field length, the word's
//! document frequency), so it can be added up per word and unit when the index is built. A
//! search is then, per query word, one pass over a short list of `(slot, score)` pairs into a
//! score table: no term-dictionary lookups, weights, postings readers or block-max bookkeeping
//! per word and field, which were most of a search's CPU (docs/search.md). The scores are the
//! engine's, so the ranking is too (a property test compares them); phrases, operators and
//! anything else still go to tantivy.

use std::cell::RefCell;
use std::collections::HashMap;

use rustc_hash::FxHashMap;

use tantivy::postings::Postings;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

/// Each word's `(slot, score)` pairs, in slot order.
pub(super) struct Impacts {
    /// An analyzed word's pairs: `slots[range]` and `scores[range]`.
    words: FxHashMap<Box<str>, (u32, u32)>,
    /// The slot of each pair.
    slots: Vec<u32>,
    /// The word's score in that slot: the sum over the fields of weight times BM25.
    scores: Vec<f32>,
    /// One past the largest slot, the size of a score table.
    slot_count: usize,
}

/// One search's score table, kept per thread so a search allocates none: every entry is zero
/// between searches (a search clears what it touched).
#[derive(Default)]
struct Scratch {
    scores: Vec<f32>,
    touched: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Impacts {
    /// The impacts of every word in `fields` (with their weights), read from `searcher`'s
    /// segments; `slot_of` gives the slot of a segment's document.
    pub(super) fn build(
        searcher: &Searcher,
        fields: &[(Field, f32)],
        slot_of: impl Fn(u32, u32) -> Option<u32>,
    ) -> tantivy::Result<Impacts> {
        let total_docs = searcher.total_num_docs()?;
        let mut by_word: HashMap<Box<str>, Vec<(u32, f32)>> = HashMap::new();
        let mut slot_count = 0usize;
        for &(field, boost) in fields {
            // As tantivy's term query computes them: the field's average length over every
            // document, the word's document frequency over every segment.
            let average = searcher.total_num_tokens(field)? as f32 / total_docs.max(1) as f32;
            let mut doc_freqs: HashMap<Vec<u8>, u64> = HashMap::new();
            for segment in searcher.segment_readers() {
                let inverted = segment.inverted_index(field)?;
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {
                    *doc_freqs.entry(terms.key().to_vec()).or_default() +=
                        u64::from(terms.value().doc_freq);
                }
            }
            for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                let inverted = segment.inverted_index(field)?;
                let norms = segment.get_fieldnorms_reader(field)?;
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {
                    let Ok(word) = std::str::from_utf8(terms.key()) else {
                        continue;
                    };
                    let weight = Bm25Weight::for_one_term_without_explain(
                        doc_freqs[terms.key()],
                        total_docs,
                        average,
                    );
                    let pairs = by_word.entry(word.into()).or_default();
                    let mut postings = inverted
                        .read_postings_from_terminfo(terms.value(), IndexRecordOption::WithFreqs)?;
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        if let Some(slot) = slot_of(ord as u32, doc) {
                            let score = weight.score(norms.fieldnorm_id(doc), postings.term_freq());
                            pairs.push((slot, score * boost));
                            slot_count = slot_count.max(slot as usize + 1);
                        }
                        doc = postings.advance();
                    }
                }
            }
        }
        let mut impacts = Impacts {
            words: FxHashMap::with_capacity_and_hasher(by_word.len(), Default::default()),
            slots: Vec::new(),
            scores: Vec::new(),
            slot_count,
        };
        for (word, mut pairs) in by_word {
            // Fields were added in order, so a stable sort keeps each slot's fields in the
            // order the engine's query adds them.
            pairs.sort_by_key(|&(slot, _)| slot);
            let start = impacts.slots.len() as u32;
            for (slot, score) in pairs {
                if impacts.slots.len() > start as usize && impacts.slots.last() == Some(&slot) {
                    *impacts.scores.last_mut().expect("a pair was pushed") += score;
                } else {
                    impacts.slots.push(slot);
                    impacts.scores.push(score);
                }
            }
            let end = impacts.slots.len() as u32;
            impacts.words.insert(word, (start, end));
        }
        impacts.slots.shrink_to_fit();
        impacts.scores.shrink_to_fit();
        Ok(impacts)
    }

    /// Bytes these tables hold (for the memory figures).
    pub(super) fn bytes(&self) -> usize {
        self.slots.capacity() * 4
            + self.scores.capacity() * 4
            + self
                .words
                .keys()
                .map(|w| w.len() + std::mem::size_of::<(Box<str>, (u32, u32))>())
                .sum::<usize>()
    }

    /// The best `wanted` `(score, slot)` for `words` (analyzed; a word given twice counts
    /// twice, as in the engine's query) among the slots `keep` accepts, best first; equal
    /// scores in slot order, as tantivy breaks ties.
    pub(super) fn top(
        &self,
        words: &[String],
        wanted: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(f32, usize)> {
        SCRATCH.with_borrow_mut(|scratch| {
            if scratch.scores.len() < self.slot_count {
                scratch.scores.resize(self.slot_count, 0.0);
            }
            let Scratch { scores, touched } = scratch;
            for word in words {
                let Some(&(start, end)) = self.words.get(word.as_str()) else {
                    continue;
                };
                let range = start as usize..end as usize;
                for (&slot, &score) in self.slots[range.clone()].iter().zip(&self.scores[range]) {
                    let total = &mut scores[slot as usize];
                    // Every BM25 score of a word a unit holds is above zero.
                    if *total == 0.0 {
                        touched.push(slot);
                    }
                    *total += score;
                }
            }
            let mut ranked: Vec<(f32, usize)> = Vec::with_capacity(touched.len());
            for &slot in touched.iter() {
                let slot = slot as usize;
                if keep(slot) {
                    ranked.push((scores[slot], slot));
                }
                scores[slot] = 0.0;
            }
            touched.clear();
            let order =
                |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if ranked.len() > wanted {
                ranked.select_nth_unstable_by(wanted, order);
                ranked.truncate(wanted);
            }
            ranked.sort_unstable_by(order);
            ranked
        })
    }
}
