//! The three documentation tools: `search_docs`, `read_doc` and `list_docs`, with their
//! arguments and structured results (their `inputSchema` and `outputSchema`).

use std::borrow::Cow;

use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::*;
use rmcp::{ErrorData, tool, tool_router};
use serde::Serialize;

use super::chunk::chunk;
use super::corpus::Page;
use super::search::{Filter, SearchIndex};
use super::server::{DocsServer, page_uri, unknown_page};
use crate::direct::{Answer, ToolOutput};

mod rendered;
mod schema;
mod searched;
mod written;
pub(super) use rendered::Renders;
pub use schema::*;

/// A tool result for a caller's mistake: `isError`, with what to do about it.
fn refused<T>(message: String) -> Answered<T> {
    Answered::Refused(refusal(message))
}

/// The result of [`refused`].
fn refusal(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A tool's answer before it takes the form rmcp or the fast path gives it: readable text with
/// the structured result, or a result with `isError` for a caller's mistake.
pub(super) enum Answered<T> {
    Output(String, T),
    Refused(CallToolResult),
}

/// A tool's structured result, as the fast path writes it: as `serde_json` writes it, unless
/// the type writes itself faster (to the same bytes).
pub(super) trait Structured: Serialize {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, self)
    }
}

impl Structured for ReadOutput {}

impl Structured for ListOutput {}

// `SearchOutput` writes itself: see `written.rs`.

impl<T: Structured> Answered<T> {
    /// As rmcp's `CallToolResult`, the structured result a `serde_json::Value`.
    fn into_result(self) -> Result<CallToolResult, ErrorData> {
        match self {
            Answered::Output(text, structured) => {
                let value = serde_json::to_value(&structured).map_err(unserialisable)?;
                let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
                result.structured_content = Some(value);
                Ok(result)
            }
            Answered::Refused(result) => Ok(result),
        }
    }

    /// As the fast path writes it, with whether the caller was refused (a result with
    /// `isError`): the structured result straight to JSON, the same JSON rmcp writes from
    /// [`Answered::into_result`] (tests compare the two).
    pub(super) fn answer(self) -> Result<(bool, Answer), ErrorData> {
        match self {
            Answered::Output(text, structured) => {
                // Room for a typical result (a search's is a few KiB), not grown from 128 bytes.
                let mut json = Vec::with_capacity(text.len() + 1024);
                structured.write_json(&mut json).map_err(unserialisable)?;
                let mut written = Vec::with_capacity(text.len() * 9 / 8 + 2);
                crate::json::write_str(&mut written, &text);
                Ok((
                    false,
                    Answer::Tool(ToolOutput {
                        text: written,
                        structured: json,
                    }),
                ))
            }
            Answered::Refused(result) => Ok((
                true,
                Answer::Result(ServerResult::from(CallToolResponse::Complete(result))),
            )),
        }
    }
}

