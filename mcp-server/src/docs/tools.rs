//! The three documentation tools: `search_docs`, `read_doc` and `list_docs`, with their
//! arguments and structured results (their `inputSchema` and `outputSchema`).

use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::*;
use rmcp::{ErrorData, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::chunk::chunk;
use super::corpus::Page;
use super::search::SearchError;
use super::server::{DocsServer, page_uri, section_uri, unknown_page};

/// Hits returned when the caller gives no `limit`, and the most it may ask for.
const DEFAULT_LIMIT: usize = 5;
const MAX_LIMIT: usize = 50;
/// Characters `read_doc` returns when the caller gives no `max_chars`, and the most it may ask.
const DEFAULT_CHUNK: usize = 8_000;
const MAX_CHUNK: usize = 50_000;

fn default_limit() -> u32 {
    DEFAULT_LIMIT as u32
}

fn default_max_chars() -> u64 {
    DEFAULT_CHUNK as u64
}

/// Drops the `format` schemars gives Rust number types (`uint32`, `uint8`, `float`, ...): JSON
/// Schema 2020-12 defines none of them, and clients' validators (Ajv in the TypeScript SDK and
/// mcp-remote) warn about every unknown format on every connection. `minimum: 0` stays.
fn plain_numbers(schema: &mut schemars::Schema) {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                let numeric = map.get("format").and_then(|f| f.as_str()).is_some_and(|f| {
                    f.starts_with("uint") || f.starts_with("int") || f == "float" || f == "double"
                });
                if numeric {
                    map.remove("format");
                }
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Some(map) = schema.as_object_mut() {
        map.values_mut().for_each(strip);
    }
}

/// Arguments of `search_docs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = plain_numbers)]
pub struct SearchArgs {
    /// What to look for: a few keywords ("alb idle timeout"), or an exact phrase in double quotes
    /// ("\"deregistration delay\""). Words match other forms of themselves (drain, draining,
    /// drained); `+word` makes a word required.
    pub query: String,
    /// How many sections to return, best first (1 to 50; default 5).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: u32,
}

/// One ranked section.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = plain_numbers)]
pub struct SearchHit {
    /// Page path, for `read_doc`.
    pub path: String,
    /// Section anchor, for `read_doc`'s `section`.
    pub anchor: String,
    /// The page's title.
    pub page_title: String,
    /// The section's heading.
    pub section_title: String,
    /// Text around the matched words, which are in **bold**.
    pub snippet: String,
    /// Relevance (BM25 with title boosts); only the order matters.
    pub score: f32,
    /// The section as a resource URI.
    pub uri: String,
}

/// Result of `search_docs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOutput {
    /// The query as given.
    pub query: String,
    /// Ranked sections, best first; empty when nothing matched.
    pub hits: Vec<SearchHit>,
}

/// Arguments of `read_doc`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = plain_numbers)]
pub struct ReadArgs {
    /// Page path as given by `search_docs` or `list_docs`, e.g. "operations.md".
    pub path: String,
    /// Section anchor to read only that section, e.g. "draining"; omit for the whole page.
    #[serde(default)]
    pub section: String,
    /// Character offset to start from, for the next chunk of a long page (use `nextOffset` from
    /// the previous call; default 0).
    #[serde(default)]
    pub offset: u64,
    /// Most characters to return (100 to 50000; default 8000).
    #[serde(default = "default_max_chars")]
    #[schemars(range(min = 100, max = 50000))]
    pub max_chars: u64,
}

/// Result of `read_doc`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = plain_numbers)]
pub struct ReadOutput {
    /// Page path.
    pub path: String,
    /// Page title.
    pub title: String,
    /// The section read, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub section: Option<String>,
    /// The Markdown of this chunk.
    pub text: String,
    /// Character offset where this chunk starts.
    pub offset: usize,
    /// Where the next chunk starts; absent when this chunk reaches the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "usize")]
    pub next_offset: Option<usize>,
    /// Characters in the page or section.
    pub total_chars: usize,
}

/// Arguments of `list_docs`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only pages whose path starts with this, e.g. "operations/"; omit for every page.
    #[serde(default)]
    pub prefix: String,
}

/// A page in the table of contents.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PageEntry {
    /// Page path, for `read_doc`.
    pub path: String,
    /// Page title.
    pub title: String,
    /// One-line description, when the page has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub description: Option<String>,
    /// The page as a resource URI.
    pub uri: String,
    /// The page's headings, in order.
    pub sections: Vec<SectionEntry>,
}

/// A heading in the table of contents.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(transform = plain_numbers)]
pub struct SectionEntry {
    /// Anchor, for `read_doc`'s `section`.
    pub anchor: String,
    /// Heading text.
    pub title: String,
    /// Heading level (1 = page title; 0 = text before the first heading).
    pub level: u8,
}

/// Result of `list_docs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListOutput {
    /// Pages in path order.
    pub pages: Vec<PageEntry>,
}

