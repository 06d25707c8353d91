//! A deployment's template with the values its parameters and pseudo parameters take, and
//! property values resolved as a deployment would see them (Ref, `Fn::Sub`, the dashboard body).

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

/// Copilot's application and environment in these checks.
pub(super) const APP: &str = "app";
pub(super) const ENV: &str = "prod";

/// One deployment's template with the values its parameters and pseudo parameters take.
pub struct Stack {
    pub label: &'static str,
    pub template: Value,
    pub(super) values: HashMap<String, String>,
}

/// A scalar as text.
pub(super) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("not a scalar: {other}"),
    }
}

impl Stack {
    pub(super) fn new(
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

/// Both deployment paths: the plain template and the Copilot addon.
pub fn stacks(settings: &Value) -> [Stack; 2] {
    [Stack::plain(settings), Stack::copilot(settings)]
}
