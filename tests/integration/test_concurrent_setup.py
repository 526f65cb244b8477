# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Four concurrent runs (AWX job slicing) create the cluster and both roles on a fresh account: all succeed.

The plays start together at a file barrier, and the emulator holds every CreateRole, CreatePolicy and
CreateCluster for a moment before answering it, so that all four runs read "absent" and create: without the
race tolerance every run but one would fail on EntityAlreadyExists.
"""

import os
import subprocess
import time
import uuid

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import play_command
from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

RUNS = 4
HOLD_MS = 4000  # longer than the spread of the runs after the barrier (wait_for polls once a second)
HELD = ("iam:CreateRole", "iam:CreatePolicy", "ecs:CreateCluster")
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
OWNER_TAG = {"Key": "ecs_anywhere.fleet:managed", "Value": "true"}


def setup_tasks(name, barrier, run):
    return [
        {"name": "ready", "ansible.builtin.file": {"path": os.path.join(barrier, "ready-%d" % run), "state": "touch"}},
        {"name": "barrier", "ansible.builtin.wait_for": {"path": os.path.join(barrier, "go"), "timeout": 120}},
        {"name": "cluster", "ecs_anywhere.fleet.cluster": {"name": name, "tags": {"purpose": "race"}}},
        {
            "name": "instance role",
            "ecs_anywhere.fleet.instance_role": {"name": name + "-instance", "clusters": [name]},
        },
        {
            "name": "task execution role",
            "ecs_anywhere.fleet.task_execution_role": {"name": name + "-exec", "log_groups": ["/ecs/" + name]},
        },
    ]


def run_concurrently(aws_env, tmp_path, name):
    barrier = str(tmp_path)
    env = dict(aws_env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    plays = [
        subprocess.Popen(
            play_command(tmp_path, setup_tasks(name, barrier, run), name="run-%d" % run),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for run in range(RUNS)
    ]
    try:
        deadline = time.monotonic() + 120
        while len([f for f in os.listdir(barrier) if f.startswith("ready-")]) < RUNS:
            assert time.monotonic() < deadline, "the plays never reached the barrier"
            time.sleep(0.1)
        open(os.path.join(barrier, "go"), "w").close()
        return [(play.communicate(timeout=300)[0], play.returncode) for play in plays]
    finally:
        for play in plays:
            if play.poll() is None:
                play.kill()
                play.wait()


def attached(iam, role):
    return sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])


def test_four_concurrent_runs_on_a_fresh_account_all_succeed_and_make_one_of_each(
    aws_env, aws_client, emulator, tmp_path
):
    name = "race-%s" % uuid.uuid4().hex[:8]
    iam, ecs = aws_client("iam"), aws_client("ecs")
    emulator.clear_calls()
    for operation in HELD:
        emulator.set_fault(operation, latency_ms=HOLD_MS)
    try:
        outcomes = run_concurrently(aws_env, tmp_path, name)
    finally:
        for operation in HELD:
            emulator.clear_faults(operation)
    try:
        assert [rc for _output, rc in outcomes] == [0] * RUNS, "\n\n".join(output for output, _rc in outcomes)

        creates = emulator.calls(operation="CreateRole")
        won = [c for c in creates if c["status"] == 200]
        lost = [c for c in creates if c["status"] != 200]
        print("CreateRole: %d created, %d answered EntityAlreadyExists" % (len(won), len(lost)))
        assert len(won) == 2, creates  # one per role
        assert lost, "no run lost a CreateRole race: the test proves nothing"
        assert len(emulator.calls(operation="CreateCluster")) == RUNS

        roles = [r["RoleName"] for r in iam.get_paginator("list_roles").paginate().build_full_result()["Roles"]]
        assert sorted(r for r in roles if r.startswith(name)) == [name + "-exec", name + "-instance"]
        local = iam.get_paginator("list_policies").paginate(Scope="Local").build_full_result()["Policies"]
        generated = {p["PolicyName"]: p["Arn"] for p in local if p["PolicyName"].startswith(name)}
        assert sorted(generated) == [name + "-exec-ecs-anywhere", name + "-instance-ecs-anywhere"]
        for role, policies in (
            (name + "-instance", [SSM_CORE, generated[name + "-instance-ecs-anywhere"]]),
            (name + "-exec", [generated[name + "-exec-ecs-anywhere"]]),
        ):
            assert attached(iam, role) == sorted(policies)  # each once, nothing else
            assert OWNER_TAG in iam.get_role(RoleName=role)["Role"]["Tags"]
        for arn in generated.values():
            assert OWNER_TAG in iam.get_policy(PolicyArn=arn)["Policy"]["Tags"]
            assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1  # no run rewrote it

        clusters = [a for a in ecs.list_clusters()["clusterArns"] if a.endswith(":cluster/" + name)]
        assert len(clusters) == 1
        cluster = ecs.describe_clusters(clusters=clusters, include=["TAGS"])["clusters"][0]
        assert cluster["status"] == "ACTIVE" and cluster["tags"] == [{"key": "purpose", "value": "race"}]
    finally:
        cleanup = [
            {"ecs_anywhere.fleet.task_execution_role": {"name": name + "-exec", "state": "absent"}},
            {"ecs_anywhere.fleet.instance_role": {"name": name + "-instance", "state": "absent"}},
            {"ecs_anywhere.fleet.cluster": {"name": name, "state": "absent"}},
        ]
        play = run_tasks(aws_env, tmp_path, cleanup)
        assert not any(r.get("failed") for r in play.results), play.results
