"""Reads the deployment files and prints the settings that must agree with the server's
configuration, as JSON: the Copilot manifest and addon, and the plain CloudFormation templates
(parsed with cfn-lint's loader, which understands !Ref and friends; a Ref to a parameter
resolves to its default). Under "observability", the templates whose metrics, queries, alarms
and dashboards deploy.rs checks, as they are (intrinsic functions in their JSON form).

Under "cases", template/service.yml as deployed with each set of parameter values given as the
optional CASES (JSON: case name to parameter values): the task ECS gets, the resources and
outputs that exist (with their values), and the Rules that refuse the values.

Usage: deploy_settings.py REPOSITORY_ROOT [CASES]
"""

import json
import re
import sys

import yaml
from cfnlint.decode import cfn_yaml, decode

root = sys.argv[1]


def seconds(value):
    match = re.fullmatch(r"(\d+)s", str(value))
    return int(match.group(1)) if match else int(value)


def load_template(path):
    template, problems = decode(f"{root}/{path}")
    if template is None:
        raise SystemExit(f"{path}: {problems}")
    return template


# Pseudo parameters (a Ref to AWS::StackName, say) as a deployment would see them.
PSEUDO = {
    "AWS::StackName": "docs-mcp-prod",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
}


def resolve_pseudo(text):
    for name, value in PSEUDO.items():
        text = text.replace("${" + name + "}", value)
    return text


def resolver(template, given=None):
    """Resolves a value as the template's defaults (or the `given` parameter values) would:
    Refs to parameters, Fn::Sub's parameters, and Fn::If over conditions made of Equals, Not,
    And, Or and named conditions (the functions of Rules too)."""
    parameters = template.get("Parameters", {})
    given = given or {}
    conditions = template.get("Conditions", {})

    def holds(condition):
        if isinstance(condition, str):
            return holds(conditions[condition])
        if "Fn::Equals" in condition:
            left, right = condition["Fn::Equals"]
            return resolve(left) == resolve(right)
        if "Fn::Not" in condition:
            return not holds(condition["Fn::Not"][0])
        if "Fn::And" in condition:
            return all(map(holds, condition["Fn::And"]))
        if "Fn::Or" in condition:
            return any(map(holds, condition["Fn::Or"]))
        if set(condition) == {"Condition"}:
            return holds(condition["Condition"])
        raise SystemExit(f"unsupported condition {condition}")

    def parameter(name):
        return str(given.get(name, parameters[name].get("Default", "")))

    def resolve(value):
        if isinstance(value, dict) and set(value) == {"Ref"}:
            name = value["Ref"]
            if name.startswith("AWS::"):
                return "${" + name + "}"
            return parameter(name)
        if isinstance(value, dict) and set(value) == {"Fn::If"}:
            condition, then, otherwise = value["Fn::If"]
            return resolve(then if holds(condition) else otherwise)
        if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            # Parameters take their values; pseudo parameters and resources stay ${...}.
            return re.sub(
                r"\$\{([^}]*)\}",
                lambda m: parameter(m.group(1)) if m.group(1) in parameters else m.group(0),
                value["Fn::Sub"],
            )
        return str(value)

    resolve.holds = holds
    resolve.parameter = parameter
    return resolve


NO_VALUE = object()


def resolve_tree(template, given=None):
    """Resolves a whole property tree as a deployment with the defaults (or the `given`
    parameter values) would see it: Fn::If picks its branch, a Ref to AWS::NoValue removes the
    property or list item it stands for (as CloudFormation does), and a Ref to a parameter becomes
    its value; anything else is left as it is."""
    resolve = resolver(template, given)
    parameters = template.get("Parameters", {})

    def tree(value):
        if isinstance(value, dict):
            if value == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            if set(value) == {"Fn::If"}:
                condition, then, otherwise = value["Fn::If"]
                return tree(then if resolve.holds(condition) else otherwise)
            if set(value) == {"Ref"} and value["Ref"] in parameters:
                return resolve(value)
            items = {k: tree(v) for k, v in value.items()}
            return {k: v for k, v in items.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(tree, value) if item is not NO_VALUE]
        return value

    return tree


