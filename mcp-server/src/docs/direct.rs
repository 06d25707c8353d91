//! The requests the documentation handler answers without rmcp's per-request machinery (see
//! [`crate::direct`]): its three tools, `tools/list` and the resources. Each answer is the one
//! the handler gives through rmcp, from the same functions; arguments these functions cannot
//! read are declined, so rmcp words the error.

use rmcp::ErrorData;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, PaginatedRequestParams, ReadResourceRequestParams, ServerResult,
};
use serde::de::DeserializeOwned;

use super::server::DocsServer;
use crate::direct::{Answer, Direct, DirectRequest};
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

    fn answer_directly(&self, request: &DirectRequest<'_>) -> Option<Result<Answer, ErrorData>> {
        match request.method {
            "tools/call" => {
                let call: CallToolRequestParams = request.params()?;
                let arguments = call.arguments.unwrap_or_default();
                // A panic is this call's internal error, named and counted as through rmcp.
                let what = format!("tool {}", call.name);
                let answer = match call.name.as_ref() {
                    "search_docs" => {
                        let Parameters(arguments) = arguments_of(arguments)?;
                        let snapshot = self.library.snapshot();
                        unpanicked_now(&what, || self.searched(arguments, &snapshot))
                            .and_then(|answered| self.finish(&call.name, answered))
                    }
                    "read_doc" => {
                        let Parameters(arguments) = arguments_of(arguments)?;
                        unpanicked_now(&what, || self.read(arguments))
                            .and_then(|answered| self.finish(&call.name, answered))
                    }
                    "list_docs" => {
                        let Parameters(arguments) = arguments_of(arguments)?;
                        unpanicked_now(&what, || self.listed(arguments))
                            .and_then(|answered| self.finish(&call.name, answered))
                    }
                    _ => return None,
                };
                if answer.is_err() {
                    self.count_outcome(&call.name, crate::meters::Outcome::Failed);
                }
                Some(answer)
            }
            "tools/list" => {
                // Read, though unused: parameters rmcp cannot read are its to refuse.
                let _page: Option<PaginatedRequestParams> = request.params()?;
                Some(Ok(ServerResult::ListToolsResult(
                    self.tool_list(request.is_modern()),
                )
                .into()))
            }
            "resources/list" => {
                let page: Option<PaginatedRequestParams> = request.params()?;
                Some(
                    self.resource_page(page)
                        .map(|page| ServerResult::ListResourcesResult(page).into()),
                )
            }
            "resources/templates/list" => {
                let _page: Option<PaginatedRequestParams> = request.params()?;
                Some(Ok(ServerResult::ListResourceTemplatesResult(
                    Self::resource_templates(),
                )
                .into()))
            }
            "resources/read" => {
                let read: ReadResourceRequestParams = request.params()?;
                Some(
                    self.read_uri(read.uri.as_str())
                        .map(|read| ServerResult::from(read).into()),
                )
            }
            _ => None,
        }
    }
}

impl DocsServer {
    /// A tool's answer in the fast path's form, its call counted.
    fn finish<T: serde::Serialize>(
        &self,
        name: &str,
        answered: super::tools::Answered<T>,
    ) -> Result<Answer, ErrorData> {
        let outcome = if answered.refused() {
            crate::meters::Outcome::Error
        } else {
            crate::meters::Outcome::Ok
        };
        let answer = answered.into_answer();
        if answer.is_ok() {
            self.count_outcome(name, outcome);
        }
        answer
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
