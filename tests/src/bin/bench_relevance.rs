//! Relevance benchmark of `search_docs`: recall@5, MRR@10, distinct answers in the top 5 and
//! latency, over a labelled query file, through the real server's tool over HTTP.
//!
//! ```sh
//! # this project's embedded docs and its own labelled set
//! cargo run --release -p tests --bin bench_relevance
//! # another folder with its queries (the format of ../shared/corpora/copilot-docs/queries.json)
//! cargo run --release -p tests --bin bench_relevance -- --docs ../shared/corpora/copilot-docs/docs \
//!     --queries ../shared/corpora/copilot-docs/queries.json [--misses] [--arg language=ja]
//! ```
//!
//! `--server PATH` runs another build of the server (an older one, to compare).
//! `--misses` lists every query whose answer is not first, or whose top 5 repeats an answer,
//! with the hits it got (`--all`: every query). `--arg name=value` adds a `search_docs` argument to every call.
//! `--tune` searches field weights in this process instead (no server): it prints recall@5,
//! MRR@10 and distinct answers for every combination of a small grid, best MRR@10 last, on the
//! `--docs` and `--queries` given (the embedded docs without `--docs`); run it once per set.
//! The aims (issue 11): recall@5 >= 0.9, MRR@10 >= 0.8, 5 distinct answers in the top 5.

use std::path::PathBuf;

use serde_json::{Map, Value};
use tests::Server;
use tests::relevance::{load_queries, run};

#[tokio::main]
async fn main() {
    let mut docs: Option<PathBuf> = None;
    let mut queries = tests::process::workspace_root().join("tests/relevance/embedded-docs.json");
    let mut misses = false;
    let mut tune = false;
    let mut all = false;
    let mut binary: Option<PathBuf> = None;
    let mut extra = Map::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--docs" => docs = Some(args.next().expect("--docs needs a folder").into()),
            "--queries" => queries = args.next().expect("--queries needs a file").into(),
            "--tune" => tune = true,
            "--misses" => misses = true,
            "--all" => (misses, all) = (true, true),
            "--server" => binary = Some(args.next().expect("--server needs a path").into()),
            "--arg" => {
                let pair = args.next().expect("--arg needs name=value");
                let (name, value) = pair.split_once('=').expect("--arg needs name=value");
                extra.insert(name.into(), Value::String(value.into()));
            }
            other => panic!(
                "unknown argument {other}; see the header of tests/src/bin/bench_relevance.rs"
            ),
        }
    }
    if tune {
        tune_weights(docs.as_deref(), &queries);
        return;
    }
    let queries = load_queries(&queries);
    let folder =
        docs.map(|d| std::fs::canonicalize(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())));
    let mut env = vec![
        ("DOCS_RELOAD_INTERVAL", "0"),
        ("LOG_LEVEL", "warn,mcp_server=info"),
    ];
    let folder_text = folder.as_ref().map(|f| f.display().to_string());
    if let Some(folder) = &folder_text {
        env.push(("DOCS_DIR", folder));
    }
    env.extend_from_slice(tests::load::ONE_ADDRESS_LOAD);
    let server = match &binary {
        Some(binary) => Server::start_command(std::process::Command::new(binary), &env),
        None => Server::start(&env),
    };
    let indexed = server.wait_for_log("documentation indexed", std::time::Duration::from_secs(60));
    println!(
        "corpus: {}",
        folder_text.as_deref().unwrap_or("embedded docs")
    );
    println!("server: {indexed}");
    let report = run(server.addr, &queries, &Value::Object(extra)).await;
    println!("{}", report.summary());
    if misses {
        print!("{}", report.misses(all));
    }
}

/// A grid over the field weights, in process, on one corpus.
fn tune_weights(docs: Option<&std::path::Path>, queries: &std::path::Path) {
    use mcp_server::docs::corpus::Corpus;
    use mcp_server::docs::search::{SearchIndex, Weights};
    use mcp_server::docs::variants::VariantRules;
    let queries = load_queries(queries);
    let corpus = match docs {
        Some(folder) => Corpus::load(folder).expect("the folder loads"),
        None => Corpus::from_texts(mcp_server::docs::library::EMBEDDED_DOCS.iter().copied()),
    };
    let rules = VariantRules::default();
    let mut results = Vec::new();
    for page in [0.5, 1.0, 1.5, 2.0, 3.0] {
        for heading in [1.0, 2.0, 3.0, 4.0] {
            for code in [0.25, 0.5, 1.0] {
                let weights = Weights {
                    page,
                    heading,
                    code,
                };
                let index = SearchIndex::build_weighted(&corpus, &rules, weights).expect("index");
                let report = tests::relevance::run_in_process(&corpus, &index, &queries);
                results.push((
                    report.mrr_at_10(),
                    report.recall_at_5(),
                    report.distinct_in_5(),
                    weights,
                ));
            }
        }
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    for (mrr, recall, distinct, w) in &results {
        println!(
            "page {:.2} heading {:.2} code {:.2}: recall@5 {recall:.2} MRR@10 {mrr:.2} distinct {distinct:.2}",
            w.page, w.heading, w.code
        );
    }
}
