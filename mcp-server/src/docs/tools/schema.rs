//! The arguments and structured results of the documentation tools: their `inputSchema` and
//! `outputSchema`.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Hits returned when the caller gives no `limit`, and the most it may ask for.
pub(super) const DEFAULT_LIMIT: usize = 5;
pub(super) const MAX_LIMIT: usize = 50;
/// Characters `read_doc` returns when the caller gives no `max_chars`, and the most it may ask.
pub(super) const DEFAULT_CHUNK: usize = 8_000;
pub(super) const MAX_CHUNK: usize = 50_000;

pub(super) fn default_limit() -> u32 {
    DEFAULT_LIMIT as u32
}

pub(super) fn default_max_chars() -> u64 {
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
    /// Which version of the documentation to search, when it has several (list_docs shows
    /// them); default: the newest released one. "latest" means the same.
    #[serde(default)]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// Which language to search, when the documentation has several (e.g. "ja"); default: the
    /// server's (DOCS_LANGUAGE), then pages with no language.
    #[serde(default)]
    #[schemars(with = "String")]
    pub language: Option<String>,
}

// Doc comments here are the schema's descriptions, which clients read: notes for us are `//`.
// A hit borrows the documentation's text: it is written out while the snapshot is held.
/// One ranked section.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(transform = plain_numbers)]
pub struct SearchHit<'a> {
    /// Page path, for `read_doc`.
    pub path: &'a str,
    /// Section anchor, for `read_doc`'s `section`.
    pub anchor: &'a str,
    /// The page's title.
    pub page_title: &'a str,
    /// The section's heading, or the field the hit is about.
    pub section_title: &'a str,
    /// The headings above it, outermost first, joined with " › ".
    pub context: &'a str,
    /// Text around the matched words, which are in **bold**.
    pub snippet: String,
    // An f64, the number rmcp's `serde_json::Value` makes of the f32: both routes write the
    // same digits.
    /// Relevance (BM25 with title boosts); only the order matters.
    pub score: f64,
    /// The section as a resource URI.
    #[schemars(with = "String")]
    pub uri: Joined<'a>,
    /// Other versions or languages of this page, not returned as hits of their own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantEntry<'a>>,
    /// The same text in other pages (an included fragment), as `path#anchor`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<String>")]
    pub also_in: Vec<Joined<'a>>,
}

// Borrowed by a search's hits, owned by `list_docs`'s pages.
/// Another version or language of a page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VariantEntry<'a> {
    /// Its path, for `read_doc`.
    pub path: Cow<'a, str>,
    /// Its version, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub version: Option<Cow<'a, str>>,
    /// Its language, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub language: Option<Cow<'a, str>>,
}

impl VariantEntry<'_> {
    pub fn into_owned(self) -> VariantEntry<'static> {
        let owned = |part: Cow<'_, str>| Cow::Owned(part.into_owned());
        VariantEntry {
            path: owned(self.path),
            version: self.version.map(owned),
            language: self.language.map(owned),
        }
    }
}

/// A string written from its parts (a section's URI, `path#anchor`), built by no one: a search
/// writes its hits' strings straight out.
#[derive(Debug, Clone, Copy)]
pub struct Joined<'a>(pub [&'a str; 4]);

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|part| f.write_str(part))
    }
}

impl Serialize for Joined<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Result of `search_docs`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchOutput<'a> {
    /// The query as given.
    pub query: String,
    /// Ranked sections, best first; empty when nothing matched.
    pub hits: Vec<SearchHit<'a>>,
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
    /// Which version to list (default: the newest released one, as search_docs); "all" lists
    /// every variant.
    #[serde(default)]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// Which language to list (default: the server's, as search_docs).
    #[serde(default)]
    #[schemars(with = "String")]
    pub language: Option<String>,
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
    /// Its version, when the documentation has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub version: Option<String>,
    /// Its language, when the documentation has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub language: Option<String>,
    /// Other versions or languages of this page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantEntry<'static>>,
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
    /// Every version of the documentation, oldest first (empty when it has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Every language of the documentation (empty when it has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}
