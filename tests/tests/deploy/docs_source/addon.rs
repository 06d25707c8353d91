//! The Copilot addon `addons/docs-source.yml` evaluated as Copilot deploys it: its parameters
//! from `addons.parameters.yml` (and App, Env, Name), conditions and `Fn::If`, `Fn::Sub` and
//! `AWS::NoValue`, and its outputs sorted as Copilot sorts them (internal/pkg/addon/output.go).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use regex::Regex;
use serde_json::{Value, json};
use tests::process::workspace_root;
use tests::tools::{python, run};

use super::policy::statements_in;

pub(super) const ADDONS: &str = "copilot/docs-mcp/addons";
pub(super) const ADDON: &str = "copilot/docs-mcp/addons/docs-source.yml";
/// Copilot's application and environment here.
pub(super) const APP: &str = "app";
pub(super) const ENV: &str = "prod";

/// A template as CloudFormation reads it, through cfn-lint's decoder (short tags such as `!Sub`
/// become their `Fn::` forms), as JSON.
pub(super) fn load(path: &Path) -> Value {
    const DECODE: &str = "import json, sys\n\
        from cfnlint.decode import decode\n\
        template, problems = decode(sys.argv[1])\n\
        if template is None:\n    raise SystemExit(str(problems))\n\
        print(json.dumps(template))\n";
    let mut command = std::process::Command::new(python());
    command.arg("-c").arg(DECODE).arg(path);
    let (code, output) = run(command, Duration::from_secs(60));
    assert_eq!(code, Some(0), "{}: {output}", path.display());
    let line = output.lines().rev().find(|l| l.starts_with('{')).unwrap();
    serde_json::from_str(line).unwrap()
}

/// A scalar as CloudFormation passes it (every parameter value is a string).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The addon with its parameters' values: their defaults, then `addons.parameters.yml`, then
/// `given`; and App, Env, Name and the pseudo parameters as Copilot's deploy would set them.
pub(super) struct Addon {
    pub template: Value,
    values: HashMap<String, String>,
}

pub(super) fn addon(settings: &Value) -> Addon {
    addon_with(settings, &json!({}))
}

