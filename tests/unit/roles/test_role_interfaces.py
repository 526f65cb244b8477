# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each role's interface agrees with itself: meta/argument_specs.yml (the source of truth),
defaults/main.yml and the README's variable table."""

import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = sorted(os.listdir(os.path.join(ROOT, "roles")))


def load(role, *path):
    with open(os.path.join(ROOT, "roles", role, *path), encoding="utf-8") as f:
        return f.read()


def _fallback(value, option):
    """A bool option's documented default: V in "{{ ecs_anywhere_x | default(V) }}" (a template is no boolean, and
    antsibull-docs rejects it); its description names the site variable."""
    match = re.match(r"^\{\{ (ecs_anywhere_\w+) \| default\((true|false)\) \}\}$", str(value))
    description = option["description"]
    description = " ".join(description) if isinstance(description, list) else description
    if option.get("type") != "bool" or not match or "C(%s)" % match.group(1) not in description:
        return None
    return match.group(2) == "true"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    options = yaml.safe_load(load(role, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load(load(role, "defaults", "main.yml")) or {}
    assert sorted(defaults) == sorted(k for k, v in options.items() if "default" in v)
    for name, value in defaults.items():
        assert options[name]["default"] in (value, _fallback(value, options[name])), name
        assert name.startswith(role + "_"), "%s lacks the role prefix" % name
        assert options[name].get("description"), "%s is not described" % name


@pytest.mark.parametrize("role", ROLES)
def test_readme_documents_every_option(role):
    options = yaml.safe_load(load(role, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", load(role, "README.md"), re.M)
    assert documented == list(options)


def test_readme_tables_are_written_from_the_argument_specs():
    import subprocess
    import sys

    script = os.path.join(ROOT, "tests", "utils", "role_readme.py")
    proc = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
