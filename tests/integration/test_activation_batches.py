# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/tasks/mint_activations.yml (what onboard.yml runs on the controller) at N = 2,500 unregistered hosts:
SSM allows 1,000 registrations per activation, so it mints 1,000 + 1,000 + 500, tells every host its own activation,
and every host can register with the one it was told (2,500 registrations through the emulator's agent API), with no
registration to spare."""

import json
import os
import uuid

import pytest
from emulator.agent import AgentCallError
from emulator.agent import FakeAgent

from ansible_collections.ecs_anywhere.fleet.tests.integration import support

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TASKS = os.path.join(REPO, "playbooks", "tasks", "mint_activations.yml")
HOSTS = ["host-%04d" % index for index in range(2500)]


@pytest.fixture(scope="module")
def minted(aws_env, emulator, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batches")
    role = "batches-%s" % uuid.uuid4().hex[:8]
    tasks = [
        {"ecs_anywhere.fleet.instance_role": {"name": role, "clusters": ["batches"]}},
        {
            "ansible.builtin.include_tasks": TASKS,
            "vars": {"onboard_instance_role": role, "onboard_unregistered_hosts": HOSTS},
        },
        {
            "name": "Keep what each host was told where only the test reads it",
            "ansible.builtin.copy": {
                "content": "{{ onboard_activation_for | to_json }}",
                "dest": str(tmp / "told.json"),
                "mode": "0600",
            },
            "no_log": True,
        },
    ]
    completed = support.run_play(aws_env, tmp, tasks, "mint", ["-v"])
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    with open(tmp / "told.json", encoding="utf-8") as handle:
        told = json.load(handle)
    return {"role": role, "told": told, "output": completed.stdout + completed.stderr}


def test_one_activation_per_thousand_hosts(minted, aws_client):
    ssm = aws_client("ssm")
    pages = ssm.get_paginator("describe_activations").paginate(
        Filters=[{"FilterKey": "IamRole", "FilterValues": [minted["role"]]}]
    )
    activations = [a for page in pages for a in page["ActivationList"]]
    assert sorted(a["RegistrationLimit"] for a in activations) == [500, 1000, 1000]
    assert sorted(minted["told"]) == HOSTS
    per_activation = {}
    for host, activation in minted["told"].items():
        per_activation.setdefault(activation["activation_id"], []).append(host)
    assert sorted(len(hosts) for hosts in per_activation.values()) == [500, 1000, 1000]
    assert set(per_activation) == {a["ActivationId"] for a in activations}
    for activation in minted["told"].values():
        assert activation["activation_code"] not in minted["output"], "an activation code reached the output"


def test_every_host_registers_with_the_activation_it_was_told(minted, emulator):
    registered = set()
    for host in HOSTS:
        activation = minted["told"][host]
        registered.add(FakeAgent(emulator.url).register(activation["activation_id"], activation["activation_code"]))
    assert len(registered) == len(HOSTS)
    spare = minted["told"][HOSTS[-1]]
    with pytest.raises(AgentCallError) as refused:
        FakeAgent(emulator.url).register(spare["activation_id"], spare["activation_code"])
    assert refused.value.code == "InvalidActivation"
