//! The requests the documentation handler answers without rmcp's per-request machinery (see
//! [`crate::direct`]): its three tools, `tools/list` and the resources. Each answer is the one
//! the handler gives through rmcp, from the same functions; arguments these functions cannot
//! read are declined, so rmcp words the error.

use rmcp::ErrorData;
use rmcp::model::{PaginatedRequestParams, ReadResourceRequestParams, ServerResult};

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
                let call = request.tool_call()?;
                let name = call.name.as_ref();
                Some(match name {
                    "search_docs" => {
                        let arguments = call.arguments()?;
                        let snapshot = self.library.current();
                        self.answered(name, || self.searched_written(arguments, &snapshot))
                    }
                    "read_doc" => {
                        let arguments = call.arguments()?;
                        self.answered(name, || self.read(arguments)?.answer())
                    }
                    "list_docs" => {
                        let arguments = call.arguments()?;
                        self.answered(name, || self.listed(arguments)?.answer())
                    }
                    _ => return None,
                })
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
    /// Tool `name`'s answer from `work`, which gives it in the fast path's form (written out,
    /// under the same guard: a panic is this call's internal error, named and counted as
    /// through rmcp) with whether the caller was refused; its call counted once.
    fn answered(
        &self,
        name: &str,
        work: impl FnOnce() -> Result<(bool, Answer), ErrorData>,
    ) -> Result<Answer, ErrorData> {
        let answer = unpanicked_now(format_args!("tool {name}"), work);
        self.count_outcome(
            name,
            match &answer {
                Ok((true, _)) => crate::meters::Outcome::Error,
                Ok((false, _)) => crate::meters::Outcome::Ok,
                Err(_) => crate::meters::Outcome::Failed,
            },
        );
        answer.map(|(_, answer)| answer)
    }
}
