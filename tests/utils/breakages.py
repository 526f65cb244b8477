# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply each deliberate breakage of issue 9 to a scratch copy of the tree; the unit tests must fail for each.

``make breakages`` (not part of ``make test``; ``make mutation`` runs it too).  For every breakage below the
working tree (tracked and untracked files, as they are on disk) is copied to a scratch directory laid out as
``ansible_collections/ecs_anywhere/fleet``, the breakage is applied there as a concrete source change, and
``pytest -x tests/unit`` runs against that copy alone.  A breakage is *killed* when pytest fails, *survived*
when it passes.  The unchanged copy runs first and must pass, and each copy is checked to import its own
modules (not the working tree's).

The changes are made on the syntax tree (Python) or the task list (YAML), not as line diffs, so that they
still apply after the code around them changes.  When a breakage's target is no longer where it says
("not applicable"), the script fails: update the breakage along with the code.

Exit status 0 when every breakage is killed.  ``--list`` shows them; ``--only 1 7`` runs some; ``--keep``
leaves the scratch copies; ``--show 3`` prints the diff of a breakage without running anything.
"""

import argparse
import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import yaml

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET = os.path.join("ansible_collections", "ecs_anywhere", "fleet")
SKIP_DIRS = {".git", ".venv", ".lab", ".ansible", "__pycache__", ".pytest_cache", "mutants"}


class NotApplicable(Exception):
    """The breakage's target is not in the source any more."""


# ---------------------------------------------------------------- editing Python on its syntax tree


class Source:
    """A Python file's text with its syntax tree; edits are byte ranges (ast offsets count UTF-8 bytes)."""

    def __init__(self, text):
        self.data = text.encode("utf-8")
        self.tree = ast.parse(text)
        self.line_starts = [0]
        for line in self.data.splitlines(True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.parents = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.edits = []

    def start(self, node):
        return self.line_starts[node.lineno - 1] + node.col_offset

    def end(self, node):
        return self.line_starts[node.end_lineno - 1] + node.end_col_offset

    def replace(self, start, end, text):
        self.edits.append((start, end, text.encode("utf-8")))

    def replace_node(self, node, text):
        self.replace(self.start(node), self.end(node), text)

    def remove_element(self, node):
        """Remove ``node`` from the list, tuple, set or dict (as a key or value) that holds it, with its comma."""
        container = self.parents.get(node)
        if isinstance(container, ast.Dict):
            index = container.keys.index(node) if node in container.keys else container.values.index(node)
            items = list(zip(container.keys, container.values))
            spans = [(self.start(k), self.end(v)) for k, v in items]
        elif isinstance(container, (ast.List, ast.Tuple, ast.Set)):
            index = container.elts.index(node)
            spans = [(self.start(e), self.end(e)) for e in container.elts]
        else:
            raise NotApplicable(
                "%s at line %d is not an element of a list or dict" % (type(node).__name__, node.lineno)
            )
        if index + 1 < len(spans):
            self.replace(spans[index][0], spans[index + 1][0], "")
        elif index > 0:
            self.replace(spans[index - 1][1], spans[index][1], "")
        else:
            self.replace(spans[index][0], spans[index][1], "")

    def enclosing(self, node, kinds):
        while node is not None and not isinstance(node, kinds):
            node = self.parents.get(node)
        return node

    def text(self):
        data = self.data
        for start, end, new in sorted(self.edits, reverse=True):
            data = data[:start] + new + data[end:]
        if not self.edits:
            raise NotApplicable("nothing to change")
        return data.decode("utf-8")


def constants(source, value):
    return [n for n in ast.walk(source.tree) if isinstance(n, ast.Constant) and n.value == value]


def functions(source, name):
    return [
        n for n in ast.walk(source.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
    ]


def drop_action(action):
    """Every list or dict entry that is the string ``action`` is removed (the constant that lists it, a table)."""

    def patch(text):
        source = Source(text)
        found = [
            n
            for n in constants(source, action)
            if isinstance(source.parents.get(n), (ast.List, ast.Tuple, ast.Set, ast.Dict))
        ]
        if not found:
            raise NotApplicable("no list or dict holds %r" % action)
        for node in found:
            source.remove_element(node)
        return source.text()

    return patch


def drop_statement(action):
    """The statement that grants ``action`` (a call or dict literal in the statement list, or appended to it)."""

    def patch(text):
        source = Source(text)
        done = 0
        for node in constants(source, action):
            ancestor = source.parents.get(node)
            while ancestor is not None and not isinstance(ancestor, ast.stmt):
                parent = source.parents.get(ancestor)
                if isinstance(ancestor, (ast.Call, ast.Dict)) and isinstance(parent, (ast.List, ast.Tuple)):
                    source.remove_element(ancestor)
                    done += 1
                    break
                if (
                    isinstance(ancestor, (ast.Call, ast.Dict))
                    and isinstance(parent, ast.Call)
                    and isinstance(parent.func, ast.Attribute)
                    and parent.func.attr in ("append", "insert")
                    and isinstance(source.parents.get(parent), ast.Expr)
                ):
                    source.replace_node(source.parents[parent], "pass")
                    done += 1
                    break
                ancestor = parent
        if not done:
            raise NotApplicable("no statement (call or dict in a list, or appended) grants %r" % action)
        return source.text()

    return patch


def reason_never_given(reason):
    """The ``if`` that adds ``reason`` to the reasons found never holds."""

    def patch(text):
        source = Source(text)
        tests = []
        for node in constants(source, reason):
            branch = source.enclosing(node, ast.If)
            if branch is not None and any(node in ast.walk(s) for s in branch.body):
                tests.append(branch.test)
        if not tests:
            raise NotApplicable("no `if` adds the reason %r" % reason)
        for test in tests:
            source.replace_node(test, "False")
        return source.text()

    return patch


def option_type(source, option):
    """The type of a module option as its DOCUMENTATION declares it."""
    for node in source.tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            options = yaml.safe_load(node.value.value).get("options") or {}
            if option in options:
                return options[option].get("type", "str")
    raise NotApplicable("option %r is not documented" % option)


def instance_role_grant(assumed):
    """Every read of an ``instance_role_*`` option (what the instance role grants) gives a fixed answer.

    ``assumed=False``: the grant is ignored (false / an empty list); ``assumed=True``: it is always assumed
    (true / exactly the repositories the tasks pull, ``ecr_repositories``).
    """

    def patch(text):
        source = Source(text)
        reads = []
        for node in ast.walk(source.tree):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                key, base = node.slice.value, node.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                key, base = node.args[0].value, node.func.value
            if isinstance(key, str) and key.startswith("instance_role_"):
                reads.append((node, key, ast.get_source_segment(text, base)))
        if not reads:
            raise NotApplicable("no read of an instance_role_* option")
        for node, key, base in reads:
            kind = option_type(source, key)
            if kind == "bool":
                value = "True" if assumed else "False"
            elif kind == "list":
                value = "list(%s[%r] or [])" % (base, "ecr_repositories") if assumed else "[]"
            else:
                raise NotApplicable("option %r has type %s: no fixed answer defined" % (key, kind))
            source.replace_node(node, value)
        return source.text()

    return patch


def call_removed(function, method):
    """The statement calling ``<validator>.<method>(...)`` in ``function`` becomes ``pass``."""

    def patch(text):
        source = Source(text)
        calls = []
        for func in functions(source, function):
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Expr)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute)
                    and node.value.func.attr == method
                ):
                    calls.append(node)
        if not calls:
            raise NotApplicable("%s() makes no .%s(...) call" % (function, method))
        for node in calls:
            source.replace_node(node, "pass")
        return source.text()

    return patch


