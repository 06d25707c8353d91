//! Benchmark of the documentation search: index build time for 1,000 generated pages
//! (5,000 sections), and `search_docs` latency in-process and over HTTP.
//!
//! ```sh
//! cargo run --release -p tests --bin bench_docs -- [--pages 1000] [--queries 5000] [--clients 8] [--seconds 5] [--rounds 5] [--rate 5000] [--evict-kib 0]
//! cargo run --release -p tests --bin bench_docs -- --docs DIR --questions FILE [--clients 8] [--seconds 5] [--rounds 5]
//! ```
//!
//! Each phase runs twice: as fast as answers come (the closed loop above), then at `--rate`
//! requests a second in all (default 5000, `0` skips it), which both calls sustain here. In the
//! closed loop the server's CPU that goes with time rather than calls (workers parking and
//! waking, the kernel's share of the loopback) is spread over fewer searches than lists, since
//! searches are slower; at one rate it is spread alike, and the ratio compares the calls' work.
//!
//! Each phase's `--seconds` are split into `--rounds` slices, `tools/list` and `search_docs`
//! taking turns (after an untimed warm-up of both), and each call's figures are summed over its
//! slices: this VM's speed drifts by 10-20% over seconds, and one phase after the other put a
//! drift between them into the ratio.
//!
//! `--evict-kib N` writes N KiB between in-process searches (untimed), as a server's other work
//! evicts a search's data from the CPU's caches: with 1024 the in-process figure comes near a
//! search's CPU inside the server.
//!
//! With `--docs` and `--questions` (a labelled query file such as
//! `../shared/corpora/copilot-docs/queries.json`) it measures real documentation instead: the
//! folder is indexed and served, and the questions are the queries (cycled).
//!
//! The pages are generated from a fixed vocabulary with a seeded generator, so every run indexes
//! the same text. Over HTTP the release server serves them from a temporary `DOCS_DIR`; queries
//! are modern (2026-07-28) `tools/call` requests on keep-alive connections. The server's CPU
//! time (from /proc) per `search_docs` call is printed against that of a `tools/list` call,
//! measured in the same run (aim: at most 1.5x).

use std::time::{Duration, Instant};

use mcp_server::docs::corpus::Corpus;
use mcp_server::docs::search::SearchIndex;
use serde_json::json;
use tests::Server;
use tests::generated::{Rng, generate};
use tests::http::{MODERN_VERSION, modern_meta};
use tests::load::{connect, exchange, percentile, post};
use tests::process::cpu_split_micros;

struct Options {
    pages: usize,
    queries: usize,
    clients: usize,
    seconds: f64,
    rounds: u32,
    docs: Option<std::path::PathBuf>,
    questions: Option<std::path::PathBuf>,
    evict_kib: usize,
    rate: u32,
}

fn options() -> Options {
    let mut options = Options {
        pages: 1000,
        queries: 5000,
        clients: 8,
        seconds: 5.0,
        rounds: 5,
        docs: None,
        questions: None,
        evict_kib: 0,
        rate: 5000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--pages" => options.pages = value.parse().expect("--pages N"),
            "--queries" => options.queries = value.parse().expect("--queries N"),
            "--clients" => options.clients = value.parse().expect("--clients N"),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--rounds" => options.rounds = value.parse().expect("--rounds N"),
            "--docs" => options.docs = Some(value.into()),
            "--questions" => options.questions = Some(value.into()),
            "--evict-kib" => options.evict_kib = value.parse().expect("--evict-kib N"),
            "--rate" => options.rate = value.parse().expect("--rate N"),
            other => {
                panic!("unknown argument {other}; see the header of tests/src/bin/bench_docs.rs")
            }
        }
    }
    assert_eq!(
        options.docs.is_some(),
        options.questions.is_some(),
        "--docs and --questions go together"
    );
    options
}

