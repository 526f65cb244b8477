# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rewrite the variable table of each role's README from its meta/argument_specs.yml (the source of truth).

    .venv/bin/python tests/utils/role_readme.py [--check] [role ...]

The table starts after the line "| variable | type | default | description |" and runs to the next blank
line. --check exits 1 when a README differs from what would be written (tests/unit/roles runs it).
"""

import argparse
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = "| variable | type | default | description |\n|---|---|---|---|\n"


def _text(value):
    """Argument-spec markup (C(), O(), V(), M()) as Markdown, one line, pipes escaped."""
    if isinstance(value, list):
        value = " ".join(value)
    value = re.sub(r"\b[CVO]\(([^()]*(?:\([^()]*\)[^()]*)*)\)", r"`\1`", str(value))
    value = re.sub(r"\bM\(([^)]*)\)", r"`\1`", value)
    return " ".join(value.split()).replace("|", "\\|")


def _default(option):
    if "default" not in option:
        return "*required*" if option.get("required") else ""
    dumped = yaml.safe_dump(option["default"], default_flow_style=True, width=10000).strip()
    dumped = dumped[: -len("...")].strip() if dumped.endswith("...") else dumped
    return "`%s`" % dumped.replace("|", "\\|")


def _type(option):
    kind = option.get("type", "str")
    return "%s[%s]" % (kind, option["elements"]) if kind == "list" and option.get("elements") else kind


def table(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    rows = [
        "| `%s` | %s | %s | %s |\n" % (name, _type(option), _default(option), _text(option.get("description", "")))
        for name, option in options.items()
    ]
    return HEADER + "".join(rows)


def rewrite(role, check):
    path = os.path.join(ROOT, "roles", role, "README.md")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.index(HEADER)
    end = text.find("\n\n", start)
    end = len(text) if end < 0 else end + 1
    new = text[:start] + table(role) + text[end:]
    if new != text:
        if check:
            return False
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(new)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("roles", nargs="*")
    args = parser.parse_args(argv)
    roles = args.roles or sorted(os.listdir(os.path.join(ROOT, "roles")))
    stale = [role for role in roles if not rewrite(role, args.check)]
    if stale:
        sys.stderr.write("README variable tables out of date: %s (run tests/utils/role_readme.py)\n" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
