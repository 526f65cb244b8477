# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/tasks/check_registrations.yml (what onboard.yml runs on the controller before minting activations)
after the site module's look-up, against the emulator: one batched look-up for 126 hosts decides, host by host, who is healthy (nothing to do, no
registration), stale (SSM no longer knows its mi- id: a registration, a new container instance, the old one to go),
moving (drain and deregister its container instance in the old cluster), or has lost its container instance; the
number of AWS calls depends on pages, not on hosts."""

import json
import math
import os
import uuid

import boto3
import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration import support

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TASKS = os.path.join(REPO, "playbooks", "tasks", "check_registrations.yml")
HEALTHY = 120


def client(service, env):
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def checked(aws_env, emulator, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("check")
    site, other = "chk-%s-a" % uuid.uuid4().hex[:6], "chk-%s-b" % uuid.uuid4().hex[:6]
    client("ecs", aws_env).create_cluster(clusterName=site)
    client("ecs", aws_env).create_cluster(clusterName=other)
    healthy = emulator.seed(HEALTHY, cluster=site, create_role=True)["instances"]
    stale, moving = emulator.seed(2, cluster=site, create_role=True)["instances"]
    no_container, stale_ssm_only = emulator.seed(2, create_role=True)["instances"]
    ssm = client("ssm", aws_env)
    for instance in (stale, stale_ssm_only):
        ssm.deregister_managed_instance(InstanceId=instance["instance_id"])
    local = {
        "healthy-%03d" % n: dict(instance_id=i["instance_id"], cluster_now=site, cluster=site)
        for n, i in enumerate(healthy)
    }
    local.update(
        {
            "stale": dict(instance_id=stale["instance_id"], cluster_now=site, cluster=site),
            "moving": dict(instance_id=moving["instance_id"], cluster_now=site, cluster=other),
            "no-container": dict(instance_id=no_container["instance_id"], cluster_now=site, cluster=site),
            "stale-ssm-only": dict(instance_id=stale_ssm_only["instance_id"], cluster_now="", cluster=site),
            "fresh": dict(instance_id="", cluster_now="", cluster=site),
            "fresh-with-old-ecs-state": dict(instance_id="", cluster_now=site, cluster=site),
        }
    )
    # As onboard.yml does it: the aws_setup role's site module looks the hosts' ids up (here without clusters or role
    # to ensure), then check_registrations.yml decides from its records.
    look_up = {
        "instance_ids": sorted(v["instance_id"] for v in local.values() if v["instance_id"]),
        "instance_clusters": sorted({v["cluster_now"] for v in local.values() if v["cluster_now"]}),
    }
    tasks = [
        {"ecs_anywhere.fleet.site": look_up, "register": "aws_setup_site"},
        {"ansible.builtin.include_tasks": TASKS, "vars": {"onboard_hosts_local": local}},
        {
            "ansible.builtin.copy": {
                "content": "{{ {'plan': onboard_plan, 'unregistered': onboard_unregistered_hosts} | to_json }}",
                "dest": str(tmp / "plan.json"),
                "mode": "0600",
            }
        },
    ]
    emulator.clear_calls()
    completed = support.run_play(aws_env, tmp, tasks, "check")
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    with open(tmp / "plan.json", encoding="utf-8") as handle:
        result = json.load(handle)
    result.update(
        calls=emulator.calls(),
        output=completed.stdout,
        local=local,
        seeded=dict(stale=stale, moving=moving, other=other, site=site),
    )
    return result


def test_only_hosts_without_a_live_registration_get_one(checked):
    assert sorted(checked["unregistered"]) == ["fresh", "fresh-with-old-ecs-state", "stale", "stale-ssm-only"]


@pytest.mark.parametrize(
    "host, expected",
    [
        ("healthy-000", dict(stale=False, moving=False, drain=False, reset_ecs=False, old_container_instance="")),
        ("stale", dict(stale=True, moving=False, drain=False, reset_ecs=True)),
        ("moving", dict(stale=False, moving=True, drain=True, reset_ecs=False)),
        ("no-container", dict(stale=False, moving=False, drain=False, reset_ecs=True, old_container_instance="")),
        ("stale-ssm-only", dict(stale=True, drain=False, reset_ecs=True, old_container_instance="")),
        ("fresh", dict(stale=False, drain=False, reset_ecs=False, old_container_instance="")),
        ("fresh-with-old-ecs-state", dict(stale=False, drain=False, reset_ecs=True, old_container_instance="")),
    ],
)
def test_what_each_host_needs(checked, host, expected):
    plan = checked["plan"][host]
    assert {k: plan[k] for k in expected} == expected, plan


def test_the_container_instances_to_leave_are_the_old_ones(checked):
    seeded = checked["seeded"]
    assert checked["plan"]["stale"]["old_container_instance"] == seeded["stale"]["container_instance_arn"]
    assert checked["plan"]["moving"]["old_container_instance"] == seeded["moving"]["container_instance_arn"]
    healthy = [v for k, v in checked["plan"].items() if k.startswith("healthy-")]
    assert len(healthy) == HEALTHY and not any(
        p["stale"] or p["reset_ecs"] or p["old_container_instance"] for p in healthy
    )


def test_the_hosts_are_named_in_the_report(checked):
    output = checked["output"]
    stale_id = checked["local"]["stale"]["instance_id"]
    assert "stale: %s is no longer an SSM managed instance" % stale_id in output
    assert "moving: moving from cluster %s to %s" % (checked["seeded"]["site"], checked["seeded"]["other"]) in output
    assert "no-container: no container instance in cluster" in output
    assert "healthy-000" not in output


def test_one_batched_look_up_not_a_call_per_host(checked):
    ids = [v["instance_id"] for v in checked["local"].values() if v["instance_id"]]
    operations = [c["operation"] for c in checked["calls"] if not c.get("throttled")]
    # 124 mi- ids: 50 per DescribeInstanceInformation filter; more than 50 ids in the one current cluster, which holds
    # 122 container instances: it is listed whole, 100 per page, and described 100 per call (issue 12).
    in_cluster = HEALTHY + 2
    assert operations.count("DescribeInstanceInformation") == math.ceil(len(ids) / 50)
    assert operations.count("ListContainerInstances") == math.ceil(in_cluster / 100)
    assert operations.count("DescribeContainerInstances") == math.ceil(in_cluster / 100)
    assert len(operations) < 10, operations
