# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules retry with backoff when AWS throttles them (fault injection in the emulator)."""

import uuid

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks


def test_modules_retry_throttled_calls_and_succeed(aws_env, emulator, tmp_path):
    name = "throttled-%s" % uuid.uuid4().hex[:8]
    tasks = [
        {"name": "cluster", "ecs_anywhere.fleet.cluster": {"name": name}},
        {"name": "role", "ecs_anywhere.fleet.instance_role": {"name": name, "clusters": [name]}},
        {"name": "remove role", "ecs_anywhere.fleet.instance_role": {"name": name, "state": "absent"}},
        {"name": "remove cluster", "ecs_anywhere.fleet.cluster": {"name": name, "state": "absent"}},
    ]
    for operation in ("ecs:DescribeClusters", "iam:GetRole", "iam:AttachRolePolicy"):
        emulator.set_fault(operation, throttle_rate=0.5)
    emulator.clear_calls()
    try:
        play = run_tasks(aws_env, tmp_path, tasks)
    finally:
        emulator.clear_faults()
    assert [r.get("failed", False) for r in play.results] == [False] * len(tasks), play.results
    throttled = [c for c in emulator.calls() if c.get("throttled")]
    assert throttled, "the emulator throttled nothing: the test proves nothing"
    print("%d throttled calls were retried" % len(throttled))
