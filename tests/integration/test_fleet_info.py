# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_info against the emulator: the join, one-sided instances, filters, and the cost at scale."""

import math
import uuid

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks


def run_fleet_info(env, tmp_path, **args):
    play = run_tasks(env, tmp_path, [{"ecs_anywhere.fleet.fleet_info": args}])
    assert not play[0].get("failed"), play[0]
    return play[0], play.seconds


@pytest.fixture
def cluster(aws_client):
    name = "fleet-%s" % uuid.uuid4().hex[:8]
    aws_client("ecs").create_cluster(clusterName=name)
    return name


def test_join_reports_both_sides_and_one_sided_instances(aws_env, aws_client, emulator, cluster, tmp_path):
    tag = {"fleet-test": cluster}
    both = emulator.seed(3, cluster=cluster, tags=tag, create_role=True)["instances"]
    ssm_only = emulator.seed(1, tags=tag, create_role=True)["instances"]
    ecs_only = emulator.seed(1, cluster=cluster, tags=tag, create_role=True)["instances"]
    aws_client("ssm").deregister_managed_instance(InstanceId=ecs_only[0]["instance_id"])

    result, _seconds = run_fleet_info(
        aws_env, tmp_path, clusters=[cluster], instance_ids=[i["instance_id"] for i in both + ssm_only + ecs_only]
    )

    by_id = {r["managed_instance_id"]: r for r in result["instances"]}
    assert {i["instance_id"]: by_id[i["instance_id"]]["registered_in"] for i in both + ssm_only + ecs_only} == dict(
        [(i["instance_id"], "both") for i in both]
        + [(ssm_only[0]["instance_id"], "ssm"), (ecs_only[0]["instance_id"], "ecs")]
    )
    described = aws_client("ecs").describe_container_instances(
        cluster=cluster, containerInstances=[both[0]["container_instance_arn"]]
    )["containerInstances"][0]
    record = by_id[both[0]["instance_id"]]
    assert record["container_instance_arn"] == described["containerInstanceArn"]
    assert record["ecs_agent_version"] == described["versionInfo"]["agentVersion"]
    assert record["ping_status"] == "Online" and record["computer_name"].startswith("seed-")
    assert result["summary"]["both"] == 3 and result["summary"]["ssm_only"] == 1 and result["summary"]["ecs_only"] == 1


def test_filters(aws_env, aws_client, emulator, cluster, tmp_path):
    tag = {"fleet-test": cluster}
    seeded = emulator.seed(4, cluster=cluster, tags=tag, create_role=True)["instances"]
    info = aws_client("ssm").describe_instance_information(
        Filters=[dict(Key="InstanceIds", Values=[seeded[1]["instance_id"]])]
    )["InstanceInformationList"][0]

    by_tag = run_fleet_info(aws_env, tmp_path, tags=tag, clusters=[cluster])[0]
    by_name = run_fleet_info(aws_env, tmp_path, tags=tag, clusters=[cluster], computer_names=[info["ComputerName"]])[0]
    by_ip = run_fleet_info(aws_env, tmp_path, tags=tag, clusters=[cluster], ip_addresses=[info["IPAddress"]])[0]
    lost = run_fleet_info(aws_env, tmp_path, tags=tag, clusters=[cluster], ping_status=["ConnectionLost"])[0]

    assert sorted(r["managed_instance_id"] for r in by_tag["instances"]) == sorted(i["instance_id"] for i in seeded)
    assert [r["managed_instance_id"] for r in by_name["instances"]] == [seeded[1]["instance_id"]]
    assert [r["managed_instance_id"] for r in by_ip["instances"]] == [seeded[1]["instance_id"]]
    assert lost["instances"] == []


def test_call_count_grows_with_pages_not_instances(aws_env, emulator, cluster, tmp_path):
    count = 2500
    tag = {"fleet-scale": cluster}
    seeded = emulator.seed(count, cluster=cluster, tags=tag, create_role=True)
    print("seeded %d managed + container instances in %.1fs" % (count, seeded["seconds"]))
    emulator.clear_calls()

    result, seconds = run_fleet_info(aws_env, tmp_path, clusters=[cluster], tags=tag)

    calls = emulator.calls()
    list_pages = sum(1 for c in calls if c["operation"] == "ListContainerInstances")
    budget = math.ceil(count / 50) + math.ceil(count / 100) + list_pages + 3
    print(
        "fleet_info over %d instances: %d AWS calls (budget %d), %.1fs wall time" % (count, len(calls), budget, seconds)
    )
    assert result["summary"]["both"] == count
    assert list_pages == math.ceil(count / 100)
    assert len(calls) <= budget
