# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/utils/check_package.sh (``make package``) fails when a role's documentation crashes ``ansible-doc -t role``
from the built tarball, and passes the roles that render.

The broken role is the bug issue 11 found in aws_setup: an unquoted ``C(hosts: localhost)`` in a description list
makes YAML read that item as a mapping, and ``ansible-doc -t role`` stops with "Unexpected Exception".
"""

import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "tests", "utils", "check_package.sh")
VENV = os.path.dirname(os.path.dirname(sys.executable))


def _scratch_collection(tree):
    """A collection with two roles (docker as it is, aws_setup with the unquoted colon) and no plugins."""
    tree.mkdir()
    for name in ("galaxy.yml", "README.md", "COPYING"):
        shutil.copy(os.path.join(ROOT, name), tree / name)
    shutil.copytree(os.path.join(ROOT, "meta"), tree / "meta")
    for role in ("docker", "aws_setup"):
        shutil.copytree(os.path.join(ROOT, "roles", role), tree / "roles" / role)
    (tree / "plugins" / "modules").mkdir(parents=True)
    (tree / "plugins" / "inventory").mkdir()
    spec = tree / "roles" / "aws_setup" / "meta" / "argument_specs.yml"
    text = spec.read_text(encoding="utf-8")
    broken = text.replace(
        "    description:\n", "    description:\n      - Runs on the controller (C(hosts: localhost)).\n", 1
    )
    assert broken != text
    item = yaml.safe_load(broken)["argument_specs"]["main"]["description"][0]
    assert isinstance(item, dict), "the injected line should parse as a mapping, as the original bug did"
    spec.write_text(broken, encoding="utf-8")


def test_check_package_fails_for_a_role_that_crashes_ansible_doc(tmp_path):
    tree = tmp_path / "tree"
    _scratch_collection(tree)
    env = dict(
        os.environ,
        PATH=os.path.join(VENV, "bin") + os.pathsep + os.environ["PATH"],
        PACKAGE_CHECK_ROOT=str(tmp_path / "check"),
    )
    build = subprocess.run(
        ["ansible-galaxy", "collection", "build", "--force", "--output-path", str(tmp_path), str(tree)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = str(tmp_path / "ecs_anywhere-fleet-0.1.0.tar.gz")
    if not os.path.exists(tarball):
        tarball = str(next(tmp_path.glob("ecs_anywhere-fleet-*.tar.gz")))
    proc = subprocess.run(
        ["bash", SCRIPT, VENV, tarball, str(tree)], env=env, capture_output=True, text=True, check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "FAILED: ansible-doc -t role ecs_anywhere.fleet.aws_setup failed" in out
    assert "ecs_anywhere.fleet.docker failed" not in out
    assert "FAILED" not in out.replace("FAILED: ansible-doc -t role ecs_anywhere.fleet.aws_setup failed", "")


def test_every_role_description_is_text():
    """The static form of the same check, for every role: descriptions are strings or lists of strings."""
    bad = []
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as f:
            specs = yaml.safe_load(f)["argument_specs"]
        for entry, spec in specs.items():
            bad += _non_text(spec, "%s:%s" % (role, entry))
    assert not bad, "descriptions that YAML did not read as text (quote them): %s" % bad


def _non_text(spec, where):
    bad = []
    for key in ("short_description", "description"):
        value = spec.get(key)
        items = value if isinstance(value, list) else [value] if value is not None else []
        bad += ["%s %s" % (where, key) for item in items if not isinstance(item, str)]
    for name, option in (spec.get("options") or {}).items():
        bad += _non_text(option, "%s.%s" % (where, name))
    return bad
