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


def test_unknown_instance_fails_without_writing(aws_env, emulator, fleet, tmp_path):
    cluster, _seeded = fleet
    emulator.clear_calls()
    play = run_tasks(
        aws_env, tmp_path, [{MODULE: dict(instances=["mi-0000000000000dead"], clusters=[cluster], state="draining")}]
    )
    assert play[0]["failed"] and "mi-0000000000000dead" in play[0]["msg"]
    assert writes(emulator, "UpdateContainerInstancesState") == []
