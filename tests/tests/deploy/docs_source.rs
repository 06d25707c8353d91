//! Documentation from S3 on both deployment paths. The plain template is deployed (by
//! `deploy_settings.py`'s evaluator) without a bucket, with a bucket and prefix, with the whole
//! bucket, with a customer managed KMS key and with another reload interval: without a bucket
//! nothing about the stack changes and nothing may touch S3; with one the container gets
//! `DOCS_DIR=s3://bucket/prefix/` (and `DOCS_RELOAD_INTERVAL`), which the server's own
//! configuration parser accepts, and the task role, not the execution role, gets exactly two
//! statements (list the prefix, read the objects under it), plus decrypting through S3 with the
//! key when one is given. Those statements are also evaluated as IAM would for the calls the
//! server makes and for calls it must not be able to make. The Rules refuse S3 settings without
//! a bucket, and the parameters refuse values IAM would read as wildcards.
//!
//! By concern: here the cases and the template; `parameters` what the parameters accept and
//! cfn-lint with each case; `policy` the IAM evaluation; `addon` the Copilot addon evaluated as
//! Copilot deploys it, and `copilot` its tests (its outputs as Copilot reads them, the same
//! statements, and the merge of every addon into one template that Copilot does).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{check, settings_with_cases};
use policy::{Request, allows, assert_no_broad_grant, statements_in, touches_s3_or_kms};

#[path = "docs_source/addon.rs"]
mod addon;
#[path = "docs_source/copilot.rs"]
mod copilot;
#[path = "docs_source/parameters.rs"]
mod parameters;
#[path = "docs_source/policy.rs"]
mod policy;

const BUCKET: &str = "example-docs";
const PREFIX: &str = "docs/";
const KMS_KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
/// The region of the pseudo parameters `deploy_settings.py` deploys with.
const REGION: &str = "eu-west-1";

/// Parameter values of `template/service.yml` for each case, and the Rules that must refuse
/// them (none for a stack CloudFormation creates).
pub(super) fn cases() -> Vec<(&'static str, Value, &'static [&'static str])> {
    vec![
        ("none", json!({}), &[]),
        (
            "bucketAndPrefix",
            json!({ "DocsBucket": BUCKET, "DocsPrefix": PREFIX }),
            &[],
        ),
        ("wholeBucket", json!({ "DocsBucket": BUCKET }), &[]),
        (
            "withKmsKey",
            json!({ "DocsBucket": BUCKET, "DocsPrefix": PREFIX, "DocsKmsKeyArn": KMS_KEY }),
            &[],
        ),
        (
            "reloadEveryMinute",
            json!({ "DocsBucket": BUCKET, "DocsPrefix": PREFIX, "DocsReloadIntervalMs": "60000" }),
            &[],
        ),
        // Where in a bucket, without the bucket: the tasks would serve the built-in docs.
        (
            "prefixWithoutBucket",
            json!({ "DocsPrefix": PREFIX }),
            &["DocsSettingsNeedBucket"],
        ),
        (
            "keyWithoutBucket",
            json!({ "DocsKmsKeyArn": KMS_KEY }),
            &["DocsSettingsNeedBucket"],
        ),
    ]
}

/// The S3 source a case configures: bucket, prefix, KMS key.
struct Source {
    bucket: String,
    prefix: String,
    key: Option<String>,
}

impl Source {
    fn of(given: &Value) -> Option<Source> {
        let text = |name: &str| given.get(name).and_then(Value::as_str).map(str::to_string);
        Some(Source {
            bucket: text("DocsBucket")?,
            prefix: text("DocsPrefix").unwrap_or_default(),
            key: text("DocsKmsKeyArn"),
        })
    }

    fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    /// The statements both paths must grant, and nothing more.
    fn statements(&self) -> Vec<Value> {
        let mut list = json!({
            "Sid": "ListDocsPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{}", self.bucket),
        });
        if !self.prefix.is_empty() {
            list["Condition"] =
                json!({ "StringLike": { "s3:prefix": [format!("{}*", self.prefix)] } });
        }
        let mut statements = vec![
            list,
            json!({
                "Sid": "ReadDocsObjects",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{}/{}*", self.bucket, self.prefix),
            }),
        ];
        if let Some(key) = &self.key {
            statements.push(json!({
                "Sid": "DecryptDocsObjects",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": key,
                "Condition": { "StringEquals": { "kms:ViaService": format!("s3.{REGION}.amazonaws.com") } },
            }));
        }
        statements
    }
}