def method_does_nothing(cls, method):
    def patch(text):
        source = Source(text)
        for node in ast.walk(source.tree):
            if isinstance(node, ast.ClassDef) and node.name == cls:
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == method:
                        body = [
                            s for s in item.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                        ]
                        source.replace(source.start(body[0]), source.end(item.body[-1]), "return None")
                        return source.text()
        raise NotApplicable("no method %s.%s" % (cls, method))

    return patch


# ---------------------------------------------------------------- editing task files


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _tasks(entries):
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        yield entry
        for key in ("block", "rescue", "always"):
            yield from _tasks(entry.get(key))


def _scalar(text):
    try:
        return yaml.safe_load(text or '""')
    except yaml.YAMLError:
        return text


def no_log_dropped(what, matches):
    """The ``no_log`` line of every task for which ``matches(task)`` holds is deleted."""

    def patch(text):
        names = [t.get("name") for t in _tasks(yaml.safe_load(text)) if matches(t) and "no_log" in t]
        if not names:
            raise NotApplicable("no task %s with no_log" % what)
        lines = text.splitlines(True)
        removed = 0
        for name in names:
            for i, line in enumerate(lines):
                head = re.match(r"^(\s*)- name: *(.*?)\s*$", line)
                if not head or _scalar(head.group(2)) != name:
                    continue
                indent = len(head.group(1))
                for j in range(i + 1, len(lines)):
                    stripped = lines[j].strip()
                    depth = len(lines[j]) - len(lines[j].lstrip())
                    if stripped and (depth < indent + 2 or (depth == indent and stripped.startswith("- "))):
                        break
                    if depth == indent + 2 and re.match(r"^no_log\s*:", stripped):
                        lines[j] = ""
                        removed += 1
                        break
        if removed != len(names):
            raise NotApplicable("could not find the no_log line of %s" % names)
        return "".join(lines)

    return patch


