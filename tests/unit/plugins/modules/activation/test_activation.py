# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import datetime
import re

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.modules import activation as activation_module

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule as Module
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

NOW = datetime.datetime(2026, 11, 29, 8, 0, tzinfo=datetime.timezone.utc)
ACTIVATION_ID = "6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31"
OTHER_ID = "0b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e32"
CODE = "Xy12AbCdEfGhIjKlMnOp"
MANAGED = {"Key": ssm.MANAGED_TAG_KEY, "Value": ssm.MANAGED_TAG_VALUE}
PROPAGATION = "Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::123456789012:role/R"


def params(**overrides):
    base = dict(
        state="present",
        iam_role="ECSAnywhereRole",
        activation_id=None,
        registration_limit=1,
        expiration_hours=1,
        default_instance_name=None,
        description="Created by ecs_anywhere.fleet",
        tags=None,
        wait_timeout=60,
    )
    base.update(overrides)
    return base


def aws_activation(
    activation_id=ACTIVATION_ID, limit=1, count=0, expired=False, tags=(MANAGED,), role="ECSAnywhereRole"
):
    activation = dict(
        ActivationId=activation_id,
        IamRole=role,
        RegistrationLimit=limit,
        ExpirationDate=NOW + datetime.timedelta(hours=1),
        Expired=expired,
        Description="Created by ecs_anywhere.fleet",
        CreatedDate=NOW,
        Tags=list(tags),
    )
    if count:  # botocore's model says RegistrationsCount >= 1, so the Stubber refuses a 0: leave it out as "none"
        activation["RegistrationsCount"] = count
    return activation


def expect_describe_one(stubber, activation_id, found):
    stubber.add_response(
        "describe_activations",
        dict(ActivationList=[found] if found else []),
        dict(Filters=[dict(FilterKey="ActivationIds", FilterValues=[activation_id])]),
    )


@pytest.fixture
def no_sleep(monkeypatch):
    """Record the retry delays instead of sleeping; the clock moves by what was slept."""
    slept = []
    clock = [1000.0]

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(ssm.time, "sleep", sleep)
    monkeypatch.setattr(ssm.time, "monotonic", lambda: clock[0])
    return slept


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "overrides, parameter",
    [
        (dict(iam_role=None), "iam_role"),
        (dict(iam_role="arn:aws:iam::123456789012:role/ECSAnywhereRole"), "iam_role"),
        (dict(iam_role="bad/role"), "iam_role"),
        (dict(iam_role="r" * 65), "iam_role"),
        (dict(registration_limit=0), "registration_limit"),
        (dict(registration_limit=1001), "registration_limit"),
        (dict(expiration_hours=0), "expiration_hours"),
        (dict(expiration_hours=721), "expiration_hours"),
        (dict(wait_timeout=-1), "wait_timeout"),
        (dict(default_instance_name="x" * 257), "default_instance_name"),
        (dict(default_instance_name="bad;name"), "default_instance_name"),
        (dict(description="x" * 257), "description"),
        (dict(tags={"": "x"}), "tags"),
        (dict(tags={"k": "v" * 257}), "tags"),
        (dict(tags={ssm.MANAGED_TAG_KEY: "false"}), "tags"),
        (dict(activation_id=ACTIVATION_ID), "activation_id"),
        (dict(state="absent"), "activation_id"),
        (dict(state="absent", activation_id="not-an-id"), "activation_id"),
    ],
)
def test_bad_input_fails_once_naming_the_parameter(overrides, parameter):
    with pytest.raises(ModuleFailed) as failed:
        activation_module.validate(Module(params(**overrides)))
    assert failed.value.kwargs["invalid_parameters"] == [parameter]
    assert parameter in failed.value.kwargs["msg"]


@pytest.mark.parametrize(
    "overrides",
    [
        dict(),
        dict(registration_limit=1000, expiration_hours=720, wait_timeout=0),
        dict(default_instance_name="rack 4/edge-01", tags={"site": "dc 2", ssm.MANAGED_TAG_KEY: "true"}),
        dict(state="absent", iam_role=None, activation_id=ACTIVATION_ID),
        dict(state="cleaned", iam_role=None),
    ],
)
def test_good_input_passes(overrides):
    activation_module.validate(Module(params(**overrides)))


def test_several_problems_are_reported_together():
    with pytest.raises(ModuleFailed) as failed:
        activation_module.validate(Module(params(registration_limit=0, expiration_hours=0)))
    assert failed.value.kwargs["invalid_parameters"] == ["registration_limit", "expiration_hours"]


# ---------------------------------------------------------------- present


