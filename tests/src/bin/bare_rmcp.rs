//! The baseline of `bench`: a bare rmcp server, as a team would write one from rmcp's own
//! examples: one `test_simple_text` tool (the fixture the benchmark calls on our server, with
//! the same answer), rmcp's `StreamableHttpService` with its in-memory session manager, on a
//! plain hyper accept loop with TCP_NODELAY. No policy, limits, tracking or metrics: what our
//! HTTP layer adds is measured against this, in the same run, with the same rmcp version.
//!
//! It listens on `HOST`:`PORT` (default 127.0.0.1:0) and writes one JSON line
//! `{"message":"listening","address":"..."}` on stderr, which the test harness reads.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};

#[derive(Clone)]
struct Bare {
    tool_router: ToolRouter<Bare>,
}

#[tool_router]
impl Bare {
    #[tool(description = "Returns simple text content")]
    async fn test_simple_text(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )]))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bare {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "0".into());
    let addr: SocketAddr = format!("{host}:{port}").parse().expect("HOST and PORT");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    // Our server answers POSTs with JSON, not a one-event SSE stream: the same here.
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_json_response(true);
    let service = StreamableHttpService::new(
        || {
            Ok(Bare {
                tool_router: Bare::tool_router(),
            })
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    eprintln!(
        "{}",
        serde_json::json!({ "message": "listening", "address": listener.local_addr().unwrap().to_string() })
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
