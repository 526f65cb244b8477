# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""meta/runtime.yml's action group `fleet` lists every AWS module of the collection: the playbooks give region,
endpoint and credentials once, through `module_defaults: group/ecs_anywhere.fleet.fleet`; a module left out of the group
runs without them (against real AWS: the wrong account or region, or no credentials at all)."""

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, "plugins", "modules")


def test_every_aws_module_is_in_the_fleet_action_group():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        group = [entry for entry in yaml.safe_load(handle)["action_groups"]["fleet"] if isinstance(entry, str)]
    aws_modules = []
    for name in sorted(os.listdir(MODULES)):
        if name.endswith(".py") and not name.startswith("_"):
            with open(os.path.join(MODULES, name), encoding="utf-8") as handle:
                if "AnsibleAWSModule(" in handle.read():
                    aws_modules.append(name[:-3])
    assert "site" in aws_modules and "cluster" in aws_modules, aws_modules
    assert sorted(group) == aws_modules
