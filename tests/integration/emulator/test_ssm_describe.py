# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeInstanceInformation filters and validation, read from one fleet set up for the module."""

import pytest
from botocore.exceptions import ClientError
from emulator.agent import FakeAgent
from emulator.seed import SSM_TRUST_POLICY


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def ssm(module_clients):
    return module_clients("ssm")


@pytest.fixture(scope="module")
def fleet(module_lab, module_clients, ssm):
    """Three hosts of one activation plus one of another: two Ubuntu, one Windows, one never pinged."""
    module_clients("iam").create_role(RoleName="ECSAnywhereRole", AssumeRolePolicyDocument=SSM_TRUST_POLICY)
    first = ssm.create_activation(
        IamRole="ECSAnywhereRole",
        RegistrationLimit=3,
        Tags=[{"Key": "team", "Value": "platform"}, {"Key": "site", "Value": "dc1"}],
    )
    other = ssm.create_activation(IamRole="ECSAnywhereRole", Tags=[{"Key": "team", "Value": "data"}])
    hosts = {"activation": first["ActivationId"], "other_activation": other["ActivationId"]}
    for name, platform in (("ubuntu-a", "Linux"), ("ubuntu-b", "Linux"), ("win", "Windows")):
        agent = FakeAgent(module_lab.url)
        agent.register(first["ActivationId"], first["ActivationCode"])
        agent.refresh_credentials()
        agent.ping(PlatformType=platform, ComputerName=name, AgentVersion="3.2.0.0" if name == "win" else "3.3.1957.0")
        hosts[name] = agent.instance_id
    silent = FakeAgent(module_lab.url)
    hosts["silent"] = silent.register(other["ActivationId"], other["ActivationCode"])
    return hosts


def ids(ssm, **kwargs):
    return {i["InstanceId"] for i in ssm.describe_instance_information(**kwargs)["InstanceInformationList"]}


def test_describe_lists_every_managed_instance(ssm, fleet):
    assert ids(ssm) == {fleet["ubuntu-a"], fleet["ubuntu-b"], fleet["win"], fleet["silent"]}


@pytest.mark.parametrize(
    "key, values, expected",
    [
        ("InstanceIds", ["ubuntu-a", "win"], ["ubuntu-a", "win"]),
        ("PingStatus", ["Online"], ["ubuntu-a", "ubuntu-b", "win"]),
        ("PingStatus", ["ConnectionLost"], ["silent"]),
        ("PlatformTypes", ["Windows"], ["win"]),
        ("AgentVersion", ["3.2.0.0"], ["win"]),
        ("ActivationIds", ["other_activation"], ["silent"]),
        ("IamRole", ["ECSAnywhereRole"], ["ubuntu-a", "ubuntu-b", "win", "silent"]),
        ("ResourceType", ["ManagedInstance"], ["ubuntu-a", "ubuntu-b", "win", "silent"]),
        ("ResourceType", ["EC2Instance"], []),
        ("tag:team", ["data"], ["silent"]),
        ("tag:team", ["platform", "data"], ["ubuntu-a", "ubuntu-b", "win", "silent"]),
        ("tag-key", ["site"], ["ubuntu-a", "ubuntu-b", "win"]),
    ],
)
def test_describe_filters(ssm, fleet, key, values, expected):
    values = [fleet.get(value, value) for value in values]
    assert ids(ssm, Filters=[{"Key": key, "Values": values}]) == {fleet[name] for name in expected}


def test_describe_filters_combine_with_and(ssm, fleet):
    filters = [
        {"Key": "PingStatus", "Values": ["Online"]},
        {"Key": "PlatformTypes", "Values": ["Linux"]},
        {"Key": "InstanceIds", "Values": [fleet["ubuntu-b"], fleet["win"], fleet["silent"]]},
    ]
    assert ids(ssm, Filters=filters) == {fleet["ubuntu-b"]}


def test_describe_legacy_filter_list(ssm, fleet):
    legacy = [{"key": "PlatformTypes", "valueSet": ["Linux"]}, {"key": "PingStatus", "valueSet": ["Online"]}]
    assert ids(ssm, InstanceInformationFilterList=legacy) == {fleet["ubuntu-a"], fleet["ubuntu-b"]}
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(InstanceInformationFilterList=[{"key": "tag:team", "valueSet": ["x"]}])
    assert code(excinfo) == "InvalidFilterKey"


