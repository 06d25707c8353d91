//! Autoscaling, alarms, saved queries and dashboards, on both deployment paths (the plain
//! template, and Copilot's manifest, addon and override patch), checked against what the server
//! emits: every metric they read is one of the names of the server's EMF line (namespace,
//! metric, the `Service` dimension with the value the server is given), the dashboards are
//! valid JSON once `Fn::Sub` has run, expressions name metrics that exist, and the numbers that
//! must agree between files do.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::time::Duration;

use mcp_server::config::Config;
use regex::Regex;
use serde_json::{Value, json};
use tests::process::workspace_root;
use tests::tools::{run, tools_dir};

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

/// What each dashboard must graph (the issue: connections, sessions, tool calls, errors by
/// kind, latency, plus the ECS service's CPU and memory).
const GRAPHED: &[&str] = &[
    "SseConnections",
    "LongLivedStreams",
    "OpenConnections",
    "LegacySessions",
    "Draining",
    "Requests",
    "ToolCalls.search_docs",
    "ToolCalls.read_doc",
    "ToolCalls.list_docs",
    "ToolErrors",
    "Http403",
    "Http404",
    "Http413",
    "Http429",
    "Http503",
    "Http5xx",
    "Timeouts",
    "LatencyP50",
    "LatencyP99",
    "LatencyMax",
    "CPUUtilization",
    "MemoryUtilization",
];

/// The four saved Logs Insights queries, by the last part of their name.
pub const QUERIES: &[&str] = &[
    "SSE streams initiated per 5 minutes",
    "Drain events",
    "Errors",
    "SSE stream closes by reason",
];

/// Copilot's application and environment in these checks.
const APP: &str = "app";
const ENV: &str = "prod";

/// One deployment's template with the values its parameters and pseudo parameters take.
pub struct Stack {
    pub label: &'static str,
    pub template: Value,
    values: HashMap<String, String>,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

impl Stack {
    fn new(
        label: &'static str,
        template: &Value,
        pseudo: &Value,
        given: &HashMap<String, String>,
    ) -> Stack {
        let mut values: HashMap<String, String> = pseudo
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        for (name, parameter) in template["Parameters"].as_object().unwrap() {
            let value = given
                .get(name)
                .cloned()
                .or_else(|| parameter.get("Default").map(text));
            if let Some(value) = value {
                values.insert(name.clone(), value);
            }
        }
        Stack {
            label,
            template: template.clone(),
            values,
        }
    }

    /// `template/service.yml` with its defaults.
    pub fn plain(settings: &Value) -> Stack {
        let o = &settings["observability"];
        Stack::new(
            "template/service.yml",
            &o["service"],
            &o["pseudo"],
            &HashMap::new(),
        )
    }

