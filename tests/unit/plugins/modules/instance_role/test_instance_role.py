# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""instance_role's main(): bad input fails before any AWS call, check mode only reads, and what the role grants
for ECR is reported repository by repository."""

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.modules import instance_role
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import expect_absent
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import run_main
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

POLICY = "arn:aws:iam::123456789012:policy/ECSAnywhereRole-ecs-anywhere"
REPO = "arn:aws:ecr:eu-west-1:123456789012:repository/"


@pytest.mark.parametrize(
    "options, parameter",
    [
        (dict(clusters=[]), "clusters"),
        (dict(clusters=["arn:aws:ecs:eu-west-1:123456789012:cluster/*"]), "clusters"),
        (dict(clusters=["a"], readable_parameters=["no spaces"]), "readable_parameters"),
        (dict(clusters=["a"], readable_parameters=["/app/*/deeper"]), "readable_parameters"),
        (dict(clusters=["a"], readable_parameters=["arn:aws:s3:::bucket/x"]), "readable_parameters"),
        (dict(policy_mode="managed", readable_parameters=["/app/x"]), "policy_mode"),
        (dict(policy_mode="managed", ecr_repositories=["web"]), "policy_mode"),
        (dict(clusters=["a"], readable_parameters=["/p%04d" % i for i in range(300)]), "readable_parameters"),
    ],
)
def test_bad_input_fails_before_any_aws_call(monkeypatch, stubbed, options, parameter):
    client, _stubber = stubbed("iam")  # nothing queued: any IAM call fails the test
    calls = []
    with pytest.raises(ModuleFailed) as failed:
        run_main(monkeypatch, instance_role, client, calls=calls, **options)
    assert failed.value.kwargs["invalid_parameters"] == [parameter]
    assert calls == [], "validated before STS and before any client"


@pytest.mark.parametrize(
    "options, pull",
    [
        (dict(clusters=["onprem"]), []),
        (dict(clusters=["onprem"], ecr_repositories=["web", "team/api"]), [REPO + "team/api", REPO + "web"]),
        (dict(clusters=["onprem"], ecr_repositories=["*"]), [REPO + "*"]),
        (dict(policy_mode="managed"), ["*"]),  # AmazonEC2ContainerServiceforEC2Role: ECR pull on *
        (
            dict(clusters=["onprem"], managed_policies=["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]),
            ["*"],
        ),
    ],
)
def test_check_mode_create_only_reads_and_reports_the_ecr_grant(monkeypatch, stubbed, options, pull):
    client, stubber = stubbed("iam")
    expect_absent(stubber, "ECSAnywhereRole", POLICY)  # then any write would be an unexpected call

    result, calls = run_main(monkeypatch, instance_role, client, check_mode=True, **options)

    assert calls == ["sts:GetCallerIdentity", "client:iam"]
    assert result["changed"] is True
    assert result["role"]["name"] == "ECSAnywhereRole"
    assert result["ecr_pull_repositories"] == pull
    assert result["grants_ecr_pull"] is bool(pull)


def test_generated_policy_denies_parameters_not_given(monkeypatch, stubbed):
    client, stubber = stubbed("iam")
    expect_absent(stubber, "ECSAnywhereRole", POLICY)

    result, _calls = run_main(
        monkeypatch, instance_role, client, check_mode=True, clusters=["onprem"], readable_parameters=["/onprem/*"]
    )

    (deny,) = [s for s in result["policy_document"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["NotResource"] == ["arn:aws:ssm:eu-west-1:123456789012:parameter/onprem/*"]
    assert result["role"]["generated_policy"] == result["policy_document"]


def test_log_groups_is_no_longer_an_option(monkeypatch, stubbed):
    client, _stubber = stubbed("iam")
    with pytest.raises(AssertionError, match="log_groups"):
        run_main(monkeypatch, instance_role, client, clusters=["onprem"], log_groups=["/ecs/onprem"])
