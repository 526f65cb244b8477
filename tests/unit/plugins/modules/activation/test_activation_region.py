# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activation module checks its region before any AWS call.

An activation is made in one region and the hosts register against that region: a region name that is not
one (a typo, a trailing newline from a lookup, an availability zone) must fail naming ``region``, not reach
SSM or, worse, an endpoint built from it.
"""

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.modules import activation as activation_module

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

BAD_REGIONS = [
    "moon-1",
    "eu-west-1\n",
    " eu-west-1",
    "EU-WEST-1",
    "eu-west",
    "euwest1",
    "eu_west_1",
    "eu-west-1a",
    "eu-west-123",
    "",
    "*",
    "arn:aws:ssm:eu-west-1:123456789012:activation",
]
GOOD_REGIONS = ["eu-west-1", "us-east-1", "us-gov-west-1", "cn-north-1", "eusc-de-east-1", "ap-southeast-5"]


def params(**overrides):
    base = {spec_name: spec.get("default") for spec_name, spec in activation_module.argument_spec().items()}
    base.update(iam_role="ECSAnywhereRole")
    base.update(overrides)
    return base


class NoAwsModule(FakeModule):
    """FakeModule that records a client request (there must be none) and how it exited."""

    clients = []

    def client(self, service, *args, **kwargs):
        NoAwsModule.clients.append(service)
        raise AssertionError("an AWS client was requested for %s" % service)

    def exit_json(self, **kwargs):
        raise AssertionError("exited without failing: %r" % kwargs)


@pytest.fixture
def run_main(monkeypatch):
    """Run the module's main() with the given region; returns the fail_json arguments."""

    def run(region, **overrides):
        NoAwsModule.clients = []
        module = NoAwsModule(params(**overrides), region=region)
        monkeypatch.setattr(activation_module, "AnsibleAWSModule", lambda **_kwargs: module)
        with pytest.raises(ModuleFailed) as failed:
            activation_module.main()
        assert NoAwsModule.clients == []
        return failed.value.kwargs

    return run


@pytest.mark.parametrize("region", BAD_REGIONS, ids=[repr(r) for r in BAD_REGIONS])
@pytest.mark.parametrize("state", ["present", "absent", "cleaned"])
def test_a_bad_region_fails_naming_it_before_any_aws_call(run_main, region, state):
    overrides = dict(state=state)
    if state == "absent":
        overrides.update(activation_id="6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31")
    failed = run_main(region, **overrides)
    assert failed["invalid_parameters"] == ["region"]
    assert "region" in failed["msg"] and repr(region) in failed["msg"]


@pytest.mark.parametrize("region", BAD_REGIONS, ids=[repr(r) for r in BAD_REGIONS])
def test_a_bad_region_is_reported_with_the_other_problems(region):
    with pytest.raises(ModuleFailed) as failed:
        activation_module.validate(FakeModule(params(registration_limit=0), region=region))
    assert failed.value.kwargs["invalid_parameters"] == ["region", "registration_limit"]


@pytest.mark.parametrize("region", GOOD_REGIONS + [None])
def test_region_names_of_every_partition_pass(region):
    """None: no region option and none in the environment; boto3 then fails the usual way, not the validation."""
    activation_module.validate(FakeModule(params(), region=region))
