//! The Copilot addon `addons/docs-source.yml` as Copilot deploys it (evaluated by `addon`):
//! every output read with `Fn::GetAtt` (so none may be conditional), an output that is a `Ref` to
//! a managed policy attached to the task role, every other output an environment variable named
//! in SCREAMING_SNAKE_CASE. Evaluated with `addons.parameters.yml` as shipped (no bucket) and with
//! each bucket case of the plain template: the same `DOCS_DIR` and the same statements on both
//! paths. And the merge Copilot does of every addon into one template, which the new addon must
//! survive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use mcp_server::config::{self, Config};
use serde_json::{Value, json};
use tests::process::workspace_root;

use super::super::{cfn_lint, check};
use super::addon::{ADDON, ADDONS, APP, Addon, ENV, addon, addon_with, load};
use super::policy::{assert_no_broad_grant, statements_in, touches_s3_or_kms};
use super::{BUCKET, KMS_KEY, PREFIX, Source, assert_reads_exactly_the_docs, cases, deployments};

/// The manifest's variables with the addon's, as Copilot gives them to the container.
fn container_env(settings: &Value, addon: &Addon) -> HashMap<String, String> {
    let mut env: HashMap<String, String> =
        serde_json::from_value(settings["copilot"]["variables"].clone()).unwrap();
    for (name, value) in addon.outputs().1 {
        assert!(
            env.insert(name.clone(), value).is_none(),
            "{name} is set by both the manifest and the addon"
        );
    }
    env
}

fn parse(env: &HashMap<String, String>) -> Config {
    Config::from_lookup(|key| env.get(key).cloned())
        .unwrap_or_else(|error| panic!("the server would refuse to start: {error}"))
}

#[test]
fn the_copilot_addon_s_outputs_exist_either_way_and_are_a_policy_and_docs_dir() {
    let settings = deployments();
    let shipped = addon(&settings);
    assert_eq!(
        settings["observability"]["copilotAddonParameters"]["DocsBucket"], "",
        "addons.parameters.yml names DocsBucket, empty: the built-in docs until it is set"
    );
    // Copilot reads every output with Fn::GetAtt: a conditional one (or one whose resource is
    // conditional) is missing when its condition is false, and the deploy fails.
    for (name, output) in shipped.template["Outputs"].as_object().unwrap() {
        assert!(
            output.get("Condition").is_none(),
            "output {name} is conditional"
        );
    }
    let (policies, variables) = shipped.outputs();
    assert_eq!(policies.len(), 1, "{policies:?}");
    let policy = &shipped.template["Resources"][&policies[0]];
    assert!(
        policy.get("Condition").is_none(),
        "the policy always exists"
    );
    let names: Vec<&String> = variables.keys().collect();
    assert_eq!(names, ["DOCS_DIR"], "the addon's variables");
    assert!(config::variables().iter().any(|v| v.name == "DOCS_DIR"));
}

#[test]
fn without_a_bucket_the_copilot_addon_grants_nothing_and_the_built_in_docs_are_served() {
    let settings = deployments();
    for given in [
        json!({}),
        json!({ "DocsPrefix": PREFIX, "DocsKmsKeyArn": KMS_KEY }),
    ] {
        let addon = addon_with(&settings, &given);
        let label = format!("{ADDON} with {given}");
        let statements = addon.task_role_statements();
        assert!(!statements.is_empty(), "{label}: IAM needs a statement");
        for statement in &statements {
            assert_ne!(statement["Effect"], "Allow", "{label}: {statement}");
            assert!(!touches_s3_or_kms(statement), "{label}: {statement}");
        }
        assert_reads_exactly_the_docs(&label, &statements, None);

        // DOCS_DIR is never an empty output, and the server reads its blank as unset.
        let env = container_env(&settings, &addon);
        let docs_dir = &env["DOCS_DIR"];
        assert!(
            !docs_dir.is_empty() && docs_dir.trim().is_empty(),
            "{label}: DOCS_DIR {docs_dir:?}"
        );
        let mut without = env.clone();
        without.remove("DOCS_DIR");
        let mut with_s3 = env.clone();
        with_s3.insert("DOCS_DIR".into(), format!("s3://{BUCKET}/{PREFIX}"));
        let unset = format!("{:?}", parse(&without));
        assert_eq!(
            format!("{:?}", parse(&env)),
            unset,
            "{label}: blank is unset"
        );
        assert_ne!(
            format!("{:?}", parse(&with_s3)),
            unset,
            "the comparison sees DOCS_DIR"
        );
        let mut deployment = settings["copilot"].clone();
        deployment["variables"] = json!(env);
        check(&label, &deployment);
    }
}