/// `statements` evaluated as IAM would: the calls the server makes to read the source are
/// allowed, and calls outside it (other prefixes, buckets, writes, other uses of the key) are
/// not. With `source` None nothing on S3 or KMS is allowed.
fn assert_reads_exactly_the_docs(label: &str, statements: &[Value], source: Option<&Source>) {
    let (bucket, prefix) =
        source.map_or((BUCKET, PREFIX), |s| (s.bucket.as_str(), s.prefix.as_str()));
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let object = |key: &str| format!("arn:aws:s3:::{bucket}/{key}");
    let via_s3 = format!("s3.{REGION}.amazonaws.com");
    let page = format!("{prefix}guide/intro.md");
    let deeper = format!("{prefix}guide/");
    // A folder whose name starts with the prefix's.
    let sibling = format!("{}-old/", prefix.trim_end_matches('/'));
    let mut allowed = vec![
        Request::new("s3:ListBucket", &bucket_arn).with("s3:prefix", prefix),
        Request::new("s3:ListBucket", &bucket_arn).with("s3:prefix", &deeper),
        Request::new("s3:GetObject", object(&format!("{prefix}index.md"))),
        Request::new("s3:GetObject", object(&page)),
    ];
    let mut refused = vec![
        Request::new("s3:PutObject", object(&page)),
        Request::new("s3:DeleteObject", object(&page)),
        Request::new("s3:GetObjectAcl", object(&page)),
        Request::new("s3:GetBucketPolicy", &bucket_arn),
        Request::new("s3:ListAllMyBuckets", "*"),
        Request::new("s3:ListBucket", "arn:aws:s3:::other-bucket").with("s3:prefix", prefix),
        Request::new("s3:GetObject", format!("arn:aws:s3:::other-bucket/{page}")),
        // A bucket whose name starts with this one's.
        Request::new(
            "s3:GetObject",
            format!("arn:aws:s3:::{bucket}-private/{page}"),
        ),
        Request::new(
            "kms:Decrypt",
            "arn:aws:kms:eu-west-1:123456789012:key/other",
        )
        .with("kms:ViaService", &via_s3),
    ];
    if !prefix.is_empty() {
        // Outside the prefix: the root, another folder, the prefix's sibling.
        refused.extend([
            Request::new("s3:ListBucket", &bucket_arn),
            Request::new("s3:ListBucket", &bucket_arn).with("s3:prefix", ""),
            Request::new("s3:ListBucket", &bucket_arn).with("s3:prefix", "private/"),
            Request::new("s3:ListBucket", &bucket_arn).with("s3:prefix", &sibling),
            Request::new("s3:GetObject", object("private/keys.md")),
            Request::new("s3:GetObject", object(&format!("{sibling}index.md"))),
        ]);
    } else {
        // The whole bucket: a listing with no prefix at all too.
        allowed.push(Request::new("s3:ListBucket", &bucket_arn));
        allowed.push(Request::new("s3:GetObject", object("any/page.md")));
    }
    let key = source.and_then(|s| s.key.as_deref());
    if let Some(key) = key {
        allowed.push(Request::new("kms:Decrypt", key).with("kms:ViaService", &via_s3));
        refused.extend([
            // The key, but not through S3: directly, or through another service.
            Request::new("kms:Decrypt", key),
            Request::new("kms:Decrypt", key)
                .with("kms:ViaService", "secretsmanager.eu-west-1.amazonaws.com"),
            Request::new("kms:Encrypt", key).with("kms:ViaService", &via_s3),
            Request::new("kms:GenerateDataKey", key).with("kms:ViaService", &via_s3),
        ]);
    } else {
        refused.push(Request::new("kms:Decrypt", KMS_KEY).with("kms:ViaService", &via_s3));
    }
    if source.is_none() {
        refused.append(&mut allowed);
    }
    for request in &allowed {
        assert!(
            allows(statements, request),
            "{label}: {} on {} {:?} is refused: {statements:?}",
            request.action,
            request.resource,
            request.context
        );
    }
    for request in &refused {
        assert!(
            !allows(statements, request),
            "{label}: {} on {} {:?} is allowed: {statements:?}",
            request.action,
            request.resource,
            request.context
        );
    }
}

fn deployments() -> Value {
    let cases: serde_json::Map<String, Value> = cases()
        .into_iter()
        .map(|(name, given, _)| (name.to_string(), given))
        .collect();
    settings_with_cases(&Value::Object(cases))
}

fn strings(value: &Value) -> HashMap<String, String> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The permission statements of the template's task role (its inline policies).
fn task_role_statements(resources: &Value) -> Vec<Value> {
    statements_in(&resources["TaskRole"]["Properties"]["Policies"])
}

