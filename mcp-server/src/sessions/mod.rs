//! What outlives one request: the change feed that tells modern listen streams and legacy
//! sessions what changed ([`changes`]).

pub mod changes;
