# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mutation testing of plugins/ with mutmut against tests/unit, then the issue-9 breakages; prints the score.

``make mutation`` (all of plugins/, long) or ``make mutation MUTATE=plugins/module_utils/_policies.py`` (files
or directories under plugins/).  Not part of ``make test``.

mutmut derives a module's name from its path below the directory it runs in, while the tests import
``ansible_collections.ecs_anywhere.fleet.plugins...``.  So the run happens in a workspace (``.venv/mutation``)
that holds a copy of the working tree at ``ansible_collections/ecs_anywhere/fleet`` (tracked and untracked
files as they are on disk) and amazon.aws beside it, with a generated ``pyproject.toml``: mutmut's settings
(``source_paths`` = the copy's plugins/, ``only_mutate`` = what MUTATE names, ``also_copy`` = the rest of the
copy, the tests = its tests/unit) and pytest's (``pythonpath`` = the workspace, nothing from ``.venv/collections``,
which would import the unmutated tree).  Each run starts from a fresh workspace.

The summary counts, per file, mutants killed, survived, with no test reaching them, and timeouts; the score is
killed / mutants checked.  Survivors are listed in ``.venv/mutation/survivors.txt``; see one with
``cd .venv/mutation && ../bin/mutmut show <name>``.  An interrupted run is finished with ``--resume``
(``make mutation MUTATION_ARGS=--resume``).  Exit status: mutmut's when it failed, else that of
``tests/utils/breakages.py`` (non-zero when one of the breakages survives).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = "ansible_collections/ecs_anywhere/fleet"
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout"}
STATUS.update({-24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"})
COLUMNS = ("killed", "survived", "no tests", "timeout", "not checked", "other")


def tree_files():
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=TREE,
        capture_output=True,
        check=True,
    ).stdout
    names = [f.decode("utf-8") for f in out.split(b"\0") if f]
    return [n for n in names if os.path.isfile(os.path.join(TREE, n)) and not n.startswith("tests/output/")]


def toml_list(values):
    return "[%s]" % ", ".join(json.dumps(v) for v in values)


def prepare(workspace, mutate):
    """A fresh workspace: the tree's copy, amazon.aws, and the pyproject.toml mutmut and pytest read."""
    shutil.rmtree(workspace, ignore_errors=True)
    fleet = os.path.join(workspace, FLEET)
    for name in tree_files():
        target = os.path.join(fleet, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(TREE, name), target)
    amazon = os.path.join(TREE, ".venv", "collections", "ansible_collections", "amazon")
    shutil.copytree(amazon, os.path.join(workspace, "ansible_collections", "amazon"), symlinks=False)
    only = []
    for path in mutate:
        rel = os.path.relpath(os.path.abspath(os.path.join(TREE, path)), TREE)
        if not (rel == "plugins" or rel.startswith("plugins" + os.sep)) or not os.path.exists(os.path.join(TREE, rel)):
            raise SystemExit("MUTATE: %s is not a file or directory under plugins/" % path)
        only.append("%s/%s" % (FLEET, rel) + ("/*" if os.path.isdir(os.path.join(TREE, rel)) else ""))
    others = sorted("%s/%s" % (FLEET, n) for n in os.listdir(fleet) if n != "plugins")
    config = [
        "# Written by tests/utils/mutation.py for this run.",
        "[tool.mutmut]",
        "source_paths = %s" % toml_list([FLEET + "/plugins"]),
        "also_copy = %s" % toml_list(others + ["ansible_collections/amazon"]),
        "pytest_add_cli_args_test_selection = %s" % toml_list([FLEET + "/tests/unit"]),
        "pytest_add_cli_args = %s" % toml_list(["-p", "no:cacheprovider", "-p", "no:xdist"]),
    ]
    if only:
        config.append("only_mutate = %s" % toml_list(only))
    config += ["", "[tool.pytest.ini_options]", 'pythonpath = ["."]', ""]
    with open(os.path.join(workspace, "pyproject.toml"), "w", encoding="utf-8") as f:
        f.write("\n".join(config))


def results(workspace):
    """{file: {status: [mutant names]}} from mutmut's per-file result records."""
    by_file = {}
    prefix = os.path.join(workspace, "mutants", FLEET) + os.sep
    for meta in sorted(
        glob.glob(os.path.join(workspace, "mutants", FLEET, "plugins", "**", "*.py.meta"), recursive=True)
    ):
        with open(meta, encoding="utf-8") as f:
            codes = json.load(f).get("exit_code_by_key", {})
        if not codes:
            continue
        statuses = by_file.setdefault(meta[len(prefix) : -len(".meta")], {})
        for name, code in codes.items():
            status = STATUS.get(code, "other")
            statuses.setdefault(status if status in COLUMNS else "other", []).append(name)
    return by_file


def summary(by_file):
    lines = ["%-42s %6s %8s %8s %7s %11s %5s %6s" % (("file",) + COLUMNS + ("score",))]
    totals = {column: 0 for column in COLUMNS}
    for path, statuses in sorted(by_file.items()):
        counts = [len(statuses.get(c, [])) for c in COLUMNS]
        for column, count in zip(COLUMNS, counts):
            totals[column] += count
        lines.append("%-42s %6d %8d %8d %7d %11d %5d %5.1f%%" % tuple([path] + counts + [score_of(counts)]))
    counts = [totals[c] for c in COLUMNS]
    lines.append(
        "mutation score: %.1f%% (%d killed, %d survived, %d with no test, %d timeout, %d other, of %d mutants%s)"
        % (
            score_of(counts),
            totals["killed"],
            totals["survived"],
            totals["no tests"],
            totals["timeout"],
            totals["other"],
            sum(counts) - totals["not checked"],
            (
                "; INCOMPLETE: %d not checked, finish with --resume" % totals["not checked"]
                if totals["not checked"]
                else ""
            ),
        )
    )
    return lines


def score_of(counts):
    """Killed of the mutants checked (a mutant no test reaches counts as checked, and not killed)."""
    checked = sum(counts) - counts[COLUMNS.index("not checked")]
    return 100.0 * counts[0] / checked if checked else 0.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutate", nargs="*", help="files or directories under plugins/ (default: all of plugins/)")
    parser.add_argument("--workspace", default=os.path.join(TREE, ".venv", "mutation"))
    parser.add_argument("--max-children", type=int, help="parallel mutants (mutmut's default: the CPU count)")
    parser.add_argument("--no-breakages", action="store_true", help="skip tests/utils/breakages.py")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted run: same workspace, copy and results (MUTATE ignored)",
    )
    args = parser.parse_args(argv)
    workspace = os.path.abspath(args.workspace)
    if not args.resume:
        prepare(workspace, args.mutate)
    elif not os.path.isdir(os.path.join(workspace, "mutants")):
        raise SystemExit("--resume: no run to finish in %s" % workspace)
    print("mutmut over %s in %s" % (" ".join(args.mutate) or "plugins/", workspace), flush=True)
    env = dict(os.environ)
    for name in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH"):  # they point at the unmutated working tree
        env.pop(name, None)
    mutmut = os.path.join(os.path.dirname(sys.executable), "mutmut")
    command = [mutmut, "run"] + (["--max-children", str(args.max_children)] if args.max_children else [])
    start = time.monotonic()
    rc = subprocess.call(command, cwd=workspace, env=env)
    elapsed = time.monotonic() - start
    by_file = results(workspace)
    print()
    print("\n".join(summary(by_file)))
    print("(mutmut %s, %.0f minutes)" % (version(), elapsed / 60))
    survivors = sorted(n for statuses in by_file.values() for n in statuses.get("survived", []))
    with open(os.path.join(workspace, "survivors.txt"), "w", encoding="utf-8") as f:
        f.writelines(n + "\n" for n in survivors)
    print("survivors: %s (cd %s && %s show <name>)" % (os.path.join(workspace, "survivors.txt"), workspace, mutmut))
    if rc != 0:
        print("mutmut failed (exit %d)" % rc)
        return rc
    if args.no_breakages:
        return 0
    print("\n==> the issue-9 breakages", flush=True)
    return subprocess.call([sys.executable, os.path.join(TREE, "tests", "utils", "breakages.py")])


def version():
    try:
        from importlib.metadata import version as dist_version  # pylint: disable=import-outside-toplevel

        return dist_version("mutmut")
    except Exception:  # pylint: disable=broad-except
        return "?"


if __name__ == "__main__":
    sys.exit(main())