    /// The Copilot addon with `addons.parameters.yml` and the parameters Copilot passes.
    pub fn copilot(settings: &Value) -> Stack {
        let o = &settings["observability"];
        let mut given: HashMap<String, String> = o["copilotAddonParameters"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        given.insert("App".into(), APP.into());
        given.insert("Env".into(), ENV.into());
        given.insert("Name".into(), text(&o["manifest"]["name"]));
        Stack::new(
            "copilot/docs-mcp/addons/observability.yml",
            &o["copilotAddon"],
            &o["pseudo"],
            &given,
        )
    }

    pub fn resources(&self, kind: &str) -> Vec<(&String, &Value)> {
        self.template["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == kind)
            .collect()
    }

    pub fn resource(&self, name: &str) -> &Value {
        let resource = &self.template["Resources"][name];
        assert!(resource.is_object(), "{}: no resource {name}", self.label);
        resource
    }

    /// `${...}` of an `Fn::Sub` string: parameters, pseudo parameters, `vars` (the list form's
    /// map), resources (`Name` gives `Name-ref`, `Name.Attr` gives `Name-Attr`); `${!x}` is the
    /// literal `${x}`. Anything else fails: CloudFormation would refuse the template.
    pub fn sub(&self, template: &str, vars: &HashMap<String, String>) -> String {
        let placeholder = Regex::new(r"\$\{([^}]*)\}").unwrap();
        placeholder
            .replace_all(template, |c: &regex::Captures| {
                let name = &c[1];
                if let Some(literal) = name.strip_prefix('!') {
                    return format!("${{{literal}}}");
                }
                if let Some(value) = vars.get(name).or_else(|| self.values.get(name)) {
                    return value.clone();
                }
                let (resource, attribute) = name.split_once('.').unwrap_or((name, "ref"));
                assert!(
                    self.template["Resources"][resource].is_object(),
                    "{}: Fn::Sub names ${{{name}}}, which is neither a parameter nor a resource",
                    self.label
                );
                format!("{resource}-{attribute}")
            })
            .into_owned()
    }

    /// A property's value as a deployment would see it (Ref, Fn::Sub, literals).
    pub fn resolve(&self, value: &Value) -> String {
        match value {
            Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => {
                let name = o["Ref"].as_str().unwrap();
                self.values
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| self.sub(&format!("${{{name}}}"), &HashMap::new()))
            }
            Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => match &o["Fn::Sub"] {
                Value::String(s) => self.sub(s, &HashMap::new()),
                Value::Array(parts) => {
                    let vars = parts[1]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), self.dummy(k, v)))
                        .collect();
                    self.sub(parts[0].as_str().unwrap(), &vars)
                }
                other => panic!("{}: Fn::Sub {other}", self.label),
            },
            Value::Object(_) | Value::Array(_) => panic!("{}: cannot resolve {value}", self.label),
            scalar => text(scalar),
        }
    }

    /// A stand-in for an `Fn::Sub` map variable that only a deployment knows (an import).
    fn dummy(&self, name: &str, value: &Value) -> String {
        match value {
            Value::Object(o) if o.contains_key("Fn::ImportValue") => format!("{name}-imported"),
            other => self.resolve(other),
        }
    }

    /// The value of a parameter.
    pub fn parameter(&self, name: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("{}: no parameter {name}", self.label))
    }

    /// The dashboard's body after `Fn::Sub`, parsed.
    pub fn dashboard(&self) -> Value {
        let dashboards = self.resources("AWS::CloudWatch::Dashboard");
        assert_eq!(dashboards.len(), 1, "{}: one dashboard", self.label);
        let body = self.resolve(&dashboards[0].1["Properties"]["DashboardBody"]);
        serde_json::from_str(&body).unwrap_or_else(|e| {
            panic!(
                "{}: the dashboard body is not JSON after Fn::Sub: {e}\n{body}",
                self.label
            )
        })
    }
}

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

