//! The memory budget: how many sessions, streams, connections and body bytes fit in the task's
//! memory.
//!
//! The limit is `MEMORY_LIMIT` (bytes) when set, else the smaller of the cgroup's (`memory.max`
//! in cgroup v2, `memory.limit_in_bytes` in v1: the container's limit when it has one) and the
//! one ECS task metadata reports (the container's or the task's `Limits.Memory`: on Fargate, and
//! on EC2 with a task-level limit, the container's own cgroup often has none), else unknown.
//! When it is known, each of `MAX_LEGACY_SESSIONS`, `MAX_SSE_CONNECTIONS`, `MAX_CONNECTIONS` and
//! `MAX_BODY_BYTES_IN_FLIGHT` left at its default is lowered so that the worst flood (every cap
//! reached at once) stays under [`BUDGET_SHARE`] of the limit, from the costs measured by the
//! benchmark.

use std::path::Path;

/// The share of the memory limit the worst flood may take.
pub const BUDGET_SHARE: f64 = 0.8;
/// What the process holds before any client: runtime, index, buffers (measured: 12-40 MiB with
/// the embedded docs; a large `DOCS_DIR` adds its index).
pub const BASELINE_BYTES: u64 = 64 << 20;
/// One idle legacy session, with margin over what `bench` measures (67 KiB on a release build
/// with jemalloc).
pub const SESSION_BYTES: u64 = 80 << 10;
/// One held long-lived stream with its connection, with margin over what `bench_held`
/// measures on a release build with jemalloc: 6.9-7.5 KiB for a `subscriptions/listen` or a
/// legacy GET stream on its own HTTP/1.1 connection (written past its head without hyper's
/// buffers), 3-4 KiB on a shared HTTP/2 connection, about 11 KiB for a GET stream rmcp serves
/// (its session counted apart), and 24 KiB for a stream hyper keeps serving (HTTP/1.0).
pub const STREAM_BYTES: u64 = 32 << 10;

/// Where the limit came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSource {
    /// `MEMORY_LIMIT`.
    Setting,
    /// The cgroup the process runs in.
    Cgroup,
    /// ECS task metadata (`Limits.Memory` of the container or the task).
    EcsMetadata,
}

impl LimitSource {
    /// A short name for `/health`.
    pub fn label(self) -> &'static str {
        match self {
            LimitSource::Setting => "MEMORY_LIMIT",
            LimitSource::Cgroup => "cgroup",
            LimitSource::EcsMetadata => "ECS task metadata",
        }
    }
}

/// The memory limit and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where it came from.
    pub source: LimitSource,
}

/// The limit: `setting` when given, else the cgroup's under `cgroup_root` (normally
/// `/sys/fs/cgroup`), else `None`.
pub fn memory_limit(setting: Option<u64>, cgroup_root: &Path) -> Option<MemoryLimit> {
    if let Some(bytes) = setting {
        return Some(MemoryLimit {
            bytes,
            source: LimitSource::Setting,
        });
    }
    let read = |file: &str| std::fs::read_to_string(cgroup_root.join(file)).ok();
    let bytes = read("memory.max")
        .or_else(|| read("memory/memory.limit_in_bytes"))?
        .trim()
        .parse::<u64>()
        .ok()
        // cgroup v1 says "no limit" with a number near the largest page-aligned i64.
        .filter(|&bytes| bytes > 0 && bytes < (1 << 60))?;
    Some(MemoryLimit {
        bytes,
        source: LimitSource::Cgroup,
    })
}

/// The smaller of the limit known so far and `reported` by ECS task metadata; a `MEMORY_LIMIT`
/// setting always wins.
pub fn with_ecs_limit(known: Option<MemoryLimit>, reported: u64) -> MemoryLimit {
    let ecs = MemoryLimit {
        bytes: reported,
        source: LimitSource::EcsMetadata,
    };
    match known {
        Some(limit) if limit.source == LimitSource::Setting || limit.bytes <= reported => limit,
        _ => ecs,
    }
}

/// One open connection that holds no stream (keep-alive between requests, or not yet sent its
/// headers), with margin over what `bench` measures (26 KiB for an idle keep-alive connection
/// on a release build with jemalloc).
pub const CONNECTION_BYTES: u64 = 32 << 10;
/// The share of the memory limit that POST bodies being received may take together, at most.
pub const BODY_SHARE: u64 = 16;

