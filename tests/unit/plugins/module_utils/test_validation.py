# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input rules checked before any AWS call (_common.Validator, _policies.validate_role and the modules'
validate functions), as tables.  Where a rule comes from AWS, the table row says which one; the regions and
partitions are checked against botocore's own endpoint data."""

import json
import os

import botocore
import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _common as common
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.modules import activation as activation_module
from ansible_collections.ecs_anywhere.fleet.plugins.modules import cluster as cluster_module
from ansible_collections.ecs_anywhere.fleet.plugins.modules import instance_role as instance_role_module
from ansible_collections.ecs_anywhere.fleet.plugins.modules import managed_instance as managed_instance_module
from ansible_collections.ecs_anywhere.fleet.plugins.modules import task_execution_role as task_execution_role_module

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import managed_instance_params

ACCOUNT = "123456789012"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"


def failed_parameters(validate, params, region="us-east-1"):
    """The parameters ``validate`` names (``[]`` when it passes)."""
    try:
        validate(FakeModule(params, region=region))
    except ModuleFailed as e:
        for parameter in e.kwargs["invalid_parameters"]:
            assert parameter in e.kwargs["msg"]
        return e.kwargs["invalid_parameters"]
    return []


def recorded(check, region="us-east-1"):
    """Run ``check(validator)`` and return the validator's errors."""
    v = Validator(FakeModule({}, region=region))
    check(v)
    return v.errors


# ---------------------------------------------------------------- regions and partitions


