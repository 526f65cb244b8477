# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site's main() against Stubber-checked ECS, IAM and SSM clients (one per service, as the module makes them).

Every test queues exactly the calls it allows: an unqueued call fails the test ("Unexpected call"), and a queued call
not made fails it at teardown (the ``stubbed`` fixture). So "nothing else was called" is asserted by queueing only
the reads, and "nothing was created" by queueing no write.
"""

import datetime
import json

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _instance_role as instance_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.modules import site
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import ACCOUNT
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import run_main
from ansible_collections.ecs_anywhere.fleet.tests.unit.plugins.modules.role_harness import StandIn
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

REGION = "eu-west-1"
NOW = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.timezone.utc)
CLUSTERS = ["onprem", "onprem-gpu"]
TAGS = {"team": "platform"}
ROLE = dict(name="ECSAnywhereRole", clusters=CLUSTERS)
MI = "mi-0123456789abcdef0"
CI_ARN = "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"
MANAGED = {"Key": ssm.MANAGED_TAG_KEY, "Value": ssm.MANAGED_TAG_VALUE}


# ---------------------------------------------------------------- harness: main() with a client per service


class SiteModule(StandIn):
    """AnsibleAWSModule's stand-in for a module that makes clients of several services."""

    def client(self, service):
        self.calls.append("client:" + service)
        return self._client[service]

    def warn(self, msg):
        self.calls.append("warn:" + msg)

    def fail_json_aws_error(self, error):
        # AnsibleAWSModule.fail_json_aws_error: the message is the exception's ``message``.
        self.fail_json(msg=error.message)


def run_site(monkeypatch, clients, check_mode=False, diff=False, calls=None, region=REGION, **overrides):
    """site's main(); returns (exit_json's kwargs, client creations and STS calls); ModuleFailed propagates.

    ``region``: the module's (its option or the environment's; None when neither gives one)."""

    def setup(module):
        module._diff = diff
        module.region = region

    return run_main(monkeypatch, site, clients, check_mode, calls, stand_in=SiteModule, setup=setup, **overrides)


@pytest.fixture
def aws(stubbed):
    """{service: (client, stubber)} for ECS, IAM and SSM, nothing queued."""
    return {service: stubbed(service) for service in ("ecs", "iam", "ssm")}


def clients(aws):
    return {service: client for service, (client, _stubber) in aws.items()}


# ---------------------------------------------------------------- what AWS holds


def cluster_arn(name):
    return "arn:aws:ecs:%s:%s:cluster/%s" % (REGION, ACCOUNT, name)


def aws_cluster(name, insights="enabled", tags=None):
    return dict(
        clusterArn=cluster_arn(name),
        clusterName=name,
        status="ACTIVE",
        registeredContainerInstancesCount=0,
        runningTasksCount=0,
        pendingTasksCount=0,
        activeServicesCount=0,
        settings=[dict(name="containerInsights", value=insights)],
        tags=ecs.ecs_tags(TAGS if tags is None else tags),
    )


def expect_describe_clusters(stubber, names, found):
    """ONE DescribeClusters for every name (the module reads its clusters in one call per 100)."""
    response = dict(
        clusters=[aws_cluster(name) for name in found],
        failures=[dict(arn=cluster_arn(name), reason="MISSING") for name in names if name not in found],
    )
    stubber.add_response("describe_clusters", response, dict(clusters=sorted(names), include=["SETTINGS", "TAGS"]))


def role_spec(**options):
    """The instance role as the module wants it for O(instance_role)=``options`` (instance_role's defaults)."""
    validated = ArgumentSpecValidator(instance_role.ARGUMENT_SPEC).validate(dict(options))
    assert not validated.error_messages
    return instance_role.build_spec(dict(validated.validated_parameters), REGION, ACCOUNT, "aws")


def tag_list(tags):
    return [dict(Key=k, Value=v) for k, v in tags.items()]


