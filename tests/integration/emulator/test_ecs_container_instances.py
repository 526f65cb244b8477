# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External container instances: register, describe, drain, deregister, tags, lab state controls."""

import datetime
import json

import pytest
from botocore.exceptions import ClientError
from emulator.client import LabError

CLUSTER = "onprem"


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def cluster(ecs):
    ecs.create_cluster(clusterName=CLUSTER)
    return CLUSTER


@pytest.fixture
def joined(host, cluster):
    """The ``host`` fixture's machine, joined to the cluster by its ECS agent."""
    return host.register_container_instance(
        cluster,
        attributes=[{"name": "zone", "value": "dc1"}],
        tags=[{"key": "owner", "value": "ops"}],
    )


def describe(ecs, arns, **kwargs):
    return ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns, **kwargs)


def registered_count(ecs):
    return ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]["registeredContainerInstancesCount"]


def test_register_external_instance(ecs, host, joined):
    assert joined["ec2InstanceId"] == host.instance_id
    assert joined["containerInstanceArn"].startswith(
        "arn:aws:ecs:us-east-1:123456789012:container-instance/%s/" % CLUSTER
    )
    assert joined["status"] == "ACTIVE"
    assert joined["agentConnected"] is True
    (described,) = describe(ecs, [joined["containerInstanceArn"]], include=["TAGS"])["containerInstances"]
    assert described["ec2InstanceId"] == host.instance_id
    assert described["versionInfo"] == {
        "agentVersion": "1.89.0",
        "agentHash": "lab",
        "dockerVersion": "DockerVersion: 25.0.5",
    }
    attributes = {attribute["name"]: attribute.get("value") for attribute in described["attributes"]}
    assert attributes == {"ecs.capability.external": None, "ecs.os-type": "linux", "zone": "dc1"}
    assert described["tags"] == [{"key": "owner", "value": "ops"}]
    assert described["runningTasksCount"] == 0
    assert described["pendingTasksCount"] == 0
    assert datetime.datetime.now(datetime.timezone.utc) - described["registeredAt"] < datetime.timedelta(minutes=1)
    assert registered_count(ecs) == 1


def test_register_external_needs_managed_instance_credentials(ecs, cluster):
    with pytest.raises(ClientError) as excinfo:
        ecs.register_container_instance(cluster=cluster, attributes=[{"name": "ecs.capability.external"}])
    assert code(excinfo) == "ClientException"
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []


def test_register_into_a_missing_cluster(ecs, host):
    with pytest.raises(ClientError) as excinfo:
        host.register_container_instance("nowhere")
    assert code(excinfo) == "ClusterNotFoundException"


def test_reregistering_with_the_arn_keeps_the_instance(ecs, host, joined):
    again = host.register_container_instance(
        CLUSTER,
        arn=joined["containerInstanceArn"],
        version_info={"agentVersion": "1.90.0", "agentHash": "new", "dockerVersion": "DockerVersion: 26"},
    )
    assert again["containerInstanceArn"] == joined["containerInstanceArn"]
    assert again["versionInfo"]["agentVersion"] == "1.90.0"
    assert ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"] == [joined["containerInstanceArn"]]
    assert registered_count(ecs) == 1


def test_ec2_instances_still_register_through_moto(ecs, cluster, aws_client):
    ec2 = aws_client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance_id = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    document = json.dumps({"instanceId": instance_id})
    registered = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=document)
    assert registered["containerInstance"]["ec2InstanceId"] == instance_id
    assert ecs.list_container_instances(cluster=cluster, filter="ec2InstanceId == %s" % instance_id)[
        "containerInstanceArns"
    ] == [registered["containerInstance"]["containerInstanceArn"]]
    with pytest.raises(ClientError) as excinfo:
        ecs.register_container_instance(cluster=cluster)
    assert code(excinfo) == "InvalidParameterException"


def test_describe_tags_only_when_included_and_failures(ecs, joined):
    arn = joined["containerInstanceArn"]
    assert "tags" not in describe(ecs, [arn])["containerInstances"][0]
    assert describe(ecs, [arn], include=["TAGS"])["containerInstances"][0]["tags"] == [{"key": "owner", "value": "ops"}]
    missing = "arn:aws:ecs:us-east-1:123456789012:container-instance/%s/0123456789abcdef0123456789abcdef" % CLUSTER
    result = describe(ecs, [arn.split("/")[-1], missing])
    assert [instance["containerInstanceArn"] for instance in result["containerInstances"]] == [arn]
    assert [(failure["arn"].split("/")[-1], failure["reason"]) for failure in result["failures"]] == [
        ("0123456789abcdef0123456789abcdef", "MISSING")
    ]
    with pytest.raises(ClientError) as excinfo:
        describe(ecs, [arn] * 101)
    assert code(excinfo) == "InvalidParameterException"