COMMAND_MODULES = ("command", "shell", "raw")


def runs_register_command(task):
    """A command task whose arguments hold ``-register`` (amazon-ssm-agent's registration)."""
    module = next((k for k in task if k.split(".")[-1] in COMMAND_MODULES), None)
    return module is not None and any(re.search(r"(^|\s)-register(\s|$)", s) for s in _strings(task))


def mints_activation(task):
    module = next((k for k in task if k.endswith("activation")), None)
    args = task.get(module) if module else None
    return module is not None and (not isinstance(args, dict) or args.get("state", "present") == "present")


def sets_activation_codes(task):
    return "ansible.builtin.set_fact" in task and any("activation_code" in s for s in _strings(task))


# ---------------------------------------------------------------- the breakages

POLICIES = "plugins/module_utils/_policies.py"
TASK_EXECUTION_ROLE = "plugins/modules/task_execution_role.py"

#: (id, what, file, patch); 1-8 are the issue's list, the others guard the same rules from the other side.
BREAKAGES = [
    (
        "1",
        "ecs:SubmitTaskStateChange dropped from the instance-role policy",
        POLICIES,
        drop_action("ecs:SubmitTaskStateChange"),
    ),
    (
        "2",
        "ecs:StartTelemetrySession dropped from the instance-role policy",
        POLICIES,
        drop_action("ecs:StartTelemetrySession"),
    ),
    (
        "3",
        "the DiscoverPollEndpoint statement dropped from the instance-role policy",
        POLICIES,
        drop_statement("ecs:DiscoverPollEndpoint"),
    ),
    ("4", "awslogs no longer a reason for a task execution role", TASK_EXECUTION_ROLE, reason_never_given("awslogs")),
    ("5", "the instance role's ECR grant ignored", TASK_EXECUTION_ROLE, instance_role_grant(assumed=False)),
    ("6", "the instance role's ECR grant always assumed", TASK_EXECUTION_ROLE, instance_role_grant(assumed=True)),
    (
        "7",
        "no_log removed from the amazon-ssm-agent -register task",
        "roles/ssm_agent/tasks/register.yml",
        no_log_dropped("running amazon-ssm-agent -register", runs_register_command),
    ),
    (
        "8",
        "any activation region accepted (activation's region check removed)",
        "plugins/modules/activation.py",
        call_removed("validate", "region"),
    ),
    (
        "7b",
        "no_log removed from the playbook task that mints activations",
        "playbooks/tasks/mint_activations.yml",
        no_log_dropped("calling the activation module", mints_activation),
    ),
    (
        "7c",
        "no_log removed from the playbook task that hands out activation codes",
        "playbooks/tasks/mint_activations.yml",
        no_log_dropped("setting facts from activation codes", sets_activation_codes),
    ),
    (
        "8b",
        "any region accepted by the shared validator (Validator.region)",
        "plugins/module_utils/_common.py",
        method_does_nothing("Validator", "region"),
    ),
]
REQUIRED = [b[0] for b in BREAKAGES if b[0].isdigit()]

