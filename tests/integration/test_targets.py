# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run every integration target (tests/integration/targets/<name>, amazon.aws layout) as a play.

Each target is a role whose tasks change state with a module under test and read it back from the
emulator with ``fleet_tests.support.aws_api`` (a test-only collection under collections/).  A target fails the test when the play fails.
"""

import os
import subprocess
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = os.path.join(HERE, "targets")
ROOT = os.path.dirname(os.path.dirname(HERE))
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".venv", "collections"))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


def targets():
    for name in sorted(os.listdir(TARGETS)):
        aliases = os.path.join(TARGETS, name, "aliases")
        if name.startswith("setup_") or not os.path.exists(aliases):
            continue
        with open(aliases) as f:
            if "disabled" in f.read().split():
                continue
        yield name


@pytest.mark.parametrize("target", list(targets()))
def test_target(target, aws_env, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: %s\n" % target, encoding="utf-8"
    )
    env = dict(
        aws_env,
        ANSIBLE_ROLES_PATH=TARGETS,
        ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(HERE, "collections"), COLLECTIONS]),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    resource_prefix = "it-%s-%s" % (target.replace("_", "-"), uuid.uuid4().hex[:8])
    result = subprocess.run(
        [
            ANSIBLE_PLAYBOOK,
            "-i",
            "localhost,",
            "-c",
            "local",
            str(playbook),
            "-e",
            "resource_prefix=" + resource_prefix,
            "-e",
            "ansible_python_interpreter=" + sys.executable,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(result.stdout[-20000:])
    print(result.stderr[-5000:])
    assert result.returncode == 0, "target %s failed (play output above)" % target
