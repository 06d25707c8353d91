//! The dashboards: JSON once `Fn::Sub` has run, graphing every metric they must on metrics the
//! server emits, with the alarms and the configured targets and thresholds drawn.

use super::metrics::{check_refs, dashboard_metrics};
use super::stack::stacks;

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

#[test]
fn dashboards_are_json_after_sub_and_graph_what_the_server_emits() {
    let settings = crate::settings();
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
