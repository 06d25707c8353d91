//! What outlives one request: the change feed that tells modern listen streams and legacy
//! sessions what changed ([`changes`]), and the owner of a legacy session's own tasks
//! ([`scope`]).

pub mod changes;
pub mod resident;
pub mod scope;
pub mod store;
