# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generated IAM documents, checked against IAM's action/resource catalogue (policy_sentry's copy
of the Service Authorization Reference): every action exists, every Resource has a type the action
accepts, every condition key is one the action supports, and ARNs follow the partition."""

import json
import re

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data
from policy_sentry.querying.actions import get_action_data

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies

ACCOUNT = "123456789012"
PARTITIONS = [
    ("aws", "eu-west-1"),
    ("aws-cn", "cn-north-1"),
    ("aws-us-gov", "us-gov-west-1"),
    ("aws-eusc", "eusc-de-east-1"),
]
GLOBAL_CONDITION_KEYS = re.compile(r"^aws:")


def catalogue(action):
    service, name = action.split(":")
    entries = get_action_data(service, name)[service]
    assert entries, "%s is not an IAM action" % action
    return entries


def arn_pattern(template):
    """Turn 'arn:${Partition}:ecs:${Region}:${Account}:cluster/${ClusterName}' into a regex; a '*' in our ARN may
    stand for any ${...} variable part (names such as repositories and log groups may contain '/')."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", r"[^:]+", pattern)
    return re.compile("^%s$" % pattern)


def check_document(document, partition):
    problems = []
    for statement in document["Statement"]:
        resources = statement.get("Resource", statement.get("NotResource"))
        conditions = [key for operator in statement.get("Condition", {}).values() for key in operator]
        for action in statement["Action"]:
            entries = catalogue(action)
            formats = [e["resource_arn_format"] for e in entries]
            condition_keys = {k for e in entries for k in e["condition_keys"]}
            for resource in resources:
                if resource == "*":
                    if formats != ["*"] and "*" not in formats:
                        problems.append("%s on * but it needs one of %s" % (action, formats))
                    continue
                if not resource.startswith("arn:%s:" % partition):
                    problems.append("%s: %s is not in partition %s" % (action, resource, partition))
                concrete = resource.replace("arn:%s:" % partition, "arn:PARTITION:", 1)
                templates = [f.replace("${Partition}", "PARTITION") for f in formats if f != "*"]
                if not any(arn_pattern(t).match(concrete) for t in templates):
                    problems.append("%s: resource %s matches none of %s" % (action, resource, formats))
            for key in conditions:
                if not GLOBAL_CONDITION_KEYS.match(key) and key not in condition_keys:
                    problems.append("%s does not support condition key %s" % (action, key))
    return problems


@pytest.mark.parametrize("partition, region", PARTITIONS)
@pytest.mark.parametrize(
    "options",
    [
        dict(),
        dict(ecr_repositories="*", readable_parameters=["/onprem/agents/*", "ntp-server"]),
        dict(ecr_repositories=["web", "team/worker"], instance_tags=False, task_metadata_tags=False),
    ],
)
def test_instance_policy_matches_iam_catalogue(partition, region, options):
    document = policies.instance_policy(partition, region, ACCOUNT, ["onprem", "edge"], **options)
    assert check_document(document, partition) == []


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_task_execution_policy_matches_iam_catalogue(partition, region):
    secret = "arn:%s:secretsmanager:%s:%s:secret:db-AbCdEf" % (partition, region, ACCOUNT)
    key = "arn:%s:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (partition, region, ACCOUNT)
    document = policies.task_execution_policy(
        partition,
        region,
        ACCOUNT,
        ecr_repositories=["web"],
        log_groups=["/ecs/onprem"],
        ssm_parameters=["/app/db-user", "plain"],
        secrets_manager_secrets=[secret],
        kms_keys=[key],
    )
    assert check_document(document, partition) == []
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert actions == {
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchGetImage",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ssm:GetParameters",
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
    }


def test_the_checker_catches_a_wrong_resource_type():
    bad = dict(Statement=[dict(Action=["ecs:Poll"], Resource=["arn:aws:ecs:eu-west-1:1:cluster/onprem"])])
    assert check_document(bad, "aws")


def test_the_checker_catches_an_unsupported_condition_key():
    bad = dict(
        Statement=[
            dict(Action=["ecs:DiscoverPollEndpoint"], Resource=["*"], Condition={"StringEquals": {"ecs:cluster": "x"}})
        ]
    )
    assert check_document(bad, "aws")


def test_instance_policy_scopes_cluster_actions_and_leaves_out_what_external_instances_never_call():
    document = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"])
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not actions & {
        "ec2:DescribeTags",
        "ecs:CreateCluster",
        "ecs:DeregisterContainerInstance",
        "ecs:UpdateContainerInstancesState",
    }
    assert not any(a.endswith("*") for a in actions), "no wildcard actions"
    assert by_sid["RegisterAndReportToClusters"]["Resource"] == ["arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"]
    assert by_sid["PollAsContainerInstance"]["Resource"] == [
        "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/*"
    ]
    assert by_sid["PollAsContainerInstance"]["Condition"] == {
        "ArnEquals": {"ecs:cluster": ["arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"]}
    }
    assert by_sid["TagOnRegistration"]["Resource"] == ["*"]
    assert by_sid["TagOnRegistration"]["Condition"] == {
        "StringEquals": {"ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"]}
    }
    assert "EcrPullImages" not in by_sid
    assert not any(a.startswith("logs:") for a in actions), "awslogs writes with the task execution role"


