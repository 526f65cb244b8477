# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""onboard.yml's AWS call budgets (issue 12) at 2 and at 240 emulated hosts (more than 50 per cluster, so the
paged look-ups are in play; `make bench` counts 2,500, which takes minutes): the controller plays run for real
against the emulator, the hosts are stand-ins (see emulated_onboard.py for exactly what is emulated)."""

import uuid

import pytest

from labctl.calls import budget_fresh
from labctl.calls import budget_noop

from ansible_collections.ecs_anywhere.fleet.tests.integration.emulated_onboard import emulated_onboard


@pytest.mark.parametrize("count", [2, 240])
def test_onboard_calls_within_budget(aws_env, emulator, tmp_path, count):
    suffix = uuid.uuid4().hex[:8]
    result = emulated_onboard(emulator, tmp_path, count, "calls-%s" % suffix, "CallsRole-%s" % suffix, aws_env)
    fresh, noop = result["fresh"], result["noop"]
    print(
        "%d emulated hosts: fresh %d calls (budget %d, %.1fs) %s; no-op %d calls (budget %d, %.1fs) %s"
        % (
            count,
            fresh["calls"],
            budget_fresh(count),
            fresh["seconds"],
            fresh["by_operation"],
            noop["calls"],
            budget_noop(count),
            noop["seconds"],
            noop["by_operation"],
        )
    )
    assert fresh["calls"] <= budget_fresh(count), fresh["by_operation"]
    assert noop["calls"] <= budget_noop(count), noop["by_operation"]
    # The no-op re-run found every host as it should be and looked nothing up twice.
    assert noop["by_operation"].get("ssm:DescribeInstanceInformation", 0) == -(-count // 50)
    assert "ssm:CreateActivation" not in noop["by_operation"]
    assert fresh["by_operation"]["ssm:CreateActivation"] == -(-count // 1000)
    assert fresh["by_operation"]["ssm:DeleteActivation"] == -(-count // 1000)
