# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input gets one clear error naming the parameter, and the emulator sees no AWS call at all."""

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

ARN_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/onprem"
INSTANCE_ARN = "arn:aws:ecs:us-east-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"
MI = "mi-0123456789abcdef0"
ROLE = "ECSAnywhereRole"
#: Over IAM's 6,144 characters for the generated policy (14 clusters fit with the default options).
MANY_CLUSTERS = ["cluster-%03d" % i for i in range(400)]

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
    ("instance_role", dict(clusters=["a"], readable_parameters=["bad param!"]), "readable_parameters"),
    ("instance_role", dict(clusters=["a"], readable_parameters=["/app/*/x"]), "readable_parameters"),
    ("instance_role", dict(clusters=["a"], readable_parameters=["arn:aws:ecr:us-east-1:1:x"]), "readable_parameters"),
    ("instance_role", dict(policy_mode="managed", readable_parameters=["/app/x"]), "policy_mode"),
    (
        "task_execution_role",
        dict(ecr_repositories=["web"], instance_role_ecr_repositories=["UPPER"]),
        "instance_role_ecr_repositories",
    ),
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
    # --- cluster ARNs: wildcards, other regions, partitions and accounts (issue 9, item 5)
    ("instance_role", dict(clusters=["arn:aws:ecs:us-east-1:123456789012:cluster/*"]), "clusters"),
    ("instance_role", dict(clusters=["arn:aws:ecs:us-east-1:123456789012:cluster/on*"]), "clusters"),
    ("instance_role", dict(clusters=["arn:aws:ecs:*:123456789012:cluster/onprem"]), "clusters"),
    ("instance_role", dict(clusters=["arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"]), "clusters"),
    ("instance_role", dict(clusters=["arn:aws-cn:ecs:cn-north-1:123456789012:cluster/onprem"]), "clusters"),
    ("instance_role", dict(clusters=[CLUSTER_ARN, "arn:aws:ecs:us-east-1:210987654321:cluster/b"]), "clusters"),
    ("instance_role", dict(clusters=["a"], activation_regions=["cn-north-1"]), "activation_regions"),
    ("managed_instance", dict(instances=[MI], clusters=["arn:aws:ecs:us-east-1:123456789012:cluster/*"]), "clusters"),
    ("managed_instance", dict(instances=[INSTANCE_ARN.replace("us-east-1", "eu-west-1")]), "instances"),
    # --- the generated policy over IAM's size limit, or too many attachments: before the role is created
    ("instance_role", dict(clusters=MANY_CLUSTERS), "clusters"),
    (
        "instance_role",
        dict(clusters=["a"], readable_parameters=["/app/p%04d" % i for i in range(300)]),
        "readable_parameters",
    ),
    ("task_execution_role", dict(ssm_parameters=["/app/p%04d" % i for i in range(200)]), "ssm_parameters"),
    (
        "instance_role",
        dict(clusters=["a"], managed_policies=["arn:aws:iam::123456789012:policy/p%d" % i for i in range(19)]),
        "managed_policies",
    ),
    # --- tags: aws: keys (any case), control characters, too many
    ("cluster", dict(name="onprem", tags={"aws:team": "x"}), "tags"),
    ("cluster", dict(name="onprem", tags={"team": "a\nb"}), "tags"),
    ("cluster", dict(name="onprem", tags={"k%d" % i: "v" for i in range(51)}), "tags"),
    ("instance_role", dict(clusters=["a"], tags={"AWS:team": "x"}), "tags"),
    ("instance_role", dict(clusters=["a"], tags={"team": "tab\there"}), "tags"),
    ("task_execution_role", dict(log_groups=["/x"], tags={"Aws:team": "x"}), "tags"),
    ("activation", dict(iam_role=ROLE, tags={"aws:team": "x"}), "tags"),
    ("activation", dict(iam_role=ROLE, tags={"site": "dc\u00072"}), "tags"),
    ("managed_instance", dict(instances=[MI], tags={"aWs:x": "1"}), "tags"),
    # --- names and descriptions: newlines, control characters, non-ASCII where AWS forbids them
    ("cluster", dict(name="onprem\n"), "name"),
    ("cluster", dict(name="ønprem"), "name"),
    ("instance_role", dict(name="rôle", clusters=["a"]), "name"),
    ("instance_role", dict(path="/équipe/", clusters=["a"]), "path"),
    ("instance_role", dict(clusters=["a"], description="emoji \U0001f600"), "description"),
    ("task_execution_role", dict(name="ロール", log_groups=["/x"]), "name"),
    ("activation", dict(iam_role="rôle"), "iam_role"),
    ("activation", dict(iam_role=ROLE, default_instance_name="edge\n01"), "default_instance_name"),
    ("managed_instance", dict(instances=[MI + "\n"]), "instances"),
    # --- Secrets Manager ARNs that no policy resource can match
    (
        "task_execution_role",
        dict(secrets_manager_secrets=[ARN_SECRET + ":password:AWSCURRENT:"]),
        "secrets_manager_secrets",
    ),
    (
        "task_execution_role",
        dict(secrets_manager_secrets=["arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db"]),
        "secrets_manager_secrets",
    ),
    # --- the module's region
    ("cluster", dict(name="onprem", region="moon-1"), "region"),
    ("activation", dict(iam_role=ROLE, region="eu-west-1\n"), "region"),
]

#: Input the old rules refused or mishandled, now accepted: each in check mode, for a region of the AWS
#: European Sovereign Cloud (partition aws-eusc), whose ARNs must carry that partition.
EUSC = "eusc-de-east-1"
GOOD_INPUT = [
    ("cluster", dict(name="onprem", region=EUSC, tags={"Ort": "Zürich"})),
    ("instance_role", dict(region=EUSC, clusters=["onprem", "arn:aws-eusc:ecs:%s:123456789012:cluster/edge" % EUSC])),
    (
        "task_execution_role",
        dict(region=EUSC, secrets_manager_secrets=["arn:aws-eusc:secretsmanager:%s:123456789012:secret:db" % EUSC]),
    ),
    ("activation", dict(region=EUSC, iam_role=ROLE, default_instance_name="rack 4 Zürich")),
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


def test_table_has_at_least_forty_rows():
    assert len(BAD_INPUT) >= 40


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


@pytest.fixture(scope="module")
def good_input_run(aws_env, emulator, tmp_path_factory):
    tasks = [
        {"name": "row %d" % i, "ecs_anywhere.fleet." + module: args, "check_mode": True}
        for i, (module, args) in enumerate(GOOD_INPUT)
    ]
    return run_tasks(aws_env, tmp_path_factory.mktemp("good_input"), tasks).results


@pytest.mark.parametrize("index", range(len(GOOD_INPUT)), ids=[m for m, _a in GOOD_INPUT])
def test_eusc_regions_are_accepted_with_their_partition(good_input_run, index):
    result = good_input_run[index]
    assert not result.get("failed"), result.get("msg")
    arns = [value for value in _strings(result) if value.startswith("arn:")]
    assert all(a.startswith("arn:aws-eusc:") for a in arns), arns
    if GOOD_INPUT[index][0].endswith("_role"):
        assert result["policy_document"] and result["generated_policy_arn"].startswith("arn:aws-eusc:iam::")


def test_a_partial_secret_arn_becomes_awss_documented_pattern(good_input_run):
    result = good_input_run[2]
    statement = result["policy_document"]["Statement"][0]
    assert statement["Resource"] == ["arn:aws-eusc:secretsmanager:%s:123456789012:secret:db-??????" % EUSC]


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
