//! The metrics the templates read (dashboard widgets, alarms, scaling policies), collected as
//! `MetricRef`s and checked against what the server emits: its metric names, its namespace and
//! `Service` dimension on each deployment path, its dimension sets.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use super::stack::{APP, ENV, Stack, text};

/// The metric names of the server's EMF line (mcp-server/src/telemetry/emf.rs): what the
/// templates may read. The per-tool names exist for the three documentation tools.
pub const EMITTED: &[&str] = &[
    "SseConnections",
    "LongLivedStreams",
    "OpenConnections",
    "LegacySessions",
    "Draining",
    "Requests",
    "LatencyP50",
    "LatencyP99",
    "LatencyMax",
    "ToolCalls",
    "ToolErrors",
    "ToolCalls.search_docs",
    "ToolCalls.read_doc",
    "ToolCalls.list_docs",
    "ToolErrors.search_docs",
    "ToolErrors.read_doc",
    "ToolErrors.list_docs",
    "Http403",
    "Http404",
    "Http413",
    "Http429",
    "Http503",
    "Http5xx",
    "Timeouts",
];

/// One metric a template reads.
#[derive(Debug, Clone)]
pub struct MetricRef {
    pub origin: String,
    pub namespace: String,
    pub name: String,
    /// Dimension names and values (`*` where a search matches any value).
    pub dimensions: Vec<(String, String)>,
    pub stat: String,
}

/// The lower-case identifiers of a metric math expression (its functions are upper case) must
/// be ids of the metrics beside it.
fn check_expression(origin: &str, expression: &str, ids: &BTreeSet<String>) {
    let identifier = Regex::new(r"\b[a-z][A-Za-z0-9_]*\b").unwrap();
    for id in identifier.find_iter(expression) {
        assert!(
            ids.contains(id.as_str()),
            "{origin}: expression {expression:?} names {}, which is not one of {ids:?}",
            id.as_str()
        );
    }
}

