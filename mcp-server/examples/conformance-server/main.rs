//! The server with the MCP conformance suite's fixtures instead of the documentation tools.
//!
//! Same HTTP stack, same configuration, different handler: the tools, resources and prompts the
//! suite's server scenarios call by name (`test_simple_text`, `test://static-text`,
//! `test_prompt_with_arguments`, ...), written from the scenario descriptions. Never part of the
//! default server.
//!
//! ```sh
//! cargo run -p mcp-server --example conformance-server
//! npx @modelcontextprotocol/conformance server --url http://127.0.0.1:3100/mcp
//! ```
//!
//! Besides the suite's fixtures it has two diagnostic tools of ours, which the end-to-end tests
//! use: `fixture_sleep` (for `REQUEST_TIMEOUT`) and `fixture_panic` (a handler that panics).
//!
//! This file is the wiring (the handler, `main`); the fixture tools are in `tools`, the
//! 2026-07-28 input-required (MRTR) fixtures in `mrtr`, resources and prompts in their own files.

// Logging and sampling are deprecated by SEP-2577, but the legacy scenarios still exercise them.
#![allow(deprecated)]

mod mrtr;
mod prompts;
mod resources;
mod tools;

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use mcp_server::config::Config;
use mcp_server::sessions::changes::ChangeFeed;
use mcp_server::sessions::scope::SessionScope;
use rmcp::model::*;
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The default server's allocator, so benchmarks against the fixtures measure it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options: a background thread purges freed pages after a second, even while the
/// server is idle (without it, memory comes back only when a thread allocates again).
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

/// A 1x1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Builds an rmcp type from its wire JSON: the fixtures are specified as JSON, so they are
/// written as JSON.
fn wire<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("fixture JSON matches the rmcp type")
}

/// A final result: like [`wire`], with the `resultType` every 2026-07-28 result carries (rmcp
/// strips it for legacy peers).
fn complete<T: DeserializeOwned>(mut value: Value) -> T {
    value["resultType"] = json!("complete");
    wire(value)
}

fn text_result(text: impl Into<String>) -> CallToolResult {
    complete(json!({ "content": [{ "type": "text", "text": text.into() }] }))
}

#[derive(Clone)]
struct Fixtures {
    /// URIs with a legacy `resources/subscribe`.
    subscriptions: Arc<Mutex<HashSet<String>>>,
    /// List-changed notifications for listen streams and legacy sessions.
    changes: ChangeFeed,
    /// Seals MRTR `requestState` so a tampered one is detected.
    state_codec: Arc<rmcp::model::RequestStateCodec>,
    /// Ends this session's tasks when rmcp drops its handler.
    scope: SessionScope,
}

impl Fixtures {
    fn new() -> Self {
        let mut key = [0u8; 32];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .expect("/dev/urandom gives a key");
        Fixtures {
            subscriptions: Arc::default(),
            changes: ChangeFeed::default(),
            state_codec: Arc::new(rmcp::model::RequestStateCodec::new(key.to_vec())),
            scope: SessionScope::new(),
        }
    }
}

/// No `/health` blocks of its own.
impl mcp_server::report::Report for Fixtures {}

/// The fixtures whose answers are fixed (the benchmark's `test_simple_text` among them) and
/// `tools/list` are answered without rmcp's per-request machinery, so the conformance suite's
/// modern-era scenarios check that path too; every other tool talks to the client or keeps
/// state and goes through rmcp.
impl mcp_server::direct::Direct for Fixtures {
    /// `listen` is the feed's own `serve`, and the filter its `accept`.
    fn change_feed(&self) -> Option<&ChangeFeed> {
        Some(&self.changes)
    }

    /// `initialize` is rmcp's own, and `on_initialized` only follows the change feed for the
    /// session's GET stream (which wakes the session); the tools that talk to the client wake
    /// it too, as every request the fast path leaves to rmcp does.
    fn dormant_sessions(&self) -> bool {
        true
    }

    fn answer_directly(
        &self,
        request: &mcp_server::direct::DirectRequest<'_>,
    ) -> Option<Result<mcp_server::direct::Answer, ErrorData>> {
        match request.method {
            "tools/call" => {
                let call: CallToolRequestParams = request.params()?;
                if call.input_responses.is_some() || call.request_state.is_some() {
                    return None;
                }
                let result = tools::fixed(&call.name)?;
                Some(Ok(ServerResult::from(CallToolResponse::from(result)).into()))
            }
            "tools/list" => {
                // Read, though unused: parameters rmcp cannot read are its to refuse.
                let _page: Option<PaginatedRequestParams> = request.params()?;
                Some(Ok(ServerResult::ListToolsResult(
                    ListToolsResult::with_all_items(tools::tools().to_vec()),
                )
                .into()))
            }
            _ => None,
        }
    }
}

impl ServerHandler for Fixtures {
    fn get_info(&self) -> ServerConfig {
        let capabilities: ServerCapabilities = wire(json!({
            "tools": { "listChanged": true },
            "resources": { "subscribe": true, "listChanged": true },
            "prompts": { "listChanged": true },
            "logging": {},
            "completions": {}
        }));
        ServerConfig::new(capabilities).with_server_info(Implementation::new(
            "mcp-server-conformance-fixtures",
            env!("CARGO_PKG_VERSION"),
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::tools().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::tools().iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let what = format!("tool {}", request.name);
        mcp_server::recover::unpanicked(&what, self.call(request, cx)).await
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        ChangeFeed::accept(requested)
    }

    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), ErrorData> {
        self.changes.serve(subscription).await
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.changes
            .follow_legacy_session(context.peer, &self.scope);
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(resources::list())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        resources::read(request.uri.as_str())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions
            .lock()
            .unwrap()
            .insert(request.uri.clone());
        Self::log(&cx, &format!("Subscribed to resource: {}", request.uri)).await;
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscriptions.lock().unwrap().remove(&request.uri);
        Self::log(&cx, &format!("Unsubscribed from resource: {}", request.uri)).await;
        Ok(())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _cx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::get(request)
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        cx: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let level = serde_json::to_value(request.level).unwrap_or_default();
        Self::log(
            &cx,
            &format!("Log level set to: {}", level.as_str().unwrap_or("?")),
        )
        .await;
        Ok(())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _cx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        Ok(complete(
            json!({ "completion": { "values": [], "total": 0, "hasMore": false } }),
        ))
    }
}

fn main() -> ExitCode {
    let config = Config::load().unwrap_or_else(|error| error.exit());
    mcp_server::logging::init(&config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(mcp_server::run(config, Fixtures::new())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-server: {error}");
            ExitCode::FAILURE
        }
    }
}
