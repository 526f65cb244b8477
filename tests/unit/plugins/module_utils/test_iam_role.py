# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role reconcile logic (shared by instance_role and task_execution_role), against Stubber-checked IAM calls.

Every test queues exactly the calls it allows: a write that is not queued fails the test ("Unexpected call"),
so "nothing was changed" is asserted by queueing reads only.
"""

import datetime
import json

import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

ACCOUNT = "123456789012"
NOW = datetime.datetime(2026, 11, 29, tzinfo=datetime.timezone.utc)
OWNER = {"ecs_anywhere.fleet:managed": "true"}
USER_TAGS = {"team": "platform"}
SSM_CORE = policies.managed_policy_arn("aws", policies.SSM_CORE_POLICY)
ECS_MANAGED = policies.managed_policy_arn("aws", policies.ECS_INSTANCE_POLICY)
TASK_EXECUTION = policies.managed_policy_arn("aws", policies.TASK_EXECUTION_POLICY)


def spec(partition="aws", generated=True, **overrides):
    fields = dict(
        name="ECSAnywhereRole",
        path="/",
        account=ACCOUNT,
        partition=partition,
        trust_policy=policies.ssm_trust_policy(partition, "eu-west-1", ACCOUNT),
        managed_policy_arns=[policies.managed_policy_arn(partition, policies.SSM_CORE_POLICY)],
        generated_policy_name="ECSAnywhereRole-ecs-anywhere",
        generated_policy=policies.instance_policy(partition, "eu-west-1", ACCOUNT, ["onprem"]) if generated else None,
        description="d",
        tags=dict(USER_TAGS),
    )
    fields.update(overrides)
    return iam_role.RoleSpec(**fields)


def owned_tags(*attached_by_us):
    """The tags of a role this collection made and attached ``attached_by_us`` to (plus the user's)."""
    return dict(USER_TAGS, **iam_role.collection_tags(attached_by_us))


def tag_list(tags, sort=False):
    return [dict(Key=k, Value=v) for k, v in (sorted(tags.items()) if sort else tags.items())]


def aws_role(s, tags=None, trust=None, path=None):
    return dict(
        Path=path or s.path,
        RoleName=s.name,
        RoleId="AROAEXAMPLEEXAMPLE1234",
        Arn=s.role_arn,
        CreateDate=NOW,
        AssumeRolePolicyDocument=json.dumps(trust or s.trust_policy),
        Description="d",
        MaxSessionDuration=3600,
        Tags=tag_list(owned_tags(*sorted(s.wanted_attachments())) if tags is None else tags),
    )


def expect_policy(stubber, s, document, owned=True, version="v1"):
    arn = s.generated_policy_arn
    policy = dict(Arn=arn, PolicyName=s.generated_policy_name, DefaultVersionId=version)
    if owned:
        policy["Tags"] = tag_list(dict(USER_TAGS, **OWNER))
    stubber.add_response("get_policy", dict(Policy=policy), dict(PolicyArn=arn))
    stubber.add_response(
        "get_policy_version",
        dict(PolicyVersion=dict(Document=json.dumps(document), VersionId=version, IsDefaultVersion=True)),
        dict(PolicyArn=arn, VersionId=version),
    )


def expect_read(stubber, s, role=True, policy=None, attached=(), policy_owned=True):
    """GetRole (role: True = owned and in sync, a dict = that role, False = none), the generated policy, attachments."""
    if role:
        stubber.add_response("get_role", dict(Role=aws_role(s) if role is True else role), dict(RoleName=s.name))
    else:
        stubber.add_client_error("get_role", "NoSuchEntity", expected_params=dict(RoleName=s.name))
    if policy is None:
        stubber.add_client_error("get_policy", "NoSuchEntity", expected_params=dict(PolicyArn=s.generated_policy_arn))
    else:
        expect_policy(stubber, s, policy, owned=policy_owned)
    if role:
        expect_attached(stubber, s, attached)


def expect_attached(stubber, s, attached):
    stubber.add_response(
        "list_attached_role_policies",
        dict(AttachedPolicies=[dict(PolicyArn=a, PolicyName=a.rsplit("/", 1)[1]) for a in attached], IsTruncated=False),
        dict(RoleName=s.name),
    )


def expect_create_role(stubber, s, error=None):
    params = dict(
        RoleName=s.name,
        Path="/",
        AssumeRolePolicyDocument=json.dumps(s.trust_policy),
        Description="d",
        Tags=tag_list(owned_tags(*sorted(s.wanted_attachments()))),
    )
    if error:
        stubber.add_client_error("create_role", error, expected_params=params)
    else:
        stubber.add_response("create_role", dict(Role=aws_role(s)), params)


def expect_create_policy(stubber, s, error=None):
    params = dict(
        PolicyName=s.generated_policy_name,
        Path="/",
        PolicyDocument=json.dumps(s.generated_policy),
        Description="Generated by ecs_anywhere.fleet for role %s" % s.name,
        Tags=tag_list(dict(s.tags or {}, **OWNER)),
    )
    if error:
        stubber.add_client_error("create_policy", error, expected_params=params)
    else:
        stubber.add_response("create_policy", dict(Policy=dict(Arn=s.generated_policy_arn)), params)


def expect_versions(stubber, s, versions):
    """ListPolicyVersions answering ``versions`` (the first is the default)."""
    stubber.add_response(
        "list_policy_versions",
        dict(Versions=[dict(VersionId=v, IsDefaultVersion=i == 0, CreateDate=NOW) for i, v in enumerate(versions)]),
        dict(PolicyArn=s.generated_policy_arn),
    )


def expect_create_version(stubber, s, error=None):
    params = dict(PolicyArn=s.generated_policy_arn, PolicyDocument=json.dumps(s.generated_policy), SetAsDefault=True)
    if error:
        stubber.add_client_error("create_policy_version", error, expected_params=params)
    else:
        stubber.add_response("create_policy_version", dict(PolicyVersion=dict(VersionId="v9")), params)


@pytest.fixture
def no_sleep(monkeypatch):
    """AWSRetry's delays recorded instead of slept."""
    slept = []
    monkeypatch.setattr(cloud.time, "sleep", slept.append)
    return slept


# ---------------------------------------------------------------- create, update, delete (the collection's role)


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_create_role_tags_it_as_the_collections_from_the_create_call_on(stubbed, partition):
    client, stubber = stubbed("iam")
    s = spec(partition)
    wanted = sorted(s.wanted_attachments())
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s)
    expect_create_policy(stubber, s)
    for arn in wanted:
        assert arn.startswith("arn:%s:iam::" % partition)
        stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=arn))
    # The role_exists waiter matches on the HTTP status, which a stubbed response only has when given.
    stubber.add_response(
        "get_role", dict(Role=aws_role(s), ResponseMetadata=dict(HTTPStatusCode=200)), dict(RoleName=s.name)
    )
    expect_read(stubber, s, policy=s.generated_policy, attached=wanted)

    before, after = iam_role.ensure_present(FakeModule({}), client, s, wait_timeout=10)

    assert before is None
    assert after["arn"] == "arn:%s:iam::%s:role/ECSAnywhereRole" % (partition, ACCOUNT)
    assert after["attached_policies"] == after["attached_by_collection"] == wanted
    assert after["owned"] and after["tags"] == USER_TAGS  # the collection's tags are reported apart
    assert after["generated_policy"] == s.generated_policy


