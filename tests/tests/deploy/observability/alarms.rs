//! The alarms: the error rate and the busiest task, on metrics the server emits.

use std::collections::BTreeSet;

use serde_json::json;

use super::metrics::{alarm_metrics, check_refs};
use super::stack::stacks;

#[test]
fn alarms_watch_the_error_rate_and_the_busiest_task_on_metrics_the_server_emits() {
    let settings = crate::settings();
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
