//! Every page as a resource (`docs://<path>`, paged through `resources/list`) and the template
//! `docs://{+path}{?section}` that reads one section.

use rmcp::ErrorData;
use rmcp::model::*;

use super::server::{DocsServer, SCHEME, page_uri, unknown_page};

/// Resources per `resources/list` page.
const RESOURCE_PAGE: usize = 50;

impl DocsServer {
    /// One page of `resources/list`; the cursor is the index of the first page it holds.
    pub(super) fn resource_page(
        &self,
        request: Option<PaginatedRequestParams>,
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

    /// The one template: a page, or a section of it.
    pub(super) fn resource_templates() -> ListResourceTemplatesResult {
        let template = ResourceTemplate::new("docs://{+path}{?section}", "doc-section")
            .with_title("Documentation page or section")
            .with_description(
                "A page (docs://operations.md) or one of its sections (docs://operations.md?section=draining); anchors come from list_docs.",
            )
            .with_mime_type("text/markdown");
        ListResourceTemplatesResult::with_all_items(vec![template])
    }

    /// `resources/read` of a page or section URI.
    pub(super) fn read_uri(&self, uri: &str) -> Result<ReadResourceResponse, ErrorData> {
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
}
