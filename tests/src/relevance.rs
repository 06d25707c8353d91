//! Relevance scoring of `search_docs` against a labelled query file, shared by the
//! `bench_relevance` benchmark and the relevance tests.
//!
//! A query file is JSON: `{"queries": [{"q": "...", "ok": [["path regex", "anchor regex"], ...]}]}`
//! (the format of `../shared/corpora/copilot-docs/queries.json`). Regexes are case-insensitive
//! and match anywhere; an empty anchor regex accepts any section of the page. A hit is relevant
//! when one pair matches its path and its anchor.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use regex::{Regex, RegexBuilder};
use serde_json::{Value, json};

use crate::http::{MODERN_VERSION, modern_meta};
use crate::load::{connect, exchange, post};

/// One labelled question.
pub struct Query {
    pub text: String,
    ok: Vec<(Regex, Option<Regex>)>,
}

/// One hit as `search_docs` returned it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub anchor: String,
    pub snippet: String,
}

/// What one query got.
pub struct Outcome {
    pub query: String,
    /// 1-based rank of the first relevant hit within the first 10.
    pub rank: Option<usize>,
    /// Distinct answers among the first five hits.
    pub distinct: usize,
    pub hits: Vec<Hit>,
    pub micros: u32,
}

/// The figures over a query set.
pub struct Report {
    pub outcomes: Vec<Outcome>,
}

fn regex(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .unwrap_or_else(|e| panic!("bad regex {pattern:?} in the query file: {e}"))
}

/// Reads a query file.
pub fn load_queries(file: &Path) -> Vec<Query> {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let document: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", file.display()));
    document["queries"]
        .as_array()
        .unwrap_or_else(|| panic!("{} has no \"queries\" list", file.display()))
        .iter()
        .map(|entry| Query {
            text: entry["q"]
                .as_str()
                .expect("each query has \"q\"")
                .to_string(),
            ok: entry["ok"]
                .as_array()
                .expect("each query has \"ok\"")
                .iter()
                .map(|pair| {
                    let path = regex(pair[0].as_str().expect("path regex"));
                    let anchor = pair[1].as_str().unwrap_or("");
                    (path, (!anchor.is_empty()).then(|| regex(anchor)))
                })
                .collect(),
        })
        .collect()
}

impl Query {
    /// Whether `hit` answers this query.
    pub fn accepts(&self, hit: &Hit) -> bool {
        self.ok.iter().any(|(path, anchor)| {
            path.is_match(&hit.path) && anchor.as_ref().is_none_or(|a| a.is_match(&hit.anchor))
        })
    }
}

/// The page a path is a variant of: language suffixes (`.ja.md`) and version segments (`v1.2`,
/// `2025-06-18`, `draft`, `latest`) removed. The benchmark's own rule, independent of the
/// server's, so that it judges the server's collapsing rather than trusting it.
pub fn variant_key(path: &str) -> String {
    let version = Regex::new(
        r"^(v?\d+(\.\d+)*(\.x)?|version-.+|\d{4}-\d{2}-\d{2}|draft|latest|next|stable|current)$",
    )
    .expect("valid");
    let language = Regex::new(r"\.[a-z]{2}(-[a-z]{2,4})?(\.mdx?)$").expect("valid");
    let lowered = path.to_lowercase();
    let path = language.replace(&lowered, "$2");
    path.split('/')
        .filter(|segment| !version.is_match(segment))
        .collect::<Vec<_>>()
        .join("/")
}

/// How many distinct answers `hits` hold: variants of one page's section, or the same text
/// (an included fragment) under two pages, count once.
pub fn distinct_answers(hits: &[Hit]) -> usize {
    let mut seen_keys: Vec<(String, &str)> = Vec::new();
    let mut seen_snippets: Vec<&str> = Vec::new();
    let mut distinct = 0;
    for hit in hits {
        let key = (variant_key(&hit.path), hit.anchor.as_str());
        let snippet = hit.snippet.trim();
        let repeat =
            seen_keys.contains(&key) || (!snippet.is_empty() && seen_snippets.contains(&snippet));
        if !repeat {
            distinct += 1;
        }
        seen_keys.push(key);
        seen_snippets.push(snippet);
    }
    distinct
}

/// The hits of a `tools/call` answer (JSON or one SSE event).
fn hits_of(body: &str) -> Result<Vec<Hit>, String> {
    let json = match body.lines().find_map(|l| l.strip_prefix("data:")) {
        Some(data) => data.trim(),
        None => body.trim(),
    };
    let message: Value = serde_json::from_str(json).map_err(|e| format!("{e}: {body}"))?;
    let result = &message["result"];
    if result["isError"] == true {
        return Err(format!("tool error: {}", result["content"][0]["text"]));
    }
    let hits = result["structuredContent"]["hits"]
        .as_array()
        .ok_or_else(|| format!("no structuredContent.hits: {body}"))?;
    Ok(hits
        .iter()
        .map(|h| Hit {
            path: h["path"].as_str().unwrap_or_default().to_string(),
            anchor: h["anchor"].as_str().unwrap_or_default().to_string(),
            snippet: h["snippet"].as_str().unwrap_or_default().to_string(),
        })
        .collect())
}