fn metric_of(stack: &Stack, origin: &str, metric: &Value, stat: &Value) -> MetricRef {
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
fn check_refs(settings: &Value, stack: &Stack, refs: &[MetricRef]) {
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

fn stacks(settings: &Value) -> [Stack; 2] {
    [Stack::plain(settings), Stack::copilot(settings)]
}

fn settings() -> Value {
    super::settings()
}

#[test]
fn dashboards_are_json_after_sub_and_graph_what_the_server_emits() {
    let settings = settings();
    for stack in stacks(&settings) {
        let refs = dashboard_metrics(&stack);
        check_refs(&settings, &stack, &refs);
        for wanted in GRAPHED {
            assert!(
                refs.iter().any(|r| r.name == *wanted),
                "{}: the dashboard does not graph {wanted}",
                stack.label
            );
        }
        // The alarm widget shows both alarms, and the lines drawn on the graphs are the
        // targets and thresholds the stack configures.
        let body = stack.dashboard();
        let widgets = body["widgets"].as_array().unwrap();
        let alarm_widget = widgets
            .iter()
            .find(|w| w["type"] == "alarm")
            .expect("an alarm widget");
        let alarms: Vec<&str> = alarm_widget["properties"]["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut expected: Vec<String> = stack
            .resources("AWS::CloudWatch::Alarm")
            .iter()
            .map(|(name, _)| format!("{name}-Arn"))
            .collect();
        expected.sort();
        let mut shown: Vec<String> = alarms.iter().map(|a| a.to_string()).collect();
        shown.sort();
        assert_eq!(shown, expected, "{}: the alarm widget", stack.label);
        let lines: Vec<(String, f64)> = widgets
            .iter()
            .flat_map(|w| {
                w["properties"]["annotations"]["horizontal"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|a| {
                (
                    a["label"].as_str().unwrap().to_string(),
                    a["value"].as_f64().unwrap(),
                )
            })
            .collect();
        for (label, parameter) in [
            ("scaling target", "ConnectionsPerTaskTarget"),
            ("alarm", "ConnectionsAlarmThreshold"),
            ("CPU scaling target", "CpuTargetPercent"),
            ("error-rate alarm", "ErrorRateAlarmPercent"),
        ] {
            let value: f64 = stack.parameter(parameter).parse().unwrap();
            assert!(
                lines.contains(&(label.to_string(), value)),
                "{}: the line {label:?} at {parameter} ({value}): {lines:?}",
                stack.label
            );
        }
    }
}

#[test]
fn alarms_watch_the_error_rate_and_the_busiest_task_on_metrics_the_server_emits() {
    let settings = settings();
    for stack in stacks(&settings) {
        let refs = alarm_metrics(&stack);
        check_refs(&settings, &stack, &refs);
        let alarms = stack.resources("AWS::CloudWatch::Alarm");
        assert_eq!(alarms.len(), 2, "{}", stack.label);

        let rate = &stack.resource("ErrorRateAlarm")["Properties"];
        let watched: BTreeSet<&str> = refs
            .iter()
            .filter(|r| r.origin.ends_with("ErrorRateAlarm"))
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            watched,
            BTreeSet::from(["Requests", "Http5xx", "Timeouts"]),
            "{}: (5xx + timeouts) / requests",
            stack.label
        );
        assert!(
            refs.iter()
                .filter(|r| r.origin.ends_with("ErrorRateAlarm"))
                .all(|r| r.stat == "Sum"),
            "{}: counts are summed over every task",
            stack.label
        );
        assert_eq!(rate["Threshold"], json!({ "Ref": "ErrorRateAlarmPercent" }));
        assert_eq!(rate["TreatMissingData"], "notBreaching");

        let busiest = &stack.resource("ConnectionsAlarm")["Properties"];
        assert_eq!(busiest["MetricName"], "SseConnections", "{}", stack.label);
        assert_eq!(
            busiest["Statistic"], "Maximum",
            "{}: the busiest task, not the average",
            stack.label
        );
        assert_eq!(
            busiest["Threshold"],
            json!({ "Ref": "ConnectionsAlarmThreshold" })
        );
        for (_, alarm) in &alarms {
            let p = &alarm["Properties"];
            assert_eq!(
                p["AlarmActions"],
                json!({ "Fn::If": ["HasAlarmTopic", [{ "Ref": "AlarmTopicArn" }], { "Ref": "AWS::NoValue" }] }),
                "{}: notifies the topic when one is given",
                stack.label
            );
            assert_eq!(p["OKActions"], p["AlarmActions"]);
        }
    }
}

#[test]
fn scaling_tracks_the_streams_per_task_the_server_emits_and_cpu() {
    let settings = settings();
    let plain = Stack::plain(&settings);
    let template = &plain.template;

    // The plain template: autoscaling owns the count.
    let service = &plain.resource("Service")["Properties"];
    assert!(
        service.get("DesiredCount").is_none(),
        "a DesiredCount would reset the count on every stack update"
    );
    let target = &plain.resource("ScalableTarget")["Properties"];
    assert_eq!(target["ServiceNamespace"], "ecs");
    assert_eq!(target["ScalableDimension"], "ecs:service:DesiredCount");
    assert_eq!(
        target["ResourceId"],
        json!({ "Fn::Sub": "service/${Cluster}/${Service.Name}" })
    );
    assert_eq!(target["MinCapacity"], json!({ "Ref": "MinTasks" }));
    assert_eq!(target["MaxCapacity"], json!({ "Ref": "MaxTasks" }));
    let (min, max): (u32, u32) = (
        plain.parameter("MinTasks").parse().unwrap(),
        plain.parameter("MaxTasks").parse().unwrap(),
    );
    assert!(
        min >= 2 && max > min,
        "two tasks at least, so one can drain"
    );

    let policies = plain.resources("AWS::ApplicationAutoScaling::ScalingPolicy");
    assert_eq!(policies.len(), 2);
    for (name, policy) in &policies {
        let p = &policy["Properties"];
        assert_eq!(p["PolicyType"], "TargetTrackingScaling", "{name}");
        assert_eq!(p["ScalingTargetId"], json!({ "Ref": "ScalableTarget" }));
        check_cooldowns(name, &p["TargetTrackingScalingPolicyConfiguration"]);
    }
    let connections = &plain.resource("ConnectionsScalingPolicy")["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        connections["TargetValue"],
        json!({ "Ref": "ConnectionsPerTaskTarget" })
    );
    let cpu = &plain.resource("CpuScalingPolicy")["Properties"]["TargetTrackingScalingPolicyConfiguration"];
    assert_eq!(
        cpu["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "ECSServiceAverageCPUUtilization"
    );
    assert_eq!(cpu["TargetValue"], json!({ "Ref": "CpuTargetPercent" }));
    let refs = policy_metrics(&plain);
    check_scaling_metric(&settings, &plain, &refs);
    // The server is told the namespace and Service dimension the policy reads.
    let environment = &template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
        [0]["Environment"];
    let env = |name: &str| {
        environment
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["Name"] == name)
            .map(|e| e["Value"].clone())
            .unwrap_or_else(|| panic!("the task sets {name}"))
    };
    assert_eq!(
        env("METRICS_NAMESPACE"),
        json!({ "Ref": "MetricsNamespace" })
    );
    assert_eq!(env("METRICS_SERVICE"), json!({ "Ref": "AWS::StackName" }));
    assert!(
        !environment
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["Name"] == "METRICS_EMF_INTERVAL"),
        "the EMF interval keeps its ECS default (a line a minute, what the policy's 1-minute data needs)"
    );

    // Sizing: a task's share when one of MinTasks drains stays under the alarm, and the alarm
    // under the stream cap the server sets itself for the task's memory.
    let variables: HashMap<String, String> =
        serde_json::from_value(settings["cloudformation"]["variables"].clone()).unwrap();
    let config = Config::from_lookup(|key| variables.get(key).cloned()).unwrap();
    let target: f64 = plain.parameter("ConnectionsPerTaskTarget").parse().unwrap();
    let alarm: f64 = plain
        .parameter("ConnectionsAlarmThreshold")
        .parse()
        .unwrap();
    assert!(
        target * f64::from(min) / f64::from(min - 1) <= alarm,
        "with {min} tasks at {target} streams, one draining moves its streams onto the others: they must stay under the alarm ({alarm})"
    );
    assert!(
        alarm < config.max_sse_connections as f64,
        "the alarm ({alarm}) must fire before a task refuses streams (MAX_SSE_CONNECTIONS {} for the task's memory)",
        config.max_sse_connections
    );

    // Copilot: the manifest's range and CPU target, and the patch's policy on the streams.
    let copilot = Stack::copilot(&settings);
    let o = &settings["observability"];
    let count = &o["manifest"]["count"];
    let range = count["range"].as_str().expect("count.range: autoscaling");
    let (low, high) = range.split_once('-').unwrap();
    let (low, high): (u32, u32) = (low.parse().unwrap(), high.parse().unwrap());
    assert!(low >= 2 && high > low, "range {range}");
    assert_eq!(
        count["cpu_percentage"].as_u64().map(|v| v.to_string()),
        Some(copilot.parameter("CpuTargetPercent")),
        "the manifest's cpu_percentage is the dashboard's CPU target (addons.parameters.yml)"
    );
    let seconds = |v: &Value| -> u64 { v.as_str().unwrap().trim_end_matches('s').parse().unwrap() };
    assert!(seconds(&count["cooldown"]["out"]) <= 60);
    assert!(seconds(&count["cooldown"]["in"]) >= 300);

    let patch = o["copilotPatch"].as_array().unwrap();
    assert_eq!(patch.len(), 1, "one patch: the policy");
    assert_eq!(patch[0]["op"], "add");
    let path = patch[0]["path"].as_str().unwrap();
    let name = path
        .strip_prefix("/Resources/")
        .expect("adds a resource to the service's stack");
    let policy = &patch[0]["value"];
    assert_eq!(policy["Type"], "AWS::ApplicationAutoScaling::ScalingPolicy");
    let p = &policy["Properties"];
    assert_eq!(p["PolicyType"], "TargetTrackingScaling");
    assert_eq!(
        p["ScalingTargetId"],
        json!({ "Ref": "AutoScalingTarget" }),
        "Copilot's scalable target"
    );
    let configuration = &p["TargetTrackingScalingPolicyConfiguration"];
    check_cooldowns(name, configuration);
    assert_eq!(
        text(&configuration["TargetValue"]),
        copilot.parameter("ConnectionsPerTaskTarget"),
        "the patch's target is the dashboard's (addons.parameters.yml)"
    );
    // The patch lives in Copilot's service template, whose parameters are AppName, EnvName and
    // WorkloadName: the same service dimension as the addon's App, Env and Name.
    let service_stack = Stack::new(
        "copilot/docs-mcp/overrides/cfn.patches.yml",
        &json!({
            "Parameters": {
                "AppName": { "Default": APP },
                "EnvName": { "Default": ENV },
                "WorkloadName": { "Default": o["manifest"]["name"] }
            },
            "Resources": {}
        }),
        &o["pseudo"],
        &HashMap::new(),
    );
    let spec = &configuration["CustomizedMetricSpecification"];
    let refs = vec![metric_of(
        &service_stack,
        service_stack.label,
        spec,
        &spec["Statistic"],
    )];
    check_scaling_metric(&settings, &copilot, &refs);
    assert_eq!(
        copilot.parameter("MetricsNamespace"),
        emitted_as(&settings, &copilot).0,
        "addons.parameters.yml's MetricsNamespace is the manifest's METRICS_NAMESPACE"
    );
}

/// Scale out within a minute, in only after five.
fn check_cooldowns(name: &str, configuration: &Value) {
    let out = configuration["ScaleOutCooldown"].as_u64().unwrap();
    let inward = configuration["ScaleInCooldown"].as_u64().unwrap();
    assert!(
        out <= 60 && inward >= 300,
        "{name}: out {out} s, in {inward} s"
    );
}

/// The one customized metric is the server's SseConnections, averaged over the tasks.
fn check_scaling_metric(settings: &Value, stack: &Stack, refs: &[MetricRef]) {
    assert_eq!(refs.len(), 1, "{}: {refs:?}", stack.label);
    let (namespace, service) = emitted_as(settings, stack);
    let r = &refs[0];
    assert_eq!(r.namespace, namespace, "{}", r.origin);
    assert_eq!(r.name, "SseConnections", "{}", r.origin);
    assert_eq!(
        r.dimensions,
        vec![("Service".to_string(), service)],
        "{}: the [Service] dimension set, whose Average is the mean per task",
        r.origin
    );
    assert_eq!(r.stat, "Average", "{}", r.origin);
    check_refs(settings, stack, refs);
}

#[test]
fn the_copilot_scaling_patch_applies_to_the_template_copilot_writes_and_lints_clean() {
    let settings = settings();
    let o = &settings["observability"];
    let count = &o["manifest"]["count"];
    let (low, high) = count["range"].as_str().unwrap().split_once('-').unwrap();
    // The part of the service template Copilot (v1.34, its autoscaling.yml) writes for a
    // `count` with a range, with the names the patch relies on.
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "AppName": { "Type": "String" },
            "EnvName": { "Type": "String" },
            "WorkloadName": { "Type": "String" }
        },
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": { "Fn::ImportValue": { "Fn::Sub": "${AppName}-${EnvName}-ClusterId" } },
                    "TaskDefinition": { "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/docs-mcp:1" }
                }
            },
            "AutoScalingRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }]
                    },
                    "ManagedPolicyArns": [{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole" }]
                }
            },
            "AutoScalingTarget": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "MinCapacity": low.parse::<u32>().unwrap(),
                    "MaxCapacity": high.parse::<u32>().unwrap(),
                    "ResourceId": { "Fn::Join": ["/", ["service", { "Fn::ImportValue": { "Fn::Sub": "${AppName}-${EnvName}-ClusterId" } }, { "Fn::GetAtt": ["Service", "Name"] }]] },
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ServiceNamespace": "ecs",
                    "RoleARN": { "Fn::GetAtt": ["AutoScalingRole", "Arn"] }
                }
            },
            "AutoScalingPolicyECSServiceAverageCPUUtilization": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": { "Fn::Join": ["-", [{ "Ref": "WorkloadName" }, "ECSServiceAverageCPUUtilization", "ScalingPolicy"]] },
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": { "Ref": "AutoScalingTarget" },
                    "TargetTrackingScalingPolicyConfiguration": {
                        "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" },
                        "ScaleInCooldown": 300,
                        "ScaleOutCooldown": 60,
                        "TargetValue": count["cpu_percentage"]
                    }
                }
            }
        }
    });
    let before = template["Resources"].as_object().unwrap().len();
    for operation in o["copilotPatch"].as_array().unwrap() {
        apply(&mut template, operation);
    }
    assert_eq!(
        template["Resources"].as_object().unwrap().len(),
        before + 1,
        "the patch adds the policy and touches nothing Copilot made"
    );

    let dir = std::env::temp_dir().join(format!("deploy-patch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copilot-service-patched.json");
    std::fs::write(&file, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    let lint = tools_dir().join("venv/bin/cfn-lint");
    assert!(
        lint.exists(),
        "cfn-lint is missing: run scripts/install-test-tools.sh (pip cfn-lint)"
    );
    let mut command = Command::new(lint);
    command
        .current_dir(workspace_root())
        .args(["--non-zero-exit-code", "warning"])
        .arg(&file);
    let (code, output) = run(command, Duration::from_secs(300));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        code,
        Some(0),
        "cfn-lint on Copilot's template with the patch applied:\n{output}"
    );
}

