# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed instances: paging, DeregisterManagedInstance, ManagedInstance tags (filters: test_ssm_describe)."""

import pytest
from botocore.exceptions import ClientError


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def fleet(new_agent, activation):
    """Two registered hosts, by name."""
    return {name: new_agent().register(activation["ActivationId"], activation["ActivationCode"]) for name in "ab"}


def ids(ssm, **kwargs):
    return {i["InstanceId"] for i in ssm.describe_instance_information(**kwargs)["InstanceInformationList"]}


def test_describe_pages(lab, ssm, role):
    seeded = {entry["instance_id"] for entry in lab.seed(23, iam_role=role)["instances"]}
    pages, seen, token = 0, [], None
    while True:
        kwargs = {"MaxResults": 5, "Filters": [{"Key": "PingStatus", "Values": ["Online"]}]}
        if token:
            kwargs["NextToken"] = token
        page = ssm.describe_instance_information(**kwargs)
        pages += 1
        seen += [i["InstanceId"] for i in page["InstanceInformationList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == seeded

    default_page = ssm.describe_instance_information()
    assert len(default_page["InstanceInformationList"]) == 10  # the documented default page size
    assert default_page["NextToken"]

    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information(MaxResults=5, NextToken="garbage")
    assert code(excinfo) == "InvalidNextToken"


def test_deregister_managed_instance(ssm, fleet):
    ssm.deregister_managed_instance(InstanceId=fleet["b"])
    assert fleet["b"] not in ids(ssm)
    assert ids(ssm) == {fleet["a"]}
    with pytest.raises(ClientError) as excinfo:
        ssm.deregister_managed_instance(InstanceId=fleet["b"])
    assert code(excinfo) == "InvalidInstanceId"


def test_managed_instance_tags(ssm, fleet):
    instance_id = fleet["a"]

    def tags():
        listed = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)["TagList"]
        return {tag["Key"]: tag["Value"] for tag in listed}

    ssm.add_tags_to_resource(
        ResourceType="ManagedInstance",
        ResourceId=instance_id,
        Tags=[{"Key": "role", "Value": "gpu"}, {"Key": "team", "Value": "ml"}],
    )
    assert tags() == {"team": "ml", "site": "dc1", "role": "gpu"}
    ssm.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=instance_id, TagKeys=["site", "nope"])
    assert tags() == {"team": "ml", "role": "gpu"}
    assert ids(ssm, Filters=[{"Key": "tag:role", "Values": ["gpu"]}]) == {instance_id}

    with pytest.raises(ClientError) as excinfo:
        ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId="mi-0123456789abcdef0")
    assert code(excinfo) == "InvalidResourceId"
    with pytest.raises(ClientError) as excinfo:
        ssm.add_tags_to_resource(
            ResourceType="ManagedInstance", ResourceId="mi-0123456789abcdef0", Tags=[{"Key": "a", "Value": "b"}]
        )
    assert code(excinfo) == "InvalidResourceId"


def test_other_resource_types_still_reach_moto(ssm):
    ssm.put_parameter(Name="/lab/p", Value="v", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/lab/p", Tags=[{"Key": "k", "Value": "v"}])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/lab/p")["TagList"] == [
        {"Key": "k", "Value": "v"}
    ]
