//! The documentation the server serves: Markdown pages ([`corpus`]) read safely from a folder
//! ([`folder`]) or an S3 prefix ([`s3`]) under the same limits ([`source`]), with their
//! includes resolved ([`includes`]), cut into units of retrieval ([`units`]) whose text is kept
//! free of markup ([`markup`]), the versions and languages of a page ([`variants`]), a
//! full-text index over the units ([`search`]), the live snapshot and its reload ([`library`]),
//! and the MCP handler over them ([`server`]), with its tools ([`tools`]), resources
//! ([`resources`]) and the chunking of `read_doc` ([`chunk`]).

pub mod chunk;
pub mod corpus;
mod direct;
pub mod folder;
pub mod includes;
pub mod library;
pub mod markup;
pub mod resources;
pub mod s3;
pub mod search;
pub mod server;
pub mod source;
pub mod tools;
pub mod units;
pub mod variants;

pub use library::Library;
pub use server::DocsServer;