def test_cluster_arns_are_kept_and_names_resolved():
    other = "arn:aws:ecs:us-east-1:123456789012:cluster/far"
    document = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["near", other])
    register = [s for s in document["Statement"] if s["Sid"] == "RegisterAndReportToClusters"][0]
    assert register["Resource"] == ["arn:aws:ecs:eu-west-1:123456789012:cluster/near", other]


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_ssm_trust_policy_has_confused_deputy_conditions(partition, region):
    trust = policies.ssm_trust_policy(partition, region, ACCOUNT)
    statement = trust["Statement"][0]
    assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": "arn:%s:ssm:%s:%s:*" % (partition, region, ACCOUNT)},
    }
    assert "Condition" not in policies.ssm_trust_policy(partition, region, ACCOUNT, False)["Statement"][0]


def test_managed_policy_arns_follow_the_partition():
    assert policies.managed_policy_arn("aws-us-gov", policies.ECS_INSTANCE_POLICY) == (
        "arn:aws-us-gov:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    )
    assert policies.managed_policy_arn("aws-cn", policies.SSM_CORE_POLICY) == (
        "arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )


def test_tag_resource_statement_is_awss_own():
    """ecs:TagResource exactly as AWS's AmazonEC2ContainerServiceforEC2Role grants it (moto's copy of AWS's managed
    policy documents, the ones it loads with MOTO_IAM_LOAD_MANAGED_POLICIES=true)."""
    managed = json.loads(aws_managed_policies_data)["AmazonEC2ContainerServiceforEC2Role"]["Document"]
    (aws,) = [s for s in managed["Statement"] if s["Action"] in ("ecs:TagResource", ["ecs:TagResource"])]
    (ours,) = [
        s
        for s in policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"])["Statement"]
        if "ecs:TagResource" in s["Action"]
    ]

    def as_list(value):
        return sorted([value] if isinstance(value, str) else value)

    def normal(statement):
        condition = {op: {k: as_list(v) for k, v in keys.items()} for op, keys in statement["Condition"].items()}
        return statement["Effect"], as_list(statement["Action"]), as_list(statement["Resource"]), condition

    assert normal(ours) == normal(aws)
    assert "ecs:TagResource" not in str(
        policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["a"], instance_tags=False)
    )


@pytest.mark.parametrize(
    "wanted, granted, missing",
    [
        (["web"], ["arn:aws:ecr:eu-west-1:123456789012:repository/web"], []),
        (["web", "batch"], ["arn:aws:ecr:eu-west-1:123456789012:repository/web"], ["batch"]),  # A does not cover B
        (["batch"], ["arn:aws:ecr:eu-west-1:123456789012:repository/web"], ["batch"]),
        (["team/a", "other"], ["arn:aws:ecr:eu-west-1:123456789012:repository/team/*"], ["other"]),
        (["web"], ["arn:aws:ecr:eu-west-1:123456789012:repository/*"], []),
        (["web"], ["arn:aws:ecr:us-east-1:123456789012:repository/web"], ["web"]),  # another region's repository
        (["web"], ["*"], []),
        (["web"], [], ["web"]),
        (["*"], ["arn:aws:ecr:eu-west-1:123456789012:repository/web"], ["*"]),
        (["*"], ["arn:aws:ecr:eu-west-1:123456789012:repository/*"], []),
        (["*"], ["*"], []),
        (
            ["arn:aws:ecr:eu-west-1:210987654321:repository/web"],
            ["arn:aws:ecr:eu-west-1:123456789012:repository/*"],
            None,
        ),
    ],
)
def test_ecr_grants_are_compared_repository_by_repository(wanted, granted, missing):
    expected = wanted if missing is None else missing
    assert policies.ecr_repositories_not_covered("aws", "eu-west-1", ACCOUNT, wanted, granted) == expected


def test_the_generated_grant_is_read_back_repository_by_repository():
    document = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"], ecr_repositories=["web"])
    granted = policies.ecr_pull_resources(document)
    assert granted == ["arn:aws:ecr:eu-west-1:123456789012:repository/web"]
    assert policies.ecr_repositories_not_covered("aws", "eu-west-1", ACCOUNT, ["web", "batch"], granted) == ["batch"]
    assert policies.ecr_pull_resources(policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"])) == []


@pytest.mark.parametrize(
    "given, resource",
    [
        ([], {"Resource": ["*"]}),
        (
            ["/app/*", "plain", "/a/b"],
            {
                "NotResource": [
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b",
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/app/*",
                    "arn:aws:ssm:eu-west-1:123456789012:parameter/plain",
                ]
            },
        ),
    ],
)
def test_parameters_not_given_are_denied(given, resource):
    document = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"], readable_parameters=given)
    (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
    assert deny == dict(
        Sid="DenyParametersNotGiven",
        Effect="Deny",
        Action=["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"],
        **resource
    )
