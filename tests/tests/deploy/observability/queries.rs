//! The saved Logs Insights queries: the same four on both paths, each reading the service's log
//! group.

use serde_json::json;

use super::stack::{APP, ENV, Stack, stacks, text};

/// The four saved Logs Insights queries, by the last part of their name.
pub const QUERIES: &[&str] = &[
    "SSE streams initiated per 5 minutes",
    "Drain events",
    "Errors",
    "SSE stream closes by reason",
];

#[test]
fn the_four_saved_queries_are_the_same_on_both_paths_and_read_the_service_log_group() {
    let settings = crate::settings();
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