def test_drain_and_reactivate(ecs, joined):
    arn = joined["containerInstanceArn"]
    drained = ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[arn], status="DRAINING")
    assert [instance["status"] for instance in drained["containerInstances"]] == ["DRAINING"]
    assert describe(ecs, [arn])["containerInstances"][0]["status"] == "DRAINING"
    active = ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[arn], status="ACTIVE")
    assert active["containerInstances"][0]["status"] == "ACTIVE"

    unknown = ecs.update_container_instances_state(
        cluster=CLUSTER, containerInstances=[arn, "0123456789abcdef0123456789abcdef"], status="DRAINING"
    )
    assert [instance["containerInstanceArn"] for instance in unknown["containerInstances"]] == [arn]
    assert [failure["reason"] for failure in unknown["failures"]] == ["MISSING"]


@pytest.mark.parametrize(
    "count, status", [(11, "DRAINING"), (1, "REGISTERING"), (1, "INACTIVE")], ids=["eleven", "registering", "inactive"]
)
def test_update_state_limits(ecs, joined, count, status):
    with pytest.raises(ClientError) as excinfo:
        ecs.update_container_instances_state(
            cluster=CLUSTER, containerInstances=[joined["containerInstanceArn"]] * count, status=status
        )
    assert code(excinfo) == "InvalidParameterException"
    assert describe(ecs, [joined["containerInstanceArn"]])["containerInstances"][0]["status"] == "ACTIVE"


def test_ten_instances_per_state_update(lab, ecs, role, cluster):
    arns = [entry["container_instance_arn"] for entry in lab.seed(10, iam_role=role, cluster=cluster)["instances"]]
    result = ecs.update_container_instances_state(cluster=cluster, containerInstances=arns, status="DRAINING")
    assert sorted(instance["containerInstanceArn"] for instance in result["containerInstances"]) == sorted(arns)
    assert len(ecs.list_container_instances(cluster=cluster, status="DRAINING")["containerInstanceArns"]) == 10


def test_deregister_refuses_running_tasks_unless_forced(lab, ecs, host, joined):
    arn = joined["containerInstanceArn"]
    (state,) = lab.set_container_instances([arn], cluster=CLUSTER, running_tasks_count=3, pending_tasks_count=1)
    assert state["ec2_instance_id"] == host.instance_id
    described = describe(ecs, [arn])["containerInstances"][0]
    assert (described["runningTasksCount"], described["pendingTasksCount"]) == (3, 1)

    with pytest.raises(ClientError) as excinfo:
        ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn)
    assert code(excinfo) == "InvalidParameterException"
    assert registered_count(ecs) == 1

    gone = ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn, force=True)
    assert gone["containerInstance"]["status"] == "INACTIVE"
    assert ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"] == []
    assert describe(ecs, [arn])["containerInstances"][0]["status"] == "INACTIVE"
    assert registered_count(ecs) == 0
    with pytest.raises(ClientError) as excinfo:
        ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn)
    assert code(excinfo) == "InvalidParameterException"


def test_deregister_an_idle_instance(ecs, joined):
    result = ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=joined["containerInstanceArn"])
    assert result["containerInstance"]["ec2InstanceId"] == joined["ec2InstanceId"]
    assert result["containerInstance"]["agentConnected"] is False
    assert ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"] == []


def test_agent_disconnection_control(lab, ecs, host, joined):
    (state,) = lab.set_container_instances([host.instance_id], cluster=CLUSTER, agent_connected=False)
    assert state["agent_connected"] is False
    assert describe(ecs, [joined["containerInstanceArn"]])["containerInstances"][0]["agentConnected"] is False
    lab.set_container_instances([host.instance_id], cluster=CLUSTER, agent_connected=True)
    assert describe(ecs, [joined["containerInstanceArn"]])["containerInstances"][0]["agentConnected"] is True


