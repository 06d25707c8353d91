//! Autoscaling on both paths: target tracking on the streams per task the server emits and on
//! CPU, with cooldowns, capacities and targets that agree with the alarm and the server's cap.

use std::collections::HashMap;

use mcp_server::config::Config;
use serde_json::{Value, json};

use super::metrics::{MetricRef, check_refs, emitted_as, metric_of, policy_metrics};
use super::stack::{APP, ENV, Stack, text};

#[test]
fn scaling_tracks_the_streams_per_task_the_server_emits_and_cpu() {
    let settings = crate::settings();
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