def expect_role_in_sync(stubber, spec, description=None):
    """The reads of a role this collection made as ``spec`` wants it (but for ``description``, when given):
    GetRole, the generated policy, its attachments."""
    role = dict(
        Path=spec.path,
        RoleName=spec.name,
        RoleId="AROAEXAMPLEEXAMPLE1234",
        Arn=spec.role_arn,
        CreateDate=NOW,
        AssumeRolePolicyDocument=json.dumps(spec.trust_policy),
        Description=spec.description if description is None else description,
        MaxSessionDuration=3600,
        Tags=tag_list(iam_role.collection_tags(spec.wanted_attachments())),
    )
    stubber.add_response("get_role", dict(Role=role), dict(RoleName=spec.name))
    policy = dict(
        Arn=spec.generated_policy_arn,
        PolicyName=spec.generated_policy_name,
        DefaultVersionId="v1",
        Tags=tag_list({iam_role.OWNER_TAG_KEY: iam_role.OWNER_TAG_VALUE}),
    )
    stubber.add_response("get_policy", dict(Policy=policy), dict(PolicyArn=spec.generated_policy_arn))
    stubber.add_response(
        "get_policy_version",
        dict(PolicyVersion=dict(Document=json.dumps(spec.generated_policy), VersionId="v1", IsDefaultVersion=True)),
        dict(PolicyArn=spec.generated_policy_arn, VersionId="v1"),
    )
    attached = sorted(spec.wanted_attachments())
    stubber.add_response(
        "list_attached_role_policies",
        dict(AttachedPolicies=[dict(PolicyArn=a, PolicyName=a.rsplit("/", 1)[1]) for a in attached]),
        dict(RoleName=spec.name),
    )


def expect_no_role(stubber, spec):
    stubber.add_client_error("get_role", "NoSuchEntity", expected_params=dict(RoleName=spec.name))
    stubber.add_client_error("get_policy", "NoSuchEntity", expected_params=dict(PolicyArn=spec.generated_policy_arn))


def expect_look_up(ecs_stubber, ssm_stubber, ssm_error=None):
    """fleet_info's batched look-up of MI in cluster onprem: one ECS listing + describe, one SSM page (or, with
    ``ssm_error``, SSM refusing it with that error code)."""
    ecs_stubber.add_response(
        "list_container_instances",
        dict(containerInstanceArns=[CI_ARN]),
        dict(cluster="onprem", filter=ecs.external_filter([MI]), maxResults=100),
    )
    ecs_stubber.add_response(
        "describe_container_instances",
        dict(containerInstances=[dict(containerInstanceArn=CI_ARN, ec2InstanceId=MI, status="ACTIVE")], failures=[]),
        dict(cluster="onprem", containerInstances=[CI_ARN], include=["TAGS"]),
    )
    if ssm_error:
        ssm_stubber.add_client_error("describe_instance_information", ssm_error, "not allowed")
        return
    ssm_stubber.add_response(
        "describe_instance_information",
        dict(InstanceInformationList=[dict(InstanceId=MI, PingStatus="Online", ResourceType="ManagedInstance")]),
        dict(
            Filters=[dict(Key="ResourceType", Values=["ManagedInstance"]), dict(Key="InstanceIds", Values=[MI])],
            MaxResults=50,
        ),
    )


def activation(number, expired=False, limit=1, count=0, tags=(MANAGED,)):
    found = dict(
        ActivationId="6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e3%d" % number,
        IamRole=ROLE["name"],
        RegistrationLimit=limit,
        ExpirationDate=NOW + datetime.timedelta(hours=1),
        Expired=expired,
        CreatedDate=NOW,
        Tags=list(tags),
    )
    if count:  # the model has RegistrationsCount >= 1: leave it out for none
        found["RegistrationsCount"] = count
    return found


def expect_activations(stubber, activations):
    stubber.add_response(
        "describe_activations",
        dict(ActivationList=activations),
        dict(Filters=[dict(FilterKey="IamRole", FilterValues=[ROLE["name"]])]),
    )


