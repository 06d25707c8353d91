//! Plain-word search without the engine's machinery: every analyzed word's BM25 contribution
//! to every unit that holds it, and every two-word phrase's, summed over the fields with their
//! weights, computed once per index from tantivy's own postings, positions and statistics.
//!
//! Why: a plain-word query (the common question) is an OR of one term query per word and
//! field, and the score of a unit is the sum of those terms' BM25 scores. Each term's score in
//! a unit depends only on the index (its frequency there, the unit's field length, the word's
//! document frequency), so it can be added up per word and unit when the index is built. A
//! search is then, per query word, one pass over a short list of `(slot, score)` pairs into a
//! score table: no term-dictionary lookups, weights, postings readers or block-max bookkeeping
//! per word and field, which were most of a search's CPU (docs/search.md). A quoted phrase of
//! two words is the same: tantivy scores it per field from how often the two words stand one
//! after the other in the unit, their summed idf and the field's length, all fixed by the index,
//! so each pair of neighbouring words gets its own list (where a phrase cost twice a pair of
//! words through tantivy, reading every position of every unit holding both). The scores are the
//! engine's, so the ranking is too (property tests compare them); operators, longer phrases and
//! anything else still go to tantivy.

use std::cell::RefCell;
use std::collections::HashMap;

use rustc_hash::FxHashMap;

use tantivy::postings::Postings;
use tantivy::query::{Bm25StatisticsProvider, Bm25Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

/// Each word's, and each adjacent pair of words', `(slot, score)` pairs, in slot order.
pub(super) struct Impacts {
    /// An analyzed word's number: its pairs are `ranges[number]`.
    words: FxHashMap<Box<str>, u32>,
    /// Two words one after the other (numbers, packed by [`pair_key`]): the pairs of the
    /// phrase made of them.
    pairs: FxHashMap<u64, (u32, u32)>,
    /// Each word's pairs: `slots[range]` and `scores[range]`.
    ranges: Vec<(u32, u32)>,
    /// The slot of each pair.
    slots: Vec<u32>,
    /// The word's (or phrase's) score in that slot: the sum over the fields of weight times
    /// BM25.
    scores: Vec<f32>,
    /// One past the largest slot, the size of a score table.
    slot_count: usize,
}

/// What the tables answer: analyzed words, and phrases of two analyzed words (each counted as
/// often as the engine's query would count it), lent by the query's clauses (see
/// `query::Clauses`).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Plain<'a> {
    pub(super) words: Vec<&'a Term>,
    pub(super) phrases: Vec<(&'a Term, &'a Term)>,
}

/// An analyzed word of a query, with its numbers in the index's score tables, looked up once
/// when its clause is first analyzed (a search then reads its list without looking it up).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Term {
    pub(super) text: Box<str>,
    /// Its number in each engine's tables (every unit's, then the default view's), when some
    /// unit there holds it.
    pub(super) numbers: [Option<u32>; 2],
}

