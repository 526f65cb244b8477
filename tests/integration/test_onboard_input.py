# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""onboard.yml's own settings are checked before anything changes: a bad `onboard_task_timeout` (which would become 0,
no limit, in the plays' `timeout`) or `onboard_drain_timeout` stops the run with one error naming it; no host is contacted and the emulator sees
no AWS call (the hosts here could not be reached anyway: TEST-NET-1 addresses)."""

import json
import os
import subprocess
import sys

import pytest

from labctl.testing import recap

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import ANSIBLE_PLAYBOOK

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")


def run_onboard(aws_env, tmp_path, settings, *options):
    inventory = {
        "all": {
            "vars": {"ecs_anywhere_region": "us-east-1", "ecs_anywhere_cluster": "input-check"},
            "children": {
                "ecs_anywhere_hosts": {
                    "hosts": {
                        "node-1": {"ansible_host": "192.0.2.1", "ansible_python_interpreter": sys.executable},
                        "node-2": {"ansible_host": "192.0.2.2", "ansible_python_interpreter": sys.executable},
                    }
                }
            },
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    env = dict(aws_env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [
        ANSIBLE_PLAYBOOK,
        "-i",
        str(tmp_path / "inventory.json"),
        PLAYBOOK,
        "-e",
        "@%s" % (tmp_path / "vars.json"),
    ]
    done = subprocess.run(
        command + list(options), env=env, capture_output=True, text=True, check=False, timeout=300, cwd=REPO
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("value", ["15m", "", "-1", True, 2.5])
def test_a_bad_onboard_task_timeout_stops_the_run_before_anything_changes(aws_env, emulator, tmp_path, value):
    emulator.clear_calls()
    code, output = run_onboard(aws_env, tmp_path, {"onboard_task_timeout": value})
    assert code != 0, output[-4000:]
    assert "onboard_task_timeout must be a whole number of seconds (0 for no limit), got '%s'" % value in output, output
    assert "Nothing was changed." in output
    assert emulator.calls() == [], "nothing may reach AWS"
    counts = recap(output)
    assert all(c["unreachable"] == 0 for c in counts.values()), counts  # no host was contacted
    assert "PLAY [Set the AWS account up" not in output  # the run stopped in its first play


@pytest.mark.parametrize("value", ["10m", "", "-5", 1.5])
def test_a_bad_onboard_drain_timeout_stops_the_run_before_anything_changes(aws_env, emulator, tmp_path, value):
    """The drain's bound (how long a host moving to another cluster waits for its tasks to leave): checked with the
    task timeout, before any host or AWS call, rather than failing half-way through a move."""
    emulator.clear_calls()
    code, output = run_onboard(aws_env, tmp_path, {"onboard_drain_timeout": value})
    assert code != 0, output[-4000:]
    assert "onboard_drain_timeout must be a whole number of seconds" in output, output[-4000:]
    assert "got '%s'. Nothing was changed." % value in " ".join(output.split()), output[-4000:]
    assert emulator.calls() == [], "nothing may reach AWS"
    assert all(c["unreachable"] == 0 for c in recap(output).values())
    assert "PLAY [Set the AWS account up" not in output


@pytest.mark.parametrize(
    "settings", [{}, {"onboard_task_timeout": 30}, {"onboard_task_timeout": "0"}, {"onboard_drain_timeout": "900"}]
)
def test_a_good_onboard_task_timeout_passes_the_check(aws_env, tmp_path, settings):
    """Default, a number, a numeric string (as -e key=value gives it): the run goes on to the hosts (here unreachable;
    check mode, so that the account is not set up for them)."""
    _code, output = run_onboard(aws_env, tmp_path, settings, "--check")
    assert "onboard_task_timeout must be" not in output and "onboard_drain_timeout must be" not in output, output[
        -4000:
    ]
    counts = recap(output)
    assert counts["node-1"]["unreachable"] == 1 and counts["node-2"]["unreachable"] == 1, output[-4000:]