/// The limits the memory budget sets: how many of each thing one process holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Legacy sessions (`MAX_LEGACY_SESSIONS`).
    pub sessions: usize,
    /// Long-lived SSE streams (`MAX_SSE_CONNECTIONS`).
    pub streams: usize,
    /// Open connections, streams included (`MAX_CONNECTIONS`).
    pub connections: usize,
    /// Bytes of POST bodies being received at once (`MAX_BODY_BYTES_IN_FLIGHT`).
    pub body_bytes: usize,
}

/// Connections allowed whatever the budget says, so that health checks and a few clients get
/// through on a tiny task.
pub const MIN_CONNECTIONS: usize = 16;

/// The caps that keep the worst flood under budget: POST bodies first (a sixteenth of the limit
/// at most), then of what is left after the baseline, 45% for sessions, 45% for streams and 10%
/// for connections that hold no stream; never above the `defaults` and never below 1 (16 for
/// connections).
pub fn derived_caps(limit: u64, defaults: Caps) -> Caps {
    let budget = (limit as f64 * BUDGET_SHARE) as u64;
    let body_bytes = (limit / BODY_SHARE).min(defaults.body_bytes as u64);
    let room = budget.saturating_sub(BASELINE_BYTES.saturating_add(body_bytes));
    let share = room / 100 * 45;
    let sessions = usize::try_from(share / SESSION_BYTES).unwrap_or(usize::MAX);
    let streams = usize::try_from(share / STREAM_BYTES).unwrap_or(usize::MAX);
    let streams = streams.clamp(1, defaults.streams.max(1));
    Caps {
        sessions: sessions.clamp(1, defaults.sessions.max(1)),
        streams,
        connections: connections_for(limit, body_bytes, streams, defaults.connections),
        body_bytes: usize::try_from(body_bytes).unwrap_or(usize::MAX).max(1),
    }
}

/// The connection cap for `streams` streams: every stream's connection, and a tenth of the room
/// left after the baseline and `body_bytes` for connections that hold no stream; at most `most`,
/// at least [`MIN_CONNECTIONS`].
pub fn connections_for(limit: u64, body_bytes: u64, streams: usize, most: usize) -> usize {
    let budget = (limit as f64 * BUDGET_SHARE) as u64;
    let room = budget.saturating_sub(BASELINE_BYTES.saturating_add(body_bytes));
    let plain = usize::try_from(room / 10 / CONNECTION_BYTES).unwrap_or(usize::MAX);
    let most = most.max(1);
    streams
        .saturating_add(plain)
        .clamp(MIN_CONNECTIONS.min(most), most)
}

/// What the process would hold with every cap in `caps` reached at once.
pub fn worst_flood_bytes(caps: Caps) -> u64 {
    let plain = caps.connections.saturating_sub(caps.streams) as u64;
    BASELINE_BYTES
        .saturating_add(caps.body_bytes as u64)
        .saturating_add((caps.sessions as u64).saturating_mul(SESSION_BYTES))
        .saturating_add((caps.streams as u64).saturating_mul(STREAM_BYTES))
        .saturating_add(plain.saturating_mul(CONNECTION_BYTES))
}

/// The process's resident memory now, in bytes (Linux; 0 elsewhere).
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// The allocator's own account of the heap (jemalloc's `stats.*`), in bytes. RSS alone cannot
/// tell live data from what the allocator keeps: after a flood of sessions has ended,
/// `allocated` is back near its idle value while `metadata` (extent records and page maps sized
/// by the peak, which jemalloc never gives back) stays (docs/performance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Heap {
    /// Bytes the program holds.
    pub allocated: u64,
    /// Bytes in pages that hold allocations (what `allocated` costs, fragmentation included).
    pub active: u64,
    /// The allocator's bookkeeping.
    pub metadata: u64,
    /// Bytes the allocator has resident: active pages, metadata, and freed pages not yet purged.
    pub resident: u64,
}

