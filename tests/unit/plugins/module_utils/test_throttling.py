# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throttled SSM, ECS and IAM calls are retried with amazon.aws's jittered backoff (issue 12).

The Stubber answers before botocore's own retry handler runs, so what is seen here is the collection's retry alone.
SSM and ECS (JSON protocol) answer ``ThrottlingException``; IAM (query protocol) ``Throttling``: botocore's service
models and data/_retry.json. amazon.aws's AWSRetry knew only the second, so an SSM or ECS call throttled for longer
than botocore's few attempts failed the module (issue 12: "gives up within about a second").
"""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import FleetRetry

ACTIVATION_ID = "6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31"


@pytest.fixture
def slept(monkeypatch):
    """The backoff delays, recorded instead of slept."""
    delays = []
    monkeypatch.setattr(cloud.time, "sleep", delays.append)
    return delays


@pytest.mark.parametrize(
    "code, retried",
    [
        ("ThrottlingException", True),  # SSM, ECS
        ("Throttling", True),  # IAM, STS
        ("RequestLimitExceeded", True),
        ("ThrottledException", True),
        ("AccessDeniedException", False),
        ("ValidationException", False),
    ],
)
def test_which_codes_are_retried(code, retried):
    assert FleetRetry.found(code) is retried


def test_amazon_aws_alone_would_not_retry_ssm_and_ecs_throttling():
    """The reason for FleetRetry: if amazon.aws learns the code, this fails and FleetRetry can go."""
    assert not AWSRetry.found("ThrottlingException")


def test_a_throttled_ssm_call_is_retried_with_backoff_until_it_succeeds(stubbed, slept):
    client, stubber = stubbed("ssm")
    for _attempt in range(4):
        stubber.add_client_error("delete_activation", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response("delete_activation", {}, dict(ActivationId=ACTIVATION_ID))

    assert ssm.delete_activation(client, ACTIVATION_ID) is True
    assert len(slept) == 4 and all(0 <= delay <= 60 for delay in slept), slept


def test_a_throttled_ecs_call_is_retried_until_it_succeeds(stubbed, slept):
    client, stubber = stubbed("ecs")
    stubber.add_client_error("describe_clusters", "ThrottlingException", "Rate exceeded", 400)
    stubber.add_response(
        "describe_clusters",
        dict(clusters=[dict(clusterName="site", status="ACTIVE")], failures=[]),
        dict(clusters=["site"], include=["SETTINGS", "TAGS"]),
    )

    assert ecs.describe_cluster(client, "site")["clusterName"] == "site"
    assert len(slept) == 1


def test_permanent_throttling_gives_up_after_ten_attempts_with_one_collection_error(stubbed, slept):
    """Ten attempts with amazon.aws's jittered backoff between them (up to 3 s, doubling, at most 60 s): minutes of
    waiting in the worst case, not a second."""
    client, stubber = stubbed("ssm")
    for _attempt in range(10):
        stubber.add_client_error("delete_activation", "ThrottlingException", "Rate exceeded", 400)

    with pytest.raises(ssm.AnsibleSSMError) as raised:
        ssm.delete_activation(client, ACTIVATION_ID)

    assert raised.value.message == "Failed to delete activation"
    assert len(slept) == 9
