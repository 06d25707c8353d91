//! The memory limit put in force: the caps the budget sets (see [`crate::access::budget`]) for
//! every one of them left at its default.

use super::{
    Config, DEFAULT_BODY_BYTES, DEFAULT_CONNECTIONS, DEFAULT_SESSIONS, DEFAULT_STREAMS, Mode,
};
use crate::access::budget::{BUDGET_SHARE, Caps, MemoryLimit, derived_caps};

/// Memory a snapshot takes per byte of page text (corpus, units, index and the texts an S3
/// source keeps), with margin over what the allocator measured on real documentation: 9.8 bytes
/// for the Copilot docs (with the search's score tables and word spots), 5.5 for the embedded
/// docs, and up to 1.0 and 0.25 more once searches have found every unit (the answer parts kept
/// per unit, `docs/tools/rendered.rs`) (docs/performance.md, "The documentation's snapshot").
pub const DOCS_BYTES_PER_TEXT_BYTE: u64 = 12;

impl Config {
    /// Puts `limit` in force: each cap the budget sets that was left at its default is derived
    /// from it (never raised above the default).
    pub fn set_memory_limit(&mut self, limit: MemoryLimit) {
        // The documentation's share comes off the top: what is left is shared as before.
        let left = limit
            .bytes
            .saturating_sub((self.docs_memory as f64 / BUDGET_SHARE) as u64);
        let derived = derived_caps(
            left,
            Caps {
                sessions: DEFAULT_SESSIONS,
                streams: DEFAULT_STREAMS,
                connections: DEFAULT_CONNECTIONS,
                body_bytes: DEFAULT_BODY_BYTES,
            },
        );
        let [sessions, streams, connections, body_bytes] = self.caps_defaulted;
        if sessions {
            self.max_legacy_sessions = derived.sessions;
        }
        if streams {
            self.max_sse_connections = derived.streams;
        }
        if body_bytes {
            self.max_body_bytes_in_flight = derived.body_bytes;
        }
        if connections {
            // Room for the streams actually allowed, a MAX_SSE_CONNECTIONS given included.
            self.max_connections = crate::access::budget::connections_for(
                left,
                self.max_body_bytes_in_flight as u64,
                self.max_sse_connections,
                DEFAULT_CONNECTIONS,
            );
        }
        self.memory = Some(limit);
    }

    /// Sets aside memory for documentation of `bytes` of text (twice its index, as a rebuild
    /// holds the old snapshot and the new one at once), and derives the caps again.
    pub fn reserve_docs_memory(&mut self, bytes: u64) {
        self.docs_memory = bytes.saturating_mul(DOCS_BYTES_PER_TEXT_BYTE * 2);
        if let Some(limit) = self.memory {
            self.set_memory_limit(limit);
        }
    }

    /// Bytes set aside for the documentation ([`Config::reserve_docs_memory`]).
    pub fn docs_memory(&self) -> u64 {
        self.docs_memory
    }

    /// The caps in force.
    pub fn caps(&self) -> Caps {
        Caps {
            sessions: self.max_legacy_sessions,
            streams: self.max_sse_connections,
            connections: self.max_connections,
            body_bytes: self.max_body_bytes_in_flight,
        }
    }

    /// Whether the memory limit is still to be read from ECS task metadata: HTTP mode, on ECS,
    /// and no `MEMORY_LIMIT` given.
    pub fn wants_ecs_memory_limit(&self) -> bool {
        self.mode == Mode::Http
            && self.ecs_metadata_uri.is_some()
            && self
                .memory
                .is_none_or(|m| m.source != crate::access::budget::LimitSource::Setting)
    }
}
