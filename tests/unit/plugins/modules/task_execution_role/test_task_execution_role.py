# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""task_execution_role's main(): the reasons a task needs the role (awslogs always; each ECR repository the instance
role does not grant; secrets), check mode only reads, and bad input fails before any AWS call."""

import json

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.modules import task_execution_role
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import expect_absent
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import run_main
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

NAME = "ecsTaskExecutionRole"
POLICY = "arn:aws:iam::123456789012:policy/ecsTaskExecutionRole-ecs-anywhere"
REPO = "arn:aws:ecr:eu-west-1:123456789012:repository/"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

#: (options, reasons, ECR repositories not granted by the instance role)
REASONS = [
    (dict(), [], []),
    (dict(log_groups=["/ecs/onprem"]), ["awslogs"], []),
    # awslogs writes with the execution role whatever the instance role grants
    (dict(log_groups=["/ecs/onprem"], instance_role_ecr_repositories=["*"]), ["awslogs"], []),
    (dict(ecr_repositories=["web"]), ["private_ecr"], ["web"]),
    (dict(ecr_repositories=["web"], instance_role_ecr_repositories=[REPO + "web"]), [], []),
    (dict(ecr_repositories=["web"], instance_role_ecr_repositories=["web"]), [], []),
    (dict(ecr_repositories=["web"], instance_role_ecr_repositories=["*"]), [], []),
    (dict(ecr_repositories=["web"], instance_role_ecr_repositories=[REPO + "*"]), [], []),
    # the instance role grants repository A; tasks also pull repository B
    (
        dict(ecr_repositories=["web", "batch"], instance_role_ecr_repositories=[REPO + "web"]),
        ["private_ecr"],
        ["batch"],
    ),
    (dict(ecr_repositories=["batch"], instance_role_ecr_repositories=[REPO + "web"]), ["private_ecr"], ["batch"]),
    (dict(ecr_repositories=["*"], instance_role_ecr_repositories=[REPO + "web"]), ["private_ecr"], ["*"]),
    (dict(ssm_parameters=["/app/db-user"]), ["secrets"], []),
    (dict(secrets_manager_secrets=[SECRET], kms_keys=[KEY]), ["secrets"], []),
    (dict(kms_keys=[KEY]), [], []),  # a key alone decrypts nothing the task reads
    (
        dict(log_groups=["/ecs/onprem"], ecr_repositories=["web"], ssm_parameters=["p"]),
        ["awslogs", "private_ecr", "secrets"],
        ["web"],
    ),
]


@pytest.mark.parametrize("options, reasons, not_granted", REASONS)
def test_reasons_for_the_role(monkeypatch, stubbed, options, reasons, not_granted):
    client, stubber = stubbed("iam")
    if reasons:
        expect_absent(stubber, NAME, POLICY)  # check mode: reads only, any write is an unexpected call

    result, calls = run_main(monkeypatch, task_execution_role, client, check_mode=True, **options)

    assert result["reasons"] == reasons
    assert result["required"] is bool(reasons)
    assert result["ecr_repositories_not_granted"] == not_granted
    assert result["changed"] is bool(reasons)
    if reasons:
        assert result["role"]["name"] == NAME
        assert result["role"]["trust_policy"]["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    else:
        assert result["role"] == {} and result["policy_document"] is None


def test_the_role_pulls_every_repository_tasks_use_once_it_exists(monkeypatch, stubbed):
    """When the task definition names the role the agent pulls with it, so it carries all of ecr_repositories."""
    client, stubber = stubbed("iam")
    expect_absent(stubber, NAME, POLICY)

    result, _calls = run_main(
        monkeypatch,
        task_execution_role,
        client,
        check_mode=True,
        ecr_repositories=["web", "batch"],
        instance_role_ecr_repositories=[REPO + "web"],
    )

    (pull,) = [s for s in result["policy_document"]["Statement"] if s["Sid"] == "EcrPullImages"]
    assert pull["Resource"] == [REPO + "batch", REPO + "web"]


def test_check_mode_remove_when_not_required_only_reads(monkeypatch, stubbed):
    client, stubber = stubbed("iam")
    owned = [dict(Key="ecs_anywhere.fleet:managed", Value="true")]
    role = dict(
        Path="/",
        RoleName=NAME,
        RoleId="AROAEXAMPLEEXAMPLE5678",
        Arn="arn:aws:iam::123456789012:role/" + NAME,
        CreateDate="2026-01-01T00:00:00Z",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        Tags=owned,
    )
    stubber.add_response("get_role", dict(Role=role), dict(RoleName=NAME))
    stubber.add_client_error("get_policy", "NoSuchEntity", expected_params=dict(PolicyArn=POLICY))
    stubber.add_response(
        "list_attached_role_policies", dict(AttachedPolicies=[], IsTruncated=False), dict(RoleName=NAME)
    )

    result, _calls = run_main(
        monkeypatch,
        task_execution_role,
        client,
        check_mode=True,
        ecr_repositories=["web"],
        instance_role_ecr_repositories=["*"],
        remove_when_not_required=True,
    )

    assert result["required"] is False
    assert result["changed"] is True  # it would delete the collection's role, and did not


@pytest.mark.parametrize(
    "options, parameter",
    [
        (dict(ecr_repositories=["web"], instance_role_ecr_repositories=["UPPER"]), "instance_role_ecr_repositories"),
        (
            dict(ecr_repositories=["web"], instance_role_ecr_repositories=["arn:aws:s3:::bucket"]),
            "instance_role_ecr_repositories",
        ),
        (dict(log_groups=["bad:group"]), "log_groups"),
        (dict(ssm_parameters=["bad param!"]), "ssm_parameters"),
        (dict(secrets_manager_secrets=["arn:aws:ssm:eu-west-1:123456789012:parameter/x"]), "secrets_manager_secrets"),
        (dict(kms_keys=["alias/mine"], ssm_parameters=["p"]), "kms_keys"),
        (dict(log_groups=["/x"], name="rôle"), "name"),
    ],
)
def test_bad_input_fails_before_any_aws_call(monkeypatch, stubbed, options, parameter):
    client, _stubber = stubbed("iam")  # nothing queued: any IAM call fails the test
    calls = []
    with pytest.raises(ModuleFailed) as failed:
        run_main(monkeypatch, task_execution_role, client, calls=calls, **options)
    assert failed.value.kwargs["invalid_parameters"] == [parameter]
    assert calls == [], "validated before STS and before any client"


def test_instance_role_grants_ecr_is_no_longer_an_option(monkeypatch, stubbed):
    client, _stubber = stubbed("iam")
    with pytest.raises(AssertionError, match="instance_role_grants_ecr"):
        run_main(monkeypatch, task_execution_role, client, ecr_repositories=["web"], instance_role_grants_ecr=True)
