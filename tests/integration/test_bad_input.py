# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input gets one clear error naming the parameter, and the emulator sees no AWS call at all."""

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

ARN_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"

BAD_INPUT = [
    ("cluster", dict(name="bad name!"), "name"),
    ("cluster", dict(name="x" * 256), "name"),
    ("instance_role", dict(name="bad/role", clusters=["a"]), "name"),
    ("instance_role", dict(path="no-slashes", clusters=["a"]), "path"),
    ("instance_role", dict(max_session_duration=60, clusters=["a"]), "max_session_duration"),
    ("instance_role", dict(permissions_boundary="not-an-arn", clusters=["a"]), "permissions_boundary"),
    ("instance_role", dict(managed_policies=["arn:aws:s3:::bucket"], clusters=["a"]), "managed_policies"),
    ("instance_role", dict(clusters=["bad cluster"]), "clusters"),
    ("instance_role", dict(clusters=[]), "clusters"),
    ("instance_role", dict(clusters=["a"], log_groups=["bad:group"]), "log_groups"),
    ("instance_role", dict(clusters=["a"], ecr_repositories=["UPPER"]), "ecr_repositories"),
    ("instance_role", dict(clusters=["a"], activation_regions=["moon-1"]), "activation_regions"),
    ("instance_role", dict(clusters=["a"], generated_policy_name="x" * 129), "generated_policy_name"),
    (
        "task_execution_role",
        dict(log_groups=["/x"], secrets_manager_secrets=["arn:aws:ssm:us-east-1:1:parameter/x"]),
        "secrets_manager_secrets",
    ),
    ("task_execution_role", dict(secrets_manager_secrets=[ARN_SECRET], kms_keys=["alias/mine"]), "kms_keys"),
    ("task_execution_role", dict(ssm_parameters=["bad param!"]), "ssm_parameters"),
    ("task_execution_role", dict(name="", log_groups=["/x"]), "name"),
]


@pytest.fixture(scope="module")
def bad_input_run(aws_env, emulator, tmp_path_factory):
    """One play with a task per row (one ansible-playbook start-up for all); the emulator's call log is
    cleared first and read after, so any AWS call by any row shows."""
    tasks = [
        {"name": "row %d" % i, "ecs_anywhere.fleet." + module: args} for i, (module, args, _p) in enumerate(BAD_INPUT)
    ]
    emulator.clear_calls()
    play = run_tasks(aws_env, tmp_path_factory.mktemp("bad_input"), tasks)
    return play.results, emulator.calls()


def test_table_has_at_least_twelve_rows():
    assert len(BAD_INPUT) >= 12


def test_no_row_reached_aws(bad_input_run):
    _results, calls = bad_input_run
    assert calls == [], "bad input must not reach AWS"


@pytest.mark.parametrize("index", range(len(BAD_INPUT)), ids=["%s-%s" % (m, p) for m, _a, p in BAD_INPUT])
def test_bad_input_gets_one_error_naming_the_parameter(bad_input_run, index):
    results, _calls = bad_input_run
    _module, _args, parameter = BAD_INPUT[index]
    result = results[index]
    assert result.get("failed") is True
    assert result["invalid_parameters"] == [parameter]
    assert parameter in result["msg"]
