//! The MCP face of the documentation: three tools, every page as a resource, a template for
//! sections, and change notifications when the pages are reloaded.
//!
//! Tool results carry readable Markdown for the model (`content`) and the same data as
//! `structuredContent` matching the tool's `outputSchema`. A caller's mistake (unknown page or
//! section, empty query) is a tool result with `isError` and a message that says what to do;
//! protocol errors are kept for requests that cannot be routed at all.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::*;
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::corpus::{Corpus, Page};
use super::library::Library;
use super::search::SearchError;
use crate::changes::ChangeFeed;

/// Hits returned when the caller gives no `limit`, and the most it may ask for.
const DEFAULT_LIMIT: usize = 5;
const MAX_LIMIT: usize = 50;
/// Characters `read_doc` returns when the caller gives no `max_chars`, and the most it may ask.
const DEFAULT_CHUNK: usize = 8_000;
const MAX_CHUNK: usize = 50_000;
/// Resources per `resources/list` page.
const RESOURCE_PAGE: usize = 50;
/// URI scheme of pages.
const SCHEME: &str = "docs://";

fn default_limit() -> u32 {
    DEFAULT_LIMIT as u32
}

fn default_max_chars() -> u64 {
    DEFAULT_CHUNK as u64
}

/// Arguments of `search_docs`.
#[derive(Debug, Deserialize, JsonSchema)]
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

/// The documentation server handler; cheap to clone.
#[derive(Clone)]
pub struct DocsServer {
    library: Arc<Library>,
    tool_router: ToolRouter<Self>,
}

fn page_uri(path: &str) -> String {
    format!("{SCHEME}{path}")
}