# ---------------------------------------------------------------- no-op


def test_no_op_reads_each_resource_once_and_changes_nothing(monkeypatch, aws):
    (_ecs, ecs_stubber), (_iam, iam_stubber), (_ssm, ssm_stubber) = aws["ecs"], aws["iam"], aws["ssm"]
    expect_describe_clusters(ecs_stubber, CLUSTERS, CLUSTERS)  # both names, one call
    expect_role_in_sync(iam_stubber, role_spec(**ROLE))
    expect_look_up(ecs_stubber, ssm_stubber)
    expect_activations(ssm_stubber, [activation(1)])  # ours, live: kept

    result, calls = run_site(
        monkeypatch,
        clients(aws),
        diff=True,
        clusters=CLUSTERS,
        container_insights="enabled",
        tags=TAGS,
        instance_role=ROLE,
        instance_ids=[MI],
        instance_clusters=["onprem"],
        clean_activations=True,
    )

    assert result["changed"] is False, result["diff"]
    assert calls == ["client:ecs", "sts:GetCallerIdentity", "client:iam", "client:ssm"], "one client per service"
    assert [c["cluster_arn"] for c in result["clusters"]] == [cluster_arn(n) for n in CLUSTERS]
    assert result["role"]["arn"] == "arn:aws:iam::123456789012:role/ECSAnywhereRole"
    assert [(r["managed_instance_id"], r["registered_in"], r["cluster"]) for r in result["instances"]] == [
        (MI, "both", "onprem")
    ]
    assert result["deleted_activation_ids"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_cluster_named_twice_is_read_and_ensured_once(monkeypatch, aws):
    """clusters: [onprem, onprem-gpu, onprem]: one DescribeClusters for the two names (the Stubber refuses any other
    call or parameter), each returned once, in the order given."""
    expect_describe_clusters(aws["ecs"][1], CLUSTERS, CLUSTERS)

    result, _calls = run_site(
        monkeypatch, clients(aws), clusters=CLUSTERS + CLUSTERS[:1], container_insights="enabled", tags=TAGS
    )

    assert result["changed"] is False
    assert [c["cluster_name"] for c in result["clusters"]] == CLUSTERS


# ---------------------------------------------------------------- check mode


def test_check_mode_on_an_empty_account_creates_nothing_and_predicts(monkeypatch, aws):
    spec = role_spec(**ROLE)
    expect_describe_clusters(aws["ecs"][1], CLUSTERS, [])
    expect_no_role(aws["iam"][1], spec)  # no write is queued: a create would be an unexpected call

    result, calls = run_site(
        monkeypatch, clients(aws), check_mode=True, diff=True, clusters=CLUSTERS, tags=TAGS, instance_role=ROLE
    )

    assert result["changed"] is True
    assert calls == ["client:ecs", "sts:GetCallerIdentity", "client:iam"]
    assert [(c["cluster_name"], c["cluster_arn"], c["tags"]) for c in result["clusters"]] == [
        ("onprem", None, TAGS),
        ("onprem-gpu", None, TAGS),
    ]
    assert result["role"]["name"] == "ECSAnywhereRole" and result["role"]["role_id"] is None
    assert result["generated_policy_arn"] == spec.generated_policy_arn
    assert result["diff"]["before"]["clusters"] == {"onprem": {}, "onprem-gpu": {}}
    assert result["diff"]["before"]["instance_role"] == {}
    assert set(result["diff"]["after"]["clusters"]) == set(CLUSTERS)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "options, parameter, named",
    [
        (dict(instance_role=dict(name="bad name!", clusters=["onprem"])), "instance_role.name", "bad name!"),
        (dict(instance_role=dict(clusters=["bad name!"])), "instance_role.clusters", "bad name!"),
        (dict(instance_role=dict(statee=1)), "instance_role", "statee"),
        (dict(instance_role=dict(clusters="onprem", wait_timeout="soon")), "instance_role", "wait_timeout"),
        (dict(clusters=["bad name!"]), "clusters", "bad name!"),
        (dict(instance_ids=["i-123"]), "instance_ids", "i-123"),
        (dict(instance_ids=[MI], instance_clusters=["bad name!"]), "instance_clusters", "bad name!"),
        (dict(clean_activations=True), "clean_activations", "instance_role"),
        (dict(clusters=["onprem"], tags={"aws:reserved": "x"}), "tags", "aws:"),
    ],
)
def test_bad_input_fails_before_any_client_naming_the_option(monkeypatch, aws, options, parameter, named):
    calls = []  # nothing is queued on any client either
    with pytest.raises(ModuleFailed) as failed:
        run_site(monkeypatch, clients(aws), calls=calls, **options)

    assert failed.value.kwargs["invalid_parameters"] == [parameter]
    assert failed.value.kwargs["msg"].startswith("Invalid parameter %s: " % parameter), failed.value.kwargs["msg"]
    assert named in failed.value.kwargs["msg"]
    assert calls == [], "validated before STS and before any client"


