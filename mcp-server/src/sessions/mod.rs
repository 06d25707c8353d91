//! What outlives one request: the change feed that tells modern listen streams and legacy
//! sessions what changed ([`changes`]), the owner of a legacy session's own tasks
//! ([`scope`]), and, with a shared store ([`store`]), the sessions held in memory
//! ([`resident`]) and the events of their streams ([`journal`], [`resumable`]).

pub mod changes;
pub mod journal;
pub mod resident;
pub mod resumable;
pub mod scope;
pub mod store;