impl<'a> Plain<'a> {
    /// Every analyzed word of the query (some more than once), for highlighting.
    pub(super) fn terms(&self) -> impl Iterator<Item = &'a Term> + '_ {
        let phrases = self.phrases.iter().flat_map(|&(a, b)| [a, b]);
        self.words.iter().copied().chain(phrases)
    }
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

/// The key of the phrase `first second` (word numbers).
fn pair_key(first: u32, second: u32) -> u64 {
    (u64::from(first) << 32) | u64::from(second)
}

/// tantivy's BM25 constants (`query/bm25.rs`), for the phrase scores below.
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// tantivy's inverse document frequency, as its phrase weight sums it (`Bm25Weight::for_terms`,
/// whose parts are private; a test holds the two equal).
fn idf(doc_freq: u64, doc_count: u64) -> f32 {
    let x = ((doc_count - doc_freq) as f32 + 0.5) / (doc_freq as f32 + 0.5);
    (1.0 + x).ln()
}

/// A phrase's BM25 score in one document, as tantivy's phrase scorer computes it: the summed
/// idf of its words, the document's field length (`fieldnorm_id`) and how often the phrase
/// occurs there.
fn phrase_score(idf_sum: f32, average: f32, fieldnorm_id: u8, count: u32) -> f32 {
    let fieldnorm = tantivy::fieldnorm::FieldNormReader::id_to_fieldnorm(fieldnorm_id);
    let norm = K1 * (1.0 - B + B * fieldnorm as f32 / average);
    let count = count as f32;
    idf_sum * (1.0 + K1) * (count / (count + norm))
}

impl Impacts {
    /// The impacts of every word in `fields` (with their weights), and of every two words
    /// that follow each other there, read from `searcher`'s segments (with positions);
    /// `slot_of` gives the slot of a segment's document.
    pub(super) fn build(
        searcher: &Searcher,
        fields: &[(Field, f32)],
        slot_of: impl Fn(u32, u32) -> Option<u32>,
    ) -> tantivy::Result<Impacts> {
        let total_docs = searcher.total_num_docs()?;
        let mut numbers: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut by_word: Vec<Vec<(u32, f32)>> = Vec::new();
        let mut by_pair: FxHashMap<u64, Vec<(u32, f32)>> = FxHashMap::default();
        let mut slot_count = 0usize;
        let mut positions = Vec::new();
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
            // Each word's idf in this field, by number, for the phrases.
            let mut idfs: FxHashMap<u32, f32> = FxHashMap::default();
            for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                let inverted = segment.inverted_index(field)?;
                let norms = segment.get_fieldnorms_reader(field)?;
                // Each document's words in this field, as (position, number).
                let mut tokens: Vec<Vec<(u32, u32)>> = vec![Vec::new(); segment.max_doc() as usize];
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {
                    let Ok(word) = std::str::from_utf8(terms.key()) else {
                        continue;
                    };
                    let number = match numbers.get(word) {
                        Some(&number) => number,
                        None => {
                            let number = by_word.len() as u32;
                            numbers.insert(word.into(), number);
                            by_word.push(Vec::new());
                            number
                        }
                    };
                    let doc_freq = doc_freqs[terms.key()];
                    idfs.insert(number, idf(doc_freq, total_docs));
                    let weight =
                        Bm25Weight::for_one_term_without_explain(doc_freq, total_docs, average);
                    let mut postings = inverted.read_postings_from_terminfo(
                        terms.value(),
                        IndexRecordOption::WithFreqsAndPositions,
                    )?;
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        if let Some(slot) = slot_of(ord as u32, doc) {
                            let score = weight.score(norms.fieldnorm_id(doc), postings.term_freq());
                            // A field weighted 0 adds nothing; a unit with no score above
                            // zero is not a match here (a search counts on every listed score
                            // being above zero).
                            if score * boost > 0.0 {
                                by_word[number as usize].push((slot, score * boost));
                            }
                            slot_count = slot_count.max(slot as usize + 1);
                            postings.positions(&mut positions);
                            tokens[doc as usize].extend(positions.iter().map(|&p| (p, number)));
                        }
                        doc = postings.advance();
                    }
                }
                // Two words at positions p and p + 1 are a phrase (as tantivy's phrase query
                // matches them: stop words leave gaps), counted per document.
                let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
                for (doc, words) in tokens.iter_mut().enumerate() {
                    let Some(slot) = slot_of(ord as u32, doc as u32) else {
                        continue;
                    };
                    words.sort_unstable();
                    for pair in words.windows(2) {
                        if pair[1].0 == pair[0].0 + 1 {
                            *counts.entry(pair_key(pair[0].1, pair[1].1)).or_default() += 1;
                        }
                    }
                    let fieldnorm_id = norms.fieldnorm_id(doc as u32);
                    for (key, count) in counts.drain() {
                        let idf_sum = 0.0 + idfs[&((key >> 32) as u32)] + idfs[&(key as u32)];
                        let score = phrase_score(idf_sum, average, fieldnorm_id, count);
                        if score * boost > 0.0 {
                            by_pair.entry(key).or_default().push((slot, score * boost));
                        }
                    }
                }
            }
        }
        let mut impacts = Impacts {
            words: numbers,
            pairs: FxHashMap::with_capacity_and_hasher(by_pair.len(), Default::default()),
            ranges: Vec::with_capacity(by_word.len()),
            slots: Vec::new(),
            scores: Vec::new(),
            slot_count,
        };
        for pairs in by_word {
            let range = impacts.append(pairs);
            impacts.ranges.push(range);
        }
        for (key, pairs) in by_pair {
            let range = impacts.append(pairs);
            impacts.pairs.insert(key, range);
        }
        impacts.slots.shrink_to_fit();
        impacts.scores.shrink_to_fit();
        Ok(impacts)
    }

    /// Adds one word's or phrase's `(slot, score)` pairs (in field order) to the tables, one
    /// per slot, and returns where they are.
    fn append(&mut self, mut pairs: Vec<(u32, f32)>) -> (u32, u32) {
        // Fields were added in order, so a stable sort keeps each slot's fields in the order
        // the engine's query adds them.
        pairs.sort_by_key(|&(slot, _)| slot);
        let start = self.slots.len() as u32;
        for (slot, score) in pairs {
            if self.slots.len() > start as usize && self.slots.last() == Some(&slot) {
                *self.scores.last_mut().expect("a pair was pushed") += score;
            } else {
                self.slots.push(slot);
                self.scores.push(score);
            }
        }
        (start, self.slots.len() as u32)
    }

    /// Where the pairs of the word numbered `first`, or of the phrase of it and the word
    /// numbered `second`, are; `None` when no unit holds it.
    fn range(&self, first: u32, second: Option<u32>) -> Option<(u32, u32)> {
        match second {
            None => self.ranges.get(first as usize).copied(),
            Some(second) => self.pairs.get(&pair_key(first, second)).copied(),
        }
    }

    /// The number of an analyzed word, if any unit holds it.
    pub(super) fn number(&self, word: &str) -> Option<u32> {
        self.words.get(word).copied()
    }

    /// Bytes these tables hold (for the memory figures).
    pub(super) fn bytes(&self) -> usize {
        self.slots.capacity() * 4
            + self.scores.capacity() * 4
            + self.ranges.capacity() * 8
            + self.pairs.capacity() * std::mem::size_of::<(u64, (u32, u32))>()
            + self
                .words
                .keys()
                .map(|w| w.len() + std::mem::size_of::<(Box<str>, u32)>())
                .sum::<usize>()
    }

    /// Where the pairs of each word and phrase of `query` are, those some unit holds; the
    /// words are numbered for these tables by `numbers[engine]` (see [`Term`]).
    pub(super) fn lists(&self, query: &Plain<'_>, engine: usize) -> Vec<(u32, u32)> {
        let words = query
            .words
            .iter()
            .map(|word| Some((word.numbers[engine]?, None)));
        let phrases = query
            .phrases
            .iter()
            .map(|(first, second)| Some((first.numbers[engine]?, Some(second.numbers[engine]?))));
        words
            .chain(phrases)
            .filter_map(|numbers| numbers.and_then(|(first, second)| self.range(first, second)))
            .collect()
    }

    /// The best `wanted` `(score, slot)` for `query` (analyzed; a word or phrase given twice
    /// counts twice, as in the engine's query) among the slots `keep` accepts, best first;
    /// equal scores in slot order, as tantivy breaks ties. These tables are every unit's.
    #[cfg(test)]
    pub(super) fn top(
        &self,
        query: &Plain<'_>,
        wanted: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(f32, usize)> {
        self.top_of(&self.lists(query, 0), wanted, keep)
    }

    /// [`Impacts::top`] of the query whose [`Impacts::lists`] are `lists`.
    pub(super) fn top_of(
        &self,
        lists: &[(u32, u32)],
        wanted: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(f32, usize)> {
        SCRATCH.with_borrow_mut(|scratch| {
            if scratch.scores.len() < self.slot_count {
                scratch.scores.resize(self.slot_count, 0.0);
            }
            let Scratch { scores, touched } = scratch;
            let postings: usize = lists
                .iter()
                .map(|&(start, end)| (end - start) as usize)
                .sum();
            // Each list's first memory is read first, all together (see `snippet::touch`).
            for &(start, end) in lists {
                let range = start as usize..end as usize;
                super::snippet::touch(&self.slots[range.clone()], 2);
                super::snippet::touch(&self.scores[range], 2);
            }
            let mut best = Best::new(wanted);
            // Lists that cover a good part of the units (common words) are added up in the
            // table and the table is read whole, in slot order; short ones note the slots they
            // touch and only those are read.
            if postings * 4 >= self.slot_count {
                for &(start, end) in lists.iter() {
                    let range = start as usize..end as usize;
                    for (&slot, &score) in self.slots[range.clone()].iter().zip(&self.scores[range])
                    {
                        scores[slot as usize] += score;
                    }
                }
                let table = &mut scores[..self.slot_count];
                // Read in slot order, a unit is kept only with a score above the worst kept
                // (an equal score ranks after an earlier slot; every BM25 score of a word a unit
                // holds is above zero). Once the best are found most units fall short, so
                // sixteen slots at a time are passed over by one vectorised comparison.
                let mut floor = 0.0f32;
                for (chunk, scores) in table.chunks(16).enumerate() {
                    if !scores
                        .iter()
                        .fold(false, |any, &score| any | (score > floor))
                    {
                        continue;
                    }
                    for (i, &score) in scores.iter().enumerate() {
                        let slot = chunk * 16 + i;
                        if score > floor && keep(slot) {
                            best.offer(score, slot);
                            floor = best.floor();
                        }
                    }
                }
                table.fill(0.0);
            } else {
                for &(start, end) in lists.iter() {
                    let range = start as usize..end as usize;
                    for (&slot, &score) in self.slots[range.clone()].iter().zip(&self.scores[range])
                    {
                        let total = &mut scores[slot as usize];
                        if *total == 0.0 {
                            touched.push(slot);
                        }
                        *total += score;
                    }
                }
                for &slot in touched.iter() {
                    let slot = slot as usize;
                    let score = std::mem::take(&mut scores[slot]);
                    if best.admits(score, slot) && keep(slot) {
                        best.offer(score, slot);
                    }
                }
                touched.clear();
            }
            best.ranked()
        })
    }
}

mod best;

use best::Best;

#[cfg(test)]
mod tests;
