# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A failure after CreateActivation leaves no live activation behind (issue 12: a permanently throttled SSM call
left the activation its run had just made live, with 0 registrations and not expired, which state=cleaned never
removes). Throttling here outlasts the retries (10 attempts: AWSRetry's default)."""

import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.modules import activation as activation_module

from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.activation.test_activation import ACTIVATION_ID
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.activation.test_activation import CODE
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.activation.test_activation import NOW
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.activation.test_activation import create_request
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.activation.test_activation import params
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule as Module

ATTEMPTS = 10


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(cloud.time, "sleep", lambda _seconds: None)


def throttle(stubber, operation, times=ATTEMPTS):
    for _attempt in range(times):
        stubber.add_client_error(operation, "ThrottlingException", "Rate exceeded", 400)


def test_created_but_not_readable_is_deleted_again_and_the_failure_says_so(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_response("create_activation", dict(ActivationId=ACTIVATION_ID, ActivationCode=CODE), create_request())
    throttle(stubber, "describe_activations")
    stubber.add_response("delete_activation", {}, dict(ActivationId=ACTIVATION_ID))

    with pytest.raises(ssm.AnsibleSSMError) as raised:
        activation_module.ensure_present(Module(params()), client, NOW)

    message = raised.value.message
    assert ACTIVATION_ID in message and "it is deleted again" in message and "re-run" in message, message
    assert CODE not in str(raised.value)


def test_created_and_neither_readable_nor_deletable_names_the_activation_to_delete(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_response("create_activation", dict(ActivationId=ACTIVATION_ID, ActivationCode=CODE), create_request())
    throttle(stubber, "describe_activations")
    throttle(stubber, "delete_activation")

    with pytest.raises(ssm.AnsibleSSMError) as raised:
        activation_module.ensure_present(Module(params()), client, NOW)

    message = raised.value.message
    assert ACTIVATION_ID in message and "state=absent" in message, message
    assert CODE not in str(raised.value)


def test_absent_deletes_even_when_the_activation_cannot_be_read(stubbed):
    client, stubber = stubbed("ssm")
    throttle(stubber, "describe_activations")
    stubber.add_response("delete_activation", {}, dict(ActivationId=ACTIVATION_ID))
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID))

    before, deleted = activation_module.ensure_absent(module, client)

    assert before == {"activation_id": ACTIVATION_ID} and deleted == [ACTIVATION_ID]
    assert activation_module.diffable(before)["activation_id"] == ACTIVATION_ID


def test_absent_unreadable_and_already_gone_is_no_change(stubbed):
    client, stubber = stubbed("ssm")
    throttle(stubber, "describe_activations")
    stubber.add_client_error("delete_activation", "InvalidActivation", "Activation does not exist.", 400)
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID))

    assert activation_module.ensure_absent(module, client) == (None, [])


def test_absent_in_check_mode_that_cannot_read_fails_and_deletes_nothing(stubbed):
    client, stubber = stubbed("ssm")
    throttle(stubber, "describe_activations")
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID), check_mode=True)

    with pytest.raises(ssm.AnsibleSSMError):
        activation_module.ensure_absent(module, client)