def botocore_partitions():
    with open(os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json"), encoding="utf-8") as f:
        return json.load(f)["partitions"]


BOTOCORE_REGIONS = [(region, p["partition"]) for p in botocore_partitions() for region in p["regions"]]


@pytest.mark.parametrize("region, partition", BOTOCORE_REGIONS, ids=[r for r, _p in BOTOCORE_REGIONS])
def test_every_botocore_region_is_accepted_and_mapped_to_its_partition(region, partition):
    assert common.REGION.match(region)
    assert common.partition_of(region) == partition
    assert partition in common.PARTITIONS


def test_the_european_sovereign_cloud_is_aws_eusc_with_the_amazonaws_eu_suffix():
    eusc = [p for p in botocore_partitions() if p["partition"] == "aws-eusc"]
    assert eusc and eusc[0]["dnsSuffix"] == "amazonaws.eu"
    assert common.partition_of("eusc-de-east-1") == "aws-eusc"
    document = policies.instance_policy("aws-eusc", "eusc-de-east-1", ACCOUNT, ["onprem"])
    arns = [r for s in document["Statement"] for r in s["Resource"] if r != "*"]
    assert arns and all(r.startswith("arn:aws-eusc:ecs:eusc-de-east-1:") for r in arns)


@pytest.mark.parametrize(
    "region",
    ["moon-1", "us-east-1\n", "US-EAST-1", "us-east", "useast-1", "us_east_1", "", "us-east-1 ", "ｕs-east-1", None],
)
def test_what_is_not_a_region(region):
    assert common.partition_of(region) is None


@pytest.mark.parametrize(
    "region, required, expected",
    [
        ("eu-west-1", True, []),
        ("eusc-de-east-1", True, []),
        ("cn-north-1", False, []),
        (None, False, []),
        (None, True, ["region: required (it is needed)"]),
        ("moon-1", False, ["region: 'moon-1' is not an AWS region name such as eu-west-1"]),
        ("eu-west-1\n", False, ["region: 'eu-west-1\\n' is not an AWS region name such as eu-west-1"]),
    ],
)
def test_the_modules_region(region, required, expected):
    assert recorded(lambda v: v.region(required), region=region) == expected


# ---------------------------------------------------------------- ARNs

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/onprem"


@pytest.mark.parametrize(
    "value, service, prefix, region, problem",
    [
        (CLUSTER, "ecs", "cluster/", "us-east-1", None),
        ("arn:aws-eusc:ecs:eusc-de-east-1:123456789012:cluster/a", "ecs", "cluster/", "eusc-de-east-1", None),
        ("arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a", "ecs", "cluster/", "cn-north-1", None),
        (CLUSTER, "ecs", "cluster/", None, None),  # region unknown: no partition to compare with
        # wildcards: cluster/* grants every cluster; policies are attached one by one
        ("arn:aws:ecs:us-east-1:123456789012:cluster/*", "ecs", "cluster/", "us-east-1", "wildcards"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/on?rem", "ecs", "cluster/", "us-east-1", "wildcards"),
        ("arn:aws:ecs:*:123456789012:cluster/onprem", "ecs", "cluster/", "us-east-1", "wildcards"),
        ("arn:aws:ecs:us-east-1:*:cluster/onprem", "ecs", "cluster/", "us-east-1", "wildcards"),
        ("arn:aws:iam::aws:policy/*", "iam", "policy/", "us-east-1", "wildcards"),
        # the resource's own wildcard is a deliberate IAM pattern elsewhere
        ("arn:aws:ssm:us-east-1:123456789012:parameter/app/*", "ssm", "parameter/", "us-east-1", None),
        (SECRET + "db-??????", "secretsmanager", "secret:", "us-east-1", None),
        # partitions and regions
        ("arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "partition aws-cn"),
        ("arn:aws:ecs:cn-north-1:123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "not a region of partition"),
        ("arn:aws:ecs:eusc-de-east-1:123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "not a region of"),
        ("arn:aws-moon:ecs:us-east-1:123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "not an AWS partition"),
        ("arn:aws:ecs::123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "not a region of partition"),
        ("arn:aws:iam:us-east-1:aws:policy/P", "iam", "policy/", "us-east-1", "IAM ARNs have no region"),
        ("arn:aws-cn:iam::aws:policy/P", "iam", "policy/", "us-east-1", "partition aws-cn"),
        # accounts, services, types, names
        ("arn:aws:ecs:us-east-1:1234:cluster/a", "ecs", "cluster/", "us-east-1", "12-digit account"),
        ("arn:aws:ecs:us-east-1:aws:cluster/a", "ecs", "cluster/", "us-east-1", "12-digit account"),
        ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "iam", "policy/", "us-east-1", None),
        ("arn:aws:s3:::bucket", "iam", "policy/", "us-east-1", "not a iam ARN"),
        ("arn:aws:ecs:us-east-1:123456789012:service/a", "ecs", "cluster/", "us-east-1", "of type cluster"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/a.b", "ecs", "cluster/", "us-east-1", "cluster name"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/", "ecs", "cluster/", "us-east-1", "cluster name"),
        # characters: no newline, space, control or non-ASCII character survives
        (CLUSTER + "\n", "ecs", "cluster/", "us-east-1", "no spaces, control or non-ASCII"),
        (CLUSTER + " ", "ecs", "cluster/", "us-east-1", "no spaces, control or non-ASCII"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/onpröm", "ecs", "cluster/", "us-east-1", "non-ASCII"),
        ("xarn:aws:ecs:us-east-1:123456789012:cluster/a", "ecs", "cluster/", "us-east-1", "is not an ARN"),
        ("arn:aws:ecs", "ecs", "cluster/", "us-east-1", "is not an ARN"),
    ],
)
def test_arns(value, service, prefix, region, problem):
    errors = recorded(lambda v: v.arn("p", value, service, prefix), region=region)
    if problem is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith("p: ") and problem in errors[0], errors


def test_arn_regions_leave_names_and_other_partitions_to_the_other_checks():
    values = [
        "onprem",
        CLUSTER,
        "arn:aws:ecs:eu-west-1:123456789012:cluster/b",
        "arn:aws-cn:ecs:cn-north-1:1:cluster/c",
    ]
    errors = recorded(lambda v: v.arn_regions("clusters", values, ["us-east-1"], "why"))
    assert errors == [
        "clusters: 'arn:aws:ecs:eu-west-1:123456789012:cluster/b' is in region eu-west-1, not in us-east-1 (why)"
    ]


# ---------------------------------------------------------------- names, texts and tags


@pytest.mark.parametrize(
    "name, path, bad",
    [
        ("ECSAnywhereRole", "/", []),
        ("a+=,.@_-b", "/team/ecs/", []),
        ("rôle", "/", ["name"]),  # Python's \w takes Unicode letters; IAM's [\w+=,.@-] is ASCII
        ("ロール", "/", ["name"]),
        ("role\n", "/", ["name"]),
        ("r" * 65, "/", ["name"]),
        ("role", "/tëam/", ["path"]),
        ("role", "/a b/", ["path"]),
        ("role", "team/", ["path"]),
    ],
)
def test_iam_names_and_paths_are_ascii(name, path, bad):
    errors = recorded(lambda v: v.iam("role", "name", name, "path", path))
    assert [e.split(":", 1)[0] for e in errors] == bad


@pytest.mark.parametrize(
    "text, ok",
    [
        ("Role for ECS Anywhere", True),
        ("tab\tnewline\ncarriage\r", True),  # allowed by roleDescriptionType
        ("Größe, café, ½", True),  # U+00A1-U+00FF
        ("\x00", False),
        ("\x07bell", False),
        ("\x85", False),  # U+0080-U+00A0 are not in the pattern
        ("\xa0", False),
        ("Œuvre", False),  # U+0152
        ("日本", False),
        ("emoji 😀", False),
    ],
)
def test_iam_role_description_characters(text, ok):
    # botocore iam service model, roleDescriptionType: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*
    assert common.iam_description_text(text) is ok


@pytest.mark.parametrize(
    "text, ok",
    [
        ("rack 4/edge-01", True),
        ("_.:/=+-@", True),
        ("Zürich 東京 Москва", True),  # \p{L}: letters of any script
        ("٣ ½ Ⅻ", True),  # \p{N}: any number
        ("non\u00a0breaking\u2003space", True),  # \p{Z}
        ("", True),
        ("new\nline", False),  # control characters are \p{Cc}, not \p{Z}
        ("tab\there", False),
        ("carriage\rreturn", False),
        ("semi;colon", False),
        ("comma,", False),
        ("quote'", False),
        ("emoji 😀", False),  # \p{So}
        ("e\u0301", False),  # a combining accent is \p{M}
    ],
)
def test_aws_tag_and_name_characters(text, ok):
    # botocore iam/ecs/ssm service models: tag keys, values and SSM DefaultInstanceName [\p{L}\p{Z}\p{N}_.:/=+\-@]*
    assert common.aws_text(text) is ok


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("team", "platform", None),
        ("team", "", None),
        ("Ort", "Zürich", None),
        ("flag", True, None),  # sent as "True", as amazon.aws's ansible_dict_to_boto3_tag_list does
        ("aws:cloudformation:stack-name", "x", "reserved for AWS"),
        ("AWS:x", "x", "reserved for AWS"),
        ("Aws:x", "x", "reserved for AWS"),
        ("aws", "x", None),  # only the prefix with the colon is reserved
        ("", "x", "key ''"),
        ("k" * 129, "x", "1-128"),
        ("k", "v" * 257, "up to 256"),
        ("line\nbreak", "x", "is not valid"),
        ("k", "line\nbreak", "value of 'k'"),
        ("k", "semi;colon", "value of 'k'"),
    ],
)
def test_tags(key, value, problem):
    found = common.tag_problem(key, value)
    if problem is None:
        assert found is None
    else:
        assert found and problem in found


def test_tag_count():
    assert recorded(lambda v: v.tags("tags", {"k%d" % i: "v" for i in range(50)})) == []
    assert recorded(lambda v: v.tags("tags", {"k%d" % i: "v" for i in range(51)})) == [
        "tags: 51 tags, at most 50 are allowed"
    ]


@pytest.mark.parametrize("regex", ["IAM_POLICY_NAME", "REGION", "CLUSTER_NAME", "LOG_GROUP_NAME", "SSM_PARAMETER_NAME"])
def test_no_pattern_takes_a_trailing_newline(regex):
    sample = {
        "IAM_POLICY_NAME": "policy",
        "REGION": "eu-west-1",
        "CLUSTER_NAME": "onprem",
        "LOG_GROUP_NAME": "/ecs/onprem",
        "SSM_PARAMETER_NAME": "/app/db",
    }[regex]
    pattern = getattr(common, regex)
    assert pattern.match(sample)
    assert not pattern.match(sample + "\n")
    assert not pattern.match("é" + sample)


def test_each_problem_is_reported_once_and_each_parameter_named_once():
    module = FakeModule({})
    v = Validator(module)
    v.error("clusters", "x")
    v.error("clusters", "x")
    v.error("clusters", "y")
    v.error("tags", "z")
    with pytest.raises(ModuleFailed) as failed:
        v.check()
    assert failed.value.kwargs["invalid_parameters"] == ["clusters", "tags"]
    assert failed.value.kwargs["msg"] == "Invalid parameters: clusters: x; clusters: y; tags: z"


# ---------------------------------------------------------------- Secrets Manager ARNs and policy size


@pytest.mark.parametrize(
    "given, resource",
    [
        (SECRET + "db-AbCdEf", SECRET + "db-AbCdEf"),  # full ARN
        (SECRET + "db", SECRET + "db-??????"),  # partial: AWS's documented form
        (SECRET + "prod/db-password", SECRET + "prod/db-password-??????"),
        (SECRET + "db-??????", SECRET + "db-??????"),
        (SECRET + "team/*", SECRET + "team/*"),
    ],
)
def test_secret_resources(given, resource):
    assert policies.secret_resource(given) == resource
    document = policies.task_execution_policy("aws", "us-east-1", ACCOUNT, secrets_manager_secrets=[given])
    assert document["Statement"][0]["Resource"] == [resource]


def test_document_size_does_not_count_white_space():
    document = policies.instance_policy("aws", "us-east-1", ACCOUNT, ["onprem"])
    compact = json.dumps(document, separators=(",", ":"))
    assert policies.document_size(document) == len(compact) < len(json.dumps(document, indent=4))


def largest_fitting(make):
    n = 1
    while policies.document_size(make(n + 1)) <= policies.MANAGED_POLICY_MAX:
        n += 1
    return n


# ---------------------------------------------------------------- the role modules (validate_role)


def role_params(**overrides):
    params = dict(
        path="/",
        max_session_duration=None,
        permissions_boundary=None,
        managed_policies=[],
        purge_policies=True,
        generated_policy_name=None,
        adopt=False,
        wait=True,
        wait_timeout=60,
        tags=None,
        purge_tags=True,
        state="present",
        confused_deputy_protection=True,
        policy_mode="least_privilege",
        log_groups=[],
        ecr_repositories=[],
    )
    params.update(overrides)
    return params


def instance_role(**overrides):
    params = role_params(
        name="ECSAnywhereRole",
        description="Role for Amazon ECS Anywhere external instances",
        activation_regions=None,
        clusters=["onprem"],
        instance_tags=True,
        task_metadata_tags=True,
        readable_parameters=[],
    )
    del params["log_groups"]
    params.update(overrides)
    return params


def task_execution_role(**overrides):
    params = role_params(
        name="ecsTaskExecutionRole",
        description="ECS task execution role",
        remove_when_not_required=False,
        instance_role_ecr_repositories=[],
        ssm_parameters=[],
        secrets_manager_secrets=[],
        kms_keys=[],
        log_groups=["/ecs/onprem"],
    )
    params.update(overrides)
    return params


def clusters(n):
    return ["cluster-%03d" % i for i in range(n)]


MOST_CLUSTERS = largest_fitting(lambda n: policies.instance_policy("aws", "us-east-1", ACCOUNT, clusters(n)))
MOST_PARAMETERS = largest_fitting(
    lambda n: policies.task_execution_policy(
        "aws", "us-east-1", ACCOUNT, log_groups=["/ecs/onprem"], ssm_parameters=["/app/p%04d" % i for i in range(n)]
    )
)
OTHER = "arn:aws:ecs:eu-west-1:123456789012:cluster/far"


@pytest.mark.parametrize(
    "params, region, bad",
    [
        (instance_role(), "us-east-1", []),
        (instance_role(), "eusc-de-east-1", []),
        (instance_role(clusters=["arn:aws-eusc:ecs:eusc-de-east-1:123456789012:cluster/a"]), "eusc-de-east-1", []),
        (instance_role(), None, ["region"]),
        (instance_role(), "moon-1", ["region"]),
        (instance_role(name="ÉCSAnywhereRole"), "us-east-1", ["name"]),
        (instance_role(description="two\nlines"), "us-east-1", []),  # IAM allows newlines in role descriptions
        (instance_role(description="日本"), "us-east-1", ["description"]),
        (instance_role(description="x" * 1001), "us-east-1", ["description"]),
        (instance_role(tags={"aws:x": "1"}), "us-east-1", ["tags"]),
        (instance_role(tags={"k": "a\tb"}), "us-east-1", ["tags"]),
        (instance_role(clusters=["arn:aws:ecs:us-east-1:123456789012:cluster/*"]), "us-east-1", ["clusters"]),
        (instance_role(clusters=[OTHER]), "us-east-1", ["clusters"]),
        (instance_role(clusters=[OTHER], activation_regions=["us-east-1", "eu-west-1"]), "us-east-1", []),
        (instance_role(clusters=["arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a"]), "us-east-1", ["clusters"]),
        (
            instance_role(clusters=[CLUSTER, "arn:aws:ecs:us-east-1:210987654321:cluster/b"]),
            "us-east-1",
            ["clusters"],
        ),
        (instance_role(activation_regions=["cn-north-1"]), "us-east-1", ["activation_regions"]),
        (instance_role(clusters=clusters(MOST_CLUSTERS)), "us-east-1", []),
        (instance_role(clusters=clusters(MOST_CLUSTERS + 1)), "us-east-1", ["clusters"]),
        (instance_role(clusters=clusters(400)), "us-east-1", ["clusters"]),
        (instance_role(clusters=clusters(400), state="absent"), "us-east-1", []),  # nothing is generated
        (instance_role(clusters=clusters(400), policy_mode="managed"), "us-east-1", []),
        (
            instance_role(clusters=["a"], readable_parameters=["/g%04d" % i for i in range(300)]),
            "us-east-1",
            ["readable_parameters"],
        ),
        (instance_role(managed_policies=["arn:aws:iam::aws:policy/P%d" % i for i in range(18)]), "us-east-1", []),
        (
            instance_role(managed_policies=["arn:aws:iam::aws:policy/P%d" % i for i in range(19)]),
            "us-east-1",
            ["managed_policies"],
        ),
        (
            instance_role(permissions_boundary="arn:aws:iam::123456789012:policy/*"),
            "us-east-1",
            ["permissions_boundary"],
        ),
    ],
)
def test_instance_role_rules(params, region, bad):
    assert failed_parameters(instance_role_module.validate, params, region) == bad


@pytest.mark.parametrize(
    "params, bad",
    [
        (task_execution_role(), []),
        (task_execution_role(secrets_manager_secrets=[SECRET + "db-AbCdEf"]), []),
        (task_execution_role(secrets_manager_secrets=[SECRET + "db"]), []),  # normalised to db-??????
        (task_execution_role(secrets_manager_secrets=[SECRET + "db-AbCdEf:password::"]), ["secrets_manager_secrets"]),
        (task_execution_role(secrets_manager_secrets=[SECRET + "db name"]), ["secrets_manager_secrets"]),
        (task_execution_role(secrets_manager_secrets=[SECRET + "db#1"]), ["secrets_manager_secrets"]),
        (
            task_execution_role(secrets_manager_secrets=["arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:d"]),
            ["secrets_manager_secrets"],
        ),
        (task_execution_role(kms_keys=["arn:aws:kms:us-east-1:123456789012:key/*"], ssm_parameters=["/a"]), []),
        (task_execution_role(ssm_parameters=["/app/p%04d" % i for i in range(MOST_PARAMETERS)]), []),
        (
            task_execution_role(ssm_parameters=["/app/p%04d" % i for i in range(MOST_PARAMETERS + 1)]),
            ["ssm_parameters"],
        ),
        (task_execution_role(tags={"AwS:team": "x"}), ["tags"]),
        (task_execution_role(description="emoji 😀"), ["description"]),
        (task_execution_role(name="rôle"), ["name"]),
        (task_execution_role(path="/équipe/"), ["path"]),
    ],
)
def test_task_execution_role_rules(params, bad):
    assert failed_parameters(task_execution_role_module.validate, params) == bad


def test_the_size_check_uses_the_document_the_module_generates():
    """What validate_role measures is, up to the account id (always 12 digits), what the module creates."""
    names = clusters(MOST_CLUSTERS)
    generated = policies.instance_policy("aws", "us-east-1", "210987654321", names)
    assert policies.document_size(generated) <= policies.MANAGED_POLICY_MAX
    bigger = policies.instance_policy("aws", "us-east-1", "210987654321", clusters(MOST_CLUSTERS + 1))
    assert policies.document_size(bigger) > policies.MANAGED_POLICY_MAX


# ---------------------------------------------------------------- cluster, activation, managed_instance


def cluster(**overrides):
    params = dict(name="onprem", state="present", container_insights=None, force=False, tags=None, purge_tags=True)
    params.update(overrides)
    return params


@pytest.mark.parametrize(
    "params, region, bad",
    [
        (cluster(), "us-east-1", []),
        (cluster(), "eusc-de-east-1", []),
        (cluster(), "moon-1", ["region"]),
        (cluster(name="onprem\n"), "us-east-1", ["name"]),
        (cluster(name="ønprem"), "us-east-1", ["name"]),
        (cluster(tags={"team": "platform", "Ort": "Zürich"}), "us-east-1", []),
        (cluster(tags={"aws:team": "x"}), "us-east-1", ["tags"]),
        (cluster(tags={"team": "a\nb"}), "us-east-1", ["tags"]),
        (cluster(tags={"k%d" % i: "v" for i in range(51)}), "us-east-1", ["tags"]),
    ],
)
def test_cluster_rules(params, region, bad):
    assert failed_parameters(cluster_module.validate, params, region) == bad


def activation(**overrides):
    params = dict(
        state="present",
        iam_role="ECSAnywhereRole",
        activation_id=None,
        registration_limit=1,
        expiration_hours=1,
        default_instance_name=None,
        description="Created by ecs_anywhere.fleet",
        tags=None,
        wait_timeout=60,
    )
    params.update(overrides)
    return params


@pytest.mark.parametrize(
    "params, region, bad",
    [
        (activation(default_instance_name="rack 4/edge-01 Zürich"), "eusc-de-east-1", []),
        (activation(), "moon-1", ["region"]),
        (activation(iam_role="rôle"), "us-east-1", ["iam_role"]),
        (activation(default_instance_name="edge\n01"), "us-east-1", ["default_instance_name"]),
        (activation(default_instance_name="edge\t01"), "us-east-1", ["default_instance_name"]),
        (activation(description="two\nlines, any text; 😀"), "us-east-1", []),  # SSM sets no pattern here
        (activation(tags={"aws:x": "1"}), "us-east-1", ["tags"]),
        (activation(tags={"Aws:x": "1"}), "us-east-1", ["tags"]),
        (activation(tags={"site": "dc\n2"}), "us-east-1", ["tags"]),
        (activation(tags={"k%d" % i: "v" for i in range(49)}), "us-east-1", []),
        (activation(tags={"k%d" % i: "v" for i in range(50)}), "us-east-1", ["tags"]),  # + the collection's tag
        (activation(tags={ssm.MANAGED_TAG_KEY: True}), "us-east-1", ["tags"]),  # sent as "True"
    ],
)
def test_activation_rules(params, region, bad):
    assert failed_parameters(activation_module.validate, params, region) == bad


def managed_instance(**overrides):
    return managed_instance_params(**dict({"instances": ["mi-0123456789abcdef0"]}, **overrides))


INSTANCE = "arn:aws:ecs:us-east-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "params, region, bad",
    [
        (managed_instance(instances=[INSTANCE], clusters=[CLUSTER]), "us-east-1", []),
        (managed_instance(), "moon-1", ["region"]),
        (managed_instance(instances=["mi-0123456789abcdef0\n"]), "us-east-1", ["instances"]),
        (managed_instance(instances=[INSTANCE.replace("us-east-1", "eu-west-1")]), "us-east-1", ["instances"]),
        (managed_instance(instances=[INSTANCE + "\n"]), "us-east-1", ["instances"]),
        (managed_instance(clusters=["arn:aws:ecs:us-east-1:123456789012:cluster/*"]), "us-east-1", ["clusters"]),
        (managed_instance(clusters=[OTHER]), "us-east-1", ["clusters"]),
        (managed_instance(clusters=["arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a"]), "us-east-1", ["clusters"]),
        (managed_instance(tags={"aws:x": "1"}), "us-east-1", ["tags"]),
        (managed_instance(tags={"k": "v\n"}), "us-east-1", ["tags"]),
    ],
)
def test_managed_instance_rules(params, region, bad):
    assert failed_parameters(managed_instance_module.validate, params, region) == bad