/// What one phase of load measured.
struct Phase {
    latencies: Vec<u32>,
    errors: usize,
    elapsed: Duration,
    cpu_micros: f64,
    /// Of which in the kernel (the rest in the server's own code).
    system_micros: f64,
}

impl Phase {
    fn empty() -> Phase {
        Phase {
            latencies: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
            cpu_micros: 0.0,
            system_micros: 0.0,
        }
    }

    /// Adds a slice of the same calls.
    fn add(&mut self, slice: Phase) {
        self.latencies.extend(slice.latencies);
        self.latencies.sort_unstable();
        self.errors += slice.errors;
        self.elapsed += slice.elapsed;
        self.cpu_micros += slice.cpu_micros;
        self.system_micros += slice.system_micros;
    }

    fn cpu_micros_per_call(&self) -> f64 {
        self.cpu_micros / self.latencies.len().max(1) as f64
    }

    fn print(&self, what: &str) {
        println!(
            "{what} over HTTP (modern tools/call or request, keep-alive): {:.0} req/s   p50 {:.3} ms   p99 {:.3} ms   server CPU {:.1} us/call ({:.1} in the kernel)   errors {}",
            self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99),
            self.cpu_micros_per_call(),
            self.system_micros / self.latencies.len().max(1) as f64,
            self.errors
        );
    }
}

