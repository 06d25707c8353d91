//! `search_docs`: its hits, and its answer as rmcp's route and the fast path write it.

use std::fmt::Write;

use rmcp::ErrorData;
use rmcp::model::CallToolResult;

use super::rendered;
use super::{
    Answered, Joined, MAX_LIMIT, SearchArgs, SearchHit, SearchOutput, refusal, variants_of,
};
use crate::direct::Answer;
use crate::docs::corpus::Corpus;
use crate::docs::library::Snapshot;
use crate::docs::search::{Filter, Hit, SearchError};
use crate::docs::server::{DocsServer, section_uri};

impl DocsServer {
    /// `search_docs`'s hits in `snapshot`, or the refusal that answers the call.
    fn found(
        &self,
        args: SearchArgs,
        snapshot: &Snapshot,
    ) -> Result<Result<Found, CallToolResult>, ErrorData> {
        let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
        let filter = Filter {
            version: args.version.clone().filter(|v| !v.trim().is_empty()),
            language: args.language.clone().filter(|l| !l.trim().is_empty()),
        };
        let refusal = |message: String| Ok(Err(refusal(message)));
        match snapshot
            .index
            .search_in(&snapshot.corpus, &args.query, limit, &filter)
        {
            Ok(hits) => Ok(Ok(Found {
                query: args.query,
                hits,
            })),
            Err(SearchError::EmptyQuery) => refusal(format!(
                "Empty query {:?}: {}",
                args.query,
                SearchError::EmptyQuery
            )),
            Err(error @ SearchError::UnknownVariant(_)) => {
                refusal(format!("Nothing to search: {error}."))
            }
            // Not echoed: the query may be long, and it is what was wrong.
            Err(
                error @ (SearchError::QueryTooLong(_)
                | SearchError::QueryTooNested
                | SearchError::BadQuery(_)
                | SearchError::Unparsed),
            ) => refusal(format!("Query refused: {error}")),
            Err(error) => Err(ErrorData::internal_error(error.to_string(), None)),
        }
    }

    /// `search_docs` in `snapshot`, whose text the output borrows.
    pub(in crate::docs) fn searched<'s>(
        &self,
        args: SearchArgs,
        snapshot: &'s Snapshot,
    ) -> Result<Answered<SearchOutput<'s>>, ErrorData> {
        let found = match self.found(args, snapshot)? {
            Ok(found) => found,
            Err(refusal) => return Ok(Answered::Refused(refusal)),
        };
        let hits: Vec<SearchHit> = found
            .hits
            .into_iter()
            .map(|hit| {
                let mut written = search_hit(snapshot, hit.page, hit.unit);
                written.snippet = hit.snippet;
                written.score = f64::from(hit.score);
                written.also_in = also_in(&snapshot.corpus, &hit.also);
                written
            })
            .collect();
        let text = if hits.is_empty() {
            no_match(&found.query)
        } else {
            // Room for the whole text, not grown from a few bytes.
            let room: usize = hits.iter().map(|hit| hit.snippet.len() + 256).sum();
            let mut text = String::with_capacity(room);
            heading(&mut text, hits.len(), &found.query);
            for (i, hit) in hits.iter().enumerate() {
                numbered(&mut text, i);
                hit.readable_head(&mut text);
                text.push_str(&hit.snippet);
                hit.readable_tail(&mut text);
            }
            text
        };
        Ok(Answered::Output(
            text,
            SearchOutput {
                query: found.query,
                hits,
            },
        ))
    }

    /// `search_docs` in `snapshot` as the fast path answers it: the same answer as
    /// [`DocsServer::searched`] gives through rmcp (tests compare the two), written from what
    /// each hit's unit keeps written (see `rendered.rs`).
    pub(in crate::docs) fn searched_written(
        &self,
        args: SearchArgs,
        snapshot: &Snapshot,
    ) -> Result<(bool, Answer), ErrorData> {
        match self.found(args, snapshot)? {
            Ok(found) => Ok((false, Answer::Tool(rendered::write(snapshot, &found)?))),
            Err(refusal) => Answered::<SearchOutput>::Refused(refusal).answer(),
        }
    }
}

/// A search's hits, with the query they answer.
pub(super) struct Found {
    pub(super) query: String,
    pub(super) hits: Vec<Hit>,
}

/// Hit `unit` of page `page` as the answer writes it, with no snippet, score or `alsoIn` yet:
/// what its unit alone gives.
pub(super) fn search_hit(snapshot: &Snapshot, page: usize, unit: usize) -> SearchHit<'_> {
    let p = &snapshot.corpus.pages[page];
    let u = &p.units[unit];
    SearchHit {
        anchor: &u.anchor,
        section_title: &u.title,
        context: &u.context,
        uri: section_uri(&p.path, &u.anchor),
        ..page_hit(snapshot, page)
    }
}

/// A hit on page `page` with what its page alone gives (its path, title and variants), and
/// nothing of a unit.
pub(super) fn page_hit(snapshot: &Snapshot, page: usize) -> SearchHit<'_> {
    let p = &snapshot.corpus.pages[page];
    SearchHit {
        path: &p.path,
        anchor: "",
        page_title: &p.title,
        section_title: "",
        context: "",
        snippet: String::new(),
        score: 0.0,
        uri: section_uri(&p.path, ""),
        variants: variants_of(&snapshot.index, &snapshot.corpus, page),
        also_in: Vec::new(),
    }
}

/// `alsoIn` of a hit: the other `(page, unit)`s its text is in, as `path#anchor`.
pub(super) fn also_in<'a>(corpus: &'a Corpus, also: &[(usize, usize)]) -> Vec<Joined<'a>> {
    also.iter()
        .map(|&(p, u)| {
            let page = &corpus.pages[p];
            Joined([&page.path, "#", &page.units[u].anchor, ""])
        })
        .collect()
}

/// The readable text of a search that found nothing.
pub(super) fn no_match(query: &str) -> String {
    format!(
        "No section matches {query:?}. Try other words, fewer words, or list_docs for the table of contents."
    )
}

/// The readable text's first line: how many hits, for what.
pub(super) fn heading(text: &mut String, hits: usize, query: &str) {
    // Writing to a String cannot fail.
    let _ = writeln!(text, "{hits} sections for {query:?}:");
}

/// What opens hit `i`'s paragraph of the readable text.
pub(super) fn numbered(text: &mut String, i: usize) {
    let _ = write!(text, "\n{}. ", i + 1);
}

impl SearchHit<'_> {
    /// A hit's paragraph of the readable text up to its snippet: where it is (its unit's alone,
    /// as [`SearchHit::write_head`]).
    pub(super) fn readable_head(&self, text: &mut String) {
        text.push_str(self.page_title);
        for part in [self.context, self.section_title] {
            let mut part = part.strip_prefix(self.page_title).unwrap_or(part);
            // Not `trim_start_matches`, which sets up a substring search per call.
            while let Some(rest) = part.strip_prefix(" › ") {
                part = rest;
            }
            if !part.is_empty() {
                text.push_str(" › ");
                text.push_str(part);
            }
        }
        for part in [" (path: ", self.path, ", section: ", self.anchor, ")\n   "] {
            text.push_str(part);
        }
    }

    /// A hit's paragraph of the readable text after its snippet: its page's other variants.
    pub(super) fn readable_tail(&self, text: &mut String) {
        text.push('\n');
        for (i, variant) in self.variants.iter().enumerate() {
            text.push_str(if i == 0 { "   also as: " } else { ", " });
            text.push_str(&variant.path);
            if i + 1 == self.variants.len() {
                text.push('\n');
            }
        }
    }
}
