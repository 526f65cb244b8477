# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Roles someone else made are left alone; adopt: true takes one over and keeps the attachments it did not make.

The "someone else" is boto3, making an execution role the way the console does (AWS's trust policy,
AmazonECSTaskExecutionRolePolicy attached, a tag of its own); its state is read back with boto3 after each run.
"""

import json
import uuid

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

EXEC = "ecs_anywhere.fleet.task_execution_role"
INSTANCE = "ecs_anywhere.fleet.instance_role"
TASK_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def snapshot(iam, name):
    """Everything a run could change on the role, read with boto3."""
    role = iam.get_role(RoleName=name)["Role"]
    return dict(
        trust=role["AssumeRolePolicyDocument"],
        description=role.get("Description"),
        tags=sorted((t["Key"], t["Value"]) for t in role.get("Tags", [])),
        attached=sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]),
        inline=iam.list_role_policies(RoleName=name)["PolicyNames"],
    )


def role_names(iam):
    return [r["RoleName"] for r in iam.get_paginator("list_roles").paginate().build_full_result()["Roles"]]


def iam_writes(emulator):
    reads = ("Get", "List")
    return [c["operation"] for c in emulator.calls(service="iam") if not c["operation"].startswith(reads)]


@pytest.fixture
def console_role(aws_client):
    """A task execution role made outside the collection, removed after the test whoever owns it by then."""
    iam = aws_client("iam")
    name = "ecsTaskExecutionRole-%s" % uuid.uuid4().hex[:8]
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="made in the console",
        Tags=[{"Key": "owner", "Value": "other-team"}],
    )
    iam.attach_role_policy(RoleName=name, PolicyArn=TASK_EXECUTION_POLICY)
    yield name
    if name in role_names(iam):
        for arn in snapshot(iam, name)["attached"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        iam.delete_role(RoleName=name)
    for policy in iam.get_paginator("list_policies").paginate(Scope="Local").build_full_result()["Policies"]:
        if policy["PolicyName"].startswith(name):
            iam.delete_policy(PolicyArn=policy["Arn"])


def test_someone_elses_role_is_left_untouched_and_adopt_keeps_its_attachment(
    aws_env, aws_client, emulator, console_role, tmp_path
):
    iam = aws_client("iam")
    name = console_role
    original = snapshot(iam, name)
    required = {EXEC: dict(name=name, log_groups=["/ecs/onprem"])}
    emulator.clear_calls()

    play = run_tasks(
        aws_env,
        tmp_path,
        [
            dict(required, check_mode=True),
            required,
            {EXEC: dict(name=name, purge_policies=True, policy_mode="managed", log_groups=["/ecs/onprem"])},
            {EXEC: dict(name=name, state="absent")},
            {EXEC: dict(name=name, remove_when_not_required=True)},  # not required: would delete it if it were ours
        ],
    )

    for result in play.results[:4]:
        assert result["failed"] and not result["changed"], result
        assert name in result["msg"] and "adopt: true" in result["msg"], result["msg"]
    assert "nothing was deleted" in play[3]["msg"]
    assert not play[4].get("failed") and not play[4]["changed"] and play[4]["role"] == {}
    assert any(name in w for w in play[4]["warnings"])
    assert iam_writes(emulator) == []  # not one IAM write call
    assert snapshot(iam, name) == original

    # adopt: the role is tagged and converged; the policy the other team attached stays attached.
    adopt = {EXEC: dict(name=name, log_groups=["/ecs/onprem"], adopt=True)}
    play = run_tasks(aws_env, tmp_path, [dict(adopt, check_mode=True, diff=True), adopt, adopt])

    assert [r["changed"] for r in play.results] == [True, True, False], play.results
    assert "TagRole" in iam_writes(emulator)  # the write filter above sees writes when there are some
    assert play[0]["diff"]["before"]["owned"] is False and play[0]["diff"]["after"]["owned"] is True
    adopted = snapshot(iam, name)
    generated = play[1]["generated_policy_arn"]
    assert adopted["attached"] == sorted([TASK_EXECUTION_POLICY, generated])
    assert ("ecs_anywhere.fleet:managed", "true") in adopted["tags"] and ("owner", "other-team") in adopted["tags"]
    assert ("ecs_anywhere.fleet:attached-policies", generated.rsplit("/", 1)[1]) in adopted["tags"]
    assert adopted["trust"] != original["trust"]  # now the module's, with the confused-deputy conditions
    assert play[1]["role"]["attached_by_collection"] == [generated]

    # What the collection attaches it may detach again; the other team's policy still stays.
    with_extra = {EXEC: dict(name=name, log_groups=["/ecs/onprem"], managed_policies=[READ_ONLY])}
    play = run_tasks(aws_env, tmp_path, [with_extra, required])

    assert [r["changed"] for r in play.results] == [True, True], play.results
    assert snapshot(iam, name)["attached"] == sorted([TASK_EXECUTION_POLICY, generated])

    # Adopted means owned: state=absent now deletes it.
    play = run_tasks(aws_env, tmp_path, [{EXEC: dict(name=name, state="absent")}])
    assert play[0]["changed"] and not play[0].get("failed")
    assert name not in role_names(iam)


def test_instance_role_refuses_a_console_ecs_anywhere_role(aws_env, aws_client, emulator, tmp_path):
    iam = aws_client("iam")
    name = "ECSAnywhereRole-%s" % uuid.uuid4().hex[:8]
    trust = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Principal={"Service": "ssm.amazonaws.com"})])
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    for arn in (SSM_CORE, ECS_INSTANCE_POLICY):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    original = snapshot(iam, name)
    emulator.clear_calls()
    try:
        play = run_tasks(
            aws_env,
            tmp_path,
            [{INSTANCE: dict(name=name, clusters=["onprem"])}, {INSTANCE: dict(name=name, state="absent")}],
        )

        assert all(r["failed"] and name in r["msg"] for r in play.results), play.results
        assert iam_writes(emulator) == []
        assert snapshot(iam, name) == original
    finally:
        for arn in (SSM_CORE, ECS_INSTANCE_POLICY):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        iam.delete_role(RoleName=name)
