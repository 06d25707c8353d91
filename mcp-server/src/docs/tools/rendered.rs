//! `search_docs`'s answer as the fast path writes it: from what each hit's unit keeps written.
//!
//! Why: most of a hit's answer depends on its unit alone: its path, anchor, titles, URI and its
//! page's variants, in the structured result and in the readable text. Written for every hit
//! of every search (each string read from the corpus and escaped, a byte at a time where it
//! needs escaping), they were about a tenth of a `search_docs` call's CPU in the server's
//! profile. Each unit's are now written once, on its first hit, and copied after: a search
//! writes only its own parts (the query, the snippets, the scores, `alsoIn`).
//!
//! They are written by the functions that write the same parts of an answer from its hits
//! ([`SearchHit::write_head`], [`SearchHit::readable_head`] and the others), and a test holds
//! the two answers byte for byte equal, and both to `serde_json`'s writing of the derived
//! `Serialize` (rmcp's route writes that output as a `serde_json::Value`: the same value, its
//! keys in another order).

use std::sync::OnceLock;

use rmcp::ErrorData;

use super::searched::{Found, also_in, heading, no_match, numbered, page_hit, search_hit};
use super::unserialisable;
use super::written::{write_also_in, write_score};
use crate::direct::ToolOutput;
use crate::docs::corpus::Corpus;
use crate::docs::library::Snapshot;
use crate::docs::search::touch;
use crate::json::{escape, write_str};

/// Each unit's and each page's written parts, written on their first hit (see the module's
/// comment): a few dozen bytes a unit until then, and for the units no search finds. A page's
/// variants are kept once for all its units.
pub struct Renders {
    /// Where each page's units start among `units`.
    starts: Box<[usize]>,
    units: Box<[OnceLock<Rendered>]>,
    pages: Box<[OnceLock<Rendered>]>,
}

/// What a hit's answer writes of its unit or its page, whatever the query: parts one after
/// the other in one allocation.
///
/// A unit's three: its structured head (up to its `"snippet":`), its `,"uri":` member, and its
/// readable head (escaped, as inside the readable text's JSON string). A page's two: its
/// `,"variants":` member (or nothing) and its readable tail, escaped.
struct Rendered {
    bytes: Box<[u8]>,
    /// Where each part ends in `bytes`.
    ends: [u32; 3],
}

/// Writes one part of a [`Rendered`].
type Part<'a> = &'a dyn Fn(&mut Vec<u8>);

impl Rendered {
    /// Part `i`.
    fn part(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }

    /// `parts`, each writing into the bytes in turn.
    fn written(parts: &[Part<'_>]) -> Rendered {
        let mut bytes = Vec::with_capacity(256);
        let mut ends = [0; 3];
        for (i, part) in parts.iter().enumerate() {
            part(&mut bytes);
            ends[i] = bytes.len() as u32;
        }
        ends[parts.len()..].fill(bytes.len() as u32);
        Rendered {
            bytes: bytes.into_boxed_slice(),
            ends,
        }
    }

    /// Unit `unit` of page `page`'s parts.
    fn unit(snapshot: &Snapshot, page: usize, unit: usize) -> Rendered {
        let hit = search_hit(snapshot, page, unit);
        Rendered::written(&[
            &|out| hit.write_head(out),
            &|out| hit.write_uri(out),
            &|out| {
                let mut text = String::new();
                hit.readable_head(&mut text);
                escape(out, &text);
            },
        ])
    }

    /// Page `page`'s parts.
    fn page(snapshot: &Snapshot, page: usize) -> Rendered {
        let hit = page_hit(snapshot, page);
        Rendered::written(&[&|out| hit.write_variants(out), &|out| {
            let mut text = String::new();
            hit.readable_tail(&mut text);
            escape(out, &text);
        }])
    }
}

impl Renders {
    /// Room for every unit and page of `corpus`, none written yet.
    pub fn new(corpus: &Corpus) -> Renders {
        let mut starts = Vec::with_capacity(corpus.pages.len());
        let mut units = 0;
        for page in &corpus.pages {
            starts.push(units);
            units += page.units.len();
        }
        Renders {
            starts: starts.into_boxed_slice(),
            units: (0..units).map(|_| OnceLock::new()).collect(),
            pages: (0..corpus.pages.len()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Where unit `unit` of page `page`'s parts are kept.
    fn unit(&self, page: usize, unit: usize) -> &OnceLock<Rendered> {
        let start = self.starts[page];
        let end = self
            .starts
            .get(page + 1)
            .copied()
            .unwrap_or(self.units.len());
        // A unit past its page's would be another page's: a panic (this call's internal
        // error), not another unit's answer.
        assert!(start + unit < end, "unit {unit} of page {page}");
        &self.units[start + unit]
    }

    /// Writes every unit's and page's parts (for the memory figures).
    #[cfg(test)]
    pub(super) fn write_all(&self, snapshot: &Snapshot) {
        for (page, units) in snapshot.corpus.pages.iter().enumerate() {
            self.pages[page].get_or_init(|| Rendered::page(snapshot, page));
            for unit in 0..units.units.len() {
                self.unit(page, unit)
                    .get_or_init(|| Rendered::unit(snapshot, page, unit));
            }
        }
    }

    /// Bytes kept (for the memory figures): the room for every unit and page, and what is
    /// written.
    pub fn bytes(&self) -> usize {
        let room = (self.units.len() + self.pages.len())
            * std::mem::size_of::<OnceLock<Rendered>>()
            + self.starts.len() * std::mem::size_of::<usize>();
        let written: usize = self
            .units
            .iter()
            .chain(self.pages.iter())
            .filter_map(OnceLock::get)
            .map(|parts| parts.bytes.len())
            .sum();
        room + written
    }
}

/// `found`'s answer in `snapshot`, as [`super::DocsServer::searched`]'s is written.
pub(super) fn write(snapshot: &Snapshot, found: &Found) -> Result<ToolOutput, ErrorData> {
    let renders = &snapshot.rendered;
    // Each hit's parts, and then their first bytes, are read first, all together (see
    // `search::touch`): they lie apart in the snapshot, each a wait for memory in turn.
    for hit in &found.hits {
        for parts in [renders.unit(hit.page, hit.unit), &renders.pages[hit.page]] {
            std::hint::black_box(parts.get().map(|parts| parts.bytes.as_ptr()));
        }
    }
    let rendered: Vec<(&Rendered, &Rendered)> = found
        .hits
        .iter()
        .map(|hit| {
            (
                renders
                    .unit(hit.page, hit.unit)
                    .get_or_init(|| Rendered::unit(snapshot, hit.page, hit.unit)),
                renders.pages[hit.page].get_or_init(|| Rendered::page(snapshot, hit.page)),
            )
        })
        .collect();
    for (unit, page) in &rendered {
        touch(&unit.bytes, 6);
        touch(&page.bytes, 2);
    }
    // Each snippet escaped once, for the text and for the structured result.
    let mut snippets =
        Vec::with_capacity(found.hits.iter().map(|hit| hit.snippet.len() * 9 / 8).sum());
    let mut snippet_ends = Vec::with_capacity(found.hits.len());
    for hit in &found.hits {
        escape(&mut snippets, &hit.snippet);
        snippet_ends.push(snippets.len());
    }
    let snippet =
        |i: usize| &snippets[if i == 0 { 0 } else { snippet_ends[i - 1] }..snippet_ends[i]];
    let kept: usize = rendered
        .iter()
        .map(|(unit, page)| unit.bytes.len() + page.bytes.len())
        .sum();
    let mut text = Vec::with_capacity(kept + snippets.len() + found.query.len() + 128);
    text.push(b'"');
    if found.hits.is_empty() {
        escape(&mut text, &no_match(&found.query));
    } else {
        let mut words = String::with_capacity(found.query.len() + 32);
        heading(&mut words, found.hits.len(), &found.query);
        escape(&mut text, &words);
        for (i, (unit, page)) in rendered.iter().enumerate() {
            words.clear();
            numbered(&mut words, i);
            escape(&mut text, &words);
            text.extend_from_slice(unit.part(2));
            text.extend_from_slice(snippet(i));
            text.extend_from_slice(page.part(1));
        }
    }
    text.push(b'"');
    let also_room: usize = found.hits.iter().map(|hit| hit.also.len() * 96).sum();
    let mut structured = Vec::with_capacity(
        kept + snippets.len() + also_room + found.query.len() * 9 / 8 + 64 * found.hits.len() + 32,
    );
    structured.extend_from_slice(br#"{"query":"#);
    write_str(&mut structured, &found.query);
    structured.extend_from_slice(br#","hits":["#);
    for (i, (hit, (unit, page))) in found.hits.iter().zip(&rendered).enumerate() {
        if i > 0 {
            structured.push(b',');
        }
        structured.extend_from_slice(unit.part(0));
        structured.push(b'"');
        structured.extend_from_slice(snippet(i));
        structured.push(b'"');
        write_score(&mut structured, f64::from(hit.score)).map_err(unserialisable)?;
        structured.extend_from_slice(unit.part(1));
        structured.extend_from_slice(page.part(0));
        write_also_in(&mut structured, &also_in(&snapshot.corpus, &hit.also));
        structured.push(b'}');
    }
    structured.extend_from_slice(b"]}");
    Ok(ToolOutput { text, structured })
}

#[cfg(test)]
mod tests {
    use crate::docs::library::Library;

    /// A unit past its page's is refused, not taken for the next page's first unit.
    #[test]
    #[should_panic(expected = "unit")]
    fn a_unit_past_its_page_s_is_refused() {
        let library = Library::load(None).unwrap();
        let snapshot = library.snapshot();
        let first = snapshot.corpus.pages[0].units.len();
        assert!(snapshot.corpus.pages.len() > 1);
        let _ = snapshot.rendered.unit(0, first);
    }
}