def test_a_missing_region_is_named_region_not_an_instance_role_option(monkeypatch, aws):
    calls = []
    with pytest.raises(ModuleFailed) as failed:
        run_site(monkeypatch, clients(aws), calls=calls, region=None, clusters=["onprem"], instance_role=ROLE)
    assert failed.value.kwargs["invalid_parameters"] == ["region"], failed.value.kwargs["msg"]
    assert failed.value.kwargs["msg"].startswith("Invalid parameter region: required")
    assert calls == []


def test_every_problem_is_named_in_one_failure(monkeypatch, aws):
    calls = []
    with pytest.raises(ModuleFailed) as failed:
        run_site(
            monkeypatch,
            clients(aws),
            calls=calls,
            clusters=["bad name!"],
            instance_ids=["i-123"],
            instance_role=dict(name="bad name!", clusters=["onprem"]),
        )
    assert failed.value.kwargs["invalid_parameters"] == ["clusters", "instance_ids", "instance_role.name"]
    assert calls == []


# ---------------------------------------------------------------- clean_activations


SPENT = [activation(1, expired=True), activation(2, limit=2, count=2)]  # ours: expired, used up
KEPT = [
    activation(3, limit=2, count=1),  # ours, still usable
    activation(4),  # ours, unused
    activation(5, expired=True, tags=()),  # not ours
    activation(6, expired=True, tags=[{"Key": ssm.MANAGED_TAG_KEY, "Value": "no"}]),  # not ours
]


@pytest.mark.parametrize("check_mode", [False, True])
def test_clean_activations_deletes_only_our_spent_ones(monkeypatch, aws, check_mode):
    expect_role_in_sync(aws["iam"][1], role_spec(**ROLE))
    expect_activations(aws["ssm"][1], SPENT + KEPT)
    spent_ids = [a["ActivationId"] for a in SPENT]
    if not check_mode:
        for activation_id in spent_ids:
            aws["ssm"][1].add_response("delete_activation", {}, dict(ActivationId=activation_id))

    result, calls = run_site(
        monkeypatch, clients(aws), check_mode=check_mode, diff=True, instance_role=ROLE, clean_activations=True
    )

    assert result["changed"] is True
    assert result["deleted_activation_ids"] == spent_ids
    assert result["diff"]["before"]["activations"] == spent_ids and result["diff"]["after"]["activations"] == []
    assert "client:ecs" not in calls, "no cluster, no look-up: no ECS client"


# ---------------------------------------------------------------- a failure after a change