fn section_uri(path: &str, anchor: &str) -> String {
    format!("{SCHEME}{path}?section={anchor}")
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

fn unknown_page(corpus: &Corpus, path: &str) -> String {
    let closest = corpus.closest_paths(path, 3);
    format!(
        "No page at {path:?}. Closest paths: {}. Call list_docs for every page.",
        closest.join(", ")
    )
}

#[tool_router(router = tool_router)]
impl DocsServer {
    /// A handler over `library`.
    pub fn new(library: Arc<Library>) -> Self {
        DocsServer {
            library,
            tool_router: Self::tool_router(),
        }
    }

    /// The change feed reloads publish into.
    pub fn changes(&self) -> &ChangeFeed {
        &self.library.changes
    }

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

/// A window of `text`, in characters.
struct Chunk<'a> {
    text: &'a str,
    next_offset: Option<usize>,
    total_chars: usize,
}

/// Up to `max` characters from character `offset`, ending at a paragraph or line break when one
/// falls in the window's last fifth; `None` when `offset` is past the end.
fn chunk(text: &str, offset: usize, max: usize) -> Option<Chunk<'_>> {
    let total_chars = text.chars().count();
    if offset > total_chars || (offset == total_chars && total_chars > 0) {
        return None;
    }
    let byte_at = |chars: usize| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(byte, _)| byte)
    };
    let start = byte_at(offset);
    if total_chars - offset <= max {
        return Some(Chunk {
            text: &text[start..],
            next_offset: None,
            total_chars,
        });
    }
    let hard_end = byte_at(offset + max);
    let window = &text[start..hard_end];
    let floor = window.len() * 4 / 5;
    let cut = window[floor..]
        .rfind("\n\n")
        .map(|i| floor + i + 2)
        .or_else(|| window[floor..].rfind('\n').map(|i| floor + i + 1))
        .unwrap_or(window.len());
    let piece = &text[start..start + cut];
    Some(Chunk {
        text: piece,
        next_offset: Some(offset + piece.chars().count()),
        total_chars,
    })
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DocsServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_list_changed()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(crate::implementation())
            .with_instructions(
                "Documentation for running an MCP server on AWS ECS behind an Application Load Balancer: \
                 configuration, deployment (Copilot and CloudFormation), draining, health checks, logs and \
                 troubleshooting. Start with search_docs; read_doc returns full pages or sections; list_docs \
                 is the table of contents. Pages are also resources (docs://<path>).",
            )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let snapshot = self.library.snapshot();
        let pages = &snapshot.corpus.pages;
        let start = match request.and_then(|r| r.cursor) {
            None => 0,
            Some(cursor) => cursor
                .parse::<usize>()
                .ok()
                .filter(|&at| at <= pages.len())
                .ok_or_else(|| {
                    ErrorData::invalid_params(format!("invalid cursor {cursor:?}"), None)
                })?,
        };
        let end = (start + RESOURCE_PAGE).min(pages.len());
        let resources = pages[start..end]
            .iter()
            .map(|page| {
                let mut resource = Resource::new(page_uri(&page.path), page.path.clone())
                    .with_title(page.title.clone())
                    .with_mime_type("text/markdown")
                    .with_size(page.body.len() as u64);
                if let Some(description) = &page.description {
                    resource = resource.with_description(description.clone());
                }
                resource
            })
            .collect();
        let mut result = ListResourcesResult::with_all_items(resources);
        result.next_cursor = (end < pages.len()).then(|| end.to_string());
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let template = ResourceTemplate::new("docs://{+path}{?section}", "doc-section")
            .with_title("Documentation page or section")
            .with_description(
                "A page (docs://operations.md) or one of its sections (docs://operations.md?section=draining); anchors come from list_docs.",
            )
            .with_mime_type("text/markdown");
        Ok(ListResourceTemplatesResult::with_all_items(vec![template]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri.as_str();
        let snapshot = self.library.snapshot();
        let corpus = &snapshot.corpus;
        let not_found = |message: String| {
            ErrorData::resource_not_found(message, Some(serde_json::json!({ "uri": uri })))
        };
        let Some(rest) = uri.strip_prefix(SCHEME) else {
            return Err(not_found(format!(
                "Unknown resource {uri:?}: documentation URIs start with {SCHEME}"
            )));
        };
        let (path, anchor) = match rest.split_once("?section=") {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (rest, None),
        };
        let Some(page) = corpus.page(path) else {
            return Err(not_found(unknown_page(corpus, path)));
        };
        let text = match anchor {
            None => page.body.clone(),
            Some(anchor) => match page.section(anchor) {
                Some(section) => page.section_text(section).to_string(),
                None => {
                    return Err(not_found(format!("{path} has no section {anchor:?}")));
                }
            },
        };
        let contents = ResourceContents::text(text, uri).with_mime_type("text/markdown");
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        ChangeFeed::accept(requested)
    }

    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), ErrorData> {
        self.library.changes.serve(subscription).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.library.changes.follow_legacy_session(context.peer);
    }
}

#[cfg(test)]
mod tests {
    use super::chunk;

    #[test]
    fn chunks_tile_the_text_and_prefer_paragraph_breaks() {
        let text = format!(
            "{}\n\n{}\n\n{}",
            "a".repeat(90),
            "b".repeat(90),
            "c".repeat(90)
        );
        let mut offset = 0;
        let mut pieces = Vec::new();
        while let Some(piece) = chunk(&text, offset, 100) {
            pieces.push(piece.text.to_string());
            match piece.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(pieces.concat(), text);
        assert!(pieces[0].ends_with("\n\n"), "{:?}", pieces[0]);
        assert!(pieces.iter().all(|p| p.chars().count() <= 100));
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        let text = "héllo wörld";
        let first = chunk(text, 0, 100).unwrap();
        assert_eq!(first.total_chars, 11);
        assert_eq!(chunk(text, 6, 100).unwrap().text, "wörld");
        assert!(chunk(text, 11, 100).is_none());
        assert!(chunk(text, 99, 100).is_none());
        assert_eq!(chunk("", 0, 100).unwrap().text, "");
    }
}
