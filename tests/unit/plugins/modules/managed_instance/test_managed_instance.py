# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.modules import managed_instance
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import managed_instance_params
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule
from ansible_collections.ecs_anywhere.fleet.tests.unit.support import ModuleFailed


def record(n, status="ACTIVE", tasks=0, cluster="onprem"):
    return dict(
        managed_instance_id="mi-%017x" % n,
        cluster=cluster,
        container_instance_arn="arn:aws:ecs:eu-west-1:123456789012:container-instance/%s/%032x" % (cluster, n),
        ecs_status=status,
        running_tasks_count=tasks,
        ssm_registered=True,
    )


def params(**overrides):
    return managed_instance_params(**dict({"state": "draining"}, **overrides))


def test_draining_is_sent_ten_per_call_only_for_instances_not_yet_draining(stubbed):
    client, stubber = stubbed("ecs")
    before = [record(n) for n in range(12)] + [record(99, status="DRAINING")]
    arns = [r["container_instance_arn"] for r in before[:12]]
    for batch in (arns[:10], arns[10:]):
        stubber.add_response(
            "update_container_instances_state",
            dict(containerInstances=[], failures=[]),
            dict(cluster="onprem", containerInstances=batch, status="DRAINING"),
        )

    after = managed_instance.set_state(FakeModule(params()), client, before, "DRAINING")

    assert {r["ecs_status"] for r in after} == {"DRAINING"}
    assert before[0]["ecs_status"] == "ACTIVE"  # before is left as it was, for the diff


def test_check_mode_predicts_without_calls(stubbed):
    client, _stubber = stubbed("ecs")
    after = managed_instance.set_state(FakeModule(params(), check_mode=True), client, [record(1)], "DRAINING")
    assert after[0]["ecs_status"] == "DRAINING"


def test_an_instance_without_container_instance_fails_before_any_call(stubbed):
    client, _stubber = stubbed("ecs")
    missing = dict(record(2), cluster=None, container_instance_arn=None, ecs_status=None)
    with pytest.raises(ModuleFailed) as failed:
        managed_instance.set_state(FakeModule(params()), client, [record(1), missing], "DRAINING")
    assert missing["managed_instance_id"] in failed.value.kwargs["msg"]


def test_absent_refuses_busy_instances_unless_forced(stubbed):
    ssm, ssm_stubber = stubbed("ssm")
    ecs_client, stubber = stubbed("ecs")
    busy = record(3, tasks=2)
    with pytest.raises(ModuleFailed) as failed:
        managed_instance.remove(FakeModule(params(state="absent")), ssm, ecs_client, [record(1), busy])
    assert (
        busy["managed_instance_id"] in failed.value.kwargs["msg"]
        and "Nothing was changed" in failed.value.kwargs["msg"]
    )

    stubber.add_response(
        "deregister_container_instance",
        dict(containerInstance=dict(containerInstanceArn=busy["container_instance_arn"])),
        dict(cluster="onprem", containerInstance=busy["container_instance_arn"], force=True),
    )
    ssm_stubber.add_response("deregister_managed_instance", {}, dict(InstanceId=busy["managed_instance_id"]))
    after = managed_instance.remove(FakeModule(params(state="absent", force=True)), ssm, ecs_client, [busy])
    assert after[0]["container_instance_arn"] is None and after[0]["ssm_registered"] is False