#[test]
fn with_a_bucket_the_copilot_addon_grants_what_the_template_grants() {
    let settings = deployments();
    let mut checked = 0;
    for (case, given, refused) in cases() {
        let Some(source) = Source::of(&given).filter(|_| refused.is_empty()) else {
            continue;
        };
        // The addon has no reload-interval parameter: the server's S3 default applies.
        let mut given = given.clone();
        given
            .as_object_mut()
            .unwrap()
            .remove("DocsReloadIntervalMs");
        let addon = addon_with(&settings, &given);
        let statements = addon.task_role_statements();
        assert_eq!(
            statements,
            source.statements(),
            "{case}: the task role's policy"
        );
        let template = &settings["cases"][case]["resources"]["TaskRole"]["Properties"];
        assert_eq!(
            statements,
            statements_in(&template["Policies"]),
            "{case}: both paths grant the same"
        );
        assert_no_broad_grant(case, &statements);
        assert_reads_exactly_the_docs(case, &statements, Some(&source));
        let env = container_env(&settings, &addon);
        assert_eq!(env["DOCS_DIR"], source.url(), "{case}");
        let mut deployment = settings["copilot"].clone();
        deployment["variables"] = json!(env);
        check(&format!("{ADDON} ({case})"), &deployment);
        checked += 1;
    }
    assert!(checked >= 3, "the bucket cases ran: {checked}");
}

#[test]
fn copilot_can_merge_every_addon_into_one_template() {
    // Copilot merges the addons into one template: a Parameter, Condition, Resource or Output of
    // the same name in two files must be the same, and it keeps no Rules section (one would be
    // dropped silently, refusing nothing).
    let mut seen: HashMap<(String, String), (String, Value)> = HashMap::new();
    let mut declared = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join(ADDONS))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .filter(|p| !p.ends_with("addons.parameters.yml"))
        .collect();
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("docs-source.yml")),
        "{files:?}"
    );
    for file in &files {
        let template = load(file);
        let label = file.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            template.get("Rules").is_none(),
            "{label}: Copilot drops Rules"
        );
        for section in [
            "Metadata",
            "Parameters",
            "Mappings",
            "Conditions",
            "Resources",
            "Outputs",
        ] {
            let Some(entries) = template.get(section).and_then(Value::as_object) else {
                continue;
            };
            for (name, value) in entries {
                if section == "Parameters" {
                    declared.push(name.clone());
                }
                let key = (section.to_string(), name.clone());
                if let Some((first, earlier)) = seen.get(&key) {
                    assert_eq!(
                        earlier, value,
                        "{section} {name} differs between {first} and {label}: Copilot refuses the merge"
                    );
                } else {
                    seen.insert(key, (label.clone(), value.clone()));
                }
            }
        }
    }
    let settings = deployments();
    for name in settings["observability"]["copilotAddonParameters"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            declared.contains(name),
            "addons.parameters.yml sets {name}, which no addon takes"
        );
    }
}

#[test]
fn cfn_lint_passes_the_copilot_addon_with_each_docs_source() {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    for (case, given, _) in cases() {
        let mut parameters = vec![
            json!({ "ParameterKey": "App", "ParameterValue": APP }),
            json!({ "ParameterKey": "Env", "ParameterValue": ENV }),
            json!({ "ParameterKey": "Name", "ParameterValue": "docs-mcp" }),
        ];
        for (name, value) in given.as_object().unwrap() {
            if name != "DocsReloadIntervalMs" {
                parameters.push(json!({ "ParameterKey": name, "ParameterValue": value }));
            }
        }
        let file = std::env::temp_dir().join(format!(
            "docs-mcp-docs-source-parameters-{}-{}.json",
            std::process::id(),
            FILES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&file, Value::Array(parameters).to_string()).unwrap();
        let (code, output) = cfn_lint([
            "--parameter-files".as_ref(),
            file.as_os_str(),
            "--".as_ref(),
            ADDON.as_ref(),
        ]);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(code, Some(0), "{case}: cfn-lint reported:\n{output}");
    }
}
