//! What the S3 parameters accept (the same on both paths), and cfn-lint with each set of them.

use regex::Regex;

use super::super::cfn_lint_passes_every_allowed_case;
use super::{BUCKET, KMS_KEY, PREFIX, addon, cases, deployments};

#[test]
fn the_docs_parameters_take_only_usable_values() {
    let settings = deployments();
    let template = &settings["observability"]["service"]["Parameters"];
    let addon = addon::addon(&settings);
    for name in ["DocsBucket", "DocsPrefix", "DocsKmsKeyArn"] {
        assert_eq!(
            template[name]["AllowedPattern"], addon.template["Parameters"][name]["AllowedPattern"],
            "{name}: the same values on both paths"
        );
        assert_eq!(template[name]["Default"], "", "{name} is off by default");
        assert_eq!(addon.template["Parameters"][name]["Default"], "", "{name}");
    }
    let pattern = |name: &str| {
        Regex::new(template[name]["AllowedPattern"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let accepts = |name: &str, accepted: &[&str], refused: &[&str]| {
        let pattern = pattern(name);
        for value in accepted {
            assert!(pattern.is_match(value), "{name} refuses {value:?}");
        }
        for value in refused {
            assert!(!pattern.is_match(value), "{name} accepts {value:?}");
        }
    };
    accepts(
        "DocsBucket",
        &["", BUCKET, "docs.example.com", "abc", &"a".repeat(63)],
        &[
            "ab",
            &"a".repeat(64),
            "Example-Docs",
            "example_docs",
            "-docs",
            "docs-",
            "s3://example-docs",
            "example-docs/docs",
            "arn:aws:s3:::example-docs",
        ],
    );
    accepts(
        "DocsPrefix",
        &[
            "",
            PREFIX,
            "a/",
            "team/docs/",
            "v1.2/",
            "docs(old)/",
            "it's/",
        ],
        &[
            // No leading /, which would make keys //...; a trailing / keeps docs-old/ out of docs/.
            "/docs/",
            "/",
            "docs",
            "docs/index.md",
            // IAM reads * and ? in the resource and the s3:prefix condition as wildcards, and
            // ${...} as a policy variable.
            "docs*/",
            "do?s/",
            "${aws:username}/",
            "my docs/",
        ],
    );
    accepts(
        "DocsKmsKeyArn",
        &[
            "",
            KMS_KEY,
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        ],
        &[
            "alias/docs",
            "arn:aws:kms:eu-west-1:123456789012:alias/docs",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:123456789012:key/*",
        ],
    );
    accepts(
        "DocsReloadIntervalMs",
        &["0", "1000", "30000", "3600000"],
        &["", "-1", "999", "30s", "030000", "1e4"],
    );
    assert_eq!(template["DocsReloadIntervalMs"]["Default"], "30000");
}

#[test]
fn cfn_lint_passes_the_template_with_each_docs_source() {
    cfn_lint_passes_every_allowed_case(cases());
}
