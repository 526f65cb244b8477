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


# ---------------------------------------------------------------- keep_managed_instance (container instance only)


def test_keep_managed_instance_deregisters_the_container_instance_only(stubbed):
    ssm, ssm_stubber = stubbed("ssm")
    ecs_client, stubber = stubbed("ecs")
    moved = record(4, cluster="onprem-a")
    stubber.add_response(
        "deregister_container_instance",
        dict(containerInstance=dict(containerInstanceArn=moved["container_instance_arn"])),
        dict(cluster="onprem-a", containerInstance=moved["container_instance_arn"], force=False),
    )
    # No SSM response is queued: a DeregisterManagedInstance call would fail the test.
    after = managed_instance.remove(
        FakeModule(params(state="absent", keep_managed_instance=True)), ssm, ecs_client, [moved]
    )

    stubber.assert_no_pending_responses()
    ssm_stubber.assert_no_pending_responses()
    assert after[0]["container_instance_arn"] is None and after[0]["ecs_status"] is None
    assert after[0]["ssm_registered"] is True and after[0]["managed_instance_id"] == moved["managed_instance_id"]


def test_keep_managed_instance_in_check_mode_calls_nothing(stubbed):
    ssm, _ssm_stubber = stubbed("ssm")
    ecs_client, _stubber = stubbed("ecs")
    module = FakeModule(params(state="absent", keep_managed_instance=True), check_mode=True)
    after = managed_instance.remove(module, ssm, ecs_client, [record(5)])
    assert after[0]["container_instance_arn"] is None and after[0]["ssm_registered"] is True


def test_keep_managed_instance_still_refuses_busy_instances(stubbed):
    ssm, _ssm_stubber = stubbed("ssm")
    ecs_client, _stubber = stubbed("ecs")
    busy = record(6, tasks=1)
    with pytest.raises(ModuleFailed) as failed:
        managed_instance.remove(FakeModule(params(state="absent", keep_managed_instance=True)), ssm, ecs_client, [busy])
    assert busy["managed_instance_id"] in failed.value.kwargs["msg"]


def test_keep_managed_instance_without_a_container_instance_changes_nothing(stubbed, monkeypatch):
    """Idempotence: once the old container instance is gone, the managed instance alone is not 'present' for absent."""
    ssm, _ssm_stubber = stubbed("ssm")
    ecs_client, _stubber = stubbed("ecs")
    gone = dict(record(7), cluster=None, container_instance_arn=None, ecs_status=None)
    module = FakeModule(params(state="absent", keep_managed_instance=True, instances=[gone["managed_instance_id"]]))
    monkeypatch.setattr(managed_instance, "find", lambda *_args: [dict(gone)])
    before, after = managed_instance.run(module, ssm, ecs_client, None, None)
    assert before == [] and after == []


@pytest.mark.parametrize("state", ["present", "active", "draining"])
def test_keep_managed_instance_is_only_valid_with_absent(state):
    module = FakeModule(params(instances=["mi-%017x" % 1], state=state, keep_managed_instance=True))
    with pytest.raises(ModuleFailed) as failed:
        managed_instance.validate(module)
    assert failed.value.kwargs["invalid_parameters"] == ["keep_managed_instance"]
    assert "only valid with state=absent" in failed.value.kwargs["msg"]
