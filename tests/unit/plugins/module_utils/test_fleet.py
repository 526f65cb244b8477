# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet join and its paged, batched calls (Stubber checks every request and response shape)."""

import datetime

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _fleet as fleet
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api

NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)
CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"


def mi(n):
    return "mi-%017x" % n


def ci_arn(n):
    return "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/%032x" % n


def info(n, **extra):
    return dict(
        dict(InstanceId=mi(n), PingStatus="Online", ResourceType="ManagedInstance", ComputerName="h%d" % n), **extra
    )


def container(n, instance_id=None):
    return dict(
        containerInstanceArn=ci_arn(n),
        ec2InstanceId=instance_id or mi(n),
        status="ACTIVE",
        agentConnected=True,
        versionInfo=dict(agentVersion="1.90.0", dockerVersion="DockerVersion: 26"),
        runningTasksCount=1,
        pendingTasksCount=0,
        registeredAt=NOW,
        tags=[dict(key="rack", value="1")],
    )


def test_ssm_pages_of_fifty_with_resource_type_filter(stubbed):
    client, stubber = stubbed("ssm")
    filters = [dict(Key="ResourceType", Values=["ManagedInstance"])]
    stubber.add_response(
        "describe_instance_information",
        dict(InstanceInformationList=[info(1)], NextToken="t1"),
        dict(Filters=filters, MaxResults=50),
    )
    stubber.add_response(
        "describe_instance_information",
        dict(InstanceInformationList=[info(2)]),
        dict(Filters=filters, MaxResults=50, NextToken="t1"),
    )
    assert [i["InstanceId"] for i in ssm_api.describe_managed_instances(client)] == [mi(1), mi(2)]


def test_tag_filters_are_not_combined_with_others(stubbed):
    client, stubber = stubbed("ssm")
    stubber.add_response(
        "describe_instance_information",
        dict(
            InstanceInformationList=[info(1), info(2, PingStatus="ConnectionLost"), info(3, ResourceType="EC2Instance")]
        ),
        dict(Filters=[dict(Key="tag:team", Values=["ops"])], MaxResults=50),
    )
    found = ssm_api.describe_managed_instances(client, ping_status=["Online"], tags={"team": "ops"})
    assert [i["InstanceId"] for i in found] == [mi(1)]


def test_container_instances_are_listed_external_only_and_described_in_batches_of_100(stubbed):
    client, stubber = stubbed("ecs")
    arns = [ci_arn(n) for n in range(150)]
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=arns[:100], nextToken="n1"),
        dict(cluster="onprem", filter=ecs.EXTERNAL, maxResults=100),
    )
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=arns[100:]),
        dict(cluster="onprem", filter=ecs.EXTERNAL, maxResults=100, nextToken="n1"),
    )
    for batch in (arns[:100], arns[100:]):
        stubber.add_response(
            "describe_container_instances",
            dict(containerInstances=[container(int(a[-32:], 16)) for a in batch], failures=[]),
            dict(cluster="onprem", containerInstances=batch, include=["TAGS"]),
        )
    found = fleet.container_instances_by_id(client, [CLUSTER_ARN])
    assert len(found) == 150 and found[mi(7)][0] == "onprem"


def test_instance_ids_narrow_the_ecs_listing():
    assert ecs.external_filter([mi(2), mi(1)]) == (
        "attribute:ecs.capability.external exists and ec2InstanceId in [%s,%s]" % (mi(1), mi(2))
    )


def test_join_marks_one_sided_instances():
    records = fleet.join([info(1), info(2)], {mi(1): ("onprem", container(1)), mi(3): ("onprem", container(3))})
    sides = {r["managed_instance_id"]: r["registered_in"] for r in records}
    assert sides == {mi(1): "both", mi(2): "ssm", mi(3): "ecs"}
    both = records[0]
    assert both["computer_name"] == "h1" and both["cluster"] == "onprem" and both["ecs_tags"] == {"rack": "1"}
    assert records[1]["container_instance_arn"] is None and records[2]["ping_status"] is None
    assert fleet.summarize(records) == dict(
        total=3, both=1, ssm_only=1, ecs_only=1, online=2, agent_disconnected=0, draining=0
    )


def test_up_to_fifty_ids_are_one_filter_expression(stubbed):
    client, stubber = stubbed("ecs")
    ids = [mi(n) for n in range(50)]
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=[ci_arn(3)]),
        dict(cluster="onprem", filter=ecs.external_filter(ids), maxResults=100),
    )
    stubber.add_response(
        "describe_container_instances",
        dict(containerInstances=[container(3)], failures=[]),
        dict(cluster="onprem", containerInstances=[ci_arn(3)], include=["TAGS"]),
    )
    assert list(fleet.container_instances_by_id(client, ["onprem"], ids)) == [mi(3)]


def test_more_than_fifty_ids_list_the_cluster_whole_and_keep_theirs(stubbed):
    """Issue 12: a call per 100 container instances, not per 50 ids; instances of other ids are left out."""
    client, stubber = stubbed("ecs")
    arns = [ci_arn(n) for n in range(120)]
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=arns[:100], nextToken="n1"),
        dict(cluster="onprem", filter=ecs.EXTERNAL, maxResults=100),
    )
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=arns[100:]),
        dict(cluster="onprem", filter=ecs.EXTERNAL, maxResults=100, nextToken="n1"),
    )
    for batch in (arns[:100], arns[100:]):
        stubber.add_response(
            "describe_container_instances",
            dict(containerInstances=[container(int(a[-32:], 16)) for a in batch], failures=[]),
            dict(cluster="onprem", containerInstances=batch, include=["TAGS"]),
        )
    wanted = [mi(n) for n in range(10, 71)] + [mi(500)]  # 62 ids, one of them not in the cluster
    found = fleet.container_instances_by_id(client, ["onprem"], wanted)
    assert sorted(found) == sorted(mi(n) for n in range(10, 71))


def test_records_carry_the_custom_attributes_only():
    described = dict(
        container(1),
        attributes=[dict(name="ecs.os-type", value="linux"), dict(name="rack", value="b7"), dict(name="gpu")],
    )
    records = fleet.join([info(1), info(2)], {mi(1): ("onprem", described)})
    assert records[0]["ecs_attributes"] == {"rack": "b7", "gpu": None}
    assert records[1]["ecs_attributes"] is None


def test_a_cluster_that_no_longer_exists_has_no_container_instances(stubbed):
    """A host's cluster deleted out of band: the look-up says "not there" instead of failing the whole check."""
    client, stubber = stubbed("ecs")
    stubber.add_client_error(
        "list_container_instances",
        service_error_code="ClusterNotFoundException",
        service_message="Cluster not found.",
        http_status_code=400,
        expected_params=dict(cluster="gone", filter=ecs.external_filter([mi(1)]), maxResults=100),
    )
    stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=[]),
        dict(cluster="onprem", filter=ecs.external_filter([mi(1)]), maxResults=100),
    )
    assert fleet.container_instances_by_id(client, ["gone", "onprem"], [mi(1)]) == {}
    stubber.assert_no_pending_responses()