def test_container_instance_tags(ecs, joined):
    arn = joined["containerInstanceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "owner", "value": "sre"}, {"key": "tier", "value": "edge"}])
    assert sorted((t["key"], t["value"]) for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == [
        ("owner", "sre"),
        ("tier", "edge"),
    ]
    ecs.untag_resource(resourceArn=arn, tagKeys=["owner"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "tier", "value": "edge"}]
    missing = arn.rsplit("/", 1)[0] + "/0123456789abcdef0123456789abcdef"
    with pytest.raises(ClientError) as excinfo:
        ecs.tag_resource(resourceArn=missing, tags=[{"key": "a", "value": "b"}])
    assert code(excinfo) == "ResourceNotFoundException"


def test_cluster_tags_still_reach_moto(ecs, cluster):
    arn = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["clusterArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "team", "value": "platform"}])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "team", "value": "platform"}]


def test_health_only_when_included(lab, ecs, joined):
    arn = joined["containerInstanceArn"]
    assert "healthStatus" not in joined
    assert "healthStatus" not in describe(ecs, [arn])["containerInstances"][0]
    assert "healthStatus" not in describe(ecs, [arn], include=["TAGS"])["containerInstances"][0]

    (described,) = describe(ecs, [arn], include=["CONTAINER_INSTANCE_HEALTH"])["containerInstances"]
    assert "tags" not in described
    health = described["healthStatus"]
    assert health["overallStatus"] == "INITIALIZING"
    (check,) = health["details"]
    assert (check["type"], check["status"]) == ("CONTAINER_RUNTIME", "INITIALIZING")
    assert check["lastStatusChange"] == check["lastUpdated"]
    assert abs(check["lastUpdated"] - described["registeredAt"]) < datetime.timedelta(seconds=5)

    both = describe(ecs, [arn], include=["TAGS", "CONTAINER_INSTANCE_HEALTH"])["containerInstances"][0]
    assert both["tags"] == [{"key": "owner", "value": "ops"}] and both["healthStatus"]["overallStatus"]
    drained = ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[arn], status="DRAINING")
    assert "healthStatus" not in drained["containerInstances"][0]


def test_health_follows_what_the_agent_reports(lab, ecs, host, joined):
    arn = joined["containerInstanceArn"]

    def health():
        return describe(ecs, [arn], include=["CONTAINER_INSTANCE_HEALTH"])["containerInstances"][0]["healthStatus"]

    (state,) = lab.set_container_instances([host.instance_id], cluster=CLUSTER, runtime_health="OK")
    assert state["health_status"] == "OK"
    ok = health()
    assert ok["overallStatus"] == "OK" and ok["details"][0]["status"] == "OK"
    lab.advance_clock(120)
    lab.set_container_instances([arn], cluster=CLUSTER, runtime_health="OK")
    again = health()["details"][0]
    assert again["lastUpdated"] - again["lastStatusChange"] >= datetime.timedelta(seconds=119)
    lab.set_container_instances([arn], cluster=CLUSTER, runtime_health="IMPAIRED")
    impaired = health()
    assert impaired["overallStatus"] == "IMPAIRED"
    assert impaired["details"][0]["lastStatusChange"] == impaired["details"][0]["lastUpdated"]

    with pytest.raises(LabError, match="health status must be one of"):
        lab.set_container_instances([arn], cluster=CLUSTER, runtime_health="SICK")


def attributes_of(ecs, arn):
    (described,) = describe(ecs, [arn])["containerInstances"]
    return {attribute["name"]: attribute.get("value") for attribute in described["attributes"]}


def test_reregistration_keeps_custom_attributes_and_tags_of_the_first(ecs, host, joined):
    """The agent restarting with its saved ARN: versions, resources and its own attributes are refreshed."""
    arn = joined["containerInstanceArn"]
    again = host.register_container_instance(
        CLUSTER,
        arn=arn,
        attributes=[
            {"name": "zone", "value": "dc2"},
            {"name": "rack", "value": "r7"},
            {"name": "ecs.capability.execute-command"},
            {"name": "ecs.os-type", "value": "linux"},
        ],
        tags=[{"key": "owner", "value": "someone-else"}, {"key": "new", "value": "tag"}],
        version_info={"agentVersion": "1.90.0", "agentHash": "new", "dockerVersion": "DockerVersion: 26"},
    )
    assert again["containerInstanceArn"] == arn
    assert attributes_of(ecs, arn) == {
        "ecs.capability.external": None,
        "ecs.os-type": "linux",
        "ecs.capability.execute-command": None,
        "zone": "dc1",
    }
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "owner", "value": "ops"}]
    assert describe(ecs, [arn])["containerInstances"][0]["versionInfo"]["agentVersion"] == "1.90.0"

    # An agent attribute a later registration no longer sends is kept (what ECS does is not documented).
    host.register_container_instance(CLUSTER, arn=arn)
    assert "ecs.capability.execute-command" in attributes_of(ecs, arn)


