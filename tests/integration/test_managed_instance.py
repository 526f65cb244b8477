# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""managed_instance against the emulator: drain (batched, waited), activate, tag, deregister in order."""

import uuid

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

MODULE = "ecs_anywhere.fleet.managed_instance"


@pytest.fixture
def fleet(aws_client, emulator):
    cluster = "mi-%s" % uuid.uuid4().hex[:8]
    aws_client("ecs").create_cluster(clusterName=cluster)
    seeded = emulator.seed(12, cluster=cluster, create_role=True)["instances"]
    return cluster, seeded


def ecs_statuses(aws_client, cluster, seeded):
    found = aws_client("ecs").describe_container_instances(
        cluster=cluster, containerInstances=[i["container_instance_arn"] for i in seeded]
    )
    return [c["status"] for c in found["containerInstances"]]


def writes(emulator, operation):
    return [c for c in emulator.calls() if c["operation"] == operation and not c.get("throttled")]


def test_drain_activate_cycle(aws_env, aws_client, emulator, fleet, tmp_path):
    cluster, seeded = fleet
    ids = [i["instance_id"] for i in seeded]
    drain = {MODULE: dict(instances=ids, clusters=[cluster], state="draining")}
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [dict(drain, check_mode=True)])
    assert play[0]["changed"] and set(ecs_statuses(aws_client, cluster, seeded)) == {"ACTIVE"}
    assert writes(emulator, "UpdateContainerInstancesState") == []

    play = run_tasks(aws_env, tmp_path, [drain, drain, dict(drain, check_mode=True)])
    assert [r["changed"] for r in play.results] == [True, False, False]
    assert not any(r.get("failed") for r in play.results)
    assert set(ecs_statuses(aws_client, cluster, seeded)) == {"DRAINING"}
    assert len(writes(emulator, "UpdateContainerInstancesState")) == 2  # 12 instances, 10 per call

    activate = {MODULE: dict(instances=ids, clusters=[cluster], state="active")}
    play = run_tasks(aws_env, tmp_path, [activate, activate])
    assert [r["changed"] for r in play.results] == [True, False]
    assert set(ecs_statuses(aws_client, cluster, seeded)) == {"ACTIVE"}


def test_drain_waits_for_running_tasks_and_times_out_naming_them(aws_env, emulator, fleet, tmp_path):
    cluster, seeded = fleet
    busy = seeded[0]
    emulator.set_container_instances([busy["container_instance_arn"]], cluster=cluster, running_tasks_count=2)
    task = {
        MODULE: dict(
            instances=[busy["instance_id"], seeded[1]["instance_id"]],
            clusters=[cluster],
            state="draining",
            wait=True,
            wait_timeout=2,
        )
    }

    play = run_tasks(aws_env, tmp_path, [task])

    assert (
        play[0]["failed"] and busy["instance_id"] in play[0]["msg"] and seeded[1]["instance_id"] not in play[0]["msg"]
    )
    emulator.set_container_instances([busy["container_instance_arn"]], cluster=cluster, running_tasks_count=0)
    play = run_tasks(aws_env, tmp_path, [task])
    assert not play[0].get("failed") and play[0]["instances"][0]["running_tasks_count"] == 0


def test_tags_on_managed_instances(aws_env, aws_client, fleet, tmp_path):
    _cluster, seeded = fleet
    target = seeded[2]["instance_id"]
    tag = {MODULE: dict(instances=[target], tags={"rack": "r12"}, purge_tags=False)}

    play = run_tasks(aws_env, tmp_path, [dict(tag, check_mode=True), tag, tag])

    assert [r["changed"] for r in play.results] == [True, True, False]
    tags = aws_client("ssm").list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=target)["TagList"]
    assert {"Key": "rack", "Value": "r12"} in tags


