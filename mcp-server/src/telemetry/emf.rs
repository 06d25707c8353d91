//! CloudWatch Embedded Metric Format: every `METRICS_EMF_INTERVAL` one JSON line on stdout,
//! which the awslogs driver sends to CloudWatch Logs, which turns it into metrics (no agent, no
//! API call, no IAM permission).
//!
//! One line per interval, under the namespace `METRICS_NAMESPACE`, with two dimension sets:
//! `[Service]` (the fleet: what autoscaling and alarms read) and `[Service, Task]` (one task).
//! A line carries one value per dimension, so figures kept by label elsewhere (tool calls by
//! tool, responses by status) are metrics of their own names here (`ToolCalls.search_docs`,
//! `Http429`). Counters are what happened in the interval; gauges are the value when the line
//! is written; latency is the interval's p50, p99 and maximum.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{Registry, Storage};
use serde_json::{Map, Value, json};

use super::histogram;
use crate::meters;

/// Dimensions of every metric in the line.
#[derive(Debug, Clone)]
pub struct Dimensions {
    pub namespace: String,
    pub service: String,
    pub task: String,
}

/// What the EMF recorder keeps per metric: counters and gauges as atomics, histograms as fixed
/// buckets.
#[derive(Default)]
pub struct EmfStorage;

impl Storage<Key> for EmfStorage {
    type Counter = Arc<AtomicU64>;
    type Gauge = Arc<AtomicU64>;
    type Histogram = Arc<histogram::Histogram>;

    fn counter(&self, _: &Key) -> Self::Counter {
        Arc::new(AtomicU64::new(0))
    }

    fn gauge(&self, _: &Key) -> Self::Gauge {
        Arc::new(AtomicU64::new(0))
    }

    fn histogram(&self, _: &Key) -> Self::Histogram {
        Arc::new(histogram::Histogram::default())
    }
}

/// The recorder the EMF line is read from (beside Prometheus's, through a fan-out).
pub struct EmfRecorder {
    registry: Arc<Registry<Key, EmfStorage>>,
}

/// The reading side of [`EmfRecorder`]: builds each interval's line.
pub struct EmfWriter {
    registry: Arc<Registry<Key, EmfStorage>>,
    dimensions: Dimensions,
    /// Each counter's value at the last line, to write what the interval added.
    last: BTreeMap<Key, u64>,
}

/// A recorder and the writer that reads it.
pub fn pair(dimensions: Dimensions) -> (EmfRecorder, EmfWriter) {
    let registry = Arc::new(Registry::new(EmfStorage));
    (
        EmfRecorder {
            registry: registry.clone(),
        },
        EmfWriter {
            registry,
            dimensions,
            last: BTreeMap::new(),
        },
    )
}

impl Recorder for EmfRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.registry
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.registry
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.registry
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

/// The CloudWatch unit of each metric of the line.
fn unit(name: &str) -> &'static str {
    match name {
        "Draining" => "None",
        "LatencyP50" | "LatencyP99" | "LatencyMax" => "Milliseconds",
        "ResidentMemory" => "Bytes",
        _ => "Count",
    }
}

impl EmfWriter {
    /// The line for the interval that ends now (`timestamp_ms`: its time), as JSON text.
    pub fn line(&mut self, timestamp_ms: u64) -> String {
        let mut values: BTreeMap<String, f64> = BTreeMap::new();
        // Counters: what each added since the last line, summed into the line's names.
        for name in [
            "Requests",
            "Http401",
            "Http403",
            "Http404",
            "Http413",
            "Http429",
            "Http503",
            "Http5xx",
            "ConnectionsRefused",
            "Cancelled",
            "ToolCalls",
            "ToolErrors",
            "Timeouts",
            "ClientTimeouts",
            "Panics",
        ] {
            values.insert(name.to_string(), 0.0);
        }
        let mut deltas = Vec::new();
        self.registry.visit_counters(|key, counter| {
            let now = counter.load(Ordering::Relaxed);
            let before = self.last.get(key).copied().unwrap_or(0);
            deltas.push((key.clone(), now.saturating_sub(before), now));
        });
        for (key, delta, now) in deltas {
            self.last.insert(key.clone(), now);
            for name in names_of_counter(&key) {
                *values.entry(name).or_insert(0.0) += delta as f64;
            }
        }
        self.registry.visit_gauges(|key, gauge| {
            if let Some(name) = name_of_gauge(key.name()) {
                values.insert(
                    name.to_string(),
                    f64::from_bits(gauge.load(Ordering::Relaxed)),
                );
            }
        });
        self.registry.visit_histograms(|key, histogram| {
            let mcp = key
                .labels()
                .any(|l| l.key() == "route" && l.value() == meters::Route::Mcp.label());
            if key.name() == meters::HTTP_DURATION
                && mcp
                && let Some(summary) = histogram.drain()
            {
                values.insert("LatencyP50".into(), summary.p50);
                values.insert("LatencyP99".into(), summary.p99);
                values.insert("LatencyMax".into(), summary.max);
            }
        });
        let d = &self.dimensions;
        let metrics: Vec<Value> = values
            .keys()
            .map(|name| json!({ "Name": name, "Unit": unit(name) }))
            .collect();
        let mut root = Map::new();
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": d.namespace,
                    "Dimensions": [["Service"], ["Service", "Task"]],
                    "Metrics": metrics,
                }],
            }),
        );
        root.insert("Service".into(), json!(d.service));
        root.insert("Task".into(), json!(d.task));
        for (name, value) in values {
            root.insert(name, json!(value));
        }
        Value::Object(root).to_string()
    }
}