/// `clients` keep-alive connections for `time`: `search_docs` over `queries`, or
/// `tools/list` when there are none; as fast as answers come, or `rate` requests a second in
/// all (each client sends on its own schedule, and waits for its answer).
async fn load(
    addr: std::net::SocketAddr,
    pid: u32,
    clients: usize,
    time: Duration,
    queries: &[String],
    rate: u32,
) -> Phase {
    let (user_before, system_before) = cpu_split_micros(pid);
    let deadline = Instant::now() + time;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let queries = queries.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = client;
            // Each client's share of the rate, its first request offset from the others'.
            let period =
                (rate > 0).then(|| Duration::from_secs_f64(clients as f64 / f64::from(rate)));
            let mut next = started
                + period
                    .unwrap_or_default()
                    .mul_f64(client as f64 / clients as f64);
            while Instant::now() < deadline {
                // At a rate, a request the last answer held back past its time counts from
                // that time, so that answers falling behind show (no catching up in a burst
                // that hides the wait); one sent on time counts from its sending (the timer
                // wakes up to a millisecond late, which is not the server's).
                let held_back = match period {
                    Some(period) => {
                        let due = next;
                        next += period;
                        if due >= deadline {
                            break;
                        }
                        let late = Instant::now() > due;
                        tokio::time::sleep_until(due.into()).await;
                        late.then_some(due)
                    }
                    None => None,
                };
                i += clients;
                let (method, name, mut params) = if queries.is_empty() {
                    ("tools/list", None, json!({}))
                } else {
                    let query = &queries[i % queries.len()];
                    (
                        "tools/call",
                        Some("search_docs"),
                        json!({ "name": "search_docs", "arguments": { "query": query } }),
                    )
                };
                params["_meta"] = modern_meta();
                let mut headers = vec![
                    ("mcp-protocol-version", MODERN_VERSION),
                    ("mcp-method", method),
                ];
                if let Some(name) = name {
                    headers.push(("mcp-name", name));
                }
                let request = post(
                    addr,
                    &headers,
                    &json!({ "jsonrpc": "2.0", "id": i, "method": method, "params": params }),
                );
                let sent = held_back.unwrap_or_else(Instant::now);
                match exchange(&mut sender, request).await {
                    Ok(_) => latencies.push(sent.elapsed().as_micros() as u32),
                    Err(_) => {
                        errors += 1;
                        sender = connect(addr).await;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut phase = Phase::empty();
    for task in tasks {
        let (latencies, errors) = task.await.unwrap();
        phase.latencies.extend(latencies);
        phase.errors += errors;
    }
    phase.elapsed = started.elapsed();
    let (user, system) = cpu_split_micros(pid);
    phase.system_micros = system - system_before;
    phase.cpu_micros = user - user_before + phase.system_micros;
    phase.latencies.sort_unstable();
    phase
}

fn queries(n: usize) -> Vec<String> {
    let mut rng = Rng(42);
    (0..n)
        .map(|i| match i % 4 {
            0 => rng.word().to_string(),
            1 | 2 => rng.words(2),
            _ => format!("\"{}\"", rng.words(2)),
        })
        .collect()
}

/// `tools/list` and `search_docs` (over `queries`) taking turns for `--rounds` slices of their
/// `--seconds`, each summed over its slices.
async fn alternating(
    addr: std::net::SocketAddr,
    pid: u32,
    options: &Options,
    queries: &[String],
    rate: u32,
) -> (Phase, Phase) {
    let rounds = options.rounds.max(1);
    let slice = Duration::from_secs_f64(options.seconds / f64::from(rounds));
    let (mut list, mut search) = (Phase::empty(), Phase::empty());
    for _ in 0..rounds {
        list.add(load(addr, pid, options.clients, slice, &[], rate).await);
        search.add(load(addr, pid, options.clients, slice, queries, rate).await);
    }
    (list, search)
}

/// The mean of microsecond samples, in milliseconds.
fn mean_ms(samples: &[u32]) -> f64 {
    samples.iter().map(|&s| f64::from(s)).sum::<f64>() / samples.len().max(1) as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let options = options();
    let files = match &options.docs {
        Some(_) => Vec::new(),
        None => generate(options.pages),
    };

    let started = Instant::now();
    let corpus = match &options.docs {
        Some(folder) => Corpus::load(folder).expect("the --docs folder loads"),
        None => Corpus::from_texts(files.iter().map(|(p, t)| (p.as_str(), t.as_str()))),
    };
    let parsed = started.elapsed();
    let index = SearchIndex::build(&corpus).expect("index builds");
    let built = started.elapsed();
    println!(
        "index build: {} pages, {} sections: parse {:.1} ms + index {:.1} ms = {:.1} ms; score tables (words and pairs) {:.1} KiB, word spots {:.1} KiB",
        corpus.pages.len(),
        index.len(),
        parsed.as_secs_f64() * 1000.0,
        (built - parsed).as_secs_f64() * 1000.0,
        built.as_secs_f64() * 1000.0,
        index.impact_bytes() as f64 / 1024.0,
        index.spot_bytes() as f64 / 1024.0
    );

    let generated = options.questions.is_none();
    let queries: Vec<String> = match &options.questions {
        Some(file) => tests::relevance::load_queries(file)
            .into_iter()
            .map(|q| q.text)
            .collect(),
        None => queries(options.queries),
    };
    let mut latencies = Vec::with_capacity(queries.len());
    // One word, two words, a quoted phrase (see `queries`).
    let mut by_kind: [Vec<u32>; 3] = Default::default();
    let mut hits = 0usize;
    // Each query's total time, to name the slowest.
    let mut per_query = vec![0u64; queries.len()];
    // Real questions are few: cycle them up to `--queries` calls.
    let calls = queries.len().max(options.queries);
    // Written between searches (untimed) with `--evict-kib`: a server's other work (its
    // connections, the kernel's network stack) pushes a search's tables and text out of the
    // CPU's caches between calls, so in-process figures from warm caches flatter it.
    let mut evicting = vec![0u8; options.evict_kib * 1024];
    // The mean to a tenth of a microsecond (each latency is kept in whole microseconds).
    let mut total_nanos = 0u128;
    for (i, query) in queries.iter().cycle().take(calls).enumerate() {
        for line in evicting.chunks_mut(64) {
            line[0] = line[0].wrapping_add(1);
        }
        std::hint::black_box(&evicting);
        let sent = Instant::now();
        hits += index.search(&corpus, query, 5).expect("search").len();
        let elapsed = sent.elapsed();
        total_nanos += elapsed.as_nanos();
        let took = elapsed.as_micros() as u32;
        latencies.push(took);
        per_query[i % queries.len()] += u64::from(took);
        if generated {
            by_kind[match i % 4 {
                0 => 0,
                1 | 2 => 1,
                _ => 2,
            }]
            .push(took);
        }
    }
    latencies.sort_unstable();
    println!(
        "search in-process: {calls} calls over {} queries (limit 5): p50 {:.3} ms   p99 {:.3} ms   mean {:.1} us   mean hits {:.1}",
        queries.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        total_nanos as f64 / calls as f64 / 1000.0,
        hits as f64 / calls as f64
    );
    if !generated {
        let rounds = (calls / queries.len().max(1)).max(1) as f64;
        let mut slowest: Vec<(u64, &String)> = per_query.iter().copied().zip(&queries).collect();
        slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
        println!("  slowest questions (mean):");
        for (total, query) in slowest.iter().take(5) {
            println!("    {:.3} ms  {query}", *total as f64 / rounds / 1000.0);
        }
    }
    for (kind, samples) in ["one word", "two words", "a phrase"]
        .iter()
        .zip(&mut by_kind)
        .filter(|(_, samples)| !samples.is_empty())
    {
        samples.sort_unstable();
        println!(
            "  {kind:<9}: p50 {:.3} ms   mean {:.3} ms",
            percentile(samples, 0.50),
            mean_ms(samples)
        );
    }

    let generated_folder = std::env::temp_dir().join(format!("bench-docs-{}", std::process::id()));
    let folder = match &options.docs {
        Some(folder) => folder.canonicalize().expect("the --docs folder exists"),
        None => {
            let _ = std::fs::remove_dir_all(&generated_folder);
            for (path, text) in &files {
                let file = generated_folder.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            generated_folder.clone()
        }
    };
    let mut env = vec![
        ("DOCS_DIR", folder.to_str().unwrap()),
        ("DOCS_RELOAD_INTERVAL", "0"),
        ("LOG_LEVEL", "warn,mcp_server=info"),
    ];
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let server = Server::start(&env);
    let addr = server.addr;
    let pid = server.pid();
    // Untimed: the server's first calls fault in its memory and grow its allocator's caches.
    load(
        addr,
        pid,
        options.clients,
        Duration::from_millis(300),
        &[],
        0,
    )
    .await;
    load(
        addr,
        pid,
        options.clients,
        Duration::from_millis(300),
        &queries,
        0,
    )
    .await;
    let (list, search) = alternating(addr, pid, &options, &queries, 0).await;
    list.print("tools/list");
    search.print("search_docs");
    println!(
        "server CPU per call: search_docs {:.1} us / tools/list {:.1} us = {:.2}x (aim: at most 1.5x)",
        search.cpu_micros_per_call(),
        list.cpu_micros_per_call(),
        search.cpu_micros_per_call() / list.cpu_micros_per_call()
    );
    // The same calls at a rate both sustain: the server's CPU that goes with time, not calls
    // (its workers waking, the kernel's share), is then spread over as many calls of each.
    if options.rate > 0 {
        let rate = options.rate;
        let (list, search) = alternating(addr, pid, &options, &queries, rate).await;
        list.print(&format!("tools/list at {rate} req/s"));
        search.print(&format!("search_docs at {rate} req/s"));
        println!(
            "server CPU per call at {rate} req/s: search_docs {:.1} us / tools/list {:.1} us = {:.2}x",
            search.cpu_micros_per_call(),
            list.cpu_micros_per_call(),
            search.cpu_micros_per_call() / list.cpu_micros_per_call()
        );
    }
    if let Some(line) = server
        .logs()
        .iter()
        .find(|l| l.contains("documentation indexed"))
    {
        println!("server start-up: {line}");
    }
    drop(server);
    if options.docs.is_none() {
        let _ = std::fs::remove_dir_all(&generated_folder);
    }
}
