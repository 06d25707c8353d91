//! The scaling policy Copilot's override patch adds, applied to the service template Copilot
//! writes and linted.

use serde_json::{Value, json};

#[test]
fn the_copilot_scaling_patch_applies_to_the_template_copilot_writes_and_lints_clean() {
    let settings = crate::settings();
    let o = &settings["observability"];
    let count = &o["manifest"]["count"];
    let (low, high) = count["range"].as_str().unwrap().split_once('-').unwrap();
    // The part of the service template Copilot (v1.34, its autoscaling.yml) writes for a
    // `count` with a range, with the names the patch relies on.
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "AppName": { "Type": "String" },
            "EnvName": { "Type": "String" },
            "WorkloadName": { "Type": "String" }
        },
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "Cluster": { "Fn::ImportValue": { "Fn::Sub": "${AppName}-${EnvName}-ClusterId" } },
                    "TaskDefinition": { "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/docs-mcp:1" }
                }
            },
            "AutoScalingRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }]
                    },
                    "ManagedPolicyArns": [{ "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceAutoscaleRole" }]
                }
            },
            "AutoScalingTarget": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "MinCapacity": low.parse::<u32>().unwrap(),
                    "MaxCapacity": high.parse::<u32>().unwrap(),
                    "ResourceId": { "Fn::Join": ["/", ["service", { "Fn::ImportValue": { "Fn::Sub": "${AppName}-${EnvName}-ClusterId" } }, { "Fn::GetAtt": ["Service", "Name"] }]] },
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ServiceNamespace": "ecs",
                    "RoleARN": { "Fn::GetAtt": ["AutoScalingRole", "Arn"] }
                }
            },
            "AutoScalingPolicyECSServiceAverageCPUUtilization": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": { "Fn::Join": ["-", [{ "Ref": "WorkloadName" }, "ECSServiceAverageCPUUtilization", "ScalingPolicy"]] },
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": { "Ref": "AutoScalingTarget" },
                    "TargetTrackingScalingPolicyConfiguration": {
                        "PredefinedMetricSpecification": { "PredefinedMetricType": "ECSServiceAverageCPUUtilization" },
                        "ScaleInCooldown": 300,
                        "ScaleOutCooldown": 60,
                        "TargetValue": count["cpu_percentage"]
                    }
                }
            }
        }
    });
    let before = template["Resources"].as_object().unwrap().len();
    for operation in o["copilotPatch"].as_array().unwrap() {
        apply(&mut template, operation);
    }
    assert_eq!(
        template["Resources"].as_object().unwrap().len(),
        before + 1,
        "the patch adds the policy and touches nothing Copilot made"
    );

    let dir = std::env::temp_dir().join(format!("deploy-patch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("copilot-service-patched.json");
    std::fs::write(&file, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    let (code, output) = crate::cfn_lint([&file]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        code,
        Some(0),
        "cfn-lint on Copilot's template with the patch applied:\n{output}"
    );
}

/// One RFC 6902 operation, as Copilot applies it (add, remove, replace).
fn apply(document: &mut Value, operation: &Value) {
    let path = operation["path"].as_str().unwrap();
    let (parent, last) = path.rsplit_once('/').unwrap();
    let unescape = |t: &str| t.replace("~1", "/").replace("~0", "~");
    let target = document
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("the patch's path {path} is not in Copilot's template"));
    let key = unescape(last);
    match (operation["op"].as_str().unwrap(), target) {
        ("add" | "replace", Value::Object(map)) => {
            map.insert(key, operation["value"].clone());
        }
        ("add", Value::Array(items)) if key == "-" => items.push(operation["value"].clone()),
        ("add", Value::Array(items)) => {
            items.insert(key.parse().unwrap(), operation["value"].clone())
        }
        ("replace", Value::Array(items)) => {
            items[key.parse::<usize>().unwrap()] = operation["value"].clone()
        }
        ("remove", Value::Object(map)) => {
            map.remove(&key).expect("removes what exists");
        }
        ("remove", Value::Array(items)) => {
            items.remove(key.parse().unwrap());
        }
        (op, _) => panic!("unsupported patch {op} at {path}"),
    }
}