def create_request(**overrides):
    request = dict(
        IamRole="ECSAnywhereRole",
        RegistrationLimit=1,
        ExpirationDate=NOW + datetime.timedelta(hours=1),
        Tags=[MANAGED],
        Description="Created by ecs_anywhere.fleet",
    )
    request.update(overrides)
    return request


def test_create_sends_the_request_and_returns_id_code_and_description(stubbed):
    client, stubber = stubbed("ssm")
    request = create_request(
        RegistrationLimit=3,
        ExpirationDate=NOW + datetime.timedelta(hours=5),
        DefaultInstanceName="onprem",
        Tags=[{"Key": "team", "Value": "platform"}, MANAGED],
    )
    stubber.add_response("create_activation", dict(ActivationId=ACTIVATION_ID, ActivationCode=CODE), request)
    described = aws_activation(limit=3, tags=request["Tags"])
    described.update(DefaultInstanceName="onprem", ExpirationDate=request["ExpirationDate"])
    expect_describe_one(stubber, ACTIVATION_ID, described)
    module = Module(
        params(registration_limit=3, expiration_hours=5, default_instance_name="onprem", tags={"team": "platform"})
    )

    after, code = activation_module.ensure_present(module, client, NOW)

    assert code == CODE
    assert after["activation_id"] == ACTIVATION_ID
    assert after["registration_limit"] == 3
    assert after["expiration_date"] == "2026-11-29T13:00:00+00:00"
    assert after["tags"] == {"team": "platform", ssm.MANAGED_TAG_KEY: "true"}


def test_create_in_check_mode_makes_no_call_and_has_no_code(stubbed):
    client, _stubber = stubbed("ssm")  # any call would raise: nothing is queued
    module = Module(params(tags={"a": "b"}), check_mode=True)

    after, code = activation_module.ensure_present(module, client, NOW)

    assert code is None
    assert after["activation_id"] is None
    assert after["expiration_date"] == "2026-11-29T09:00:00+00:00"
    assert after["tags"] == {"a": "b", ssm.MANAGED_TAG_KEY: "true"}


def test_create_retries_while_the_new_role_is_not_visible_to_ssm(stubbed, no_sleep):
    client, stubber = stubbed("ssm")
    for _attempt in range(2):
        stubber.add_client_error(
            "create_activation", "ValidationException", PROPAGATION, 400, expected_params=create_request()
        )
    stubber.add_response("create_activation", dict(ActivationId=ACTIVATION_ID, ActivationCode=CODE), create_request())

    created = ssm.create_activation(client, create_request(), wait_timeout=60)

    assert created["ActivationCode"] == CODE
    assert no_sleep == [2, 4]


def test_create_gives_up_after_wait_timeout_with_a_clear_message(stubbed, no_sleep):
    client, stubber = stubbed("ssm")
    for _attempt in range(3):
        stubber.add_client_error("create_activation", "ValidationException", PROPAGATION, 400)

    with pytest.raises(ssm.AnsibleSSMError) as raised:
        ssm.create_activation(client, create_request(), wait_timeout=7)

    assert no_sleep == [2, 4]
    assert "ECSAnywhereRole" in raised.value.message
    assert "trusts ssm.amazonaws.com" in raised.value.message
    assert "wait_timeout" in raised.value.message


def test_create_with_no_wait_does_not_retry(stubbed, no_sleep):
    client, stubber = stubbed("ssm")
    stubber.add_client_error(
        "create_activation", "ValidationException", "Not existing role: arn:aws:iam::1:role/R", 400
    )

    with pytest.raises(ssm.AnsibleSSMError):
        ssm.create_activation(client, create_request(), wait_timeout=0)
    assert no_sleep == []


def test_other_validation_errors_are_not_retried(stubbed, no_sleep):
    client, stubber = stubbed("ssm")
    stubber.add_client_error("create_activation", "ValidationException", "ExpirationDate must be in the future.", 400)

    with pytest.raises(ssm.AnsibleSSMError) as raised:
        ssm.create_activation(client, create_request(), wait_timeout=60)
    assert no_sleep == []
    assert raised.value.message == "Failed to create activation"


@pytest.mark.parametrize(
    "code, message, expected",
    [
        ("ValidationException", PROPAGATION, True),
        ("ValidationException", "Not existing role: arn:aws:iam::123456789012:role/R", True),
        ("ValidationException", "Not existing role: arn:... (its trust policy does not allow ssm.amazonaws.com)", True),
        ("ValidationException", "1 validation error detected: Value '0' at 'registrationLimit'", False),
        ("AccessDeniedException", "not authorized to perform iam:PassRole on role R", False),
    ],
)
def test_role_not_ready_recognition(stubbed, code, message, expected):
    client, stubber = stubbed("ssm")
    stubber.add_client_error("create_activation", code, message, 400)
    with pytest.raises(Exception) as raised:
        client.create_activation(IamRole="R")
    assert ssm.is_role_not_ready(raised.value) is expected