manifest = yaml.safe_load(open(f"{root}/copilot/docs-mcp/manifest.yml"))
addon = load_template("copilot/docs-mcp/addons/alb-timeout.yml")
addon_parameters = yaml.safe_load(open(f"{root}/copilot/docs-mcp/addons/addons.parameters.yml"))["Parameters"]
health = manifest["http"]["healthcheck"]
copilot = {
    "variables": {k: str(v) for k, v in manifest["variables"].items()},
    "imagePort": manifest["image"]["port"],
    "healthPath": health["path"],
    "healthPort": health["port"],
    "healthInterval": seconds(health["interval"]),
    "healthTimeout": seconds(health["timeout"]),
    "deregistrationDelay": seconds(manifest["http"]["deregistration_delay"]),
    "stickiness": manifest["http"]["stickiness"],
    "stopTimeout": next(
        o["value"] for o in manifest["taskdef_overrides"] if o["path"] == "ContainerDefinitions[0].StopTimeout"
    ),
    "albIdleTimeout": int(addon_parameters.get("IdleTimeoutSeconds", addon["Parameters"]["IdleTimeoutSeconds"]["Default"])),
    "lambdaTimeout": addon["Resources"]["AlbIdleTimeoutFunction"]["Properties"]["Timeout"],
    "serviceTimeout": int(addon["Resources"]["AlbIdleTimeout"]["Properties"]["ServiceTimeout"]),
}

# The manifest once its commented API-key example is uncommented as a user would (`# ` taken off
# the AUTH variable and the secrets block, nothing else): how many lines that took, and the
# variables and secrets (name to SSM parameter) Copilot would then give the task.
API_KEY_EXAMPLE = re.compile(r"^(\s*)# (AUTH: api-key|secrets:|  AUTH_API_KEY_HASHES: .*)$")
manifest_lines = open(f"{root}/copilot/docs-mcp/manifest.yml").read().splitlines()
uncommented = [API_KEY_EXAMPLE.sub(r"\1\2", line) for line in manifest_lines]
with_api_keys = yaml.safe_load("\n".join(uncommented))
copilot["apiKeyExample"] = {
    "linesUncommented": sum(a != b for a, b in zip(manifest_lines, uncommented)),
    "variables": {k: str(v) for k, v in with_api_keys["variables"].items()},
    "secrets": {k: str(v) for k, v in (with_api_keys.get("secrets") or {}).items()},
    "restUnchanged": {k: v for k, v in with_api_keys.items() if k not in ("variables", "secrets")}
    == {k: v for k, v in manifest.items() if k not in ("variables", "secrets")},
    "secretsBefore": manifest.get("secrets"),
}

# The same for the commented OAuth example: `AUTH: oauth` and the AUTH_* variables under it.
OAUTH_EXAMPLE = re.compile(r"^(\s*)# (AUTH: oauth|AUTH_(?:ISSUER|AUDIENCE|SCOPES|AUDIENCE_IN_SCOPE): .*)$")
uncommented = [OAUTH_EXAMPLE.sub(r"\1\2", line) for line in manifest_lines]
with_oauth = yaml.safe_load("\n".join(uncommented))
copilot["oauthExample"] = {
    "linesUncommented": sum(a != b for a, b in zip(manifest_lines, uncommented)),
    "variables": {k: str(v) for k, v in with_oauth["variables"].items()},
    "restUnchanged": {k: v for k, v in with_oauth.items() if k != "variables"}
    == {k: v for k, v in manifest.items() if k != "variables"},
}
# The paths Copilot's ALB sends to the service (its listener rule matches this and below).
copilot["httpPath"] = manifest["http"]["path"]

# The session cache addon as Copilot reads it: every output (Copilot's service template reads
# each one with Fn::GetAtt, so none may be conditional); an output that is a Ref to a security
# group is attached to the service's tasks; the others become variables.
cache = load_template("copilot/docs-mcp/addons/session-cache.yml")
cache_resources = cache["Resources"]
resolve_cache = resolver(cache, addon_parameters)
resolve_with_cache = resolver(cache, {**addon_parameters, "SessionCache": "valkey"})


