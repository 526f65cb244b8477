# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every call the ECS agent and the SSM agent of an external instance make, held against the instance role.

The role in least-privilege mode is the generated policy plus AWS's AmazonSSMManagedInstanceCore (the copy moto
ships), here with AmazonSSMReadOnlyAccess as well, standing for any other policy that grants reading parameters.
The table gives each call with the resource and request context IAM authorises it against (aws-facts.md, section 5)
and whether it must be allowed.  moto's evaluator ignores condition keys a request does not carry and has no
``NotResource``, so the evaluation here is a small one that follows IAM's documented logic for what the
generated documents use: explicit Deny wins, then any Allow; ``Action``/``Resource``/``NotResource`` with ``*`` and
``?`` wildcards; ``StringEquals``/``StringLike``/``ArnEquals``/``ArnLike`` conditions, false when the key is absent.

``test_dropping_any_statement_or_action_fails_the_table`` removes each statement and each action of the generated
policy in turn and requires the table to notice.
"""

import copy
import json
import re

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies

P, R, A = "aws", "eu-west-1", "123456789012"
CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"
OTHER = "arn:aws:ecs:eu-west-1:123456789012:cluster/other"
INSTANCE = "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"
OTHER_INSTANCE = "arn:aws:ecs:eu-west-1:123456789012:container-instance/other/0123456789abcdef0123456789abcdef"
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/onprem/fedcba9876543210fedcba9876543210"
OTHER_TASK = "arn:aws:ecs:eu-west-1:123456789012:task/other/fedcba9876543210fedcba9876543210"
PARAMETER = "arn:aws:ssm:eu-west-1:123456789012:parameter/"
REPO = "arn:aws:ecr:eu-west-1:123456789012:repository/"
MANAGED = json.loads(aws_managed_policies_data)
SSM_CORE = MANAGED[policies.SSM_CORE_POLICY]["Document"]
#: Another policy on the role (managed_policies) that reads every parameter: the Deny must hold against it too.
SSM_READ_ONLY = MANAGED["AmazonSSMReadOnlyAccess"]["Document"]

#: The generated policy's inputs for the table.
OPTIONS = dict(ecr_repositories=["web"], readable_parameters=["/onprem/agents/*", "ntp-server"])
REGISTER = {"ecs:CreateAction": "RegisterContainerInstance"}

#: (action, resource, request context, allowed?)
CALLS = [
    # --- ECS agent (amazon-ecs-agent, external instance)
    ("ecs:DiscoverPollEndpoint", "*", {}, True),
    ("ecs:RegisterContainerInstance", CLUSTER, {}, True),
    ("ecs:RegisterContainerInstance", OTHER, {}, False),
    ("ecs:Poll", INSTANCE, {"ecs:cluster": CLUSTER}, True),
    ("ecs:Poll", OTHER_INSTANCE, {"ecs:cluster": OTHER}, False),
    ("ecs:StartTelemetrySession", INSTANCE, {"ecs:cluster": CLUSTER}, True),
    ("ecs:StartTelemetrySession", OTHER_INSTANCE, {"ecs:cluster": OTHER}, False),
    ("ecs:SubmitTaskStateChange", CLUSTER, {}, True),
    ("ecs:SubmitTaskStateChange", OTHER, {}, False),
    ("ecs:SubmitContainerStateChange", CLUSTER, {}, True),
    ("ecs:SubmitContainerStateChange", OTHER, {}, False),
    ("ecs:SubmitAttachmentStateChanges", CLUSTER, {}, True),
    ("ecs:SubmitAttachmentStateChanges", OTHER, {}, False),
    ("ecs:TagResource", INSTANCE, REGISTER, True),  # ECS_CONTAINER_INSTANCE_TAGS at registration
    ("ecs:TagResource", CLUSTER, REGISTER, True),  # whichever ARN ECS checks on create
    ("ecs:TagResource", INSTANCE, {}, False),  # tagging later is the controller's business
    ("ecs:ListTagsForResource", INSTANCE, {}, True),
    ("ecs:ListTagsForResource", TASK, {}, True),
    ("ecs:ListTagsForResource", OTHER_TASK, {}, False),
    # --- what an external instance never calls
    ("ecs:CreateCluster", "*", {}, False),
    ("ecs:DeregisterContainerInstance", CLUSTER, {}, False),
    ("ecs:UpdateContainerInstancesState", INSTANCE, {"ecs:cluster": CLUSTER}, False),
    ("ec2:DescribeTags", "*", {}, False),
    ("logs:PutLogEvents", "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/onprem:log-stream:x", {}, False),
    # --- ECR pull for tasks without an execution role, repository by repository
    ("ecr:GetAuthorizationToken", "*", {}, True),
    ("ecr:BatchGetImage", REPO + "web", {}, True),
    ("ecr:GetDownloadUrlForLayer", REPO + "web", {}, True),
    ("ecr:BatchCheckLayerAvailability", REPO + "web", {}, True),
    ("ecr:BatchGetImage", REPO + "other", {}, False),
    # --- SSM agent core (AmazonSSMManagedInstanceCore)
    ("ssm:UpdateInstanceInformation", "*", {}, True),
    ("ssm:ListInstanceAssociations", "*", {}, True),
    ("ssm:UpdateInstanceAssociationStatus", "*", {}, True),
    ("ssm:PutInventory", "*", {}, True),
    ("ssm:GetDocument", "*", {}, True),
    ("ssmmessages:CreateControlChannel", "*", {}, True),
    ("ssmmessages:CreateDataChannel", "*", {}, True),
    ("ssmmessages:OpenControlChannel", "*", {}, True),
    ("ssmmessages:OpenDataChannel", "*", {}, True),
    ("ec2messages:GetMessages", "*", {}, True),
    ("ec2messages:AcknowledgeMessage", "*", {}, True),
    ("ec2messages:SendReply", "*", {}, True),
    ("ec2messages:GetEndpoint", "*", {}, True),
    # --- SSM parameters: only those given
    ("ssm:GetParameter", PARAMETER + "onprem/agents/proxy", {}, True),
    ("ssm:GetParameters", PARAMETER + "ntp-server", {}, True),
    ("ssm:GetParameter", PARAMETER + "prod/db-password", {}, False),
    ("ssm:GetParameters", PARAMETER + "prod/db-password", {}, False),
    ("ssm:GetParametersByPath", PARAMETER + "prod", {}, False),
    ("ssm:GetParameterHistory", PARAMETER + "prod/db-password", {}, False),
]


def _matches(patterns, value, ignore_case=False):
    """IAM wildcard matching; action names are case-insensitive, ARNs are not."""
    patterns = [patterns] if isinstance(patterns, str) else patterns
    for pattern in patterns:
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        if re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0):
            return True
    return False


def _condition_holds(condition, context):
    for operator, keys in condition.items():
        for key, expected in keys.items():
            if key not in context:
                return False  # IAM: a key absent from the request fails every operator without IfExists
            expected = [expected] if isinstance(expected, str) else expected
            if operator in ("StringEquals", "ArnEquals"):
                ok = context[key] in expected
            elif operator in ("StringLike", "ArnLike"):
                ok = _matches(expected, context[key])
            else:
                raise AssertionError("the evaluator does not know %s" % operator)
            if not ok:
                return False
    return True


def _applies(statement, action, resource, context):
    if "Action" in statement and not _matches(statement["Action"], action, ignore_case=True):
        return False
    if "NotAction" in statement and _matches(statement["NotAction"], action, ignore_case=True):
        return False
    if "Resource" in statement and not _matches(statement["Resource"], resource):
        return False
    if "NotResource" in statement and _matches(statement["NotResource"], resource):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(documents, action, resource, context):
    statements = [s for d in documents for s in d["Statement"] if _applies(s, action, resource, context)]
    if any(s["Effect"] == "Deny" for s in statements):
        return False
    return any(s["Effect"] == "Allow" for s in statements)


def instance_role_documents(document=None):
    return [document or policies.instance_policy(P, R, A, ["onprem"], **OPTIONS), SSM_CORE, SSM_READ_ONLY]


def table_failures(documents):
    return [row for row in CALLS if allowed(documents, row[0], row[1], row[2]) != row[3]]


def test_the_instance_role_allows_exactly_what_the_agents_call():
    assert table_failures(instance_role_documents()) == []


def test_every_generated_action_is_in_the_table():
    document = policies.instance_policy(P, R, A, ["onprem"], **OPTIONS)
    in_table = {row[0] for row in CALLS}
    assert {a for s in document["Statement"] for a in s["Action"]} <= in_table


def test_without_readable_parameters_every_parameter_is_denied():
    document = policies.instance_policy(P, R, A, ["onprem"])
    for name in ("onprem/agents/proxy", "ntp-server", "aws/service/ami-amazon-linux-latest/x"):
        assert not allowed(instance_role_documents(document), "ssm:GetParameter", PARAMETER + name, {})
    assert allowed(instance_role_documents(document), "ssm:UpdateInstanceInformation", "*", {})


def _mutants():
    """The generated document with one statement, or one action of a statement, taken out."""
    document = policies.instance_policy(P, R, A, ["onprem"], **OPTIONS)
    for index, statement in enumerate(document["Statement"]):
        mutant = copy.deepcopy(document)
        del mutant["Statement"][index]
        yield "drop statement %s" % statement["Sid"], mutant
        for action in statement["Action"]:
            if len(statement["Action"]) > 1:
                mutant = copy.deepcopy(document)
                mutant["Statement"][index]["Action"].remove(action)
                yield "drop %s from %s" % (action, statement["Sid"]), mutant
        # PollAsContainerInstance is scoped twice (container-instance/<cluster>/* and ecs:cluster): either alone
        # holds, so losing one of the two is not a failure the table could see; the single scope of the other
        # statements is mutated.
        if "Condition" in statement and statement.get("Resource") == ["*"]:
            mutant = copy.deepcopy(document)
            del mutant["Statement"][index]["Condition"]
            yield "drop the condition of %s" % statement["Sid"], mutant
        if statement.get("Resource", ["*"]) != ["*"] and "Condition" not in statement:
            mutant = copy.deepcopy(document)
            mutant["Statement"][index]["Resource"] = ["*"]
            yield "widen %s to *" % statement["Sid"], mutant


MUTANTS = list(_mutants())


@pytest.mark.parametrize("name, mutant", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_dropping_any_statement_or_action_fails_the_table(name, mutant):
    assert table_failures(instance_role_documents(mutant)), "the table did not notice: %s" % name


def test_the_evaluator_denies_explicitly_and_reads_not_resource():
    deny = dict(Statement=[dict(Effect="Deny", Action=["s:A"], NotResource=["arn:x:1"])])
    allow = dict(Statement=[dict(Effect="Allow", Action=["s:*"], Resource=["*"])])
    assert allowed([allow, deny], "s:A", "arn:x:1", {})
    assert not allowed([allow, deny], "s:A", "arn:x:2", {})
    assert allowed([allow, deny], "s:B", "arn:x:2", {})
    assert not allowed([deny], "s:A", "arn:x:1", {})  # not denied, yet nothing allows it
