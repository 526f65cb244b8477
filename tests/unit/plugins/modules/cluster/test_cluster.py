# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.modules import cluster as cluster_module

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule as Module
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed

ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"
CI_ARN = "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"


def params(**overrides):
    base = dict(name="onprem", state="present", container_insights=None, force=False, tags=None, purge_tags=True)
    base.update(overrides)
    return base


def aws_cluster(tags=None, insights="disabled", instances=0):
    return dict(
        clusterArn=ARN,
        clusterName="onprem",
        status="ACTIVE",
        registeredContainerInstancesCount=instances,
        runningTasksCount=0,
        pendingTasksCount=0,
        activeServicesCount=0,
        settings=[dict(name="containerInsights", value=insights)],
        tags=[dict(key=k, value=v) for k, v in (tags or {}).items()],
    )


def expect_describe(stubber, cluster):
    response = (
        dict(clusters=[cluster], failures=[])
        if cluster
        else dict(clusters=[], failures=[dict(arn=ARN, reason="MISSING")])
    )
    stubber.add_response("describe_clusters", response, dict(clusters=["onprem"], include=["SETTINGS", "TAGS"]))


def test_create_makes_one_create_call_with_settings_and_tags(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_response(
        "create_cluster",
        dict(cluster=aws_cluster({"team": "platform"}, "enabled")),
        dict(
            clusterName="onprem",
            settings=[dict(name="containerInsights", value="enabled")],
            tags=[dict(key="team", value="platform")],
        ),
    )
    expect_describe(stubber, aws_cluster({"team": "platform"}, "enabled"))
    module = Module(params(container_insights="enabled", tags={"team": "platform"}))

    before, after = cluster_module.ensure_present(module, client, None)

    assert before is None
    assert after["cluster_arn"] == ARN
    assert after["tags"] == {"team": "platform"}
    assert after["container_insights"] == "enabled"


def test_create_in_check_mode_makes_no_call(stubbed):
    client, _stubber = stubbed("ecs")  # any call would raise: nothing is queued
    module = Module(params(tags={"a": "b"}), check_mode=True)

    before, after = cluster_module.ensure_present(module, client, None)

    assert before is None
    assert after["cluster_name"] == "onprem"
    assert after["tags"] == {"a": "b"}


@pytest.mark.parametrize(
    "current, wanted, purge, to_set, to_unset",
    [
        ({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, True, {"c": "3"}, ["b"]),
        ({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, False, {"c": "3"}, []),
        ({"a": "1"}, {"a": "2"}, True, {"a": "2"}, []),
        ({"a": "1"}, {}, True, {}, ["a"]),
    ],
)
def test_tags_are_reconciled(stubbed, current, wanted, purge, to_set, to_unset):
    client, stubber = stubbed("ecs")
    if to_unset:
        stubber.add_response("untag_resource", {}, dict(resourceArn=ARN, tagKeys=to_unset))
    if to_set:
        stubber.add_response("tag_resource", {}, dict(resourceArn=ARN, tags=ecs.ecs_tags(to_set)))
    final = {k: v for k, v in current.items() if k not in to_unset}
    final.update(to_set)
    expect_describe(stubber, aws_cluster(final))
    module = Module(params(tags=wanted, purge_tags=purge))

    before, after = cluster_module.ensure_present(module, client, aws_cluster(current))

    assert before["tags"] == current
    assert after["tags"] == final


def test_unchanged_cluster_makes_no_write(stubbed):
    client, _stubber = stubbed("ecs")
    module = Module(params(tags={"a": "1"}, container_insights="disabled"))

    before, after = cluster_module.ensure_present(module, client, aws_cluster({"a": "1"}))

    assert before == after


def test_container_insights_change_is_one_update_call(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_response(
        "update_cluster",
        dict(cluster=aws_cluster(insights="enhanced")),
        dict(cluster="onprem", settings=[dict(name="containerInsights", value="enhanced")]),
    )
    expect_describe(stubber, aws_cluster(insights="enhanced"))
    module = Module(params(container_insights="enhanced"))

    before, after = cluster_module.ensure_present(module, client, aws_cluster())

    assert (before["container_insights"], after["container_insights"]) == ("disabled", "enhanced")


def test_absent_refuses_registered_instances_without_force(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_response("list_container_instances", dict(containerInstanceArns=[CI_ARN]), dict(cluster="onprem"))
    module = Module(params(state="absent"))

    with pytest.raises(ModuleFailed) as failed:
        cluster_module.ensure_absent(module, client, aws_cluster(instances=1))

    assert "force=true" in failed.value.kwargs["msg"]
    assert failed.value.kwargs["container_instances"] == [CI_ARN]


def test_absent_with_force_deregisters_then_deletes(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_response("list_container_instances", dict(containerInstanceArns=[CI_ARN]), dict(cluster="onprem"))
    stubber.add_response(
        "deregister_container_instance",
        dict(containerInstance=dict(containerInstanceArn=CI_ARN)),
        dict(cluster="onprem", containerInstance=CI_ARN, force=True),
    )
    stubber.add_response("delete_cluster", dict(cluster=aws_cluster()), dict(cluster="onprem"))
    module = Module(params(state="absent", force=True))

    before, after, deregistered = cluster_module.ensure_absent(module, client, aws_cluster(instances=1))

    assert before["cluster_name"] == "onprem" and after is None
    assert deregistered == [CI_ARN]


def test_absent_in_check_mode_only_reads(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_response("list_container_instances", dict(containerInstanceArns=[]), dict(cluster="onprem"))
    module = Module(params(state="absent"), check_mode=True)

    before, after, deregistered = cluster_module.ensure_absent(module, client, aws_cluster())

    assert before is not None and after is None and deregistered == []


def test_missing_cluster_reads_as_none(stubbed):
    client, stubber = stubbed("ecs")
    expect_describe(stubber, None)
    assert ecs.describe_cluster(client, "onprem") is None


def test_aws_errors_become_one_collection_exception(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_client_error("describe_clusters", "AccessDeniedException", "not allowed")
    with pytest.raises(ecs.AnsibleECSError) as raised:
        ecs.describe_cluster(client, "onprem")
    assert raised.value.message == "Failed to describe cluster"


# ---------------------------------------------------------------- concurrent runs creating the same cluster


def create_params(**tags):
    params = dict(clusterName="onprem", settings=[dict(name="containerInsights", value="enabled")])
    if tags:
        params["tags"] = ecs.ecs_tags(tags)
    return params


def test_cluster_created_meanwhile_by_another_run_is_converged(stubbed):
    client, stubber = stubbed("ecs")
    theirs = aws_cluster({"team": "other"}, "disabled")
    # AWS answers CreateCluster for the existing cluster with that cluster, as it is.
    stubber.add_response("create_cluster", dict(cluster=theirs), create_params(team="platform"))
    expect_describe(stubber, theirs)
    stubber.add_response(
        "update_cluster",
        dict(cluster=aws_cluster({"team": "other"}, "enabled")),
        dict(cluster="onprem", settings=[dict(name="containerInsights", value="enabled")]),
    )
    stubber.add_response("tag_resource", {}, dict(resourceArn=ARN, tags=ecs.ecs_tags({"team": "platform"})))
    expect_describe(stubber, aws_cluster({"team": "platform"}, "enabled"))
    module = Module(params(container_insights="enabled", tags={"team": "platform"}, purge_tags=False))

    before, after = cluster_module.ensure_present(module, client, None)

    assert before is None
    assert (after["container_insights"], after["tags"]) == ("enabled", {"team": "platform"})


def test_a_refused_concurrent_create_reads_the_cluster_back(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_client_error(
        "create_cluster", "ResourceInUseException", "being created", expected_params=create_params()
    )
    expect_describe(stubber, aws_cluster(insights="enabled"))  # what create_cluster reads back
    expect_describe(stubber, aws_cluster(insights="enabled"))  # what ensure_present converges
    module = Module(params(container_insights="enabled"))

    _before, after = cluster_module.ensure_present(module, client, None)

    assert after["cluster_arn"] == ARN


def test_a_refused_create_with_no_cluster_after_it_fails(stubbed):
    client, stubber = stubbed("ecs")
    stubber.add_client_error("create_cluster", "AccessDeniedException", "not allowed", expected_params=create_params())
    expect_describe(stubber, None)

    with pytest.raises(ecs.AnsibleECSError) as raised:
        ecs.create_cluster(client, "onprem", [dict(name="containerInsights", value="enabled")], None)

    assert raised.value.message == "Failed to create cluster"
