//! The MCP handler the server runs by default: this project's documentation server.
//!
//! Its tools arrive with the documentation corpus; until then it answers the protocol
//! (initialize, discover, ping, an empty tools list) under our own name and version.

use rmcp::ServerHandler;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};

/// The documentation server.
#[derive(Debug, Clone, Default)]
pub struct DocsServer;

/// Our `serverInfo`: name and version from Cargo, not rmcp's.
pub fn implementation() -> Implementation {
    Implementation::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

impl ServerHandler for DocsServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation())
            .with_instructions(
                "Documentation server for running MCP on AWS ECS behind an Application Load Balancer.",
            )
    }
}
