# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules retry with backoff when AWS throttles them (fault injection in the emulator)."""

import json
import os
import subprocess
import sys
import uuid

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def test_modules_retry_throttled_calls_and_succeed(aws_env, emulator, tmp_path):
    name = "throttled-%s" % uuid.uuid4().hex[:8]
    tasks = [
        {"name": "cluster", "ecs_anywhere.fleet.cluster": {"name": name}},
        {"name": "role", "ecs_anywhere.fleet.instance_role": {"name": name, "clusters": [name]}},
        {"name": "remove role", "ecs_anywhere.fleet.instance_role": {"name": name, "state": "absent"}},
        {"name": "remove cluster", "ecs_anywhere.fleet.cluster": {"name": name, "state": "absent"}},
    ]
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([dict(hosts="localhost", gather_facts=False, tasks=tasks)]), encoding="utf-8")
    for operation in ("ecs:DescribeClusters", "iam:GetRole", "iam:AttachRolePolicy"):
        emulator.set_fault(operation, throttle_rate=0.5)
    emulator.clear_calls()
    try:
        result = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", str(playbook), "-e", "ansible_python_interpreter=" + sys.executable],
            env=aws_env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        emulator.clear_faults()
    assert result.returncode == 0, result.stdout + result.stderr
    throttled = [c for c in emulator.calls() if c.get("throttled")]
    assert throttled, "the emulator throttled nothing: the test proves nothing"
    print("%d throttled calls were retried" % len(throttled))