def output(name, out):
    value = out["Value"]
    ref = value.get("Ref") if isinstance(value, dict) and set(value) == {"Ref"} else None
    kind = cache_resources.get(ref, {}).get("Type") if ref else None
    return {
        "name": name,
        "conditional": "Condition" in out,
        "securityGroup": ref if kind == "AWS::EC2::SecurityGroup" else None,
        "securityGroupConditional": "Condition" in cache_resources.get(ref, {}),
        "value": None if kind else resolve_cache(value),
        "valueWithCache": None if kind else resolve_with_cache(value),
    }


copilot["sessionCache"] = {
    "outputs": [output(name, out) for name, out in cache.get("Outputs", {}).items()],
    "ingress": cache_resources["SessionCacheSecurityGroup"]["Properties"]["SecurityGroupIngress"],
    "cacheGroups": cache_resources["SessionStoreCache"]["Properties"]["SecurityGroupIds"],
}

service = load_template("template/service.yml")
resolve = resolver(service)
resources = service["Resources"]


def task(given=None):
    """What ECS gets for the task with the defaults or the `given` parameter values: the
    container's environment and secrets (name to secret ARN), the execution role the task
    definition names, and the inline policies of the template's ExecutionRole."""
    tree = resolve_tree(service, given)
    value = resolver(service, given)
    definition = tree(resources["TaskDefinition"]["Properties"])
    container = definition["ContainerDefinitions"][0]
    return {
        "environment": {e["Name"]: resolve_pseudo(value(e["Value"])) for e in container["Environment"]},
        "secrets": {s["Name"]: s["ValueFrom"] for s in container.get("Secrets", [])},
        "executionRoleArn": definition["ExecutionRoleArn"],
        "executionRolePolicies": tree(resources["ExecutionRole"]["Properties"]).get("Policies", []),
    }


# A full secret ARN, as the ApiKeyHashesSecretArn parameter requires.
API_KEY_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:docs-mcp/api-key-hashes-AbC123"
container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
group = resources["TargetGroup"]["Properties"]
group_attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
alb_attributes = {a["Key"]: resolve(a["Value"]) for a in resources["LoadBalancer"]["Properties"]["LoadBalancerAttributes"]}
cloudformation = {
    "variables": task()["environment"],
    "imagePort": container["PortMappings"][0]["ContainerPort"],
    "healthPath": group["HealthCheckPath"],
    "healthPort": group["Port"],
    "healthInterval": group["HealthCheckIntervalSeconds"],
    "healthTimeout": group["HealthCheckTimeoutSeconds"],
    "deregistrationDelay": int(group_attributes["deregistration_delay.timeout_seconds"]),
    "stickiness": group_attributes["stickiness.enabled"] == "true",
    "stopTimeout": container["StopTimeout"],
    "albIdleTimeout": int(alb_attributes["idle_timeout.timeout_seconds"]),
    # The task as ECS gets it without ApiKeyHashesSecretArn (the default) and with it, and the
    # ARN given; `apiKeySecretPattern` is the parameter's AllowedPattern.
    "task": task(),
    "taskWithApiKeys": task({"ApiKeyHashesSecretArn": API_KEY_SECRET_ARN}),
    "apiKeySecretArn": API_KEY_SECRET_ARN,
    "apiKeySecretPattern": service["Parameters"]["ApiKeyHashesSecretArn"]["AllowedPattern"],
}