fn unserialisable(error: serde_json::Error) -> ErrorData {
    ErrorData::internal_error(format!("serialising the result: {error}"), None)
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl DocsServer {
    #[tool(
        description = "Search the documentation and get the most relevant sections, best first, each with its page path, section anchor, title and a snippet around the matched words. Use it first for any question about running this MCP server on AWS ECS behind an ALB (configuration, deployment, draining, health checks, logs, troubleshooting); then call read_doc with a hit's path and anchor for the full text.",
        output_schema = schema_for_output::<SearchOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    pub(super) fn search_docs(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.searched(args, &self.library.snapshot())?.into_result()
    }

    #[tool(
        description = "Read a documentation page, or one section of it, as Markdown. Pass the path (and optionally the section anchor) from search_docs or list_docs. Long text comes in chunks: when the result has nextOffset, call again with offset = nextOffset to continue.",
        output_schema = schema_for_output::<ReadOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    pub(super) fn read_doc(
        &self,
        Parameters(args): Parameters<ReadArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.read(args)?.into_result()
    }

    #[tool(
        description = "List the documentation's pages with their titles, descriptions and section headings: the table of contents. Use it to browse, or when search_docs finds nothing; prefix narrows it to a folder.",
        output_schema = schema_for_output::<ListOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    pub(super) fn list_docs(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.listed(args)?.into_result()
    }
}

impl DocsServer {
    /// `read_doc`.
    pub(super) fn read(&self, args: ReadArgs) -> Result<Answered<ReadOutput>, ErrorData> {
        let snapshot = self.library.snapshot();
        let corpus = &snapshot.corpus;
        let Some(page) = corpus.page(&args.path) else {
            return Ok(refused(unknown_page(corpus, &args.path)));
        };
        let (text, section) = match Some(args.section.as_str()).filter(|s| !s.is_empty()) {
            None => (page.body.as_str(), None),
            Some(anchor) => match page.anchored_text(anchor) {
                Some(text) => (text, Some(anchor.to_string())),
                None => {
                    let anchors: Vec<&str> =
                        page.sections.iter().map(|s| s.anchor.as_str()).collect();
                    return Ok(refused(format!(
                        "{} has no section {anchor:?}. Its sections: {}.",
                        page.path,
                        anchors.join(", ")
                    )));
                }
            },
        };
        let max = (args.max_chars as usize).clamp(100, MAX_CHUNK);
        let offset = args.offset as usize;
        let Some(chunk) = chunk(text, offset, max) else {
            return Ok(refused(format!(
                "offset {offset} is past the end: {} has {} characters.",
                page.path,
                text.chars().count()
            )));
        };
        let mut readable = chunk.text.to_string();
        if let Some(next) = chunk.next_offset {
            readable.push_str(&format!(
                "\n\n[continues: call read_doc with path {:?}{} and offset {next}]",
                page.path,
                section
                    .as_deref()
                    .map(|s| format!(", section {s:?}"))
                    .unwrap_or_default()
            ));
        }
        Ok(Answered::Output(
            readable,
            ReadOutput {
                path: page.path.clone(),
                title: page.title.clone(),
                section,
                text: chunk.text.to_string(),
                offset,
                next_offset: chunk.next_offset,
                total_chars: chunk.total_chars,
            },
        ))
    }

    /// `list_docs`.
    pub(super) fn listed(&self, args: ListArgs) -> Result<Answered<ListOutput>, ErrorData> {
        let snapshot = self.library.snapshot();
        let (corpus, index) = (&snapshot.corpus, &snapshot.index);
        let prefix = args.prefix;
        let every = args.version.as_deref() == Some("all");
        let filter = Filter {
            version: args
                .version
                .clone()
                .filter(|v| !v.trim().is_empty() && !every),
            language: args.language.clone().filter(|l| !l.trim().is_empty()),
        };
        let view = match index.view(&filter) {
            Ok(view) => view,
            Err(error) => return Ok(refused(format!("Nothing to list: {error}."))),
        };
        let pages: Vec<PageEntry> = corpus
            .pages
            .iter()
            .enumerate()
            .filter(|(i, p)| (every || view[*i]) && p.path.starts_with(&prefix))
            .map(|(i, page)| page_entry(index, corpus, i, page))
            .collect();
        let mut text = String::new();
        if !index.versions.is_empty() || !index.languages.is_empty() {
            text.push_str(&format!(
                "Versions: {}. Languages: {}. One variant of each page is listed; pass version (or \"all\") and language to choose.\n",
                if index.versions.is_empty() { "none".into() } else { index.versions.join(", ") },
                if index.languages.is_empty() { "none".into() } else { index.languages.join(", ") },
            ));
        }
        if pages.is_empty() {
            text.push_str(&format!("No page path starts with {prefix:?}."));
        }
        for page in &pages {
            text.push_str(&format!("- {} ({})", page.title, page.path));
            if let Some(description) = &page.description {
                text.push_str(&format!(": {description}"));
            }
            text.push('\n');
            for section in page.sections.iter().filter(|s| s.level >= 2) {
                text.push_str(&format!(
                    "{}- {} (#{})\n",
                    "  ".repeat(section.level as usize - 1),
                    section.title,
                    section.anchor
                ));
            }
        }
        Ok(Answered::Output(
            text,
            ListOutput {
                pages,
                versions: index.versions.clone(),
                languages: index.languages.clone(),
            },
        ))
    }
}

/// The other versions and languages of page `p`.
fn variants_of<'a>(
    index: &'a SearchIndex,
    corpus: &'a super::corpus::Corpus,
    p: usize,
) -> Vec<VariantEntry<'a>> {
    index
        .variants_of(p)
        .iter()
        .map(|&i| VariantEntry {
            path: Cow::Borrowed(&corpus.pages[i].path),
            version: index.variants[i].version.as_deref().map(Cow::Borrowed),
            language: index.variants[i].language.as_deref().map(Cow::Borrowed),
        })
        .collect()
}

fn page_entry(
    index: &SearchIndex,
    corpus: &super::corpus::Corpus,
    i: usize,
    page: &Page,
) -> PageEntry {
    let variant = &index.variants[i];
    PageEntry {
        path: page.path.clone(),
        title: page.title.clone(),
        description: page.description.clone(),
        uri: page_uri(&page.path),
        version: variant.version.clone(),
        language: variant.language.clone(),
        variants: variants_of(index, corpus, i)
            .into_iter()
            .map(VariantEntry::into_owned)
            .collect(),
        sections: page
            .sections
            .iter()
            .map(|s| SectionEntry {
                anchor: s.anchor.clone(),
                title: s.title.clone(),
                level: s.level,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
