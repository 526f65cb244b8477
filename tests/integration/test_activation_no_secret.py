# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The activation code never shows in a play's output, even at -vvvv and with --diff, when the tasks that create
and use it carry ``no_log: true`` as the module's documentation says.

The code reaches the test only through a 0600 file written by a ``no_log`` copy task; a fake host registers with
it to prove it is the real code; then the whole of stdout and stderr is searched for it.
"""

import json
import os
import re
import uuid

import boto3
import pytest
from emulator.agent import FakeAgent

from ansible_collections.ecs_anywhere.fleet.tests.integration import support

HIDDEN = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"


def run(aws_env, playbook, tasks, *options):
    return support.run_play(aws_env, playbook.parent, tasks, playbook.stem, options)


@pytest.fixture(scope="module")
def verbose_run(aws_env, emulator, tmp_path_factory):
    """One play at -vvvv --diff that creates an activation, saves and uses its code; returns (output, files, role)."""
    tmp = tmp_path_factory.mktemp("no_secret")
    role = "nosecret-%s" % uuid.uuid4().hex[:10]
    tasks = [
        {"name": "role", "ecs_anywhere.fleet.instance_role": {"name": role, "clusters": [role]}},
        {
            "name": "create the activation",
            "ecs_anywhere.fleet.activation": {"iam_role": role, "registration_limit": 2, "description": "no secret"},
            "register": "act",
            "no_log": True,
        },
        {
            "name": "save the code",
            "ansible.builtin.copy": {"content": "{{ act.activation_code }}", "dest": str(tmp / "code"), "mode": "0600"},
            "no_log": True,
        },
        {
            "name": "save the result's keys (no values)",
            "ansible.builtin.copy": {
                "content": "{{ act.keys() | list | sort | to_json }}",
                "dest": str(tmp / "result.json"),
                "mode": "0600",
            },
        },
        {
            "name": "use the code as the README shows",
            "ansible.builtin.command": {
                "argv": [
                    "/bin/true",
                    "-register",
                    "-id",
                    "{{ act.activation_id }}",
                    "-code",
                    "{{ act.activation_code }}",
                ]
            },
            "no_log": True,
            "changed_when": False,
        },
        {
            "name": "show the id (not a secret: proves values do reach the output)",
            "ansible.builtin.debug": {"var": "act.activation_id"},
        },
    ]
    result = run(aws_env, tmp / "play.yml", tasks, "-vvvv", "--diff")
    try:
        yield result, tmp, role
    finally:
        ssm = boto3.client(
            "ssm",
            endpoint_url=emulator.url,
            region_name=aws_env["AWS_REGION"],
            aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
        )
        for activation in ssm.describe_activations(Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}])[
            "ActivationList"
        ]:
            ssm.delete_activation(ActivationId=activation["ActivationId"])
        run(
            aws_env,
            tmp / "cleanup.yml",
            [{"name": "remove role", "ecs_anywhere.fleet.instance_role": {"name": role, "state": "absent"}}],
        )


def test_play_succeeds_at_full_verbosity(verbose_run):
    result, _tmp, _role = verbose_run
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ESTABLISH LOCAL CONNECTION" in result.stdout  # -vvvv really was on


def test_code_is_real_and_appears_nowhere_in_the_output(verbose_run, emulator, aws_client):
    result, tmp, role = verbose_run
    assert oct(os.stat(tmp / "code").st_mode & 0o777) == "0o600"
    code = (tmp / "code").read_text(encoding="utf-8")
    assert re.fullmatch(r"[A-Za-z0-9+/]{20}", code)
    ssm = aws_client("ssm")
    (activation,) = ssm.describe_activations(Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}])[
        "ActivationList"
    ]
    host = FakeAgent(emulator.url)
    instance_id = host.register(activation["ActivationId"], code)  # the saved code is the real one
    ssm.deregister_managed_instance(InstanceId=instance_id)

    output = result.stdout + result.stderr
    assert output.count(code) == 0
    assert activation["ActivationId"] in output  # the positive control: values in results do show


def test_every_task_touching_the_code_is_censored(verbose_run):
    result, tmp, _role = verbose_run
    output = result.stdout
    for task in ("create the activation", "save the code", "use the code as the README shows"):
        section = output.split("TASK [%s]" % task, 1)[1].split("TASK [", 1)[0]
        assert HIDDEN in section, task
    saved = json.loads((tmp / "result.json").read_text(encoding="utf-8"))
    # The play still holds the code to use: ansible has no per-return-value no_log (a module adding the code to its
    # no_log_values would mask the very value the play needs), so the task's no_log is what protects it.
    assert "activation_code" in saved
