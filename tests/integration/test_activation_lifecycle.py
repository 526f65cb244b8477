# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activation module's lifecycle where a target cannot reach: the emulator's clock and fake hosts.

* ``state: cleaned`` deletes this collection's expired activations (after moving the emulator's clock) and keeps
  usable ones and activations the collection did not create;
* the registration limit holds end to end: one more host than the limit is refused with ``InvalidActivation``,
  and the used-up activation is then cleaned up;
* an expired activation is refused with ``ActivationExpired``;
* ``CreateActivation`` is retried while SSM does not see the role yet (IAM propagation) and succeeds once it does.

Codes travel from the play to the test only through 0600 files written by ``no_log`` tasks.
"""

import datetime
import json
import os
import subprocess
import time
import uuid

import pytest
from emulator.agent import AgentCallError
from emulator.agent import FakeAgent

from ansible_collections.ecs_anywhere.fleet.tests.integration import support

MANAGED_TAG = {"Key": "ecs_anywhere.fleet:managed", "Value": "true"}
SSM_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


def run_play(aws_env, tmp_path, tasks, name="play"):
    result = support.run_play(aws_env, tmp_path, tasks, name)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def activation_task(register, **args):
    return {
        "name": "activation " + register,
        "ecs_anywhere.fleet.activation": args,
        "register": register,
        "no_log": True,
    }


def save_task(path, content):
    """Write *content* (a Jinja expression) to a 0600 file, without it showing in the output."""
    return {
        "name": "save " + os.path.basename(str(path)),
        "ansible.builtin.copy": {"content": "{{ %s | to_json }}" % content, "dest": str(path), "mode": "0600"},
        "no_log": True,
    }


def read_json(path):
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    return json.loads(path.read_text(encoding="utf-8"))


def role_task(name):
    return {"name": "role", "ecs_anywhere.fleet.instance_role": {"name": name, "clusters": [name]}}


def role_activations(ssm, role):
    paginator = ssm.get_paginator("describe_activations")
    pages = paginator.paginate(Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}])
    return {a["ActivationId"]: a for page in pages for a in page["ActivationList"]}


@pytest.fixture
def role(aws_env, aws_client, tmp_path):
    """A fresh instance role (made by the instance_role module); its activations and hosts are removed after."""
    name = "lc-%s" % uuid.uuid4().hex[:10]
    run_play(aws_env, tmp_path, [role_task(name)], "role")
    yield name
    ssm = aws_client("ssm")
    for page in ssm.get_paginator("describe_instance_information").paginate(
        Filters=[{"Key": "IamRole", "Values": [name]}]
    ):
        for instance in page["InstanceInformationList"]:
            ssm.deregister_managed_instance(InstanceId=instance["InstanceId"])
    for activation_id in role_activations(ssm, name):
        ssm.delete_activation(ActivationId=activation_id)
    run_play(
        aws_env,
        tmp_path,
        [{"name": "remove role", "ecs_anywhere.fleet.instance_role": {"name": name, "state": "absent"}}],
        "unrole",
    )


@pytest.fixture
def lab_clock(emulator):
    """Move the emulator's clock forward; it is moved back by the same amount afterwards."""
    moved = []

    def advance(seconds):
        emulator.settings(advance_seconds=seconds)
        moved.append(seconds)

    yield advance
    emulator.settings(advance_seconds=-sum(moved))


def cleanup_tasks(role, out):
    cleaned = dict(state="cleaned", iam_role=role)
    return [
        {
            "name": "cleanup (check mode)",
            "ecs_anywhere.fleet.activation": cleaned,
            "check_mode": True,
            "diff": True,
            "register": "check",
        },
        {"name": "cleanup", "ecs_anywhere.fleet.activation": cleaned, "diff": True, "register": "real"},
        {"name": "cleanup again", "ecs_anywhere.fleet.activation": cleaned, "register": "again"},
        save_task(out, "{'check': check, 'real': real, 'again': again}"),
    ]


def test_cleanup_deletes_expired_activations_and_keeps_the_rest(
    aws_env, aws_client, emulator, role, lab_clock, tmp_path
):
    ssm = aws_client("ssm")
    run_play(
        aws_env,
        tmp_path,
        [
            activation_task("short", iam_role=role, expiration_hours=1, registration_limit=5),
            activation_task("long", iam_role=role, expiration_hours=5, registration_limit=5),
            save_task(tmp_path / "created.json", "{'short': short, 'long': long}"),
        ],
        "create",
    )
    created = read_json(tmp_path / "created.json")
    short, long_lived = created["short"]["activation_id"], created["long"]["activation_id"]
    foreign = ssm.create_activation(
        IamRole=role, ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    )[
        "ActivationId"
    ]  # not made by the collection: no tag, never cleaned up by it

    lab_clock(2 * 3600)
    described = role_activations(ssm, role)
    assert (described[short]["Expired"], described[long_lived]["Expired"], described[foreign]["Expired"]) == (
        True,
        False,
        True,
    )
    with pytest.raises(AgentCallError) as refused:
        FakeAgent(emulator.url).register(short, created["short"]["activation_code"])
    assert refused.value.code == "ActivationExpired"

    run_play(aws_env, tmp_path, cleanup_tasks(role, tmp_path / "cleaned.json"), "cleanup")
    results = read_json(tmp_path / "cleaned.json")

    assert results["check"]["changed"] is True and results["check"]["deleted_activation_ids"] == [short]
    assert [a["activation_id"] for a in results["check"]["diff"]["before"]["activations"]] == [short]
    assert results["check"]["diff"]["after"] == {"activations": []}
    assert results["real"]["changed"] is True and results["real"]["deleted_activation_ids"] == [short]
    assert results["again"]["changed"] is False and results["again"]["deleted_activation_ids"] == []
    assert set(role_activations(ssm, role)) == {long_lived, foreign}