/// Runs every query through the server's `search_docs` (modern `tools/call`, limit 10, one
/// keep-alive connection) and scores the answers.
pub async fn run(addr: SocketAddr, queries: &[Query], extra: &Value) -> Report {
    let mut sender = connect(addr).await;
    let mut outcomes = Vec::with_capacity(queries.len());
    for (i, query) in queries.iter().enumerate() {
        let mut arguments = json!({ "query": query.text, "limit": 10 });
        if let (Some(arguments), Some(extra)) = (arguments.as_object_mut(), extra.as_object()) {
            arguments.extend(extra.clone());
        }
        let params =
            json!({ "name": "search_docs", "arguments": arguments, "_meta": modern_meta() });
        let request = post(
            addr,
            &[
                ("mcp-protocol-version", MODERN_VERSION),
                ("mcp-method", "tools/call"),
                ("mcp-name", "search_docs"),
            ],
            &json!({ "jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params }),
        );
        let sent = Instant::now();
        let (_, body) = exchange(&mut sender, request)
            .await
            .unwrap_or_else(|e| panic!("search_docs {:?} failed: {e}", query.text));
        let micros = sent.elapsed().as_micros() as u32;
        let hits = hits_of(&body).unwrap_or_else(|e| panic!("{:?}: {e}", query.text));
        outcomes.push(outcome(query, hits, micros));
    }
    Report { outcomes }
}

/// Scores one query's hits.
pub fn outcome(query: &Query, hits: Vec<Hit>, micros: u32) -> Outcome {
    let rank = hits
        .iter()
        .take(10)
        .position(|h| query.accepts(h))
        .map(|r| r + 1);
    let distinct = distinct_answers(&hits[..hits.len().min(5)]);
    Outcome {
        query: query.text.clone(),
        rank,
        distinct,
        hits,
        micros,
    }
}

/// Runs every query through an index in this process (no server, no HTTP): for tuning.
pub fn run_in_process(
    corpus: &mcp_server::docs::corpus::Corpus,
    index: &mcp_server::docs::search::SearchIndex,
    queries: &[Query],
) -> Report {
    let outcomes = queries
        .iter()
        .map(|query| {
            let sent = Instant::now();
            let found = index.search(corpus, &query.text, 10).unwrap_or_default();
            let micros = sent.elapsed().as_micros() as u32;
            let hits = found
                .into_iter()
                .map(|hit| {
                    let page = &corpus.pages[hit.page];
                    Hit {
                        path: page.path.clone(),
                        anchor: page.units[hit.unit].anchor.clone(),
                        snippet: hit.snippet,
                    }
                })
                .collect();
            outcome(query, hits, micros)
        })
        .collect();
    Report { outcomes }
}

impl Report {
    /// Queries with a relevant hit in the first five.
    pub fn recall_at_5(&self) -> f64 {
        let found = self
            .outcomes
            .iter()
            .filter(|o| o.rank.is_some_and(|r| r <= 5));
        found.count() as f64 / self.outcomes.len().max(1) as f64
    }

    /// Mean reciprocal rank of the first relevant hit within ten.
    pub fn mrr_at_10(&self) -> f64 {
        let sum: f64 = self
            .outcomes
            .iter()
            .filter_map(|o| o.rank)
            .map(|r| 1.0 / r as f64)
            .sum();
        sum / self.outcomes.len().max(1) as f64
    }

    /// Mean distinct answers in the first five.
    pub fn distinct_in_5(&self) -> f64 {
        let sum: usize = self.outcomes.iter().map(|o| o.distinct).sum();
        sum as f64 / self.outcomes.len().max(1) as f64
    }

    /// Latency percentile in milliseconds, client side.
    pub fn latency_ms(&self, p: f64) -> f64 {
        let mut micros: Vec<u32> = self.outcomes.iter().map(|o| o.micros).collect();
        micros.sort_unstable();
        crate::load::percentile(&micros, p)
    }

    /// One line of figures.
    pub fn summary(&self) -> String {
        format!(
            "{} queries: recall@5 {:.2}   MRR@10 {:.2}   distinct answers in top 5 {:.2}   latency p50 {:.2} ms   p99 {:.2} ms",
            self.outcomes.len(),
            self.recall_at_5(),
            self.mrr_at_10(),
            self.distinct_in_5(),
            self.latency_ms(0.5),
            self.latency_ms(0.99)
        )
    }

    /// The queries whose answer is not first (`all`: every query), with what came instead.
    pub fn misses(&self, all: bool) -> String {
        let mut out = String::new();
        for outcome in &self.outcomes {
            if !all && outcome.rank == Some(1) && outcome.distinct == outcome.hits.len().min(5) {
                continue;
            }
            out.push_str(&format!(
                "- {:?}: rank {}, distinct {}\n",
                outcome.query,
                outcome.rank.map_or("-".into(), |r| r.to_string()),
                outcome.distinct
            ));
            for hit in outcome.hits.iter().take(5) {
                out.push_str(&format!("    {}#{}\n", hit.path, hit.anchor));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(path: &str, anchor: &str, snippet: &str) -> Hit {
        Hit {
            path: path.into(),
            anchor: anchor.into(),
            snippet: snippet.into(),
        }
    }

    #[test]
    fn variants_and_repeated_text_count_once() {
        assert_eq!(variant_key("docs/svc.en.md"), "docs/svc.md");
        assert_eq!(
            variant_key("spec/2025-06-18/basic/index.mdx"),
            "spec/basic/index.mdx"
        );
        assert_eq!(variant_key("v1.2/guide.md"), variant_key("latest/guide.md"));
        let hits = [
            hit("a/2025-06-18/x.md", "s", "one"),
            hit("a/draft/x.md", "s", "two"),
            hit("b.md", "t", "one"),
            hit("c.md", "t", "three"),
        ];
        assert_eq!(distinct_answers(&hits), 2);
    }
}