/// The line's names a counter adds to.
fn names_of_counter(key: &Key) -> Vec<String> {
    let label = |wanted: &str| {
        key.labels()
            .find(|l| l.key() == wanted)
            .map(|l| l.value().to_string())
            .unwrap_or_default()
    };
    let name = key.name();
    if name == meters::HTTP_REQUESTS {
        let status = label("status");
        let route = label("route");
        let mut names = Vec::new();
        if route == meters::Route::Mcp.label() {
            names.push("Requests".to_string());
        }
        // /health's answers are the load balancer's business (a draining task answers 503 on
        // purpose), not errors clients met.
        if route == meters::Route::Health.label() {
            return names;
        }
        if matches!(
            status.as_str(),
            "401" | "403" | "404" | "413" | "429" | "503"
        ) {
            names.push(format!("Http{status}"));
        }
        if status.starts_with('5') {
            names.push("Http5xx".to_string());
        }
        names
    } else if name == meters::CONNECTIONS_REFUSED {
        vec!["ConnectionsRefused".to_string()]
    } else if name == meters::HTTP_CANCELLED {
        vec!["Cancelled".to_string()]
    } else if name == meters::PANICS {
        vec!["Panics".to_string()]
    } else if name == meters::TOOL_CALLS {
        let tool = label("tool");
        let mut names = vec!["ToolCalls".to_string(), format!("ToolCalls.{tool}")];
        if label("outcome") != meters::Outcome::Ok.label() {
            names.push("ToolErrors".to_string());
            names.push(format!("ToolErrors.{tool}"));
        }
        names
    } else if name == meters::TIMEOUTS {
        // The server's own deadline, apart from clients that never sent their request.
        if label("limit") == "REQUEST_TIMEOUT" {
            vec!["Timeouts".to_string()]
        } else {
            vec!["ClientTimeouts".to_string()]
        }
    } else {
        Vec::new()
    }
}

/// The line's name of a gauge.
fn name_of_gauge(name: &str) -> Option<&'static str> {
    Some(match name {
        meters::SSE_CONNECTIONS => "SseConnections",
        meters::LONG_LIVED_STREAMS => "LongLivedStreams",
        meters::OPEN_CONNECTIONS => "OpenConnections",
        meters::LEGACY_SESSIONS => "LegacySessions",
        meters::DRAINING => "Draining",
        meters::RESIDENT_MEMORY => "ResidentMemory",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn writer() -> (EmfRecorder, EmfWriter) {
        pair(Dimensions {
            namespace: "DocsMcp".into(),
            service: "docs".into(),
            task: "abc".into(),
        })
    }

    #[test]
    fn a_line_holds_the_interval_counts_and_the_gauges_now() {
        let (recorder, mut writer) = writer();
        metrics::with_local_recorder(&recorder, || {
            meters::response(meters::Route::Mcp, 200, Duration::from_millis(2));
            meters::response(meters::Route::Mcp, 429, Duration::from_millis(1));
            meters::response(meters::Route::Health, 200, Duration::from_millis(90));
            meters::refused();
            meters::response(meters::Route::Health, 503, Duration::from_millis(1));
            meters::timeout("BODY_READ_TIMEOUT");
            meters::tool_call("search_docs", meters::Outcome::Ok);
            meters::tool_call("search_docs", meters::Outcome::Error);
            meters::tool_call("read_doc", meters::Outcome::Failed);
            meters::timeout("REQUEST_TIMEOUT");
            metrics::gauge!(meters::SSE_CONNECTIONS).set(7.0);
        });
        let line: Value = serde_json::from_str(&writer.line(1_700_000_000_000)).unwrap();
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(line["Service"], "docs");
        assert_eq!(line["Task"], "abc");
        assert_eq!(line["Requests"], 2.0, "health checks are not /mcp requests");
        assert_eq!(line["Http429"], 1.0);
        assert_eq!(
            line["Http503"], 0.0,
            "a draining /health's 503 is no client's error"
        );
        assert_eq!(line["Http5xx"], 0.0);
        assert_eq!(line["ConnectionsRefused"], 1.0);
        assert_eq!(line["ClientTimeouts"], 1.0);
        assert_eq!(line["ToolCalls"], 3.0);
        assert_eq!(line["ToolCalls.search_docs"], 2.0);
        assert_eq!(line["ToolErrors"], 2.0);
        assert_eq!(line["ToolErrors.search_docs"], 1.0);
        assert_eq!(line["ToolErrors.read_doc"], 1.0);
        assert_eq!(line["Timeouts"], 1.0);
        assert_eq!(line["SseConnections"], 7.0);
        let p50 = line["LatencyP50"].as_f64().unwrap();
        let max = line["LatencyMax"].as_f64().unwrap();
        assert!((1.0..=2.1).contains(&p50), "p50 {p50}: /mcp only");
        assert_eq!(max, 2.0, "the health check's 90 ms is not /mcp latency");
        // Every metric named in the directive is a number at the root, with a unit.
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(line[name].is_number(), "{name}");
        }

        // The next interval: counters start from zero, gauges stay, latency is absent.
        metrics::with_local_recorder(&recorder, || {
            meters::tool_call("search_docs", meters::Outcome::Ok);
        });
        let next: Value = serde_json::from_str(&writer.line(1_700_000_060_000)).unwrap();
        assert_eq!(next["ToolCalls"], 1.0);
        assert_eq!(next["ToolErrors.search_docs"], 0.0);
        assert_eq!(next["Requests"], 0.0);
        assert_eq!(next["SseConnections"], 7.0);
        assert!(next.get("LatencyP50").is_none(), "no request, no latency");
    }
}
