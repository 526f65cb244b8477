# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom attributes and tags of the container instances: validation, batching, purge, check mode.

Each test runs validate() then run() against Stubber clients: every AWS request is asserted exactly (in order), and
a call that is not queued fails the test -- which is how "no write in check mode" and "nothing before the checks"
are proven.
"""

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.modules import managed_instance
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import managed_instance_params
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

AGENT_ATTRIBUTES = [
    dict(name="ecs.capability.external"),
    dict(name="ecs.os-type", value="linux"),
    dict(name="ecs.cpu-architecture", value="x86_64"),
    dict(name="com.amazonaws.ecs.capability.docker-remote-api.1.44"),
]


def mi(n):
    return "mi-%017x" % n


def arn(n, cluster="onprem"):
    return "arn:aws:ecs:eu-west-1:123456789012:container-instance/%s/%032x" % (cluster, n)


def container(n, attributes=None, tags=None, cluster="onprem"):
    custom = [dict(name=k, value=v) if v is not None else dict(name=k) for k, v in (attributes or {}).items()]
    return dict(
        containerInstanceArn=arn(n, cluster),
        ec2InstanceId=mi(n),
        status="ACTIVE",
        runningTasksCount=0,
        attributes=AGENT_ATTRIBUTES + custom,
        tags=[dict(key=k, value=v) for k, v in (tags or {}).items()],
    )


params = managed_instance_params


def expect_reads(ecs_stubber, ssm_stubber, containers):
    """find() for instances given by ARN: one DescribeContainerInstances per cluster, one DescribeInstanceInformation."""
    clusters = {}
    for c in containers:
        clusters.setdefault(c["containerInstanceArn"].split("/")[1], []).append(c)
    for cluster, described in clusters.items():
        ecs_stubber.add_response(
            "describe_container_instances",
            dict(containerInstances=described, failures=[]),
            dict(cluster=cluster, containerInstances=[c["containerInstanceArn"] for c in described], include=["TAGS"]),
        )
    ssm_stubber.add_response(
        "describe_instance_information",
        dict(InstanceInformationList=[dict(InstanceId=c["ec2InstanceId"]) for c in containers]),
        dict(
            Filters=[
                dict(Key="ResourceType", Values=["ManagedInstance"]),
                dict(Key="InstanceIds", Values=sorted(c["ec2InstanceId"] for c in containers)),
            ],
            MaxResults=50,
        ),
    )


def run(stubbed, containers, check_mode=False, **overrides):
    """validate() and run() with the reads of ``containers`` queued; returns (module, ecs stubber, run's result)."""
    ssm, ssm_stubber = stubbed("ssm")
    ecs_client, ecs_stubber = stubbed("ecs")
    expect_reads(ecs_stubber, ssm_stubber, containers)
    overrides.setdefault("instances", [c["containerInstanceArn"] for c in containers])
    module = FakeModule(params(**overrides), check_mode=check_mode)

    def go():
        attributes, tags = managed_instance.validate(module)
        return managed_instance.run(module, ssm, ecs_client, attributes, tags)

    return ecs_stubber, go


# ---------------------------------------------------------------- batching


def test_one_call_for_the_whole_fleet_puts_ten_attributes_per_call_per_cluster(stubbed):
    onprem = [container(n) for n in range(1, 5)]
    edge = [container(9, cluster="edge")]
    by_instance = {
        c["containerInstanceArn"]: {"rack": "r%d" % n, "slot": str(n), "gpu": None} for n, c in enumerate(onprem)
    }
    by_instance[edge[0]["containerInstanceArn"]] = {"rack": "e1"}
    stubber, go = run(stubbed, onprem + edge, ecs_attributes={"site": "paris"}, ecs_attributes_by_instance=by_instance)
    wanted = []  # sorted by target, then name; an attribute without value is sent without "value"
    for n, c in enumerate(onprem):
        for name, value in sorted(dict(by_instance[c["containerInstanceArn"]], site="paris").items()):
            wanted.append(dict(name=name, targetId=c["containerInstanceArn"], **({"value": value} if value else {})))
    assert len(wanted) == 16
    edge_batch = [
        dict(name="rack", value="e1", targetId=arn(9, "edge")),
        dict(name="site", value="paris", targetId=arn(9, "edge")),
    ]
    stubber.add_response("put_attributes", dict(attributes=edge_batch), dict(cluster="edge", attributes=edge_batch))
    for batch in (wanted[:10], wanted[10:]):  # targets mixed within a call
        stubber.add_response("put_attributes", dict(attributes=batch), dict(cluster="onprem", attributes=batch))

    before, after = go()

    assert [b["ecs_attributes"] for b in before] == [{}] * 5
    assert after[0]["ecs_attributes"] == {"site": "paris", "rack": "r0", "slot": "0", "gpu": None}
    assert after[4]["ecs_attributes"] == {"site": "paris", "rack": "e1"}


# ---------------------------------------------------------------- purge, check mode, idempotence


CURRENT = {"rack": "r1", "old": "x", "flag": None, "gpu": "a100"}
DESIRED = {"rack": "r2", "gpu": None, "new": "1"}


def test_purge_deletes_only_custom_attributes_by_name_before_putting(stubbed):
    c = container(1, CURRENT)
    stubber, go = run(stubbed, [c], ecs_attributes=DESIRED, purge_ecs_attributes=True)
    deleted = [dict(name=n, targetId=c["containerInstanceArn"]) for n in ("flag", "old")]  # no value: AWS's rule
    stubber.add_response("delete_attributes", dict(attributes=deleted), dict(cluster="onprem", attributes=deleted))
    put = [
        dict(name="gpu", targetId=c["containerInstanceArn"]),  # a valued attribute becomes one without value
        dict(name="new", value="1", targetId=c["containerInstanceArn"]),
        dict(name="rack", value="r2", targetId=c["containerInstanceArn"]),
    ]
    stubber.add_response("put_attributes", dict(attributes=put), dict(cluster="onprem", attributes=put))

    before, after = go()

    assert before[0]["ecs_attributes"] == CURRENT  # the agent's attributes are not custom ones
    assert after[0]["ecs_attributes"] == DESIRED


def test_without_purge_other_custom_attributes_stay(stubbed):
    c = container(1, {"keep": "me", "rack": "r1"})
    stubber, go = run(stubbed, [c], ecs_attributes={"rack": "r2"})
    put = [dict(name="rack", value="r2", targetId=c["containerInstanceArn"])]
    stubber.add_response("put_attributes", dict(attributes=put), dict(cluster="onprem", attributes=put))

    _before, after = go()

    assert after[0]["ecs_attributes"] == {"keep": "me", "rack": "r2"}


def test_check_mode_predicts_the_change_and_writes_nothing(stubbed):
    _stubber, go = run(
        stubbed,
        [container(1, CURRENT, {"team": "a"})],
        check_mode=True,
        ecs_attributes=DESIRED,
        purge_ecs_attributes=True,
        ecs_tags={"team": "b"},
    )

    before, after = go()  # nothing but the reads is queued: a write would fail the test

    assert before[0]["ecs_attributes"] == CURRENT and after[0]["ecs_attributes"] == DESIRED
    assert after[0]["ecs_tags"] == {"team": "b"}


@pytest.mark.parametrize("purge", [True, False])
def test_settings_already_in_place_make_no_write(stubbed, purge):
    c = container(1, {"rack": "r1", "gpu": None, "tier": "3"}, {"team": "a", "aws:cloudformation:stack-name": "s"})
    _stubber, go = run(
        stubbed,
        [c],
        ecs_attributes={"rack": "r1", "gpu": None, "tier": 3},  # numbers are compared as ECS stores them: strings
        purge_ecs_attributes=purge,
        ecs_tags={"team": "a"},
        purge_ecs_tags=purge,
    )

    before, after = go()

    assert before == after


# ---------------------------------------------------------------- tags


def test_tags_untag_then_tag_and_never_purge_aws_tags(stubbed):
    c = container(1, tags={"aws:cloudformation:stack-name": "s", "AWS:Other": "o", "team": "a", "old": "x"})
    stubber, go = run(stubbed, [c], ecs_tags={"team": "b", "empty": None}, purge_ecs_tags=True)
    stubber.add_response("untag_resource", {}, dict(resourceArn=c["containerInstanceArn"], tagKeys=["old"]))
    stubber.add_response(
        "tag_resource",
        {},
        dict(resourceArn=c["containerInstanceArn"], tags=[dict(key="empty", value=""), dict(key="team", value="b")]),
    )

    _before, after = go()

    assert after[0]["ecs_tags"] == {"aws:cloudformation:stack-name": "s", "AWS:Other": "o", "team": "b", "empty": ""}


def test_per_instance_tags_win_over_common_ones(stubbed):
    one, two = container(1, tags={"team": "a"}), container(2, tags={"team": "a"})
    stubber, go = run(
        stubbed, [one, two], ecs_tags={"team": "a"}, ecs_tags_by_instance={two["containerInstanceArn"]: {"team": "b"}}
    )
    stubber.add_response(
        "tag_resource", {}, dict(resourceArn=two["containerInstanceArn"], tags=[dict(key="team", value="b")])
    )

    _before, after = go()

    assert [a["ecs_tags"] for a in after] == [{"team": "a"}, {"team": "b"}]


def test_settings_are_applied_before_the_state_changes(stubbed):
    c = container(1)
    stubber, go = run(stubbed, [c], state="draining", ecs_attributes={"maintenance": None})
    put = [dict(name="maintenance", targetId=c["containerInstanceArn"])]
    stubber.add_response("put_attributes", dict(attributes=put), dict(cluster="onprem", attributes=put))
    stubber.add_response(
        "update_container_instances_state",
        dict(containerInstances=[], failures=[]),
        dict(cluster="onprem", containerInstances=[c["containerInstanceArn"]], status="DRAINING"),
    )

    _before, after = go()

    assert after[0]["ecs_status"] == "DRAINING" and after[0]["ecs_attributes"] == {"maintenance": None}


# ---------------------------------------------------------------- limits that depend on the current state


def test_ten_custom_attributes_per_instance_is_checked_before_any_write(stubbed):
    full = container(1, {"a%d" % i: "v" for i in range(8)})
    fine = container(2)
    _stubber, go = run(stubbed, [fine, full], ecs_attributes={"x": "1", "y": "2", "z": "3"})  # no write queued

    with pytest.raises(ModuleFailed) as failed:
        go()

    msg = failed.value.kwargs["msg"]
    assert mi(1) in msg and "11 custom attributes" in msg and "purge_ecs_attributes=true" in msg
    assert mi(2) not in msg and msg.endswith("Nothing was changed.")


def test_purge_makes_room_for_new_attributes(stubbed):
    c = container(1, {"a%d" % i: "v" for i in range(10)})
    stubber, go = run(stubbed, [c], ecs_attributes={"b": "1"}, purge_ecs_attributes=True)
    deleted = [dict(name="a%d" % i, targetId=c["containerInstanceArn"]) for i in range(10)]
    stubber.add_response("delete_attributes", dict(attributes=deleted), dict(cluster="onprem", attributes=deleted))
    put = [dict(name="b", value="1", targetId=c["containerInstanceArn"])]
    stubber.add_response("put_attributes", dict(attributes=put), dict(cluster="onprem", attributes=put))

    _before, after = go()

    assert after[0]["ecs_attributes"] == {"b": "1"}


def test_fifty_tags_per_instance_is_checked_before_any_write(stubbed):
    c = container(1, tags=dict({"t%d" % i: "v" for i in range(50)}, **{"aws:x": "not counted"}))
    _stubber, go = run(stubbed, [c], ecs_tags={"one": "more"})

    with pytest.raises(ModuleFailed) as failed:
        go()

    assert "51 tags" in failed.value.kwargs["msg"] and "purge_ecs_tags=true" in failed.value.kwargs["msg"]


def test_an_instance_without_container_instance_fails_before_any_write(stubbed):
    ssm, _ssm_stubber = stubbed("ssm")
    ecs_client, stubber = stubbed("ecs")
    stubber.add_response(
        "describe_container_instances",
        dict(containerInstances=[], failures=[dict(arn=arn(1), reason="MISSING")]),
        dict(cluster="onprem", containerInstances=[arn(1)], include=["TAGS"]),
    )
    module = FakeModule(params(instances=[arn(1)], ecs_attributes={"rack": "r1"}))
    attributes, tags = managed_instance.validate(module)

    with pytest.raises(ModuleFailed) as failed:
        managed_instance.run(module, ssm, ecs_client, attributes, tags)

    assert arn(1) in failed.value.kwargs["msg"] and "Nothing was changed" in failed.value.kwargs["msg"]


def test_the_same_container_instance_given_twice_with_different_settings_fails():
    record = dict(
        managed_instance_id=mi(1), cluster="onprem", container_instance_arn=arn(1), ecs_attributes={}, ecs_tags={}
    )
    module = FakeModule(params(instances=[mi(1), arn(1)]))
    desired = {mi(1): {"rack": "r1"}, arn(1): {"rack": "r2"}}

    with pytest.raises(ModuleFailed) as failed:
        managed_instance.plan_settings(module, [record, dict(record)], desired, None)

    assert "given twice" in failed.value.kwargs["msg"]


# ---------------------------------------------------------------- parameters, checked before any AWS call

I1 = mi(1)
I2 = mi(2)


@pytest.mark.parametrize(
    "overrides, parameter, words",
    [
        (dict(ecs_attributes={"rack#1": "a"}), "ecs_attributes", "not valid"),
        (dict(ecs_attributes={"r" * 129: "a"}), "ecs_attributes", "1-128"),
        (dict(ecs_attributes={"rack": ""}), "ecs_attributes", "use null"),
        (dict(ecs_attributes={"rack": " r1"}), "ecs_attributes", "space"),
        (dict(ecs_attributes={"rack": "r" * 129}), "ecs_attributes", "not valid"),
        (dict(ecs_attributes={"rack": "r;1"}), "ecs_attributes", "not valid"),
        (dict(ecs_attributes={"rack": ["a"]}), "ecs_attributes", "not list"),
        (dict(ecs_attributes={"ecs.capability.gpu": None}), "ecs_attributes", "reserved for the ECS agent"),
        (dict(ecs_attributes={"com.amazonaws.ecs.capability.x": "1"}), "ecs_attributes", "reserved"),
        (dict(ecs_attributes={"a%d" % i: "v" for i in range(11)}), "ecs_attributes", "11 custom attributes"),
        (dict(ecs_attributes_by_instance={I2: {"rack": "r2"}}), "ecs_attributes_by_instance", "not an entry"),
        (dict(ecs_attributes_by_instance={I1: "rack=r1"}), "ecs_attributes_by_instance", "expected a dictionary"),
        (dict(ecs_attributes_by_instance={I1: {"rack": ""}}), "ecs_attributes_by_instance", I1),
        (
            dict(
                ecs_attributes={"a%d" % i: "v" for i in range(9)}, ecs_attributes_by_instance={I1: {"x": "1", "y": "2"}}
            ),
            "ecs_attributes_by_instance",
            "11 custom attributes",
        ),
        (dict(ecs_tags={"aws:owner": "me"}), "ecs_tags", "reserved for AWS"),
        (dict(ecs_tags={"AWS:Owner": "me"}), "ecs_tags", "reserved for AWS"),
        (dict(ecs_tags={"k" * 129: "v"}), "ecs_tags", "1-128"),
        (dict(ecs_tags={"team": "v" * 257}), "ecs_tags", "0-256"),
        (dict(ecs_tags={"team#": "a"}), "ecs_tags", "not valid"),
        (dict(ecs_tags={"t%d" % i: "v" for i in range(51)}), "ecs_tags", "51 tags"),
        (dict(ecs_tags_by_instance={I1: {"": "v"}}), "ecs_tags_by_instance", "1-128"),
        (dict(state="absent", ecs_attributes={"rack": "r1"}), "ecs_attributes", "state=absent"),
        (dict(state="absent", ecs_tags_by_instance={}), "ecs_tags_by_instance", "state=absent"),
    ],
)
def test_bad_settings_fail_naming_the_parameter(overrides, parameter, words):
    module = FakeModule(params(instances=[I1], **overrides))

    with pytest.raises(ModuleFailed) as failed:
        managed_instance.validate(module)

    assert failed.value.kwargs["invalid_parameters"] == [parameter]
    assert words in failed.value.kwargs["msg"]


def test_a_bad_common_value_is_reported_once_not_per_instance():
    module = FakeModule(params(instances=[mi(n) for n in range(1, 30)], ecs_attributes={"rack": ""}))

    with pytest.raises(ModuleFailed) as failed:
        managed_instance.validate(module)

    assert failed.value.kwargs["invalid_parameters"] == ["ecs_attributes"]


def test_good_settings_are_converted_to_what_ecs_stores():
    module = FakeModule(
        params(
            instances=[I1, I2],
            ecs_attributes={"gpu": None, "tier": 3, "spot": False, "path": "C:\\ecs/a b@c.d", "rack": "r1"},
            ecs_attributes_by_instance={I2: {"rack": "r2"}, I1: None},
            ecs_tags={"équipe": "données", "note": None, "a b:c/d=e+f-g@h_i.j": "1 2"},
        )
    )

    attributes, tags = managed_instance.validate(module)

    common = {"gpu": None, "tier": "3", "spot": "false", "path": "C:\\ecs/a b@c.d"}
    assert attributes == {I1: dict(common, rack="r1"), I2: dict(common, rack="r2")}
    assert tags[I1] == tags[I2] == {"équipe": "données", "note": "", "a b:c/d=e+f-g@h_i.j": "1 2"}


def test_unset_options_manage_nothing():
    assert managed_instance.validate(FakeModule(params(instances=[I1]))) == (None, None)