def test_check_mode_create_only_reads_and_predicts_what_a_real_run_reports(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    expect_read(stubber, s, role=False)

    before, after = iam_role.ensure_present(FakeModule({}, check_mode=True), client, s)

    assert before is None
    assert after["trust_policy"] == s.trust_policy
    assert after["attached_policies"] == after["attached_by_collection"] == sorted(s.wanted_attachments())
    assert after["owned"] is True and after["tags"] == USER_TAGS


def test_in_sync_role_makes_no_write(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    # Same document with statements in another order: compared as policies, not as text.
    shuffled = dict(s.generated_policy, Statement=list(reversed(s.generated_policy["Statement"])))
    expect_read(stubber, s, policy=shuffled, attached=sorted(s.wanted_attachments()))

    before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert before == after


def test_changed_policy_gets_a_new_default_version_and_old_versions_are_pruned(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    old = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["previous"])
    arn = s.generated_policy_arn
    expect_read(stubber, s, policy=old, attached=sorted(s.wanted_attachments()))
    expect_versions(stubber, s, ["v3", "v2", "v1"])
    stubber.add_response("delete_policy_version", {}, dict(PolicyArn=arn, VersionId="v2"))
    stubber.add_response("delete_policy_version", {}, dict(PolicyArn=arn, VersionId="v1"))
    expect_create_version(stubber, s)
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert before["generated_policy"] == old and after["generated_policy"] == s.generated_policy


def test_managed_mode_detaches_and_deletes_the_generated_policy_and_leaves_others_attachments(stubbed):
    client, stubber = stubbed("iam")
    s = spec(generated=False)
    s.managed_policy_arns.append(ECS_MANAGED)
    stray = "arn:aws:iam::123456789012:policy/stray"  # attached by someone else: not the collection's to detach
    previous = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["onprem"])
    role = aws_role(s, tags=owned_tags(SSM_CORE, s.generated_policy_arn))
    expect_read(stubber, s, role=role, policy=previous, attached=[SSM_CORE, s.generated_policy_arn, stray])
    # First the record of what the collection attaches: the generated policy goes, the ECS policy comes.
    record = iam_role.encode_attached(["AmazonSSMManagedInstanceCore", "AmazonEC2ContainerServiceforEC2Role"])
    stubber.add_response("tag_role", {}, dict(RoleName=s.name, Tags=tag_list(record)))
    stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=ECS_MANAGED))
    stubber.add_response("detach_role_policy", {}, dict(RoleName=s.name, PolicyArn=s.generated_policy_arn))
    expect_versions(stubber, s, ["v1"])
    stubber.add_response("delete_policy", {}, dict(PolicyArn=s.generated_policy_arn))
    expect_read(
        stubber,
        s,
        role=aws_role(s, tags=owned_tags(SSM_CORE, ECS_MANAGED)),
        attached=[SSM_CORE, ECS_MANAGED, stray],
    )
    module = FakeModule({})

    before, after = iam_role.ensure_present(module, client, s)

    assert after["attached_policies"] == sorted([SSM_CORE, ECS_MANAGED, stray])
    assert after["attached_by_collection"] == sorted([SSM_CORE, ECS_MANAGED])
    assert after["generated_policy"] is None
    assert any(stray in w and "left attached" in w for w in module.warnings)