#[test]
fn the_template_gives_the_task_role_the_docs_prefix_and_nothing_else() {
    let settings = deployments();
    let deployed = &settings["cases"];
    let none = &deployed["none"];
    let base = strings(&none["task"]["environment"]);
    assert_eq!(
        base,
        strings(&settings["cloudformation"]["variables"]),
        "the default task is the one every other deploy test checks"
    );
    for (case, given, refused) in cases() {
        if !refused.is_empty() {
            continue;
        }
        let deployment = &deployed[case];
        let resources = &deployment["resources"];
        let mut environment = strings(&deployment["task"]["environment"]);
        let definition = &resources["TaskDefinition"]["Properties"];
        let all_statements: Vec<Value> = resources
            .as_object()
            .unwrap()
            .values()
            .flat_map(statements_in)
            .collect();
        assert_no_broad_grant(case, &all_statements);
        // The execution role (ECS's, for the image, logs and secrets) never gets S3.
        assert_eq!(
            deployment["task"]["executionRolePolicies"],
            json!([]),
            "{case}"
        );
        assert_eq!(definition["ExecutionRoleArn"], "${ExecutionRole.Arn}");

        let Some(source) = Source::of(&given) else {
            // No bucket: no task role, no DOCS_*, nothing anywhere that reaches S3 or KMS.
            assert!(resources.get("TaskRole").is_none(), "{case}");
            assert!(definition.get("TaskRoleArn").is_none(), "{case}");
            assert!(
                !environment.keys().any(|k| k.starts_with("DOCS_")),
                "{case}: {environment:?}"
            );
            for statement in &all_statements {
                assert!(!touches_s3_or_kms(statement), "{case}: {statement}");
            }
            assert!(deployment["outputs"].get("DocsSource").is_none());
            let permissions: Vec<Value> = all_statements
                .into_iter()
                .filter(|s| s.get("Principal").is_none())
                .collect();
            assert_reads_exactly_the_docs(case, &permissions, None);
            continue;
        };

        // The container: DOCS_DIR and the reload interval, nothing else changes.
        let reload = given["DocsReloadIntervalMs"].as_str().unwrap_or("30000");
        assert_eq!(environment.remove("DOCS_DIR"), Some(source.url()), "{case}");
        assert!(source.url().ends_with('/'), "{case}: a prefix ends in /");
        assert_eq!(
            environment.remove("DOCS_RELOAD_INTERVAL").as_deref(),
            Some(reload),
            "{case}"
        );
        assert_eq!(environment, base, "{case}: nothing else in the environment");
        let mut with_source = settings["cloudformation"].clone();
        with_source["variables"] = deployment["task"]["environment"].clone();
        check(&format!("template/service.yml ({case})"), &with_source);

        // The task role: assumed by ECS tasks of this account only, with exactly the statements.
        assert_eq!(definition["TaskRoleArn"], "${TaskRole.Arn}", "{case}");
        let role = &resources["TaskRole"]["Properties"];
        assert_eq!(resources["TaskRole"]["Type"], "AWS::IAM::Role");
        let trust = statements_in(&role["AssumeRolePolicyDocument"]);
        assert_eq!(
            trust,
            [json!({
                "Effect": "Allow",
                "Principal": { "Service": "ecs-tasks.amazonaws.com" },
                "Action": "sts:AssumeRole",
                "Condition": { "StringEquals": { "aws:SourceAccount": "123456789012" } },
            })],
            "{case}"
        );
        assert!(role.get("ManagedPolicyArns").is_none(), "{case}");
        let statements = task_role_statements(resources);
        assert_eq!(statements, source.statements(), "{case}: the task role");
        assert_reads_exactly_the_docs(case, &statements, Some(&source));
        // No other resource's policy reaches S3 or KMS.
        for (name, resource) in resources.as_object().unwrap() {
            if name == "TaskRole" {
                continue;
            }
            for statement in statements_in(resource) {
                assert!(
                    !touches_s3_or_kms(&statement),
                    "{case}: {name}: {statement}"
                );
            }
        }
        assert_eq!(
            deployment["outputs"]["DocsSource"]["value"],
            source.url(),
            "{case}"
        );
        assert_eq!(
            deployment["outputs"]["TaskRoleArn"]["value"],
            "${TaskRole.Arn}"
        );
    }
}

#[test]
fn the_rules_refuse_s3_settings_without_a_bucket() {
    let settings = deployments();
    for (case, _, refused) in cases() {
        let failing: Vec<&str> = settings["cases"][case]["failingRules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(failing, refused, "{case}: the Rules that refuse it");
    }
}
