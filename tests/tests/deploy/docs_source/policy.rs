//! IAM policy statements as IAM evaluates them, for the few shapes the deployment files use:
//! `Action` and `Resource` (a string or a list, with `*` and `?` wildcards), the
//! `StringEquals` and `StringLike` conditions (a key missing from the request matches nothing),
//! and an explicit `Deny` over any `Allow`. Anything else (`NotAction`, another operator) fails
//! the test rather than being guessed at.

use regex::Regex;
use serde_json::Value;

/// One API call as IAM sees it: the action, the resource's ARN and the request's condition keys.
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: String,
    pub context: Vec<(&'a str, &'a str)>,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str, resource: impl Into<String>) -> Request<'a> {
        Request {
            action,
            resource: resource.into(),
            context: Vec::new(),
        }
    }

    pub fn with(mut self, key: &'a str, value: &'a str) -> Request<'a> {
        self.context.push((key, value));
        self
    }
}

/// A string or a list of strings, as a list.
pub fn list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().expect("a list of strings").to_string())
            .collect(),
        other => panic!("neither a string nor a list: {other}"),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn matches(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let mut regex = String::from(if case_insensitive { "(?is)^" } else { "(?s)^" });
    for c in pattern.chars() {
        match c {
            '*' => regex.push_str(".*"),
            '?' => regex.push('.'),
            c => regex.push_str(&regex::escape(&c.to_string())),
        }
    }
    regex.push('$');
    Regex::new(&regex).unwrap().is_match(value)
}

fn condition_holds(condition: Option<&Value>, request: &Request) -> bool {
    let Some(condition) = condition else {
        return true;
    };
    condition
        .as_object()
        .unwrap()
        .iter()
        .all(|(operator, keys)| {
            let like = match operator.as_str() {
                "StringEquals" => false,
                "StringLike" => true,
                other => panic!("condition operator {other} is not evaluated here"),
            };
            keys.as_object().unwrap().iter().all(|(key, wanted)| {
                let present: Vec<&str> = request
                    .context
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| *v)
                    .collect();
                // A key the request does not carry matches nothing (no ...IfExists here).
                present.iter().any(|value| {
                    list(wanted).iter().any(|w| {
                        if like {
                            matches(w, value, false)
                        } else {
                            w == value
                        }
                    })
                })
            })
        })
}

fn statement_applies(statement: &Value, request: &Request) -> bool {
    for unsupported in ["NotAction", "NotResource", "NotPrincipal", "Principal"] {
        assert!(
            statement.get(unsupported).is_none(),
            "{unsupported} is not evaluated here: {statement}"
        );
    }
    list(&statement["Action"])
        .iter()
        .any(|a| matches(a, request.action, true))
        && list(&statement["Resource"])
            .iter()
            .any(|r| matches(r, &request.resource, false))
        && condition_holds(statement.get("Condition"), request)
}

/// Whether `statements` (one identity's policies together) allow `request`.
pub fn allows(statements: &[Value], request: &Request) -> bool {
    let applying: Vec<&Value> = statements
        .iter()
        .filter(|s| statement_applies(s, request))
        .collect();
    applying.iter().any(|s| s["Effect"] == "Allow")
        && !applying.iter().any(|s| s["Effect"] == "Deny")
}

/// Every statement of every policy document under `value` (inline policies, managed policies,
/// trust policies), wherever it sits in the resource's properties.
pub fn statements_in(value: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "Statement" {
                    match inner {
                        Value::Array(items) => found.extend(items.iter().cloned()),
                        single => found.push(single.clone()),
                    }
                } else {
                    found.extend(statements_in(inner));
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| found.extend(statements_in(i))),
        _ => {}
    }
    found
}

/// Whether a statement allows anything on S3 or KMS, in any form.
pub fn touches_s3_or_kms(statement: &Value) -> bool {
    statement["Effect"] == "Allow"
        && ["Action", "NotAction"].iter().any(|field| {
            statement.get(*field).is_some_and(|actions| {
                list(actions).iter().any(|a| {
                    let a = a.to_ascii_lowercase();
                    a == "*" || a.starts_with("s3:") || a.starts_with("kms:")
                })
            })
        })
}

/// No wildcard grant: no `Allow` with an action pattern (`*`, `s3:*`, `s3:Get*`), or on every
/// resource (`*`) for S3 or KMS, or with `NotAction`/`NotResource`.
pub fn assert_no_broad_grant(label: &str, statements: &[Value]) {
    for statement in statements.iter().filter(|s| s["Effect"] == "Allow") {
        assert!(
            statement.get("NotAction").is_none() && statement.get("NotResource").is_none(),
            "{label}: an Allow with NotAction/NotResource grants nearly everything: {statement}"
        );
        if statement.get("Principal").is_some() {
            // A trust policy: who may assume the role, not what it may do.
            continue;
        }
        for action in list(&statement["Action"]) {
            assert!(
                !action.contains('*') && !action.contains('?'),
                "{label}: a wildcard action {action}: {statement}"
            );
        }
        if touches_s3_or_kms(statement) {
            assert!(
                !list(&statement["Resource"]).iter().any(|r| r == "*"),
                "{label}: S3 or KMS on Resource '*': {statement}"
            );
        }
    }
}
