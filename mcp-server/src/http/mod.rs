//! The HTTP edge: the accept loop and its connection timeouts ([`server`]), the routes
//! ([`routes`]), the `/mcp` hand-off to rmcp ([`mcp_endpoint`]) and the error bodies the server
//! writes itself ([`replies`]).

pub mod mcp_endpoint;
pub mod replies;
pub mod routes;
pub mod server;
