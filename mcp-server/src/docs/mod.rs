//! The documentation the server serves: Markdown pages ([`corpus`]) read safely from a folder
//! ([`folder`]), a full-text index over
//! their sections ([`search`]), the live snapshot and its reload ([`library`]), and the MCP
//! handler over them ([`server`]), with its tools ([`tools`]), resources ([`resources`]) and the
//! chunking of `read_doc` ([`chunk`]).

pub mod chunk;
pub mod corpus;
pub mod folder;
pub mod library;
pub mod resources;
pub mod search;
pub mod server;
pub mod tools;

pub use library::Library;
pub use server::DocsServer;