def test_custom_attributes_after_registration_are_put_and_deleted(ecs, joined):
    arn = joined["containerInstanceArn"]
    short_id = arn.rsplit("/", 1)[-1]
    put = ecs.put_attributes(
        cluster=CLUSTER,
        attributes=[
            {"name": "zone", "value": "dc2", "targetId": arn},
            {"name": "rack", "value": "r7", "targetId": short_id, "targetType": "container-instance"},
            {"name": "gpu", "targetId": arn},
        ],
    )
    assert [attribute["name"] for attribute in put["attributes"]] == ["zone", "rack", "gpu"]
    assert attributes_of(ecs, arn) == {
        "ecs.capability.external": None,
        "ecs.os-type": "linux",
        "zone": "dc2",
        "rack": "r7",
        "gpu": None,
    }

    # "For custom attributes, specify the attribute name and target ID, but don't specify the value."
    ecs.delete_attributes(cluster=CLUSTER, attributes=[{"name": "zone", "targetId": arn}])
    ecs.delete_attributes(
        cluster=CLUSTER, attributes=[{"name": "rack", "targetId": short_id, "targetType": "container-instance"}]
    )
    assert attributes_of(ecs, arn) == {"ecs.capability.external": None, "ecs.os-type": "linux", "gpu": None}


@pytest.mark.parametrize(
    "attribute, expected_code",
    [
        ({"name": "zone", "value": "x", "targetId": "0123456789abcdef0123456789abcdef"}, "InvalidParameterException"),
        (
            {
                "name": "zone",
                "value": "x",
                "targetId": "0123456789abcdef0123456789abcdef",
                "targetType": "container-instance",
            },
            "TargetNotFoundException",
        ),
        ({"name": "zone", "value": "x"}, "InvalidParameterException"),
    ],
    ids=["short-id-without-type", "unknown-instance", "no-target"],
)
def test_put_attributes_refuses_unknown_targets(ecs, joined, attribute, expected_code):
    with pytest.raises(ClientError) as excinfo:
        ecs.put_attributes(
            cluster=CLUSTER, attributes=[{"name": "ok", "targetId": joined["containerInstanceArn"]}, attribute]
        )
    assert code(excinfo) == expected_code
    assert "ok" not in attributes_of(ecs, joined["containerInstanceArn"])  # nothing applied
    with pytest.raises(ClientError) as excinfo:
        ecs.put_attributes(cluster="nowhere", attributes=[{"name": "ok", "targetId": joined["containerInstanceArn"]}])
    assert code(excinfo) == "ClusterNotFoundException"


def test_put_attributes_on_a_deregistered_instance(ecs, joined):
    arn = joined["containerInstanceArn"]
    ecs.deregister_container_instance(cluster=CLUSTER, containerInstance=arn)
    with pytest.raises(ClientError) as excinfo:
        ecs.put_attributes(cluster=CLUSTER, attributes=[{"name": "zone", "value": "x", "targetId": arn}])
    assert code(excinfo) == "TargetNotFoundException"


def test_tags_after_registration_are_tagged_and_untagged(ecs, host, joined):
    arn = joined["containerInstanceArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "tier", "value": "edge"}])
    host.register_container_instance(CLUSTER, arn=arn, tags=[{"key": "tier", "value": "core"}])
    assert sorted((t["key"], t["value"]) for t in ecs.list_tags_for_resource(resourceArn=arn)["tags"]) == [
        ("owner", "ops"),
        ("tier", "edge"),
    ]
    ecs.untag_resource(resourceArn=arn, tagKeys=["owner", "tier"])
    assert describe(ecs, [arn], include=["TAGS"])["containerInstances"][0].get("tags", []) == []


def test_attribute_limits(ecs, joined):
    """Up to 10 attributes per call, and up to 10 custom attributes per resource (botocore model, PutAttributes)."""
    arn = joined["containerInstanceArn"]
    eleven = [{"name": "a%d" % number, "value": "v", "targetId": arn} for number in range(11)]
    with pytest.raises(ClientError) as excinfo:
        ecs.put_attributes(cluster=CLUSTER, attributes=eleven)
    assert code(excinfo) == "InvalidParameterException"
    with pytest.raises(ClientError) as excinfo:
        ecs.delete_attributes(cluster=CLUSTER, attributes=[{"name": a["name"], "targetId": arn} for a in eleven])
    assert code(excinfo) == "InvalidParameterException"

    ecs.put_attributes(cluster=CLUSTER, attributes=eleven[:9])  # with "zone" from the registration: 10
    with pytest.raises(ClientError) as excinfo:
        ecs.put_attributes(cluster=CLUSTER, attributes=eleven[9:10])
    assert code(excinfo) == "AttributeLimitExceededException"
    ecs.put_attributes(cluster=CLUSTER, attributes=[{"name": "zone", "value": "dc9", "targetId": arn}])  # replaces
    custom = {name for name in attributes_of(ecs, arn) if not name.startswith("ecs.")}
    assert len(custom) == 10 and attributes_of(ecs, arn)["zone"] == "dc9"