def evaluate(resolve, value):
    """A value as the deployment `resolve` stands for would see it: parameters and pseudo
    parameters take their values, a resource's Ref is ${Name} and its Fn::GetAtt ${Name.Attr}
    (as Fn::Sub writes them), Fn::If, Fn::Sub (both forms), Fn::Select, Fn::Split and Fn::Join
    are evaluated, and AWS::NoValue removes what it stands for."""

    def sub(text, variables):
        def one(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return variables[name]
            if name in service.get("Parameters", {}):
                return resolve.parameter(name)
            if name in PSEUDO:
                return PSEUDO[name]
            if name.split(".")[0] in resources:
                return match.group(0)
            raise SystemExit(f"Fn::Sub names ${{{name}}}, which is nothing in the template")

        return re.sub(r"\$\{([^}]*)\}", one, text)

    def walk(value):
        if isinstance(value, list):
            return [item for item in map(walk, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                if argument == "AWS::NoValue":
                    return NO_VALUE
                if argument in PSEUDO:
                    return PSEUDO[argument]
                if argument in service.get("Parameters", {}):
                    return resolve.parameter(argument)
                return "${" + argument + "}"
            if function == "Fn::GetAtt":
                return "${" + ".".join(argument) + "}"
            if function == "Fn::If":
                condition, then, otherwise = argument
                return walk(then if resolve.holds(condition) else otherwise)
            if function == "Fn::Sub":
                if isinstance(argument, str):
                    return sub(argument, {})
                text, variables = argument
                return sub(text, {k: str(walk(v)) for k, v in variables.items()})
            if function == "Fn::Select":
                index, items = argument
                return walk(items)[int(walk(index))]
            if function == "Fn::Split":
                separator, text = argument
                return str(walk(text)).split(separator)
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(map(str, walk(items)))
        items = {k: walk(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not NO_VALUE}

    return walk(value)


def deployed(given):
    """template/service.yml deployed with the `given` parameter values: the task ECS gets, the
    resources and outputs that exist (each evaluated), and the Rules that refuse the values:
    CloudFormation checks them before it creates or changes anything, so values they refuse
    give nothing else."""
    resolve = resolver(service, given)

    def exists(item):
        return "Condition" not in item or resolve.holds(item["Condition"])

    failing = []
    for name, rule in service.get("Rules", {}).items():
        if "RuleCondition" in rule and not resolve.holds(rule["RuleCondition"]):
            continue
        if not all(resolve.holds(a["Assert"]) for a in rule["Assertions"]):
            failing.append(name)
    if failing:
        return {"failingRules": failing}
    return {
        "task": task(given),
        "resources": {
            name: {
                "Type": resource["Type"],
                "DependsOn": resource.get("DependsOn"),
                "DeletionPolicy": resource.get("DeletionPolicy"),
                "UpdateReplacePolicy": resource.get("UpdateReplacePolicy"),
                "Properties": evaluate(resolve, resource.get("Properties", {})),
            }
            for name, resource in resources.items()
            if exists(resource)
        },
        "outputs": {
            name: {"value": evaluate(resolve, output["Value"]), "description": output.get("Description", "")}
            for name, output in service.get("Outputs", {}).items()
            if exists(output)
        },
        "failingRules": failing,
    }


cases = {name: deployed(given) for name, given in json.loads(sys.argv[2]).items()} if len(sys.argv) > 2 else {}

standalone = load_template("template/alb-timeout.yml")
patch_path = "copilot/docs-mcp/overrides/cfn.patches.yml"
observability = {
    "pseudo": PSEUDO,
    "service": service,
    "copilotAddon": load_template("copilot/docs-mcp/addons/observability.yml"),
    "copilotAddonParameters": addon_parameters,
    "copilotPatch": cfn_yaml.loads(open(f"{root}/{patch_path}").read(), patch_path),
    "manifest": {
        "name": manifest["name"],
        "count": manifest["count"],
        "variables": copilot["variables"],
    },
}
function = standalone["Resources"]["Function"]["Properties"]
print(json.dumps({
    "copilot": copilot,
    "cloudformation": cloudformation,
    "observability": observability,
    "cases": cases,
    "standalone": {
        "idleTimeoutDefault": standalone["Parameters"]["IdleTimeoutSeconds"]["Default"],
        "lambdaTimeout": function["Timeout"],
        "serviceTimeout": int(standalone["Resources"]["IdleTimeout"]["Properties"]["ServiceTimeout"]),
        "runtime": function["Runtime"],
    },
}))