def test_registration_limit_is_enforced_end_to_end(aws_env, aws_client, role, emulator, tmp_path):
    ssm = aws_client("ssm")
    run_play(
        aws_env,
        tmp_path,
        [
            activation_task(
                "act", iam_role=role, registration_limit=2, default_instance_name="rack", tags={"site": "dc1"}
            ),
            save_task(tmp_path / "act.json", "act"),
        ],
        "create",
    )
    act = read_json(tmp_path / "act.json")

    hosts = [FakeAgent(emulator.url) for _host in range(3)]
    registered = [host.register(act["activation_id"], act["activation_code"]) for host in hosts[:2]]
    with pytest.raises(AgentCallError) as refused:
        hosts[2].register(act["activation_id"], act["activation_code"])

    assert refused.value.code == "InvalidActivation"  # what the module documents (registration_limit)
    assert "registration limit" in refused.value.message
    described = role_activations(ssm, role)[act["activation_id"]]
    assert (described["RegistrationLimit"], described["RegistrationsCount"]) == (2, 2)
    instances = ssm.describe_instance_information(Filters=[{"Key": "ActivationIds", "Values": [act["activation_id"]]}])[
        "InstanceInformationList"
    ]
    assert sorted(i["InstanceId"] for i in instances) == sorted(registered)
    for instance_id in registered:  # the activation's tags, including the collection's, are copied to the hosts
        tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)["TagList"]
        assert MANAGED_TAG in tags and {"Key": "site", "Value": "dc1"} in tags

    run_play(aws_env, tmp_path, cleanup_tasks(role, tmp_path / "cleaned.json"), "cleanup")
    results = read_json(tmp_path / "cleaned.json")

    assert results["real"]["deleted_activation_ids"] == [act["activation_id"]]
    assert results["again"]["changed"] is False
    assert role_activations(ssm, role) == {}


def test_create_waits_until_ssm_sees_a_new_role(aws_env, aws_client, emulator, tmp_path):
    """IAM propagation: the role appears only after the first CreateActivation was refused."""
    name = "late-%s" % uuid.uuid4().hex[:10]
    iam, ssm = aws_client("iam"), aws_client("ssm")
    tasks = [
        activation_task("act", iam_role=name, wait_timeout=60),
        save_task(tmp_path / "act.json", "act.activation_id"),
    ]
    emulator.clear_calls()
    play = subprocess.Popen(
        support.play_command(tmp_path, tasks), env=aws_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not emulator.calls(operation="CreateActivation"):
            assert time.monotonic() < deadline and play.poll() is None, "the play never called CreateActivation"
            time.sleep(0.2)
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=SSM_TRUST_POLICY)
        output, _errors = play.communicate(timeout=120)
    finally:
        if play.poll() is None:
            play.kill()
            play.wait()
    try:
        assert play.returncode == 0, output
        activation_id = read_json(tmp_path / "act.json")
        creates = emulator.calls(operation="CreateActivation")
        assert len(creates) >= 2, creates
        assert creates[0]["status"] == 400 and creates[-1]["status"] == 200
        assert list(role_activations(ssm, name)) == [activation_id]
    finally:
        for activation_id in role_activations(ssm, name):
            ssm.delete_activation(ActivationId=activation_id)
        iam.delete_role(RoleName=name)


BAD_INPUT = [
    (dict(), "iam_role"),
    (dict(iam_role="arn:aws:iam::123456789012:role/ECSAnywhereRole"), "iam_role"),
    (dict(iam_role="R", registration_limit=1001), "registration_limit"),
    (dict(iam_role="R", expiration_hours=0), "expiration_hours"),
    (dict(iam_role="R", expiration_hours=24 * 31), "expiration_hours"),
    (dict(iam_role="R", default_instance_name="x" * 257), "default_instance_name"),
    (dict(iam_role="R", tags={"ecs_anywhere.fleet:managed": "no"}), "tags"),
    (dict(state="absent"), "activation_id"),
    (dict(state="absent", activation_id="not-an-id"), "activation_id"),
]


def test_bad_input_fails_naming_the_parameter_without_any_aws_call(aws_env, emulator, tmp_path):
    tasks = []
    for index, (args, _parameter) in enumerate(BAD_INPUT):
        tasks.append(
            {"name": "row %d" % index, "ecs_anywhere.fleet.activation": args, "register": "row", "ignore_errors": True}
        )
        tasks.append(save_task(tmp_path / ("%d.json" % index), "row"))
    emulator.clear_calls()
    run_play(aws_env, tmp_path, tasks, "bad")
    assert emulator.calls() == [], "bad input must not reach AWS"
    for index, (_args, parameter) in enumerate(BAD_INPUT):
        result = read_json(tmp_path / ("%d.json" % index))
        assert result["failed"] is True
        assert result["invalid_parameters"] == [parameter], result["msg"]
        assert parameter in result["msg"]