def test_a_failure_after_a_change_says_what_was_changed_before(monkeypatch, aws):
    spec = role_spec(**ROLE)
    ecs_stubber, iam_stubber = aws["ecs"][1], aws["iam"][1]
    expect_describe_clusters(ecs_stubber, CLUSTERS, ["onprem-gpu"])
    ecs_stubber.add_response(
        "create_cluster",
        dict(cluster=aws_cluster("onprem")),
        dict(clusterName="onprem", settings=[], tags=ecs.ecs_tags(TAGS)),
    )
    ecs_stubber.add_response(
        "describe_clusters",
        dict(clusters=[aws_cluster("onprem")]),
        dict(clusters=["onprem"], include=["SETTINGS", "TAGS"]),
    )
    expect_no_role(iam_stubber, spec)
    iam_stubber.add_client_error("create_role", "AccessDenied", "not allowed to iam:CreateRole")

    with pytest.raises(ModuleFailed) as failed:
        run_site(monkeypatch, clients(aws), clusters=CLUSTERS, tags=TAGS, instance_role=ROLE)

    msg = failed.value.kwargs["msg"]
    assert msg.startswith("Failed to create role"), msg
    assert "before that, this run created or updated: cluster onprem;" in msg, msg
    assert "onprem-gpu" not in msg, "the cluster that was already as wanted is not named"


def test_a_failure_after_the_role_changed_names_the_role(monkeypatch, aws):
    spec = role_spec(**ROLE)
    iam_stubber, ssm_stubber, ecs_stubber = aws["iam"][1], aws["ssm"][1], aws["ecs"][1]
    expect_role_in_sync(iam_stubber, spec, description="someone else's words")  # updated by this run
    iam_stubber.add_response("update_role", {}, dict(RoleName=spec.name, Description=spec.description))
    expect_role_in_sync(iam_stubber, spec)  # read back after the change
    expect_look_up(ecs_stubber, ssm_stubber, ssm_error="AccessDeniedException")  # the SSM side fails

    with pytest.raises(ModuleFailed) as failed:
        run_site(monkeypatch, clients(aws), instance_role=ROLE, instance_ids=[MI], instance_clusters=["onprem"])

    msg = failed.value.kwargs["msg"]
    assert msg.startswith("Failed to describe managed instances"), msg
    assert "stopped at the look-up of the hosts' registrations" in msg, msg
    assert "before that, this run created or updated: instance role ECSAnywhereRole;" in msg, msg


def test_spent_activations_that_cannot_be_deleted_are_a_warning_not_a_failure(monkeypatch, aws):
    """A spent activation can register nothing: SSM refusing the clean-up must not stop the run it belongs to."""
    spec = role_spec(**ROLE)
    iam_stubber, ssm_stubber = aws["iam"][1], aws["ssm"][1]
    expect_role_in_sync(iam_stubber, spec)
    ssm_stubber.add_client_error("describe_activations", "AccessDeniedException", "lab outage")

    result, calls = run_site(monkeypatch, clients(aws), instance_role=ROLE, clean_activations=True)

    assert result["changed"] is False and result["deleted_activation_ids"] == []
    warnings = [c for c in calls if c.startswith("warn:")]
    assert len(warnings) == 1 and "lab outage" in warnings[0] and "ECSAnywhereRole" in warnings[0], warnings
    assert "a later run" in warnings[0]


def test_a_failure_after_creating_the_role_names_the_role(monkeypatch, aws):
    spec = role_spec(**ROLE)
    iam_stubber = aws["iam"][1]
    expect_no_role(iam_stubber, spec)
    created = dict(Path="/", RoleName=spec.name, RoleId="AROAEXAMPLEEXAMPLE1234", Arn=spec.role_arn, CreateDate=NOW)
    iam_stubber.add_response("create_role", dict(Role=created))
    iam_stubber.add_client_error("create_policy", "AccessDenied", "not allowed to iam:CreatePolicy")

    with pytest.raises(ModuleFailed) as failed:
        run_site(monkeypatch, clients(aws), instance_role=ROLE)

    msg = failed.value.kwargs["msg"]
    assert msg.startswith("Failed to create generated policy"), msg
    assert "stopped at the instance role ECSAnywhereRole (a re-run brings it the rest of the way)" in msg, msg