def test_describe_rejects_tag_filters_mixed_with_others(ssm, fleet):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(
            Filters=[{"Key": "tag:team", "Values": ["data"]}, {"Key": "PingStatus", "Values": ["Online"]}]
        )
    assert code(excinfo) == "ValidationException"
    assert "Cannot mix tag" in str(excinfo.value)
    mixed_tags = [{"Key": "tag:team", "Values": ["platform"]}, {"Key": "tag-key", "Values": ["site"]}]
    assert ids(ssm, Filters=mixed_tags) == {fleet["ubuntu-a"], fleet["ubuntu-b"], fleet["win"]}


@pytest.mark.parametrize(
    "filters, expected_code",
    [
        ([{"Key": "Colour", "Values": ["blue"]}], "InvalidFilterKey"),
        ([{"Key": "PingStatus", "Values": ["Sleeping"]}], "InvalidInstanceInformationFilterValue"),
        ([{"Key": "PlatformTypes", "Values": ["Plan9"]}], "InvalidInstanceInformationFilterValue"),
        ([{"Key": "InstanceIds", "Values": ["server-1"]}], "InvalidInstanceId"),
        ([{"Key": "InstanceIds", "Values": []}], "ValidationException"),
        ([{"Key": "InstanceIds", "Values": ["mi-0123456789abcdef0"] * 101}], "ValidationException"),
    ],
)
def test_describe_rejects_invalid_filters(ssm, fleet, filters, expected_code):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=filters)
    assert code(excinfo) == expected_code


def test_describe_unknown_but_well_formed_instance_id_matches_nothing(ssm, fleet):
    assert ids(ssm, Filters=[{"Key": "InstanceIds", "Values": ["mi-0123456789abcdef0"]}]) == set()


@pytest.mark.parametrize("max_results", [4, 51])
def test_describe_max_results_bounds(ssm, max_results):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(MaxResults=max_results)
    assert code(excinfo) == "ValidationException"
    assert "maxResults" in str(excinfo.value)


@pytest.mark.parametrize(
    "request_filters",
    [
        {"Filters": [{"Key": "ResourceType", "Values": ["ManagedInstance", "EC2Instance"]}]},
        {"Filters": [{"Key": "ResourceType", "Values": ["ManagedInstance", "ManagedInstance"]}]},
        {"InstanceInformationFilterList": [{"key": "ResourceType", "valueSet": ["ManagedInstance", "EC2Instance"]}]},
    ],
    ids=["two-values", "same-value-twice", "legacy-list"],
)
def test_describe_resource_type_takes_one_value(ssm, fleet, request_filters):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(**request_filters)
    assert code(excinfo) == "InvalidInstanceInformationFilterValue"
    assert excinfo.value.response["Error"]["Message"] == "ResourceType filter may contain only one value."


def test_describe_resource_type_names_its_valid_values(ssm, fleet):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=[{"Key": "ResourceType", "Values": ["Document"]}])
    assert code(excinfo) == "InvalidInstanceInformationFilterValue"
    assert "valid values are EC2Instance, ManagedInstance" in excinfo.value.response["Error"]["Message"]
    legacy = [{"key": "ResourceType", "valueSet": ["ManagedInstance"]}]
    assert ids(ssm, InstanceInformationFilterList=legacy) == {
        fleet[n] for n in ("ubuntu-a", "ubuntu-b", "win", "silent")
    }


@pytest.mark.parametrize(
    "filters, legacy",
    [
        ([{"Key": "PingStatus", "Values": ["Online"]}], [{"key": "PlatformTypes", "valueSet": ["Linux"]}]),
        ([], [{"key": "PlatformTypes", "valueSet": ["Linux"]}]),
        ([{"Key": "tag:team", "Values": ["data"]}], []),
    ],
    ids=["both-filled", "empty-filters", "empty-legacy-list"],
)
def test_describe_rejects_filters_with_the_legacy_filter_list(ssm, fleet, filters, legacy):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(Filters=filters, InstanceInformationFilterList=legacy)
    assert code(excinfo) == "ValidationException"
    assert "InstanceInformationFilterList and Filters" in excinfo.value.response["Error"]["Message"]
