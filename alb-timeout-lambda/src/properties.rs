//! The custom resource's properties. CloudFormation sends every value as a string ("600",
//! "true"); unknown keys (`ServiceToken`, `ServiceTimeout`, ...) are ignored.

use serde_json::Value;

/// The idle timeout when `IdleTimeoutSeconds` is not given.
pub const DEFAULT_IDLE_TIMEOUT: u32 = 600;
/// The range ELBv2 accepts for `idle_timeout.timeout_seconds`.
pub const IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=4000;

/// Which load balancer to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `LoadBalancerArn`.
    Arn(String),
    /// `App` + `Env`: the Copilot environment's public application load balancer, found by tags.
    Copilot { app: String, env: String },
}

/// Parsed and validated properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Properties {
    /// The value to set, seconds.
    pub idle_timeout: u32,
    /// The load balancer.
    pub target: Target,
    /// Whether Delete puts the previous value back.
    pub restore_on_delete: bool,
}

/// A property the resource cannot work with; the text is the FAILED reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PropertyError(pub String);

fn text(properties: &Value, key: &str) -> Result<Option<String>, PropertyError> {
    match properties.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        // Tolerate raw numbers and booleans too: some tools send them unquoted.
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(other) => Err(PropertyError(format!(
            "{key} must be a string, got {other}"
        ))),
    }
}

impl Properties {
    /// Reads `ResourceProperties`.
    pub fn parse(properties: &Value) -> Result<Properties, PropertyError> {
        if !properties.is_object() {
            return Err(PropertyError("ResourceProperties must be an object".into()));
        }
        let idle_timeout = match text(properties, "IdleTimeoutSeconds")? {
            None => DEFAULT_IDLE_TIMEOUT,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .filter(|v| IDLE_TIMEOUT_RANGE.contains(v))
                .ok_or_else(|| {
                    PropertyError(format!(
                        "IdleTimeoutSeconds must be a whole number of seconds from 1 to 4000, got {value:?}"
                    ))
                })?,
        };
        let restore_on_delete = match text(properties, "RestoreOnDelete")?.as_deref() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                return Err(PropertyError(format!(
                    "RestoreOnDelete must be \"true\" or \"false\", got {v:?}"
                )));
            }
        };
        let arn = text(properties, "LoadBalancerArn")?;
        let app = text(properties, "App")?;
        let env = text(properties, "Env")?;
        let target = match (arn, app, env) {
            (Some(arn), _, _) => {
                if !arn.starts_with("arn:") || !arn.contains(":loadbalancer/app/") {
                    return Err(PropertyError(format!(
                        "LoadBalancerArn must be an application load balancer ARN (arn:...:loadbalancer/app/...), got {arn:?}"
                    )));
                }
                Target::Arn(arn)
            }
            (None, Some(app), Some(env)) => Target::Copilot { app, env },
            (None, _, _) => {
                return Err(PropertyError(
                    "give either LoadBalancerArn, or App and Env (the Copilot application and environment)".into(),
                ));
            }
        };
        Ok(Properties {
            idle_timeout,
            target,
            restore_on_delete,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/docs/50dc6c495c0c9188";

    #[test]
    fn strings_are_parsed_and_unknown_keys_ignored() {
        let p = Properties::parse(&json!({
            "ServiceToken": "arn:aws:lambda:...", "ServiceTimeout": "300",
            "IdleTimeoutSeconds": "900", "LoadBalancerArn": ARN, "RestoreOnDelete": "true"
        }))
        .unwrap();
        assert_eq!(p.idle_timeout, 900);
        assert_eq!(p.target, Target::Arn(ARN.into()));
        assert!(p.restore_on_delete);
    }

    #[test]
    fn defaults_are_600_and_no_restore() {
        let p = Properties::parse(&json!({ "App": "docs", "Env": "prod" })).unwrap();
        assert_eq!(p.idle_timeout, 600);
        assert!(!p.restore_on_delete);
        assert_eq!(
            p.target,
            Target::Copilot {
                app: "docs".into(),
                env: "prod".into()
            }
        );
    }

    #[test]
    fn the_idle_timeout_must_be_in_range() {
        for bad in ["0", "4001", "abc", "-5", "60.5", "600s"] {
            let error =
                Properties::parse(&json!({ "IdleTimeoutSeconds": bad, "App": "a", "Env": "e" }))
                    .unwrap_err();
            assert!(error.0.contains("1 to 4000"), "{bad}: {error}");
        }
        for good in ["1", "4000", "60"] {
            assert!(
                Properties::parse(&json!({ "IdleTimeoutSeconds": good, "App": "a", "Env": "e" }))
                    .is_ok()
            );
        }
        assert_eq!(
            Properties::parse(&json!({ "IdleTimeoutSeconds": 120, "App": "a", "Env": "e" }))
                .unwrap()
                .idle_timeout,
            120,
            "unquoted numbers are tolerated"
        );
    }

    #[test]
    fn a_target_is_required_and_arns_are_checked() {
        assert!(
            Properties::parse(&json!({ "App": "docs" }))
                .unwrap_err()
                .0
                .contains("LoadBalancerArn")
        );
        assert!(Properties::parse(&json!({})).is_err());
        assert!(Properties::parse(&json!({ "LoadBalancerArn": "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/net/x/1" })).is_err());
        assert!(
            Properties::parse(&json!({ "LoadBalancerArn": ARN, "RestoreOnDelete": "yes" }))
                .is_err()
        );
        assert!(Properties::parse(&json!("nope")).is_err());
    }
}
