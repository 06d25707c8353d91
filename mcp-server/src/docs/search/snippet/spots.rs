//! Where the words of each unit's snippet text are, worked out once per index.

use rustc_hash::FxHashMap;
use tantivy::tokenizer::TextAnalyzer;

use super::{source, touch, words};
use crate::docs::markup::Clean;

/// Where the words of every unit's snippet text ([`source`]) are, with their numbers in the
/// index, worked out once per index: a snippet then finds a hit's query words by comparing
/// numbers, where reading the text (splitting it into words and looking each up) was most of a
/// search. A word the index has no number for (a stop word, one too long) is left out; none of
/// a query's terms is such a word.
#[derive(Default)]
pub(in crate::docs::search) struct Spots {
    /// `(byte offset, word number)` of each numbered word of each slot's text, in text order.
    spots: Slotted<(u32, u32)>,
    /// The distinct numbers among each slot's spots, sorted: which of a query's words a hit's
    /// snippet can find, so that reading its spots stops at the first window holding all of
    /// those.
    words: Slotted<u32>,
}

/// Items of each slot, slot after slot in one vector.
#[derive(Default)]
struct Slotted<T> {
    /// Where each slot's items end in `items` (a slot's start is the previous one's end).
    ends: Vec<u32>,
    items: Vec<T>,
}

impl<T> Slotted<T> {
    /// Ends the next slot's items (at most `u32::MAX` items in all: see [`Spots::build`]).
    fn end_slot(&mut self) {
        self.ends.push(self.items.len() as u32);
    }

    /// The items of `slot` (none for a slot past the last).
    fn of(&self, slot: usize) -> &[T] {
        let start = match slot {
            0 => 0,
            _ => self.ends.get(slot - 1).copied().unwrap_or(0) as usize,
        };
        let end = self.ends.get(slot).map_or(start, |&end| end as usize);
        &self.items[start..end]
    }

    fn bytes(&self) -> usize {
        self.ends.capacity() * 4 + self.items.capacity() * std::mem::size_of::<T>()
    }

    fn shrink_to_fit(&mut self) {
        self.ends.shrink_to_fit();
        self.items.shrink_to_fit();
    }
}

impl Spots {
    /// The spots of each text, slot by slot: the words as the tokenizer splits them, each
    /// analyzed (stemmed) once per index and numbered by `number`.
    pub(in crate::docs::search) fn build<'t>(
        texts: impl Iterator<Item = &'t Clean>,
        analyzer: &TextAnalyzer,
        number: impl Fn(&str) -> Option<u32>,
    ) -> Spots {
        let mut analyzer = analyzer.clone();
        let mut known: FxHashMap<&'t str, Option<u32>> = FxHashMap::default();
        let mut built = Spots::default();
        for text in texts {
            let first = built.spots.items.len();
            for (start, word) in words(source(text)) {
                // Offsets past 4 GiB, or more than 4 billion spots, cannot happen (pages are
                // capped far below), but are not wrapped if they did: the rest goes without.
                let Ok(start) = u32::try_from(start) else {
                    break;
                };
                if built.spots.items.len() >= u32::MAX as usize {
                    break;
                }
                let found = *known.entry(word).or_insert_with(|| {
                    let mut stream = analyzer.token_stream(word);
                    if stream.advance() {
                        number(&stream.token().text)
                    } else {
                        None
                    }
                });
                if let Some(found) = found {
                    built.spots.items.push((start, found));
                }
            }
            built.spots.end_slot();
            let mut words: Vec<u32> = built.spots.items[first..].iter().map(|&(_, n)| n).collect();
            words.sort_unstable();
            words.dedup();
            built.words.items.extend(words);
            built.words.end_slot();
        }
        built.spots.shrink_to_fit();
        built.words.shrink_to_fit();
        built
    }

    /// The distinct numbers among `slot`'s spots, sorted.
    pub(in crate::docs::search) fn words_of(&self, slot: usize) -> &[u32] {
        self.words.of(slot)
    }

    /// The spots of `slot`'s text, in order.
    pub(in crate::docs::search) fn of(&self, slot: usize) -> &[(u32, u32)] {
        self.spots.of(slot)
    }

    /// Bytes the spots hold (for the memory figures).
    pub(in crate::docs::search) fn bytes(&self) -> usize {
        self.spots.bytes() + self.words.bytes()
    }

    /// Reads the first memory of `slot`'s spots and words, and of its snippet text: see
    /// [`touch`].
    pub(in crate::docs::search) fn touch(&self, slot: usize, text: &Clean) {
        touch(self.words.of(slot), 2);
        touch(self.spots.of(slot), 2);
        touch(text.prose.as_bytes(), 2);
        touch(text.code.as_bytes(), 1);
    }
}