#: The unit tests of a file, run first for its breakages (then, if they pass, all of tests/unit).
FOCUS = {
    POLICIES: ["tests/unit/plugins/module_utils"],
    TASK_EXECUTION_ROLE: ["tests/unit/plugins/modules/task_execution_role"],
    "roles/ssm_agent/tasks/register.yml": ["tests/unit/roles"],
    "playbooks/tasks/mint_activations.yml": ["tests/unit/roles"],
    "plugins/modules/activation.py": ["tests/unit/plugins/modules/activation"],
    "plugins/module_utils/_common.py": ["tests/unit/plugins/module_utils/test_validation.py"],
}


def patched(breakage, tree=TREE):
    """(original, changed) text of the breakage's file; raises NotApplicable."""
    _id, _what, path, patch = breakage
    with open(os.path.join(tree, path), encoding="utf-8") as f:
        original = f.read()
    changed = patch(original)
    if changed == original:
        raise NotApplicable("the change leaves the file as it was")
    if path.endswith(".py"):
        compile(changed, path, "exec")
    else:
        yaml.safe_load(changed)
    return original, changed


# ---------------------------------------------------------------- running


def tree_files(tree):
    """The working tree's files as they are on disk: tracked and untracked, without what git ignores."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=tree,
            capture_output=True,
            check=True,
        ).stdout
        files = [f.decode("utf-8") for f in out.split(b"\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(tree):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            files += [os.path.relpath(os.path.join(root, n), tree) for n in names]
    return [f for f in files if os.path.isfile(os.path.join(tree, f)) and not f.startswith("tests/output/")]


def scratch_copy(tree, files, root):
    """``root``/ansible_collections/ecs_anywhere/fleet: a copy of ``files``; amazon.aws linked beside it."""
    fleet = os.path.join(root, FLEET)
    for name in files:
        target = os.path.join(fleet, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(tree, name), target)
    amazon = os.path.join(tree, ".venv", "collections", "ansible_collections", "amazon")
    if os.path.isdir(amazon):
        os.symlink(amazon, os.path.join(root, "ansible_collections", "amazon"))
    return fleet


def run_units(root, fleet, pytest_args, focus=()):
    """pytest's exit status and output for the copy: ``focus`` (test paths) first, the rest only if they pass."""
    env = dict(os.environ, PYTHONPATH=root)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    probe = "import ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common as m; print(m.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe], cwd=fleet, env=env, capture_output=True, text=True, check=False
    )
    if not os.path.realpath(where.stdout.strip()).startswith(os.path.realpath(fleet) + os.sep):
        return None, "the copy imports %r, not its own modules: %s" % (where.stdout.strip(), where.stderr.strip())
    argv = [sys.executable, "-m", "pytest", "-x", "-q", "-rf", "-p", "no:cacheprovider"] + pytest_args
    focus = [f for f in focus if os.path.exists(os.path.join(fleet, f))]
    if focus:
        # The tests nearest the change first: a failure there is a failure of tests/unit, found sooner.
        proc = subprocess.run(argv + focus, cwd=fleet, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return proc.returncode, proc.stdout + proc.stderr
    proc = subprocess.run(argv + ["tests/unit"], cwd=fleet, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def first_failure(output):
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" ", 1)[1].split(" - ")[0]
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def attempt(breakage, files, base, keep, pytest_args):
    """Result row: (id, what, path, status, detail, seconds)."""
    ident, what, path = breakage[:3] if breakage else ("base", "unchanged copy", "-")
    start = time.monotonic()
    root = tempfile.mkdtemp(prefix="breakage-%s-" % ident, dir=base)
    try:
        fleet = scratch_copy(TREE, files, root)
        if breakage:
            try:
                _original, changed = patched(breakage, fleet)
            except (NotApplicable, SyntaxError, yaml.YAMLError) as e:
                return ident, what, path, "not applicable", str(e), time.monotonic() - start
            with open(os.path.join(fleet, path), "w", encoding="utf-8") as f:
                f.write(changed)
        rc, output = run_units(root, fleet, pytest_args, FOCUS.get(path, ()) if breakage else ())
        if rc is None:
            status, detail = "error", output
        elif breakage is None:
            status = "passed" if rc == 0 else "failed"
            detail = "" if rc == 0 else output[-3000:]
        elif rc in (1, 3):
            status, detail = "killed", first_failure(output)
        elif rc == 0:
            status, detail = "SURVIVED", "tests/unit passed with the change"
        else:
            status, detail = "error", "pytest exit %d: %s" % (rc, output[-2000:])
        return ident, what, path, status, detail, time.monotonic() - start
    finally:
        if keep:
            print("kept %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)


def show(breakage):
    try:
        original, changed = patched(breakage)
    except NotApplicable as e:
        print("%s: not applicable: %s" % (breakage[0], e))
        return 1
    path = breakage[2]
    sys.stdout.writelines(
        difflib.unified_diff(original.splitlines(True), changed.splitlines(True), "a/" + path, "b/" + path)
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these breakages only")
    parser.add_argument("--list", action="store_true", help="list the breakages")
    parser.add_argument("--show", metavar="ID", help="print the diff of one breakage against the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--pytest-arg", action="append", default=[], help="extra pytest argument")
    args = parser.parse_args(argv)
    by_id = {b[0]: b for b in BREAKAGES}
    if args.list:
        for ident, what, path, _patch in BREAKAGES:
            print("%-3s %-76s %s" % (ident, what, path))
        return 0
    if args.show:
        return show(by_id[args.show])
    unknown = [i for i in args.only or [] if i not in by_id]
    if unknown:
        parser.error("unknown breakage %s (see --list)" % ", ".join(unknown))
    chosen = [by_id[i] for i in args.only] if args.only else BREAKAGES
    files = tree_files(TREE)
    base = tempfile.mkdtemp(prefix="breakages-")
    try:
        print(
            "%d breakages, each on a scratch copy of %d files; pytest -x tests/unit per copy"
            % (len(chosen), len(files))
        )
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(attempt, b, files, base, args.keep, args.pytest_arg) for b in [None] + chosen]
            rows = [f.result() for f in futures]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    baseline = rows.pop(0)
    print("unchanged copy: %s (%.0fs)" % (baseline[3], baseline[5]))
    if baseline[3] != "passed":
        print(baseline[4])
        print("the unit tests fail (or cannot run) without any breakage: no verdict")
        return 2
    for ident, what, path, status, detail, seconds in rows:
        print("%-3s %-9s %-72s %s" % (ident, status, what, path))
        print("    %s (%.0fs)" % (detail if len(detail) < 400 else detail[:400] + "...", seconds))
    killed = [r for r in rows if r[3] == "killed"]
    required = [r for r in rows if r[0] in REQUIRED]
    print(
        "breakages: %d killed, %d survived, %d not applicable or error (issue's 1-8: %d of %d killed)"
        % (
            len(killed),
            sum(r[3] == "SURVIVED" for r in rows),
            sum(r[3] in ("not applicable", "error") for r in rows),
            sum(r[3] == "killed" for r in required),
            len(required),
        )
    )
    return 0 if len(killed) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