/// The metrics of a `SEARCH('{Namespace,Dim,...} terms', 'Stat', period)` expression.
fn search_ref(origin: &str, expression: &str) -> MetricRef {
    let search =
        Regex::new(r#"^SEARCH\('\{"?([^",}]+)"?((?:,\w+)*)\}\s+(.*)',\s*'(\w+)',\s*(\d+)\)$"#)
            .unwrap();
    let c = search
        .captures(expression)
        .unwrap_or_else(|| panic!("{origin}: unexpected search {expression:?}"));
    let terms = &c[3];
    let name = Regex::new(r#"MetricName="([^"]+)""#)
        .unwrap()
        .captures(terms)
        .unwrap_or_else(|| panic!("{origin}: a search names its MetricName: {expression}"))[1]
        .to_string();
    let dimensions = c[2]
        .split(',')
        .filter(|d| !d.is_empty())
        .map(|d| {
            let value = Regex::new(&format!(r#"\b{d}="([^"]+)""#))
                .unwrap()
                .captures(terms)
                .map(|v| v[1].to_string())
                .unwrap_or_else(|| "*".into());
            (d.to_string(), value)
        })
        .collect();
    MetricRef {
        origin: origin.into(),
        namespace: c[1].to_string(),
        name,
        dimensions,
        stat: c[4].to_string(),
    }
}

/// Every metric the dashboard graphs, with its widget's title as origin.
pub fn dashboard_metrics(stack: &Stack) -> Vec<MetricRef> {
    let body = stack.dashboard();
    let mut refs = Vec::new();
    for widget in body["widgets"].as_array().unwrap() {
        let (x, width) = (widget["x"].as_u64(), widget["width"].as_u64());
        assert!(
            x.unwrap() + width.unwrap() <= 24,
            "{}: widgets fit 24 columns: {widget}",
            stack.label
        );
        if widget["type"] != "metric" {
            continue;
        }
        let properties = &widget["properties"];
        let origin = format!("{}: widget {}", stack.label, properties["title"]);
        assert_eq!(
            properties["region"], stack.values["AWS::Region"],
            "{origin}: the stack's region"
        );
        let rows = properties["metrics"].as_array().unwrap();
        let ids: BTreeSet<String> = rows
            .iter()
            .filter_map(|row| row.as_array()?.last()?.get("id")?.as_str())
            .map(String::from)
            .collect();
        let mut previous: Vec<String> = Vec::new();
        for row in rows {
            let row = row.as_array().unwrap();
            let options = row.last().filter(|v| v.is_object());
            if let Some(expression) = row[0].get("expression").and_then(Value::as_str) {
                if expression.starts_with("SEARCH(") {
                    refs.push(search_ref(&origin, expression));
                } else {
                    check_expression(&origin, expression, &ids);
                }
                continue;
            }
            let fields: Vec<String> = row
                .iter()
                .filter_map(Value::as_str)
                .enumerate()
                .map(|(i, f)| {
                    if f == "." {
                        previous[i].clone()
                    } else {
                        f.to_string()
                    }
                })
                .collect();
            assert!(
                fields.len() >= 2 && fields.len().is_multiple_of(2),
                "{origin}: {row:?}"
            );
            let stat = options
                .and_then(|o| o.get("stat"))
                .or(properties.get("stat"))
                .and_then(Value::as_str)
                .unwrap_or("Average");
            refs.push(MetricRef {
                origin: origin.clone(),
                namespace: fields[0].clone(),
                name: fields[1].clone(),
                dimensions: fields[2..]
                    .chunks(2)
                    .map(|d| (d[0].clone(), d[1].clone()))
                    .collect(),
                stat: stat.into(),
            });
            previous = fields;
        }
    }
    refs
}

pub(super) fn metric_of(stack: &Stack, origin: &str, metric: &Value, stat: &Value) -> MetricRef {
    MetricRef {
        origin: origin.into(),
        namespace: stack.resolve(&metric["Namespace"]),
        name: stack.resolve(&metric["MetricName"]),
        dimensions: metric["Dimensions"]
            .as_array()
            .map(|ds| {
                ds.iter()
                    .map(|d| (stack.resolve(&d["Name"]), stack.resolve(&d["Value"])))
                    .collect()
            })
            .unwrap_or_default(),
        stat: stack.resolve(stat),
    }
}

/// Every metric an alarm of the stack watches.
pub fn alarm_metrics(stack: &Stack) -> Vec<MetricRef> {
    let mut refs = Vec::new();
    for (name, alarm) in stack.resources("AWS::CloudWatch::Alarm") {
        let p = &alarm["Properties"];
        let origin = format!("{}: alarm {name}", stack.label);
        if p.get("MetricName").is_some() {
            refs.push(metric_of(stack, &origin, p, &p["Statistic"]));
            continue;
        }
        let metrics = p["Metrics"].as_array().expect("MetricName or Metrics");
        let ids: BTreeSet<String> = metrics
            .iter()
            .map(|m| m["Id"].as_str().unwrap().to_string())
            .collect();
        let returned: Vec<&Value> = metrics.iter().filter(|m| m["ReturnData"] == true).collect();
        assert_eq!(
            returned.len(),
            1,
            "{origin}: one time series is the alarm's"
        );
        for m in metrics {
            if let Some(expression) = m.get("Expression") {
                check_expression(&origin, expression.as_str().unwrap(), &ids);
            } else {
                let stat = &m["MetricStat"];
                refs.push(metric_of(stack, &origin, &stat["Metric"], &stat["Stat"]));
            }
        }
    }
    refs
}

/// The metrics of every scaling policy with a customized metric.
pub fn policy_metrics(stack: &Stack) -> Vec<MetricRef> {
    stack
        .resources("AWS::ApplicationAutoScaling::ScalingPolicy")
        .into_iter()
        .filter_map(|(name, policy)| {
            let spec = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
                .get("CustomizedMetricSpecification")?;
            Some(metric_of(
                stack,
                &format!("{}: policy {name}", stack.label),
                spec,
                &spec["Statistic"],
            ))
        })
        .collect()
}

/// The namespace and `Service` dimension value the server writes under on this path (what its
/// METRICS_NAMESPACE and METRICS_SERVICE are).
pub fn emitted_as(settings: &Value, stack: &Stack) -> (String, String) {
    let o = &settings["observability"];
    if stack.label.starts_with("template/") {
        let variables = &settings["cloudformation"]["variables"];
        (
            text(&variables["METRICS_NAMESPACE"]),
            text(&variables["METRICS_SERVICE"]),
        )
    } else {
        let variables = &o["manifest"]["variables"];
        let service = text(&variables["METRICS_SERVICE"])
            .replace("${COPILOT_APPLICATION_NAME}", APP)
            .replace("${COPILOT_ENVIRONMENT_NAME}", ENV);
        (text(&variables["METRICS_NAMESPACE"]), service)
    }
}

/// Every metric reference of a stack reads what the server writes.
pub(super) fn check_refs(settings: &Value, stack: &Stack, refs: &[MetricRef]) {
    let (namespace, service) = emitted_as(settings, stack);
    for r in refs {
        if r.namespace == "AWS/ECS" {
            assert!(
                ["CPUUtilization", "MemoryUtilization"].contains(&r.name.as_str()),
                "{}: {r:?}",
                r.origin
            );
            continue;
        }
        assert_eq!(r.namespace, namespace, "{}: namespace of {r:?}", r.origin);
        assert!(
            EMITTED.contains(&r.name.as_str()),
            "{}: {} is not a metric the server emits",
            r.origin,
            r.name
        );
        let service_value = r
            .dimensions
            .iter()
            .find(|(d, _)| d == "Service")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            service_value,
            Some(service.as_str()),
            "{}: the Service dimension of {r:?}",
            r.origin
        );
        for (d, v) in &r.dimensions {
            assert!(
                d == "Service" || (d == "Task" && v == "*"),
                "{}: the server's dimension sets are [Service] and [Service, Task]: {r:?}",
                r.origin
            );
        }
        assert!(
            ["Average", "Maximum", "Minimum", "Sum", "SampleCount"].contains(&r.stat.as_str()),
            "{}: {r:?}",
            r.origin
        );
    }
}