def test_absent_refuses_busy_instances_then_deregisters_ecs_before_ssm(aws_env, aws_client, emulator, fleet, tmp_path):
    cluster, seeded = fleet
    first, second = seeded[3], seeded[4]
    emulator.set_container_instances([first["container_instance_arn"]], cluster=cluster, running_tasks_count=1)
    # One given by mi- id, one by container instance ARN.
    remove = {
        MODULE: dict(
            instances=[first["instance_id"], second["container_instance_arn"]], clusters=[cluster], state="absent"
        )
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [remove])
    assert play[0]["failed"] and first["instance_id"] in play[0]["msg"]
    assert writes(emulator, "DeregisterContainerInstance") == writes(emulator, "DeregisterManagedInstance") == []

    emulator.set_container_instances([first["container_instance_arn"]], cluster=cluster, running_tasks_count=0)
    play = run_tasks(aws_env, tmp_path, [dict(remove, check_mode=True), remove, remove])
    assert [r["changed"] for r in play.results] == [True, True, False]
    assert not any(r.get("failed") for r in play.results)

    remaining = aws_client("ecs").list_container_instances(cluster=cluster)["containerInstanceArns"]
    assert first["container_instance_arn"] not in remaining and second["container_instance_arn"] not in remaining
    managed = aws_client("ssm").describe_instance_information(
        Filters=[dict(Key="InstanceIds", Values=[first["instance_id"], second["instance_id"]])]
    )["InstanceInformationList"]
    assert managed == []
    order = [c["operation"] for c in emulator.calls() if c["operation"].startswith("Deregister")]
    assert order == ["DeregisterContainerInstance", "DeregisterManagedInstance"] * 2


def test_keep_managed_instance_deregisters_from_ecs_only(aws_env, aws_client, emulator, fleet, tmp_path):
    """A cluster move: the old container instance goes, by ARN and by mi- id in the old cluster; SSM keeps the host."""
    cluster, seeded = fleet
    by_arn, by_id = seeded[5], seeded[6]
    remove = {
        MODULE: dict(
            instances=[by_arn["container_instance_arn"], by_id["instance_id"]],
            clusters=[cluster],
            state="absent",
            keep_managed_instance=True,
        )
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [dict(remove, check_mode=True), remove, remove, dict(remove, check_mode=True)])

    assert [r["changed"] for r in play.results] == [True, True, False, False]
    assert not any(r.get("failed") for r in play.results)
    assert [i["ssm_registered"] for i in play[1]["instances"]] == [True, True]
    remaining = aws_client("ecs").list_container_instances(cluster=cluster)["containerInstanceArns"]
    assert by_arn["container_instance_arn"] not in remaining and by_id["container_instance_arn"] not in remaining
    managed = aws_client("ssm").describe_instance_information(
        Filters=[dict(Key="InstanceIds", Values=[by_arn["instance_id"], by_id["instance_id"]])]
    )["InstanceInformationList"]
    assert sorted(m["InstanceId"] for m in managed) == sorted([by_arn["instance_id"], by_id["instance_id"]])
    assert len(writes(emulator, "DeregisterContainerInstance")) == 2
    assert writes(emulator, "DeregisterManagedInstance") == []


def test_keep_managed_instance_needs_state_absent(aws_env, emulator, fleet, tmp_path):
    cluster, seeded = fleet
    emulator.clear_calls()
    task = {MODULE: dict(instances=[seeded[7]["instance_id"]], clusters=[cluster], keep_managed_instance=True)}
    play = run_tasks(aws_env, tmp_path, [task])
    assert play[0]["failed"] and "keep_managed_instance" in play[0]["msg"]
    assert emulator.calls() == []


def test_unknown_instance_fails_without_writing(aws_env, emulator, fleet, tmp_path):
    cluster, _seeded = fleet
    emulator.clear_calls()
    play = run_tasks(
        aws_env, tmp_path, [{MODULE: dict(instances=["mi-0000000000000dead"], clusters=[cluster], state="draining")}]
    )
    assert play[0]["failed"] and "mi-0000000000000dead" in play[0]["msg"]
    assert writes(emulator, "UpdateContainerInstancesState") == []


# ---------------------------------------------------------------- container instance attributes and tags

# What the hosts registered with (ECS_INSTANCE_ATTRIBUTES, ECS_CONTAINER_INSTANCE_TAGS); the seed adds the agent's own
# attributes (ecs.capability.external, ecs.os-type, ...).
REGISTERED_ATTRIBUTES = {"rack": "r1", "legacy": None}
REGISTERED_TAGS = {"team": "a", "aws:cloudformation:stack-name": "onprem"}
AGENT_PREFIXES = ("ecs.", "com.amazonaws.ecs.")


