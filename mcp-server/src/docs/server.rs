//! The MCP face of the documentation: one handler that serves the three tools (`tools`), every
//! page as a resource and a template for sections (`resources`), and change notifications when
//! the pages are reloaded.
//!
//! Tool results carry readable Markdown for the model (`content`) and the same data as
//! `structuredContent` matching the tool's `outputSchema`. A caller's mistake (unknown page or
//! section, empty query) is a tool result with `isError` and a message that says what to do;
//! protocol errors are kept for requests that cannot be routed at all.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::*;
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};

use super::corpus::Corpus;
use super::library::Library;
use crate::sessions::changes::ChangeFeed;
use crate::sessions::scope::SessionScope;

/// URI scheme of pages.
pub(super) const SCHEME: &str = "docs://";

/// The documentation server handler; cheap to clone.
#[derive(Clone)]
pub struct DocsServer {
    /// The pages and their index, swapped whole on reload.
    pub(super) library: Arc<Library>,
    /// The tools, routed by name.
    tool_router: ToolRouter<Self>,
    /// Ends this instance's tasks when rmcp drops it (one instance per legacy session).
    scope: SessionScope,
}

impl DocsServer {
    /// A handler over `library`.
    pub fn new(library: Arc<Library>) -> Self {
        DocsServer {
            library,
            tool_router: Self::tool_router(),
            scope: SessionScope::new(),
        }
    }

    /// The change feed reloads publish into.
    pub fn changes(&self) -> &ChangeFeed {
        &self.library.changes
    }
}

impl crate::report::Report for DocsServer {
    /// `docs`: the source, the pages served and their version, and how the checks go.
    fn health(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![("docs", self.library.health())]
    }
}

pub(super) fn page_uri(path: &str) -> String {
    format!("{SCHEME}{path}")
}

/// A section's URI, written out by whoever takes it.
pub(super) fn section_uri<'a>(path: &'a str, anchor: &'a str) -> super::tools::Joined<'a> {
    super::tools::Joined([SCHEME, path, "?section=", anchor])
}

pub(super) fn unknown_page(corpus: &Corpus, path: &str) -> String {
    let closest = corpus.closest_paths(path, 3);
    format!(
        "No page at {path:?}. Closest paths: {}. Call list_docs for every page.",
        closest.join(", ")
    )
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

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let what = format!("tool {}", request.name);
        let name = request.name.clone();
        let call = ToolCallContext::new(self, request, context);
        let result = crate::recover::unpanicked(&what, self.tool_router.call(call)).await;
        self.count_call(&name, &result);
        result
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.resource_page(request)
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(Self::resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        crate::recover::unpanicked("resources/read", async {
            self.read_uri(request.uri.as_str())
        })
        .await
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
        self.library
            .changes
            .follow_legacy_session(context.peer, &self.scope);
    }
}

impl DocsServer {
    /// Counts a call of tool `name` by its outcome, however it was served.
    pub(super) fn count_call(&self, name: &str, result: &Result<CallToolResponse, ErrorData>) {
        self.count_outcome(
            name,
            match result {
                Ok(response) if tool_result_is_error(response) => crate::meters::Outcome::Error,
                Ok(_) => crate::meters::Outcome::Ok,
                Err(_) => crate::meters::Outcome::Failed,
            },
        );
    }

    /// Counts a call of tool `name` that ended with `outcome`.
    pub(super) fn count_outcome(&self, name: &str, outcome: crate::meters::Outcome) {
        let tool = crate::meters::tool_label(name, |name| self.tool_router.has_route(name));
        crate::meters::tool_call(tool, outcome);
    }

    /// `tools/list` as rmcp's `tool_handler` answers it: with the cache hints of 2026-07-28
    /// when the request is made under it (`cache_hints`).
    pub(super) fn tool_list(&self, cache_hints: bool) -> ListToolsResult {
        let mut result = ListToolsResult::with_all_items(self.tool_router.list_all());
        result.result_type = Some(ResultType::COMPLETE);
        result.ttl_ms = cache_hints.then_some(0);
        result.cache_scope = cache_hints.then_some(CacheScope::Public);
        result
    }
}

/// Whether a tool's answer is a result with `isError` (a caller's mistake, said in the result).
fn tool_result_is_error(response: &CallToolResponse) -> bool {
    matches!(response, CallToolResponse::Complete(result) if result.is_error == Some(true))
}