def test_path_cannot_change_and_nothing_is_written(stubbed):
    client, stubber = stubbed("iam")
    s = spec(path="/ecs/")
    expect_read(stubber, s, role=aws_role(s, path="/"), policy=None)

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_present(FakeModule({}), client, s)

    assert "path" in failed.value.kwargs["msg"] and "Nothing was changed" in failed.value.kwargs["msg"]


def test_absent_detaches_deletes_role_then_generated_policy(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    attached = sorted(s.wanted_attachments())
    expect_read(stubber, s, policy=s.generated_policy, attached=attached)
    for arn in attached:
        stubber.add_response("detach_role_policy", {}, dict(RoleName=s.name, PolicyArn=arn))
    stubber.add_response("list_role_policies", dict(PolicyNames=[], IsTruncated=False), dict(RoleName=s.name))
    stubber.add_response("list_instance_profiles_for_role", dict(InstanceProfiles=[]), dict(RoleName=s.name))
    stubber.add_response("delete_role", {}, dict(RoleName=s.name))
    expect_versions(stubber, s, ["v1"])
    stubber.add_response("delete_policy", {}, dict(PolicyArn=s.generated_policy_arn))

    before, after = iam_role.ensure_absent(FakeModule({}), client, s)

    assert before["name"] == s.name and after is None


# ---------------------------------------------------------------- ownership


def console_role(s):
    """ecsTaskExecutionRole as the console makes it: no collection tag, AWS's trust, AWS's managed policy."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return aws_role(s, tags={}, trust=trust)


def exec_spec(**overrides):
    fields = dict(
        name="ecsTaskExecutionRole",
        trust_policy=policies.ecs_tasks_trust_policy("aws", "eu-west-1", ACCOUNT),
        managed_policy_arns=[],
        generated_policy_name="ecsTaskExecutionRole-ecs-anywhere",
        generated_policy=policies.task_execution_policy("aws", "eu-west-1", ACCOUNT, log_groups=["/ecs/onprem"]),
        tags=None,
    )
    fields.update(overrides)
    return spec(**fields)


@pytest.mark.parametrize("check_mode", [False, True])
def test_existing_role_without_the_tag_is_refused_before_any_write(stubbed, check_mode):
    client, stubber = stubbed("iam")
    s = exec_spec()
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])  # reads only: a write would fail

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_present(FakeModule({}, check_mode=check_mode), client, s)

    msg = failed.value.kwargs["msg"]
    assert "IAM role ecsTaskExecutionRole exists but ecs_anywhere.fleet did not create it" in msg
    assert "ecs_anywhere.fleet:managed=true" in msg and "Set adopt: true" in msg and "nothing was changed" in msg
    assert failed.value.kwargs["not_owned"] == ["IAM role ecsTaskExecutionRole"]


def test_someone_elses_policy_under_the_generated_name_is_refused_before_the_role_is_created(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    expect_read(stubber, s, role=False, policy={"Version": "2012-10-17", "Statement": []}, policy_owned=False)

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_present(FakeModule({}), client, s)

    assert failed.value.kwargs["not_owned"] == ["IAM policy %s" % s.generated_policy_arn]


def test_adopt_tags_the_role_converges_it_and_keeps_attachments_it_did_not_make(stubbed):
    client, stubber = stubbed("iam")
    s = exec_spec(adopt=True)
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])
    # In order: ownership and the record of the one attachment about to be made; the trust; the policy; attach.
    stubber.add_response(
        "tag_role",
        {},
        dict(RoleName=s.name, Tags=tag_list(iam_role.collection_tags([s.generated_policy_arn]), sort=True)),
    )
    stubber.add_response(
        "update_assume_role_policy", {}, dict(RoleName=s.name, PolicyDocument=json.dumps(s.trust_policy))
    )
    expect_create_policy(stubber, s)
    stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=s.generated_policy_arn))
    # No detach_role_policy: AmazonECSTaskExecutionRolePolicy was attached by someone else.
    adopted = aws_role(s, tags=iam_role.collection_tags([s.generated_policy_arn]))
    expect_read(stubber, s, role=adopted, policy=s.generated_policy, attached=[TASK_EXECUTION, s.generated_policy_arn])
    module = FakeModule({})

    before, after = iam_role.ensure_present(module, client, s)

    assert before["owned"] is False and after["owned"] is True
    assert after["attached_policies"] == sorted([TASK_EXECUTION, s.generated_policy_arn])
    assert after["attached_by_collection"] == [s.generated_policy_arn]
    assert any(TASK_EXECUTION in w for w in module.warnings)


def test_adopt_in_check_mode_predicts_the_takeover_and_writes_nothing(stubbed):
    client, stubber = stubbed("iam")
    s = exec_spec(adopt=True)
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])

    before, after = iam_role.ensure_present(FakeModule({}, check_mode=True), client, s)

    assert (before["owned"], after["owned"]) == (False, True)
    assert after["attached_policies"] == sorted([TASK_EXECUTION, s.generated_policy_arn])
    assert after["trust_policy"] == s.trust_policy


def test_purge_detaches_only_what_the_collection_attached(stubbed):
    client, stubber = stubbed("iam")
    ours_before = "arn:aws:iam::123456789012:policy/ours-earlier"
    s = spec(generated=False, adopt=True)
    # Adopted earlier: AmazonECSTaskExecutionRolePolicy was the owner's; SSM core and ours-earlier were attached by us.
    role = aws_role(s, tags=owned_tags(SSM_CORE, ours_before))
    expect_read(stubber, s, role=role, attached=[SSM_CORE, TASK_EXECUTION, ours_before])
    record = {"ecs_anywhere.fleet:attached-policies": "AmazonSSMManagedInstanceCore"}  # ours-earlier drops out
    stubber.add_response("tag_role", {}, dict(RoleName=s.name, Tags=tag_list(record)))
    stubber.add_response("detach_role_policy", {}, dict(RoleName=s.name, PolicyArn=ours_before))
    expect_read(stubber, s, role=aws_role(s, tags=owned_tags(SSM_CORE)), attached=[SSM_CORE, TASK_EXECUTION])

    before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["attached_policies"] == sorted([SSM_CORE, TASK_EXECUTION])
    assert after["attached_by_collection"] == [SSM_CORE]


def test_purge_tags_never_removes_the_collections_tags(stubbed):
    client, stubber = stubbed("iam")
    s = spec(tags={})
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))
    stubber.add_response("untag_role", {}, dict(RoleName=s.name, TagKeys=["team"]))
    role = aws_role(s, tags=iam_role.collection_tags(sorted(s.wanted_attachments())))
    expect_read(stubber, s, role=role, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    _before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["tags"] == {} and after["owned"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_absent_on_someone_elses_role_is_refused_without_a_write(stubbed, check_mode):
    client, stubber = stubbed("iam")
    s = exec_spec()
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_absent(FakeModule({}, check_mode=check_mode), client, s)

    assert "nothing was deleted" in failed.value.kwargs["msg"] and "adopt: true" in failed.value.kwargs["msg"]


def test_remove_when_not_required_leaves_someone_elses_role_with_a_warning(stubbed):
    client, stubber = stubbed("iam")
    s = exec_spec()
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])
    module = FakeModule({})

    before, after = iam_role.ensure_absent(module, client, s, leave_unowned=True)

    assert before == after and before["name"] == "ecsTaskExecutionRole"
    assert len(module.warnings) == 1 and "ecsTaskExecutionRole" in module.warnings[0]


def test_absent_with_adopt_deletes_someone_elses_role(stubbed):
    client, stubber = stubbed("iam")
    s = exec_spec(adopt=True)
    expect_read(stubber, s, role=console_role(s), attached=[TASK_EXECUTION])
    stubber.add_response("detach_role_policy", {}, dict(RoleName=s.name, PolicyArn=TASK_EXECUTION))
    stubber.add_response("list_role_policies", dict(PolicyNames=[], IsTruncated=False), dict(RoleName=s.name))
    stubber.add_response("list_instance_profiles_for_role", dict(InstanceProfiles=[]), dict(RoleName=s.name))
    stubber.add_response("delete_role", {}, dict(RoleName=s.name))

    _before, after = iam_role.ensure_absent(FakeModule({}), client, s)

    assert after is None


@pytest.mark.parametrize(
    "names, expected",
    [
        ([], {}),
        (["B", "A"], {"ecs_anywhere.fleet:attached-policies": "A B"}),
        (["with,comma"], {"ecs_anywhere.fleet:attached-policies": "with:comma"}),
        (
            ["p%02d-%s" % (i, "x" * 60) for i in range(5)],
            {
                "ecs_anywhere.fleet:attached-policies": " ".join("p%02d-%s" % (i, "x" * 60) for i in range(3)),
                "ecs_anywhere.fleet:attached-policies:2": " ".join("p%02d-%s" % (i, "x" * 60) for i in (3, 4)),
            },
        ),
    ],
)
def test_the_attachment_record_fits_iam_tag_values_and_reads_back(names, expected):
    encoded = iam_role.encode_attached(names)

    assert encoded == expected
    assert all(len(v) <= 256 and "," not in v for v in encoded.values())
    assert iam_role.decode_attached(dict(encoded, other="x y")) == set(names)


def test_tags_cannot_use_the_collections_prefix():
    params = dict(
        name="r",
        path="/",
        generated_policy_name=None,
        max_session_duration=None,
        wait_timeout=60,
        permissions_boundary=None,
        managed_policies=[],
        tags={"Ecs_Anywhere.Fleet:managed": "true", "team": "a"},
    )
    validator = Validator(FakeModule(params))
    iam_role.validate(validator, params)

    with pytest.raises(ModuleFailed) as failed:
        validator.check()

    assert failed.value.kwargs["invalid_parameters"] == ["tags"]


# ---------------------------------------------------------------- races between concurrent runs (AWX job slices)


def test_role_created_meanwhile_by_a_concurrent_run_is_converged_not_failed(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    wanted = sorted(s.wanted_attachments())
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s, error="EntityAlreadyExists")
    # The other run's role: tagged, its policy not created yet, SSM core already attached.
    expect_read(stubber, s, role=True, policy=None, attached=[SSM_CORE])
    expect_create_policy(stubber, s, error="EntityAlreadyExists")  # ... and now it has created the policy too
    expect_policy(stubber, s, s.generated_policy)
    stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=s.generated_policy_arn))
    expect_read(stubber, s, policy=s.generated_policy, attached=wanted)  # no tag write: the record already says so

    before, after = iam_role.ensure_present(FakeModule({}), client, s, wait_timeout=10)

    assert before["owned"] and before["attached_policies"] == [SSM_CORE]
    assert after["attached_policies"] == after["attached_by_collection"] == wanted


def test_role_created_meanwhile_by_someone_else_is_refused(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s, error="EntityAlreadyExists")
    expect_read(stubber, s, role=aws_role(s, tags={}), attached=[])

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_present(FakeModule({}), client, s)

    assert failed.value.kwargs["not_owned"] == ["IAM role ECSAnywhereRole"]


def test_role_not_yet_readable_after_entity_already_exists_is_read_again(stubbed, no_sleep):
    client, stubber = stubbed("iam")
    s = spec()
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s, error="EntityAlreadyExists")
    stubber.add_client_error("get_role", "NoSuchEntity", expected_params=dict(RoleName=s.name))  # IAM propagating
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert before == after and len(no_sleep) == 1


def test_policy_version_limit_hit_by_concurrent_versions_prunes_and_retries(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    old = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["previous"])
    arn = s.generated_policy_arn
    expect_read(stubber, s, policy=old, attached=sorted(s.wanted_attachments()))
    expect_versions(stubber, s, ["v1"])
    expect_create_version(stubber, s, error="LimitExceeded")  # four other runs added versions meanwhile
    expect_policy(stubber, s, old, version="v5")  # their document is not ours
    expect_versions(stubber, s, ["v5", "v4", "v3", "v2", "v1"])
    for version in ["v4", "v3"]:
        stubber.add_response("delete_policy_version", {}, dict(PolicyArn=arn, VersionId=version))
    stubber.add_client_error(  # a concurrent run pruned it first
        "delete_policy_version", "NoSuchEntity", expected_params=dict(PolicyArn=arn, VersionId="v2")
    )
    stubber.add_client_error(  # a concurrent run made it the default meanwhile
        "delete_policy_version", "DeleteConflict", expected_params=dict(PolicyArn=arn, VersionId="v1")
    )
    expect_create_version(stubber, s)
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    _before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["generated_policy"] == s.generated_policy


def test_policy_version_limit_when_a_concurrent_run_already_set_our_document_stops(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    old = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["previous"])
    expect_read(stubber, s, policy=old, attached=sorted(s.wanted_attachments()))
    expect_versions(stubber, s, ["v1"])
    expect_create_version(stubber, s, error="LimitExceeded")
    expect_policy(stubber, s, s.generated_policy, version="v5")
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    _before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["generated_policy"] == s.generated_policy


def test_concurrent_modification_on_attach_is_retried(stubbed, no_sleep):
    client, stubber = stubbed("iam")
    s = spec()
    wanted = sorted(s.wanted_attachments())
    expect_read(stubber, s, policy=s.generated_policy, attached=[s.generated_policy_arn])
    params = dict(RoleName=s.name, PolicyArn=SSM_CORE)
    stubber.add_client_error("attach_role_policy", "ConcurrentModification", expected_params=params)
    stubber.add_response("attach_role_policy", {}, params)
    expect_read(stubber, s, policy=s.generated_policy, attached=wanted)

    _before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["attached_policies"] == wanted and len(no_sleep) == 1


def test_concurrent_modification_on_tagging_is_retried(stubbed, no_sleep):
    client, stubber = stubbed("iam")
    s = spec(adopt=True)
    role = aws_role(s, tags=USER_TAGS)
    expect_read(stubber, s, role=role, policy=s.generated_policy, attached=[SSM_CORE], policy_owned=False)
    params = dict(RoleName=s.name, Tags=tag_list(iam_role.collection_tags([s.generated_policy_arn]), sort=True))
    stubber.add_client_error("tag_role", "ConcurrentModification", expected_params=params)
    stubber.add_response("tag_role", {}, params)
    stubber.add_response(
        "tag_policy", {}, dict(PolicyArn=s.generated_policy_arn, Tags=tag_list(OWNER))
    )  # the generated policy is adopted too
    stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=s.generated_policy_arn))
    expect_read(stubber, s, policy=s.generated_policy, attached=sorted(s.wanted_attachments()))

    iam_role.ensure_present(FakeModule({}), client, s)

    assert len(no_sleep) == 1


def test_policy_created_meanwhile_by_someone_else_is_refused_before_it_is_attached(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s)
    expect_create_policy(stubber, s, error="EntityAlreadyExists")
    expect_policy(stubber, s, {"Version": "2012-10-17", "Statement": []}, owned=False)  # not ours: no update, no attach

    with pytest.raises(ModuleFailed) as failed:
        iam_role.ensure_present(FakeModule({}), client, s)

    assert failed.value.kwargs["not_owned"] == ["IAM policy %s" % s.generated_policy_arn]


def test_policy_created_meanwhile_with_another_document_gets_ours(stubbed):
    client, stubber = stubbed("iam")
    s = spec()
    other = policies.instance_policy("aws", "eu-west-1", ACCOUNT, ["other"])
    wanted = sorted(s.wanted_attachments())
    expect_read(stubber, s, role=False)
    expect_create_role(stubber, s)
    expect_create_policy(stubber, s, error="EntityAlreadyExists")
    expect_policy(stubber, s, other)  # a concurrent run of the collection with other clusters
    expect_versions(stubber, s, ["v1"])
    expect_create_version(stubber, s)
    for arn in wanted:
        stubber.add_response("attach_role_policy", {}, dict(RoleName=s.name, PolicyArn=arn))
    expect_read(stubber, s, policy=s.generated_policy, attached=wanted)

    _before, after = iam_role.ensure_present(FakeModule({}), client, s)

    assert after["generated_policy"] == s.generated_policy