/// A tool result for a caller's mistake: `isError`, with what to do about it.
fn caller_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A tool result with readable text and the structured form.
fn answer<T: Serialize>(text: String, structured: &T) -> Result<CallToolResult, ErrorData> {
    let value = serde_json::to_value(structured)
        .map_err(|e| ErrorData::internal_error(format!("serialising the result: {e}"), None))?;
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(value);
    Ok(result)
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl DocsServer {
    #[tool(
        description = "Search the documentation and get the most relevant sections, best first, each with its page path, section anchor, title and a snippet around the matched words. Use it first for any question about running this MCP server on AWS ECS behind an ALB (configuration, deployment, draining, health checks, logs, troubleshooting); then call read_doc with a hit's path and anchor for the full text.",
        output_schema = schema_for_output::<SearchOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_docs(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let limit = (args.limit as usize).clamp(1, MAX_LIMIT);
        let snapshot = self.library.snapshot();
        let corpus = &snapshot.corpus;
        let hits = match snapshot.index.search(corpus, &args.query, limit) {
            Ok(hits) => hits,
            Err(SearchError::EmptyQuery) => {
                return Ok(caller_error(format!(
                    "Empty query {:?}: {}",
                    args.query,
                    SearchError::EmptyQuery
                )));
            }
            // Not echoed: the query may be long, and it is what was wrong.
            Err(
                error @ (SearchError::QueryTooLong(_)
                | SearchError::QueryTooNested
                | SearchError::BadQuery(_)),
            ) => {
                return Ok(caller_error(format!("Query refused: {error}")));
            }
            Err(error) => return Err(ErrorData::internal_error(error.to_string(), None)),
        };
        let hits: Vec<SearchHit> = hits
            .into_iter()
            .map(|hit| {
                let page = &corpus.pages[hit.page];
                let section = &page.sections[hit.section];
                SearchHit {
                    path: page.path.clone(),
                    anchor: section.anchor.clone(),
                    page_title: page.title.clone(),
                    section_title: section.title.clone(),
                    snippet: hit.snippet,
                    score: hit.score,
                    uri: section_uri(&page.path, &section.anchor),
                }
            })
            .collect();
        let text = if hits.is_empty() {
            format!(
                "No section matches {:?}. Try other words, fewer words, or list_docs for the table of contents.",
                args.query
            )
        } else {
            let mut text = format!("{} sections for {:?}:\n", hits.len(), args.query);
            for (i, hit) in hits.iter().enumerate() {
                text.push_str(&format!(
                    "\n{}. {} › {} (path: {}, section: {})\n   {}\n",
                    i + 1,
                    hit.page_title,
                    hit.section_title,
                    hit.path,
                    hit.anchor,
                    hit.snippet
                ));
            }
            text
        };
        answer(
            text,
            &SearchOutput {
                query: args.query,
                hits,
            },
        )
    }

    #[tool(
        description = "Read a documentation page, or one section of it, as Markdown. Pass the path (and optionally the section anchor) from search_docs or list_docs. Long text comes in chunks: when the result has nextOffset, call again with offset = nextOffset to continue.",
        output_schema = schema_for_output::<ReadOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read_doc(
        &self,
        Parameters(args): Parameters<ReadArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let snapshot = self.library.snapshot();
        let corpus = &snapshot.corpus;
        let Some(page) = corpus.page(&args.path) else {
            return Ok(caller_error(unknown_page(corpus, &args.path)));
        };
        let (text, section) = match Some(args.section.as_str()).filter(|s| !s.is_empty()) {
            None => (page.body.as_str(), None),
            Some(anchor) => match page.section(anchor) {
                Some(section) => (page.section_text(section), Some(section.anchor.clone())),
                None => {
                    let anchors: Vec<&str> =
                        page.sections.iter().map(|s| s.anchor.as_str()).collect();
                    return Ok(caller_error(format!(
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
            return Ok(caller_error(format!(
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
        answer(
            readable,
            &ReadOutput {
                path: page.path.clone(),
                title: page.title.clone(),
                section,
                text: chunk.text.to_string(),
                offset,
                next_offset: chunk.next_offset,
                total_chars: chunk.total_chars,
            },
        )
    }

    #[tool(
        description = "List the documentation's pages with their titles, descriptions and section headings: the table of contents. Use it to browse, or when search_docs finds nothing; prefix narrows it to a folder.",
        output_schema = schema_for_output::<ListOutput>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_docs(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let snapshot = self.library.snapshot();
        let prefix = args.prefix;
        let pages: Vec<PageEntry> = snapshot
            .corpus
            .pages
            .iter()
            .filter(|p| p.path.starts_with(&prefix))
            .map(page_entry)
            .collect();
        let mut text = String::new();
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
        answer(text, &ListOutput { pages })
    }
}

fn page_entry(page: &Page) -> PageEntry {
    PageEntry {
        path: page.path.clone(),
        title: page.title.clone(),
        description: page.description.clone(),
        uri: page_uri(&page.path),
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
