//! Benchmark of `DOCS_DIR=s3://`: the time from start to ready for 1,000 objects, and what a
//! check costs when nothing changed (S3 requests and server CPU per check), each against a
//! baseline measured in the same run (the same pages from a folder; the same server with
//! reloading off).
//!
//! ```sh
//! cargo build --release -p mcp-server --bins && cargo build --release -p tests --bins
//! target/release/bench_s3 [--pages 1000] [--runs 3] [--seconds 10] [--interval-ms 200]
//! ```
//!
//! S3 is moto on loopback (`scripts/install-test-tools.sh` installs it): a Python server, so
//! start-up figures are moto's speed more than the network's; the request counts and the
//! server's CPU per check do not depend on it.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use tests::Server;
use tests::generated::generate;
use tests::http::health;
use tests::process::cpu_micros;
use tests::tools::Moto;

const BUCKET: &str = "bench-docs";
const PREFIX: &str = "site/";

struct Options {
    pages: usize,
    runs: usize,
    seconds: u64,
    interval_ms: u64,
}

fn options() -> Options {
    let mut options = Options {
        pages: 1000,
        runs: 3,
        seconds: 10,
        interval_ms: 200,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        match pair[0].as_str() {
            "--pages" => options.pages = value.parse().expect("--pages N"),
            "--runs" => options.runs = value.parse().expect("--runs N"),
            "--seconds" => options.seconds = value.parse().expect("--seconds N"),
            "--interval-ms" => options.interval_ms = value.parse().expect("--interval-ms N"),
            other => {
                panic!("unknown argument {other}; see the header of tests/src/bin/bench_s3.rs")
            }
        }
    }
    options
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Starts the server on `docs_dir` and returns it with the time it took to listen.
fn start(moto: &Moto, docs_dir: &str, interval_ms: u64) -> (Server, Duration) {
    let aws = moto.server_env();
    let interval = interval_ms.to_string();
    let mut env: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("DOCS_DIR", docs_dir));
    env.push(("DOCS_RELOAD_INTERVAL", &interval));
    // The harness finds the address in the `listening` line, at info.
    env.push(("LOG_LEVEL", "warn,mcp_server=info"));
    let started = Instant::now();
    let server = Server::start(&env);
    (server, started.elapsed())
}

/// Server CPU (µs) and S3 requests over `seconds` of idle.
async fn idle(server: &Server, seconds: u64) -> (f64, u64) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests = |docs: &serde_json::Value| docs["s3Requests"].as_u64().unwrap_or(0);
    let (cpu, before) = (
        cpu_micros(server.pid()),
        requests(&health(server.addr).await["docs"]),
    );
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = requests(&health(server.addr).await["docs"]);
    // Two /health calls are in the figure; they cost the same in every row.
    (cpu_micros(server.pid()) - cpu, after - before)
}

#[tokio::main]
async fn main() {
    let options = options();
    let pages = generate(options.pages);
    let bytes: usize = pages.iter().map(|(_, text)| text.len()).sum();

    let moto = Moto::start();
    let s3 = moto.s3();
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let uploading = Instant::now();
    futures::stream::iter(pages.iter())
        .map(|(path, text)| {
            s3.put_object()
                .bucket(BUCKET)
                .key(format!("{PREFIX}{path}"))
                .body(ByteStream::from(text.clone().into_bytes()))
                .send()
        })
        .buffer_unordered(16)
        .for_each(|put| async move {
            put.expect("upload");
        })
        .await;
    let folder = std::env::temp_dir().join(format!("bench-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    for (path, text) in &pages {
        let file = folder.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    println!(
        "{} pages, {:.1} MiB of Markdown; uploaded to moto in {:.1} s",
        pages.len(),
        bytes as f64 / (1 << 20) as f64,
        uploading.elapsed().as_secs_f64()
    );

    let s3_dir = format!("s3://{BUCKET}/{PREFIX}");
    let folder_dir = folder.to_str().unwrap().to_string();
    let (mut from_folder, mut from_s3) = (Vec::new(), Vec::new());
    for _ in 0..options.runs {
        from_folder.push(start(&moto, &folder_dir, 0).1.as_secs_f64() * 1000.0);
        let (server, took) = start(&moto, &s3_dir, 0);
        assert_eq!(health(server.addr).await["docs"]["pages"], pages.len());
        from_s3.push(took.as_secs_f64() * 1000.0);
    }
    let (folder_ms, s3_ms) = (median(from_folder), median(from_s3));
    println!("\nstart to ready (median of {} runs)", options.runs);
    println!("  folder   {folder_ms:8.0} ms");
    println!(
        "  S3       {s3_ms:8.0} ms   ({:.2}x the folder)",
        s3_ms / folder_ms
    );

    let seconds = options.seconds;
    let interval = options.interval_ms;
    let checks = (seconds * 1000 / interval) as f64;
    let (off, _) = idle(&start(&moto, &s3_dir, 0).0, seconds).await;
    let (s3_cpu, s3_requests) = idle(&start(&moto, &s3_dir, interval).0, seconds).await;
    let (folder_cpu, _) = idle(&start(&moto, &folder_dir, interval).0, seconds).await;
    println!(
        "\nidle for {seconds} s, a check every {interval} ms (about {checks:.0} checks), nothing changed"
    );
    println!("  reloading off   {:8.0} µs of server CPU (baseline)", off);
    println!(
        "  S3              {:8.0} µs   {:6.0} µs a check   {:.2} S3 requests a check (ListObjectsV2 pages; no GetObject)",
        s3_cpu,
        (s3_cpu - off) / checks,
        s3_requests as f64 / checks
    );
    println!(
        "  folder          {:8.0} µs   {:6.0} µs a check   (one stat a file)",
        folder_cpu,
        (folder_cpu - off) / checks
    );
    std::fs::remove_dir_all(&folder).unwrap();
}
