# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activation code never reaches Ansible's output: every task that handles it is ``no_log: true``.

The task files of the roles and playbooks are read as YAML.  A task *handles the code* when

- it runs ``amazon-ssm-agent -register`` (a command whose arguments hold ``-register``);
- a Jinja expression in its arguments, loop or task vars names an ``activation_code`` (the role's
  ``ssm_agent_activation_code``, ``minted.activation_code``, ``['activation_code']``...);
- it calls the activation module with state=present (its result holds the new code).

Exempt, because they do not print the value: conditions (``when``, ``changed_when``, ``failed_when``,
``until``, an assert's ``that``), and the redaction ``replace(<the code>, '<activation code>')``.
``no_log`` on an enclosing block counts.
"""

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

CONDITIONS = ("when", "changed_when", "failed_when", "until")
NOT_ARGUMENTS = CONDITIONS + ("name", "no_log", "register", "tags", "block", "rescue", "always", "notify", "listen")
COMMAND_MODULES = ("command", "shell", "raw")
JINJA = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.S)
CODE = re.compile(r"activation_code")
REDACTION = re.compile(r"replace\(\s*[\w.\[\]'\"]*activation_code[\w'\"\]]*\s*,")


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def expressions(text):
    """The Jinja expressions and statements in a templated string."""
    return [a or b for a, b in JINJA.findall(text)]


def module_of(task):
    keys = [k for k in task if k not in NOT_ARGUMENTS and k not in ("vars", "args", "loop", "environment")]
    keys = [k for k in keys if not k.startswith("with_") and not k.startswith("loop_") and k not in ("delegate_to",)]
    known = ("become", "run_once", "delegate_facts", "ignore_errors", "check_mode", "diff", "throttle", "timeout")
    keys = [k for k in keys if k not in known and k not in ("retries", "delay", "any_errors_fatal")]
    return keys[0] if len(keys) == 1 else None


def names_the_code(task):
    """Whether a Jinja expression in the task's arguments, loop or vars names an activation code (not redacted)."""
    module = module_of(task)
    for key, value in task.items():
        if key in NOT_ARGUMENTS:
            continue
        if key == module and module.split(".")[-1] == "assert" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "that"}
        for text in strings(value):
            for expression in expressions(text):
                if CODE.search(REDACTION.sub("", expression)):
                    return True
    return False


def runs_register_command(task):
    module = module_of(task)
    if module is None or module.split(".")[-1] not in COMMAND_MODULES:
        return False
    return any(re.search(r"(^|\s)-register(\s|$)", s) for s in strings(task))


def mints_activation(task):
    module = module_of(task)
    if module is None or module.split(".")[-1] != "activation":
        return False
    args = task[module] if isinstance(task[module], dict) else {}
    return args.get("state", "present") == "present"


def why_secret(task):
    reasons = []
    if runs_register_command(task):
        reasons.append("runs amazon-ssm-agent -register")
    if names_the_code(task):
        reasons.append("names the activation code")
    if mints_activation(task):
        reasons.append("its result holds a new activation code")
    return reasons


def tasks(entries, no_log=False):
    """(task, no_log in force) for every task, blocks included, with the blocks' no_log inherited."""
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        hidden = entry.get("no_log", no_log) is True
        if any(k in entry for k in ("block", "rescue", "always")):
            for key in ("block", "rescue", "always"):
                yield from tasks(entry.get(key), hidden)
        else:
            yield entry, hidden


def task_lists(path):
    """The task lists of a task file, handler file or playbook."""
    with open(path, encoding="utf-8") as f:
        document = yaml.safe_load(f) or []
    if path.startswith(os.path.join(ROOT, "playbooks") + os.sep) and any(
        isinstance(p, dict) and ("hosts" in p or "import_playbook" in p) for p in document
    ):
        for play in document:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield play.get(key) or []
    else:
        yield document


def task_files():
    patterns = ["roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml", "playbooks/tasks/*.yml"]
    return sorted(p for pattern in patterns for p in glob.glob(os.path.join(ROOT, pattern)))


