//! `MCP_MODE=stdio`: the same handler on stdin/stdout, for clients that spawn the server
//! (Claude Desktop, Cursor, Inspector's stdio transport). Logs stay on stderr.

use rmcp::{ServerHandler, ServiceExt};

/// Serves one client on stdin/stdout until it closes its end.
pub async fn serve<H>(handler: H) -> Result<(), Box<dyn std::error::Error>>
where
    H: ServerHandler + Send + 'static,
{
    tracing::info!("serving MCP on stdin/stdout");
    let running = handler
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|error| format!("stdio session failed to start: {error}"))?;
    let reason = running.waiting().await?;
    tracing::info!(?reason, "stdio session ended");
    Ok(())
}