# ---------------------------------------------------------------- absent


def test_absent_deletes_an_existing_activation(stubbed):
    client, stubber = stubbed("ssm")
    expect_describe_one(stubber, ACTIVATION_ID, aws_activation())
    stubber.add_response("delete_activation", {}, dict(ActivationId=ACTIVATION_ID))
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID))

    before, deleted = activation_module.ensure_absent(module, client)

    assert before["activation_id"] == ACTIVATION_ID
    assert deleted == [ACTIVATION_ID]


def test_absent_in_check_mode_only_reads(stubbed):
    client, stubber = stubbed("ssm")
    expect_describe_one(stubber, ACTIVATION_ID, aws_activation())
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID), check_mode=True)

    before, deleted = activation_module.ensure_absent(module, client)

    assert before is not None and deleted == [ACTIVATION_ID]


def test_absent_unknown_id_is_no_change(stubbed):
    client, stubber = stubbed("ssm")
    expect_describe_one(stubber, ACTIVATION_ID, None)
    module = Module(params(state="absent", iam_role=None, activation_id=ACTIVATION_ID))

    assert activation_module.ensure_absent(module, client) == (None, [])


def test_delete_of_an_activation_gone_meanwhile_is_not_an_error(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_client_error("delete_activation", "InvalidActivation", "Activation does not exist.", 400)
    assert ssm.delete_activation(client, ACTIVATION_ID) is False


# ---------------------------------------------------------------- cleaned


def test_cleaned_deletes_only_our_spent_activations(stubbed):
    client, stubber = stubbed("ssm")
    ids = ["%08x-4a8e-4f15-9f7b-0d1c5f8a2e31" % n for n in range(5)]
    activations = [
        aws_activation(ids[0], expired=True),  # ours, expired -> deleted
        aws_activation(ids[1], limit=2, count=2),  # ours, used up -> deleted
        aws_activation(ids[2], limit=2, count=1),  # ours, still usable -> kept
        aws_activation(ids[3], expired=True, tags=[]),  # not ours -> kept
        aws_activation(ids[4], expired=True, tags=[{"Key": ssm.MANAGED_TAG_KEY, "Value": "no"}]),  # not ours
    ]
    stubber.add_response("describe_activations", dict(ActivationList=activations, NextToken="page2"), {})
    stubber.add_response("describe_activations", dict(ActivationList=[]), dict(NextToken="page2"))
    for activation_id in ids[:2]:
        stubber.add_response("delete_activation", {}, dict(ActivationId=activation_id))
    module = Module(params(state="cleaned", iam_role=None))

    summaries, deleted = activation_module.ensure_cleaned(module, client)

    assert deleted == ids[:2]
    assert [s["activation_id"] for s in summaries] == ids[:2]


def test_cleaned_filters_by_role_and_check_mode_deletes_nothing(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_response(
        "describe_activations",
        dict(ActivationList=[aws_activation(expired=True)]),
        dict(Filters=[dict(FilterKey="IamRole", FilterValues=["ECSAnywhereRole"])]),
    )
    module = Module(params(state="cleaned"), check_mode=True)

    _summaries, deleted = activation_module.ensure_cleaned(module, client)

    assert deleted == [ACTIVATION_ID]


def test_cleaned_with_nothing_spent_changes_nothing(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_response("describe_activations", dict(ActivationList=[aws_activation()]), {})
    module = Module(params(state="cleaned", iam_role=None))

    assert activation_module.ensure_cleaned(module, client) == ([], [])


def test_aws_errors_become_one_collection_exception(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_client_error("describe_activations", "AccessDeniedException", "not allowed")
    with pytest.raises(ssm.AnsibleSSMError) as raised:
        ssm.describe_activation(client, ACTIVATION_ID)
    assert raised.value.message == "Failed to describe activations"


# ---------------------------------------------------------------- secrets


def test_no_option_carries_the_code_and_secret_looking_names_declare_no_log():
    spec = activation_module.argument_spec()
    assert not [name for name in spec if "code" in name]
    secret_looking = re.compile(r"pass(?!ive)|secret|token|key|code", re.I)
    for name, option in spec.items():
        if secret_looking.search(name):
            assert "no_log" in option, name


def test_the_code_is_documented_as_a_secret_returned_only_on_creation():
    assert "no_log: true" in activation_module.EXAMPLES
    assert "put C(no_log) on the task" in activation_module.RETURN
