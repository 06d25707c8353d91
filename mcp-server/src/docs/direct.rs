//! The requests the documentation handler answers without rmcp's per-request machinery (see
//! [`crate::direct`]): its three tools, `tools/list` and the resources. Each answer is the one
//! the handler gives through rmcp, from the same functions; arguments these functions cannot
//! read are declined, so rmcp words the error.

use rmcp::ErrorData;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, PaginatedRequestParams, ReadResourceRequestParams,
    ServerResult,
};
use serde::de::DeserializeOwned;

use super::server::DocsServer;
use crate::direct::{Direct, DirectRequest};
use crate::recover::unpanicked_now;
use crate::sessions::changes::ChangeFeed;

impl Direct for DocsServer {
    /// `listen` is the feed's own `serve`, and the filter its `accept` (see `server.rs`).
    fn change_feed(&self) -> Option<&ChangeFeed> {
        Some(&self.library.changes)
    }

    /// `initialize` is rmcp's own, and `on_initialized` only follows the change feed for the
    /// session's GET stream, which is served from the feed (below) while the session sleeps.
    fn dormant_sessions(&self) -> bool {
        true
    }

    /// A session's GET stream carries only the list changes the follower forwards.
    fn session_streams_from_feed(&self) -> bool {
        true
    }

    fn answer_directly(
        &self,
        request: &DirectRequest<'_>,
    ) -> Option<Result<ServerResult, ErrorData>> {
        match request.method {
            "tools/call" => {
                let call: CallToolRequestParams = request.params()?;
                let arguments = call.arguments.unwrap_or_default();
                // A panic is this call's internal error, named and counted as through rmcp.
                let what = format!("tool {}", call.name);
                let result = match call.name.as_ref() {
                    "search_docs" => {
                        let arguments = arguments_of(arguments)?;
                        unpanicked_now(&what, || self.search_docs(arguments))
                    }
                    "read_doc" => {
                        let arguments = arguments_of(arguments)?;
                        unpanicked_now(&what, || self.read_doc(arguments))
                    }
                    "list_docs" => {
                        let arguments = arguments_of(arguments)?;
                        unpanicked_now(&what, || self.list_docs(arguments))
                    }
                    _ => return None,
                }
                .map(CallToolResponse::Complete);
                self.count_call(&call.name, &result);
                Some(result.map(ServerResult::from))
            }
            "tools/list" => {
                // Read, though unused: parameters rmcp cannot read are its to refuse.
                let _page: Option<PaginatedRequestParams> = request.params()?;
                Some(Ok(ServerResult::ListToolsResult(
                    self.tool_list(request.is_modern()),
                )))
            }
            "resources/list" => {
                let page: Option<PaginatedRequestParams> = request.params()?;
                Some(
                    self.resource_page(page)
                        .map(ServerResult::ListResourcesResult),
                )
            }
            "resources/templates/list" => {
                let _page: Option<PaginatedRequestParams> = request.params()?;
                Some(Ok(ServerResult::ListResourceTemplatesResult(
                    Self::resource_templates(),
                )))
            }
            "resources/read" => {
                let read: ReadResourceRequestParams = request.params()?;
                Some(self.read_uri(read.uri.as_str()).map(ServerResult::from))
            }
            _ => None,
        }
    }
}

/// A tool's arguments read as rmcp's `Parameters` reads them (absent arguments are `{}`).
fn arguments_of<T: DeserializeOwned>(
    arguments: serde_json::Map<String, serde_json::Value>,
) -> Option<Parameters<T>> {
    serde_json::from_value(serde_json::Value::Object(arguments))
        .ok()
        .map(Parameters)
}
