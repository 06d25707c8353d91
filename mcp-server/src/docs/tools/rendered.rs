//! `search_docs`'s answer as the fast path writes it: from what each hit's unit keeps written.
//!
//! Why: most of a hit's answer depends on its unit alone: its path, anchor, titles, URI and its
//! page's variants, in the structured result and in the readable text. Written for every hit
//! of every search (each string read from the corpus and escaped, a byte at a time where it
//! needs escaping), they were about a tenth of a `search_docs` call's CPU in the server's
//! profile. Each unit's are now written once, on its first hit, and copied after: a search
//! writes only its own parts (the query, the snippets, the scores, `alsoIn`).
//!
//! They are written by the functions rmcp's route writes the same parts with
//! ([`SearchHit::write_head`], [`SearchHit::readable_head`] and their tails), and tests hold the
//! two answers equal.

use std::sync::OnceLock;

use rmcp::ErrorData;

use super::searched::{Found, also_in, heading, no_match, numbered, search_hit};
use super::unserialisable;
use super::written::{write_also_in, write_score};
use crate::direct::ToolOutput;
use crate::docs::corpus::Corpus;
use crate::docs::library::Snapshot;
use crate::docs::search::touch;
use crate::json::{escape, write_str};

/// Each unit's written parts, written on the unit's first hit (see the module's comment): a
/// few dozen bytes a unit until then, and for the units no search finds.
pub struct Renders {
    /// Where each page's units start among `units`.
    starts: Box<[usize]>,
    units: Box<[OnceLock<Rendered>]>,
}

/// What a hit's answer writes of its unit, whatever the query: four parts, one after the other.
struct Rendered {
    bytes: Box<[u8]>,
    /// Where each part ends in `bytes`: its structured head (up to its `"snippet":`) and tail
    /// (from its `,"uri":` to its variants), then its readable head and tail, escaped as in
    /// the JSON string of the readable text.
    ends: [usize; 4],
}

impl Rendered {
    /// Part `i` (see [`Rendered::ends`]).
    fn part(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// Unit `unit` of page `page`'s parts.
    fn of(snapshot: &Snapshot, page: usize, unit: usize) -> Rendered {
        let hit = search_hit(snapshot, page, unit);
        let mut bytes = Vec::with_capacity(512);
        let mut ends = [0; 4];
        hit.write_head(&mut bytes);
        ends[0] = bytes.len();
        hit.write_tail(&mut bytes);
        ends[1] = bytes.len();
        let mut text = String::new();
        hit.readable_head(&mut text);
        escape(&mut bytes, &text);
        ends[2] = bytes.len();
        text.clear();
        hit.readable_tail(&mut text);
        escape(&mut bytes, &text);
        ends[3] = bytes.len();
        Rendered {
            bytes: bytes.into_boxed_slice(),
            ends,
        }
    }
}

impl Renders {
    /// Room for every unit of `corpus`, none written yet.
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
        }
    }

    /// Where unit `unit` of page `page`'s parts are kept.
    fn slot(&self, page: usize, unit: usize) -> &OnceLock<Rendered> {
        &self.units[self.starts[page] + unit]
    }
}

/// `found`'s answer in `snapshot`, as [`super::DocsServer::searched`]'s is written.
pub(super) fn write(snapshot: &Snapshot, found: &Found) -> Result<ToolOutput, ErrorData> {
    let renders = &snapshot.rendered;
    // Each hit's parts, and then their first bytes, are read first, all together (see
    // `search::touch`): they lie apart in the snapshot, each a wait for memory in turn.
    for hit in &found.hits {
        let parts = renders.slot(hit.page, hit.unit).get();
        std::hint::black_box(parts.map(|parts| parts.bytes.as_ptr()));
    }
    let rendered: Vec<&Rendered> = found
        .hits
        .iter()
        .map(|hit| {
            renders
                .slot(hit.page, hit.unit)
                .get_or_init(|| Rendered::of(snapshot, hit.page, hit.unit))
        })
        .collect();
    for parts in &rendered {
        touch(&parts.bytes, 8);
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
    let kept: usize = rendered.iter().map(|parts| parts.bytes.len()).sum();
    let mut text = Vec::with_capacity(kept + snippets.len() + found.query.len() + 128);
    text.push(b'"');
    if found.hits.is_empty() {
        escape(&mut text, &no_match(&found.query));
    } else {
        let mut words = String::with_capacity(found.query.len() + 32);
        heading(&mut words, found.hits.len(), &found.query);
        escape(&mut text, &words);
        for (i, parts) in rendered.iter().enumerate() {
            words.clear();
            numbered(&mut words, i);
            escape(&mut text, &words);
            text.extend_from_slice(parts.part(2));
            text.extend_from_slice(snippet(i));
            text.extend_from_slice(parts.part(3));
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
    for (i, (hit, parts)) in found.hits.iter().zip(&rendered).enumerate() {
        if i > 0 {
            structured.push(b',');
        }
        structured.extend_from_slice(parts.part(0));
        structured.push(b'"');
        structured.extend_from_slice(snippet(i));
        structured.push(b'"');
        write_score(&mut structured, f64::from(hit.score)).map_err(unserialisable)?;
        structured.extend_from_slice(parts.part(1));
        write_also_in(&mut structured, &also_in(&snapshot.corpus, &hit.also));
        structured.push(b'}');
    }
    structured.extend_from_slice(b"]}");
    Ok(ToolOutput { text, structured })
}
