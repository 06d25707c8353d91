//! The HTTP edge: the accept loop and its connection timeouts ([`server`]), the routes
//! ([`routes`]), the `/mcp` endpoint ([`mcp_endpoint`]) and its hand-off to rmcp
//! ([`forward`]) or its fast path for answers the handler gives itself ([`direct`]) and for modern listen
//! streams from its change feed ([`listen`]), with what it reads of a body first ([`body`], [`peek`], [`gate`]), what a
//! legacy request needs from the shared session store ([`store_gate`]), and the error bodies
//! the server writes itself ([`replies`]).

pub mod body;
pub mod direct;
pub mod forward;
pub mod gate;
pub mod listen;
pub mod mcp_endpoint;
pub mod peek;
pub mod replies;
pub mod routes;
pub mod server;
pub mod session_stream;
pub mod store_gate;

/// The first protocol revision of the modern (stateless) era: requests that name it or a later
/// one carry no legacy session.
pub const MODERN_PROTOCOL: &str = "2026-07-28";