@pytest.fixture
def registered(aws_client, emulator):
    cluster = "attrs-%s" % uuid.uuid4().hex[:8]
    aws_client("ecs").create_cluster(clusterName=cluster)
    seeded = emulator.seed(
        12,
        cluster=cluster,
        create_role=True,
        attributes=REGISTERED_ATTRIBUTES,
        container_instance_tags=REGISTERED_TAGS,
    )["instances"]
    return cluster, seeded


def listed_attributes(aws_client, cluster):
    """{container instance ARN: {name: value}} of every attribute, read back with ListAttributes."""
    found = {}
    for page in (
        aws_client("ecs").get_paginator("list_attributes").paginate(cluster=cluster, targetType="container-instance")
    ):
        for attribute in page["attributes"]:
            found.setdefault(attribute["targetId"], {})[attribute["name"]] = attribute.get("value")
    return found


def custom(attributes):
    return {k: v for k, v in attributes.items() if not k.startswith(AGENT_PREFIXES)}


def described(aws_client, cluster, seeded):
    """{container instance ARN: (attributes, tags)} read back with DescribeContainerInstances include=TAGS."""
    found = aws_client("ecs").describe_container_instances(
        cluster=cluster, containerInstances=[i["container_instance_arn"] for i in seeded], include=["TAGS"]
    )["containerInstances"]
    return {
        c["containerInstanceArn"]: (
            {a["name"]: a.get("value") for a in c["attributes"]},
            {t["key"]: t["value"] for t in c.get("tags", [])},
        )
        for c in found
    }


def test_attributes_changed_after_registration_whole_fleet_in_one_call(
    aws_env, aws_client, emulator, registered, tmp_path
):
    cluster, seeded = registered
    ids = [i["instance_id"] for i in seeded]
    task = {
        MODULE: dict(
            instances=ids,
            clusters=[cluster],
            ecs_attributes={"site": "paris", "gpu": None},
            ecs_attributes_by_instance={i: {"rack": "r%02d" % n} for n, i in enumerate(ids)},
            ecs_tags={"owner": "platform"},
            ecs_tags_by_instance={ids[0]: {"role": "edge"}},
        )
    }
    agent_before = {
        arn: {k: v for k, v in a.items() if k.startswith(AGENT_PREFIXES)}
        for arn, (a, _t) in described(aws_client, cluster, seeded).items()
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [dict(task, check_mode=True, diff=True)])
    assert play[0]["changed"] and not play[0].get("failed"), play[0]
    assert writes(emulator, "PutAttributes") == writes(emulator, "TagResource") == []
    first = play[0]["diff"]
    assert first["before"]["instances"][0]["ecs_attributes"] == REGISTERED_ATTRIBUTES
    assert first["after"]["instances"][0]["ecs_attributes"] == dict(
        REGISTERED_ATTRIBUTES, site="paris", gpu=None, rack="r00"
    )
    assert first["after"]["instances"][0]["ecs_tags"] == dict(REGISTERED_TAGS, owner="platform", role="edge")
    assert all(custom(a) == REGISTERED_ATTRIBUTES for a in listed_attributes(aws_client, cluster).values())

    play = run_tasks(aws_env, tmp_path, [task, task, dict(task, check_mode=True)])
    assert [r["changed"] for r in play.results] == [True, False, False], play.results
    # 12 instances x 3 changed attributes (site, gpu, rack) = 36 attributes: 4 PutAttributes calls of <= 10.
    assert len(writes(emulator, "PutAttributes")) == 4
    assert len(writes(emulator, "TagResource")) == 12 and writes(emulator, "DeleteAttributes") == []

    listed = listed_attributes(aws_client, cluster)
    state = described(aws_client, cluster, seeded)
    for n, instance in enumerate(seeded):
        arn = instance["container_instance_arn"]
        wanted = dict(REGISTERED_ATTRIBUTES, site="paris", gpu=None, rack="r%02d" % n)
        assert custom(listed[arn]) == custom(state[arn][0]) == wanted
        assert {k: v for k, v in state[arn][0].items() if k.startswith(AGENT_PREFIXES)} == agent_before[arn]
        assert state[arn][1] == dict(REGISTERED_TAGS, owner="platform", **({"role": "edge"} if n == 0 else {}))
    assert play[0]["instances"][1]["ecs_attributes"] == dict(REGISTERED_ATTRIBUTES, site="paris", gpu=None, rack="r01")