pub(super) fn addon_with(settings: &Value, given: &Value) -> Addon {
    let template = load(&workspace_root().join(ADDON));
    let observability = &settings["observability"];
    let mut values: HashMap<String, String> = observability["pseudo"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let shipped = &observability["copilotAddonParameters"];
    for (name, parameter) in template["Parameters"].as_object().unwrap() {
        let value = given
            .get(name)
            .or_else(|| shipped.get(name))
            .or_else(|| parameter.get("Default"));
        if let Some(value) = value {
            values.insert(name.clone(), text(value));
        }
    }
    values.insert("App".into(), APP.into());
    values.insert("Env".into(), ENV.into());
    values.insert("Name".into(), text(&observability["manifest"]["name"]));
    Addon { template, values }
}

impl Addon {
    fn holds(&self, condition: &Value) -> bool {
        let args = |name: &str| condition[name].as_array().unwrap();
        match condition {
            Value::String(name) => self.holds(&self.template["Conditions"][name]),
            Value::Object(o) if o.contains_key("Condition") => self.holds(&o["Condition"]),
            Value::Object(o) if o.contains_key("Fn::Equals") => {
                self.eval(&args("Fn::Equals")[0]) == self.eval(&args("Fn::Equals")[1])
            }
            Value::Object(o) if o.contains_key("Fn::Not") => !self.holds(&args("Fn::Not")[0]),
            Value::Object(o) if o.contains_key("Fn::And") => {
                args("Fn::And").iter().all(|c| self.holds(c))
            }
            Value::Object(o) if o.contains_key("Fn::Or") => {
                args("Fn::Or").iter().any(|c| self.holds(c))
            }
            other => panic!("{ADDON}: unsupported condition {other}"),
        }
    }

    /// A value as the deployment sees it: Ref and `Fn::Sub` take the parameters' values (a
    /// resource stays `${Name}`), `Fn::If` picks its branch, `AWS::NoValue` removes what it
    /// stands for (None). Any other function fails: it would need evaluating here first.
    fn eval(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(o) if o.len() == 1 && o.contains_key("Ref") => {
                let name = o["Ref"].as_str().unwrap();
                if name == "AWS::NoValue" {
                    return None;
                }
                Some(Value::String(self.sub(&format!("${{{name}}}"))))
            }
            Value::Object(o) if o.len() == 1 && o.contains_key("Fn::If") => {
                let [condition, then, otherwise] = o["Fn::If"].as_array().unwrap().as_slice()
                else {
                    panic!("{ADDON}: Fn::If takes three arguments")
                };
                self.eval(if self.holds(condition) {
                    then
                } else {
                    otherwise
                })
            }
            Value::Object(o) if o.len() == 1 && o.contains_key("Fn::Sub") => {
                Some(Value::String(self.sub(o["Fn::Sub"].as_str().unwrap())))
            }
            Value::Object(o) if o.keys().any(|k| k.starts_with("Fn::")) => {
                panic!("{ADDON}: {value} is not evaluated here")
            }
            Value::Object(o) => Some(Value::Object(
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.eval(v)?)))
                    .collect(),
            )),
            Value::Array(items) => Some(Value::Array(
                items.iter().filter_map(|i| self.eval(i)).collect(),
            )),
            scalar => Some(scalar.clone()),
        }
    }

    fn sub(&self, template: &str) -> String {
        Regex::new(r"\$\{([^}]*)\}")
            .unwrap()
            .replace_all(template, |c: &regex::Captures| {
                let name = &c[1];
                if let Some(value) = self.values.get(name) {
                    return value.clone();
                }
                let resource = name.split('.').next().unwrap();
                assert!(
                    self.template["Resources"][resource].is_object(),
                    "{ADDON}: ${{{name}}} is neither a parameter nor a resource"
                );
                c[0].to_string()
            })
            .into_owned()
    }

    fn resource_type(&self, name: &str) -> &str {
        self.template["Resources"][name]["Type"]
            .as_str()
            .unwrap_or("")
    }

    /// The outputs as Copilot reads them (internal/pkg/addon/output.go): a `Ref` to a managed
    /// policy is attached to the task role; any other output becomes a variable.
    pub(super) fn outputs(&self) -> (Vec<String>, HashMap<String, String>) {
        let mut policies = Vec::new();
        let mut variables = HashMap::new();
        for (name, output) in self.template["Outputs"].as_object().unwrap() {
            let reference = output["Value"]
                .as_object()
                .filter(|v| v.len() == 1)
                .and_then(|v| v.get("Ref"))
                .and_then(Value::as_str);
            match reference.map(|r| self.resource_type(r)) {
                Some("AWS::IAM::ManagedPolicy") => policies.push(reference.unwrap().to_string()),
                Some("AWS::SecretsManager::Secret") => panic!("{name}: no secret expected"),
                _ => {
                    let value = self.eval(&output["Value"]).expect("an output has a value");
                    variables.insert(snake_case(name), text(&value));
                }
            }
        }
        (policies, variables)
    }

    /// The statements of the managed policy Copilot attaches to the task role.
    pub(super) fn task_role_statements(&self) -> Vec<Value> {
        let (policies, _) = self.outputs();
        assert_eq!(policies.len(), 1, "one managed policy output: {policies:?}");
        let policy = &self.template["Resources"][&policies[0]];
        statements_in(&self.eval(&policy["Properties"]).unwrap())
    }
}

/// Copilot's template function toSnakeCase (ToSnakeCaseFunc): the variable an output becomes.
fn snake_case(name: &str) -> String {
    let lower_upper = Regex::new("([a-z0-9]+)([A-Z])").unwrap();
    let upper_lower = Regex::new("([A-Z0-9])([A-Z][a-z])").unwrap();
    let name = lower_upper.replace_all(name, "${1}_${2}");
    upper_lower.replace_all(&name, "${1}_${2}").to_uppercase()
}
