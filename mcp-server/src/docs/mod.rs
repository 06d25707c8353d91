//! The documentation the server serves: Markdown pages ([`corpus`]), a full-text index over
//! their sections ([`search`]), the live snapshot and its reload ([`library`]), and the MCP
//! tools and resources over them ([`server`]).

pub mod corpus;
pub mod library;
pub mod search;
pub mod server;

pub use library::Library;
pub use server::DocsServer;
