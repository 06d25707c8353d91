//! What outlives one request: the change feed that tells modern listen streams and legacy
//! sessions what changed ([`changes`]), the owner of a legacy session's own tasks
//! ([`scope`]), the sessions answered without rmcp until they need it ([`dormant`]) and the
//! turn a request takes while rmcp wakes one ([`wakes`]), and, with
//! a shared store ([`store`]), the sessions held in memory
//! ([`resident`]) and the events of their streams ([`journal`], [`resumable`]).

pub mod changes;
pub mod dormant;
pub mod journal;
pub mod resident;
pub mod resumable;
pub mod scope;
pub mod store;
pub mod wakes;

/// The largest `initialize` request body taken, in bytes: its params stay with the session for
/// as long as it lives (in rmcp's peer, a dormant session or the store), so they are bounded
/// for the per-session memory budget to hold. Real clients send a few hundred bytes; this is
/// the store's limit on kept params ([`store::MAX_STORED_BYTES`]) with room for the envelope.
pub const MAX_INITIALIZE_BYTES: usize = store::MAX_STORED_BYTES + 1024;

/// Gives back a map's room once most of it is empty: a `HashMap` keeps the capacity of its
/// largest moment, so a burst of sessions would otherwise be paid for until the process ends.
pub fn shrink_if_sparse<K: std::hash::Hash + Eq, V>(map: &mut std::collections::HashMap<K, V>) {
    if map.capacity() > 64 && map.len() * 4 < map.capacity() {
        map.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    #[test]
    fn a_mostly_empty_map_gives_its_room_back_and_a_full_one_keeps_it() {
        let mut map: HashMap<u32, u32> = (0..10_000).map(|i| (i, i)).collect();
        super::shrink_if_sparse(&mut map);
        let full = map.capacity();
        assert!(full >= 10_000);
        map.retain(|k, _| *k < 100);
        super::shrink_if_sparse(&mut map);
        assert!(map.capacity() < 1_000, "{}", map.capacity());
        assert_eq!(map.len(), 100);
    }
}
