# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's DOCUMENTATION, EXAMPLES and RETURN is YAML that parses, in the unit stage (seconds): a line of prose
that ends a phrase with ': ' turns into a mapping key, and `ansible-test sanity` and `ansible-doc` (minutes later)
then fail for the whole module. It slipped through three times (sessions 5 and 6)."""

import ast
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = os.path.join(ROOT, "plugins", "modules")


def blocks(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("DOCUMENTATION", "EXAMPLES", "RETURN") and isinstance(node.value, ast.Constant):
                yield name, node.value.value


@pytest.mark.parametrize("module", sorted(n for n in os.listdir(MODULES) if n.endswith(".py") and n != "__init__.py"))
def test_documentation_examples_and_return_parse(module):
    found = dict(blocks(os.path.join(MODULES, module)))
    assert set(found) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, sorted(found)
    for name, text in found.items():
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as error:
            pytest.fail("%s %s is not YAML: %s" % (module, name, error))
        assert parsed, "%s %s is empty" % (module, name)
    assert yaml.safe_load(found["DOCUMENTATION"])["module"] == module[:-3]