def secret_tasks():
    found = []
    for path in task_files():
        for entries in task_lists(path):
            for task, hidden in tasks(entries):
                reasons = why_secret(task)
                if reasons:
                    found.append((os.path.relpath(path, ROOT), task.get("name", "(unnamed)"), reasons, hidden))
    return found


SECRET_TASKS = secret_tasks()


@pytest.mark.parametrize(
    "path, name, reasons, hidden", SECRET_TASKS, ids=["%s: %s" % (p, n) for p, n, _r, _h in SECRET_TASKS]
)
def test_every_task_that_handles_the_activation_code_is_no_log(path, name, reasons, hidden):
    assert hidden, "%s: task %r %s but is not no_log: true" % (path, name, " and ".join(reasons))


def test_the_tasks_that_handle_the_code_are_found():
    """The rule is not vacuous: the register command, the minting and the hand-out are all seen."""
    found = {(path, tuple(reasons)) for path, _name, reasons, _hidden in SECRET_TASKS}
    assert (
        "roles/ssm_agent/tasks/register.yml",
        ("runs amazon-ssm-agent -register", "names the activation code"),
    ) in found
    assert any(p.startswith("playbooks/") and "its result holds a new activation code" in r for p, r in found)
    assert any(p.startswith("playbooks/") and "names the activation code" in r for p, r in found)


# ---------------------------------------------------------------- the rule itself, on small task lists

REGISTER = {
    "name": "Register",
    "ansible.builtin.command": {"argv": "{{ ['env'] + argv }}"},
    "vars": {"argv": ["amazon-ssm-agent", "-register", "-code", "{{ ssm_agent_activation_code }}"]},
}


@pytest.mark.parametrize(
    "task, expected",
    [
        (REGISTER, ["runs amazon-ssm-agent -register", "names the activation code"]),
        ({"name": "r", "ansible.builtin.shell": "amazon-ssm-agent -register -y"}, ["runs amazon-ssm-agent -register"]),
        (
            {"name": "d", "ansible.builtin.debug": {"var": "x"}, "vars": {"x": "{{ minted.activation_code }}"}},
            ["names the activation code"],
        ),
        ({"name": "s", "ansible.builtin.set_fact": {"c": "{{ a['activation_code'] }}"}}, ["names the activation code"]),
        ({"name": "m", "ecs_anywhere.fleet.activation": {"iam_role": "R"}}, ["its result holds a new activation code"]),
        ({"name": "m", "ecs_anywhere.fleet.activation": {"state": "absent", "activation_id": "{{ i }}"}}, []),
        # conditions, an assert's `that`, plain text and the redaction do not print the code
        ({"name": "a", "ansible.builtin.assert": {"that": ["ssm_agent_activation_code | length > 0"]}}, []),
        ({"name": "a", "ansible.builtin.assert": {"that": ["x"], "fail_msg": "set ssm_agent_activation_code"}}, []),
        ({"name": "w", "ansible.builtin.debug": {"msg": "hi"}, "when": "ssm_agent_activation_code != ''"}, []),
        (
            {"name": "f", "ansible.builtin.fail": {"msg": "{{ out | replace(ssm_agent_activation_code, '<code>') }}"}},
            [],
        ),
        (
            {"name": "f", "ansible.builtin.fail": {"msg": "{{ out ~ ssm_agent_activation_code }}"}},
            ["names the activation code"],
        ),
        ({"name": "e", "ansible.builtin.command": "amazon-ssm-agent -register-not"}, []),
    ],
)
def test_what_handles_the_code(task, expected):
    assert why_secret(task) == expected


def test_no_log_of_a_block_covers_its_tasks():
    entries = [
        {"name": "b", "no_log": True, "block": [dict(REGISTER)]},
        {"name": "c", "block": [dict(REGISTER, no_log=True), dict(REGISTER)]},
    ]
    assert [hidden for _task, hidden in tasks(entries)] == [True, True, False]