def test_purge_removes_custom_settings_only(aws_env, aws_client, emulator, registered, tmp_path):
    cluster, seeded = registered
    target = seeded[0]
    arn = target["container_instance_arn"]
    # rack keeps its value, legacy (registered without value) is not named: purged.
    task = {
        MODULE: dict(
            instances=[arn],
            ecs_attributes={"rack": "r1"},
            purge_ecs_attributes=True,
            ecs_tags={"owner": "platform"},
            purge_ecs_tags=True,
        )
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [dict(task, check_mode=True), task, task])

    assert [r["changed"] for r in play.results] == [True, True, False], play.results
    assert len(writes(emulator, "DeleteAttributes")) == len(writes(emulator, "UntagResource")) == 1
    attributes, tags = described(aws_client, cluster, [target])[arn]
    assert custom(attributes) == {"rack": "r1"}
    assert "ecs.capability.external" in attributes and attributes["ecs.os-type"] == "linux"  # the agent's stay
    assert tags == {"aws:cloudformation:stack-name": "onprem", "owner": "platform"}  # aws: tags stay
    other = described(aws_client, cluster, [seeded[1]])[seeded[1]["container_instance_arn"]]
    assert custom(other[0]) == REGISTERED_ATTRIBUTES and other[1] == REGISTERED_TAGS  # only the instance given


def test_purge_deletes_valued_attributes_by_name(aws_env, aws_client, registered, tmp_path):
    """DeleteAttributes names the attribute and its target, without value (AWS's rule), whatever the value is."""
    cluster, seeded = registered
    arn = seeded[0]["container_instance_arn"]
    task = {MODULE: dict(instances=[arn], ecs_attributes={}, purge_ecs_attributes=True)}

    play = run_tasks(aws_env, tmp_path, [task, task])

    assert [r["changed"] for r in play.results] == [True, False]
    assert custom(described(aws_client, cluster, [seeded[0]])[arn][0]) == {}


def test_bad_settings_fail_before_any_aws_call(aws_env, emulator, registered, tmp_path):
    cluster, seeded = registered
    task = {
        MODULE: dict(
            instances=[seeded[0]["instance_id"]],
            clusters=[cluster],
            ecs_attributes={"ecs.capability.gpu": None},
            ecs_tags={"aws:owner": "me"},
        )
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [task])

    assert play[0]["failed"] and play[0]["invalid_parameters"] == ["ecs_attributes", "ecs_tags"]
    assert "reserved for the ECS agent" in play[0]["msg"] and "reserved for AWS" in play[0]["msg"]
    assert emulator.calls() == []


def test_limit_of_ten_custom_attributes_fails_before_any_write(aws_env, emulator, registered, tmp_path):
    cluster, seeded = registered
    ids = [i["instance_id"] for i in seeded[:3]]
    # 2 registered + 9 new = 11 on the last instance only.
    task = {
        MODULE: dict(
            instances=ids,
            clusters=[cluster],
            ecs_attributes={"site": "paris"},
            ecs_attributes_by_instance={ids[2]: {"a%d" % n: "v" for n in range(8)}},
        )
    }
    emulator.clear_calls()

    play = run_tasks(aws_env, tmp_path, [task])

    assert play[0]["failed"] and ids[2] in play[0]["msg"] and ids[0] not in play[0]["msg"], play[0]
    assert writes(emulator, "PutAttributes") == []


def test_settings_for_an_instance_without_container_instance_fail_without_writing(aws_env, emulator, tmp_path):
    seeded = emulator.seed(1, create_role=True)["instances"]  # SSM only: the ECS agent never registered
    emulator.clear_calls()

    play = run_tasks(
        aws_env,
        tmp_path,
        [{MODULE: dict(instances=[seeded[0]["instance_id"]], clusters=[], ecs_tags={"owner": "platform"})}],
    )

    assert play[0]["failed"] and seeded[0]["instance_id"] in play[0]["msg"] and "Nothing was changed" in play[0]["msg"]
    assert writes(emulator, "TagResource") == writes(emulator, "PutAttributes") == []