/// One RFC 6902 operation, as Copilot applies it (add, remove, replace).
fn apply(document: &mut Value, operation: &Value) {
    let path = operation["path"].as_str().unwrap();
    let (parent, last) = path.rsplit_once('/').unwrap();
    let unescape = |t: &str| t.replace("~1", "/").replace("~0", "~");
    let target = document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("the patch's path {path} is not in Copilot's template"));
    let key = unescape(last);
    match (operation["op"].as_str().unwrap(), target) {
        ("add" | "replace", Value::Object(map)) => {
            map.insert(key, operation["value"].clone());
        }
        ("add", Value::Array(items)) if key == "-" => items.push(operation["value"].clone()),
        ("add", Value::Array(items)) => {
            items.insert(key.parse().unwrap(), operation["value"].clone())
        }
        ("replace", Value::Array(items)) => {
            items[key.parse::<usize>().unwrap()] = operation["value"].clone()
        }
        ("remove", Value::Object(map)) => {
            map.remove(&key).expect("removes what exists");
        }
        ("remove", Value::Array(items)) => {
            items.remove(key.parse().unwrap());
        }
        (op, _) => panic!("unsupported patch {op} at {path}"),
    }
}

#[test]
fn the_four_saved_queries_are_the_same_on_both_paths_and_read_the_service_log_group() {
    let settings = settings();
    let [plain, copilot] = stacks(&settings);
    let plain_queries = saved_queries(&plain);
    let copilot_queries = saved_queries(&copilot);
    let mut expected: Vec<String> = QUERIES.iter().map(|q| q.to_string()).collect();
    expected.sort();
    assert_eq!(
        plain_queries.keys().cloned().collect::<Vec<_>>(),
        expected,
        "the four saved queries"
    );
    assert_eq!(plain_queries, copilot_queries, "the same query text");
    for (stack, log_group) in [
        (&plain, json!([{ "Ref": "LogGroup" }])),
        (
            &copilot,
            json!([{ "Fn::Sub": "/copilot/${App}-${Env}-${Name}" }]),
        ),
    ] {
        for (name, query) in stack.resources("AWS::Logs::QueryDefinition") {
            assert_eq!(
                query["Properties"]["LogGroupNames"], log_group,
                "{}: {name} reads the service's log group",
                stack.label
            );
        }
    }
    // Copilot's log group, as its service template names it.
    assert_eq!(
        copilot.resolve(&json!({ "Fn::Sub": "/copilot/${App}-${Env}-${Name}" })),
        format!(
            "/copilot/{APP}-{ENV}-{}",
            settings["observability"]["manifest"]["name"]
                .as_str()
                .unwrap()
        )
    );
}

/// A stack's saved queries: the last part of each name, and its query text.
pub fn saved_queries(stack: &Stack) -> std::collections::BTreeMap<String, String> {
    stack
        .resources("AWS::Logs::QueryDefinition")
        .into_iter()
        .map(|(_, q)| {
            let name = stack.resolve(&q["Properties"]["Name"]);
            let short = name.rsplit('/').next().unwrap().to_string();
            (short, text(&q["Properties"]["QueryString"]))
        })
        .collect()
}