/// The heap figures now, or `None` when the allocator's statistics cannot be read. Refreshing
/// them merges every arena's counters: cheap enough for each `/health`, not for each request.
pub fn heap() -> Option<Heap> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    let read = |value: Result<usize, tikv_jemalloc_ctl::Error>| value.ok().map(|v| v as u64);
    Some(Heap {
        allocated: read(stats::allocated::read())?,
        active: read(stats::active::read())?,
        metadata: read(stats::metadata::read())?,
        resident: read(stats::resident::read())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: Caps = Caps {
        sessions: 10_000,
        streams: 10_000,
        connections: 20_000,
        body_bytes: 64 << 20,
    };

    #[test]
    fn the_heap_figures_count_what_jemalloc_holds() {
        use std::alloc::{GlobalAlloc, Layout};
        // The tests run on the system allocator: allocate through jemalloc itself, as the
        // server (whose global allocator it is) does.
        let layout = Layout::from_size_align(8 << 20, 4096).unwrap();
        let before = heap().expect("jemalloc's statistics are compiled in");
        let block = unsafe { tikv_jemallocator::Jemalloc.alloc(layout) };
        assert!(!block.is_null());
        let held = heap().unwrap();
        unsafe { tikv_jemallocator::Jemalloc.dealloc(block, layout) };
        let after = heap().unwrap();
        assert!(
            held.allocated >= before.allocated + (8 << 20),
            "{before:?} {held:?}"
        );
        assert!(held.active >= held.allocated, "{held:?}");
        assert!(
            held.resident >= held.metadata && held.metadata > 0,
            "{held:?}"
        );
        assert!(
            after.allocated + (8 << 20) <= held.allocated,
            "{held:?} {after:?}"
        );
    }

    #[test]
    fn a_one_gib_task_gets_caps_whose_worst_flood_fits_in_80_percent() {
        let caps = derived_caps(1 << 30, DEFAULTS);
        assert_eq!(
            caps,
            Caps {
                sessions: 3981,
                streams: 9953,
                connections: 12164,
                body_bytes: 64 << 20
            }
        );
        let worst = worst_flood_bytes(caps);
        assert!(
            worst as f64 <= (1u64 << 30) as f64 * BUDGET_SHARE,
            "{worst}"
        );
        // A big task keeps the defaults; a tiny one still serves someone.
        assert_eq!(derived_caps(64 << 30, DEFAULTS), DEFAULTS);
        let tiny = derived_caps(32 << 20, DEFAULTS);
        assert_eq!(
            (tiny.sessions, tiny.streams, tiny.connections),
            (1, 1, MIN_CONNECTIONS)
        );
        // Absurd limits and caps neither overflow nor wrap.
        assert_eq!(derived_caps(u64::MAX, DEFAULTS), DEFAULTS);
        let huge = Caps {
            sessions: usize::MAX,
            streams: usize::MAX,
            connections: usize::MAX,
            body_bytes: usize::MAX,
        };
        assert_eq!(worst_flood_bytes(huge), u64::MAX);
        assert_eq!(tiny.body_bytes, 2 << 20);
    }

    proptest::proptest! {
        /// Whatever the limit, the worst flood the derived caps allow fits in the budget (a
        /// limit too small for the baseline still gets one of everything).
        #[test]
        fn the_worst_flood_fits_in_the_budget(limit in (128u64 << 20)..(256u64 << 30)) {
            let caps = derived_caps(limit, DEFAULTS);
            proptest::prop_assert!(worst_flood_bytes(caps) as f64 <= limit as f64 * BUDGET_SHARE);
            proptest::prop_assert!(caps.connections >= caps.streams);
        }
    }

    #[test]
    fn the_limit_comes_from_the_setting_then_the_cgroup() {
        let root = std::env::temp_dir().join(format!("cgroup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("memory")).unwrap();
        assert_eq!(memory_limit(None, &root), None);
        std::fs::write(
            root.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        assert_eq!(memory_limit(None, &root), None, "v1 without a limit");
        std::fs::write(root.join("memory.max"), "max\n").unwrap();
        assert_eq!(memory_limit(None, &root), None, "v2 without a limit");
        std::fs::write(root.join("memory.max"), "1073741824\n").unwrap();
        assert_eq!(
            memory_limit(None, &root),
            Some(MemoryLimit {
                bytes: 1 << 30,
                source: LimitSource::Cgroup
            })
        );
        assert_eq!(
            memory_limit(Some(512 << 20), &root).map(|l| (l.bytes, l.source)),
            Some((512 << 20, LimitSource::Setting))
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn ecs_metadata_lowers_a_cgroup_limit_but_never_overrides_the_setting() {
        let limit = |bytes, source| Some(MemoryLimit { bytes, source });
        let ecs = |known| with_ecs_limit(known, 1 << 30);
        assert_eq!(ecs(None).source, LimitSource::EcsMetadata);
        assert_eq!(ecs(limit(2 << 30, LimitSource::Cgroup)).bytes, 1 << 30);
        assert_eq!(
            ecs(limit(1 << 29, LimitSource::Cgroup)).source,
            LimitSource::Cgroup
        );
        let setting = ecs(limit(4 << 30, LimitSource::Setting));
        assert_eq!(
            (setting.bytes, setting.source),
            (4 << 30, LimitSource::Setting)
        );
    }
}
