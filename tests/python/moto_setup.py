"""Builds a Copilot-like account in a running moto server and prints what it made as JSON.

- the docs/prod environment: its public ALB (logical id PublicLoadBalancer) and its internal
  ALB, both with the Copilot tags, and a network load balancer with the same tags;
- the docs/test environment's public ALB;
- 55 untagged ALBs, so DescribeLoadBalancers pages (moto's page is 50);
- an S3 bucket and presigned PUT URLs for CloudFormation-style responses.

Usage: moto_setup.py ENDPOINT_URL
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
ec2 = session.client("ec2", endpoint_url=endpoint)
elb = session.client("elbv2", endpoint_url=endpoint)
s3 = session.client("s3", endpoint_url=endpoint)

vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
subnets = [
    ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
    for i, z in ((1, "a"), (2, "b"))
]


def tags(app, env, logical):
    out = [{"Key": "copilot-application", "Value": app}, {"Key": "copilot-environment", "Value": env}]
    if logical:
        out.append({"Key": "aws:cloudformation:logical-id", "Value": logical})
    return out


def make(name, scheme="internet-facing", kind="application", tag_list=None):
    args = dict(Name=name, Subnets=subnets, Scheme=scheme, Type=kind)
    if tag_list:
        args["Tags"] = tag_list
    return elb.create_load_balancer(**args)["LoadBalancers"][0]["LoadBalancerArn"]


made = {
    "public": make("docs-prod-public", tag_list=tags("docs", "prod", "PublicLoadBalancer")),
    "internal": make("docs-prod-internal", scheme="internal", tag_list=tags("docs", "prod", "InternalLoadBalancer")),
    "nlb": make("docs-prod-nlb", kind="network", tag_list=tags("docs", "prod", "PublicLoadBalancer")),
    "otherEnv": make("docs-test-public", tag_list=tags("docs", "test", "PublicLoadBalancer")),
}
for i in range(55):
    make(f"unrelated-{i:02d}")

s3.create_bucket(Bucket="cfn-responses")
made["bucket"] = "cfn-responses"
made["responseUrls"] = {
    key: s3.generate_presigned_url("put_object", Params={"Bucket": "cfn-responses", "Key": key}, ExpiresIn=3600)
    for key in ("create", "update", "delete", "create-arn", "delete-restore")
}
made["readUrls"] = {
    key: s3.generate_presigned_url("get_object", Params={"Bucket": "cfn-responses", "Key": key}, ExpiresIn=3600)
    for key in made["responseUrls"]
}
print(json.dumps(made))
