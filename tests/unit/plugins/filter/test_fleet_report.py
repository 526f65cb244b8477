# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report classifies fleet_info's records into problems and warnings, problems first."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ecs_anywhere.fleet.plugins.filter.fleet_report import fleet_report
from ansible_collections.ecs_anywhere.fleet.plugins.filter.fleet_report import fleet_report_table
from ansible_collections.ecs_anywhere.fleet.plugins.filter.fleet_report import version_key


def record(instance_id, **fields):
    """A fleet_info record of a healthy host known to both sides, with ``fields`` changed."""
    base = dict(
        managed_instance_id=instance_id,
        registered_in="both",
        name="onprem",
        computer_name="host-%s" % instance_id[-4:],
        ping_status="Online",
        last_ping="2026-11-29T10:00:00+00:00",
        ssm_agent_version="3.3.1957.0",
        ssm_agent_is_latest=True,
        registration_date="2026-11-01T10:00:00+00:00",
        cluster="onprem",
        container_instance_arn="arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/%s" % ("0" * 32),
        ecs_status="ACTIVE",
        agent_connected=True,
        ecs_agent_version="1.89.0",
        running_tasks_count=1,
    )
    base.update(fields)
    return base


def kinds(report, instance_id):
    [found] = [r for r in report["instances"] if r["managed_instance_id"] == instance_id]
    return sorted(p["kind"] for p in found["problems"])


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, []),
        ({"ping_status": "ConnectionLost"}, ["ping_lost"]),
        ({"ping_status": "Inactive"}, ["ping_lost"]),
        ({"agent_connected": False}, ["agent_disconnected"]),
        ({"agent_connected": None}, []),  # unknown (SSM only) is not "disconnected"
        ({"ecs_status": "DRAINING"}, ["draining"]),
        ({"ssm_agent_is_latest": False}, ["ssm_agent_outdated"]),
        ({"ssm_agent_is_latest": None}, []),
        (
            dict(registered_in="ssm", cluster=None, container_instance_arn=None, ecs_status=None, agent_connected=None),
            ["ssm_only"],
        ),
        (dict(registered_in="ecs", computer_name=None, ping_status=None, ssm_agent_version=None), ["ecs_only"]),
    ],
)
def test_each_kind_alone(fields, expected):
    report = fleet_report([record("mi-00000000000000001"), record("mi-00000000000000002", **fields)])
    assert kinds(report, "mi-00000000000000002") == expected
    assert kinds(report, "mi-00000000000000001") == []


def test_versions_older_than_the_newest_in_the_fleet_or_the_target():
    fleet = [
        record("mi-00000000000000001", ecs_agent_version="1.89.0", ssm_agent_version="3.3.1957.0"),
        record("mi-00000000000000002", ecs_agent_version="1.100.0", ssm_agent_version="3.3.1957.0"),
        record("mi-00000000000000003", ecs_agent_version=None, ssm_agent_version=None),
    ]
    report = fleet_report(fleet)
    # 1.100.0 is newer than 1.89.0 (numeric, not text, comparison)
    assert kinds(report, "mi-00000000000000001") == ["ecs_agent_outdated"]
    assert kinds(report, "mi-00000000000000002") == []
    assert kinds(report, "mi-00000000000000003") == []  # unknown versions are not compared
    assert report["summary"]["newest_ecs_agent_version"] == "1.100.0"

    targeted = fleet_report(fleet, ssm_agent_version="3.3.2000.0", ecs_agent_version="1.100")
    assert kinds(targeted, "mi-00000000000000002") == ["ssm_agent_outdated"]
    assert "older than the target 3.3.2000.0" in targeted["instances"][0]["problems"][0]["message"]
    assert targeted["summary"]["target_ssm_agent_version"] == "3.3.2000.0"


def test_reimaged_host_leaves_a_stale_id_behind():
    old = record(
        "mi-0000000000000000a",
        computer_name="rack1-node07",
        ping_status="ConnectionLost",
        registration_date="2026-10-01T10:00:00+00:00",
        registered_in="ssm",
        cluster=None,
        agent_connected=None,
        ecs_status=None,
    )
    new = record("mi-0000000000000000b", computer_name="RACK1-node07", registration_date="2026-11-20T10:00:00Z")
    report = fleet_report([new, old])
    assert kinds(report, old["managed_instance_id"]) == ["ping_lost", "ssm_only", "stale"]
    assert kinds(report, new["managed_instance_id"]) == []
    stale = [p for p in report["instances"][0]["problems"] if p["kind"] == "stale"][0]
    assert "mi-0000000000000000b" in stale["message"]


def test_newer_registration_that_lost_its_ping_does_not_make_the_older_stale():
    old = record("mi-0000000000000000a", computer_name="n1", registration_date="2026-10-01T10:00:00+00:00")
    new = record(
        "mi-0000000000000000b",
        computer_name="n1",
        ping_status="ConnectionLost",
        registration_date="2026-11-20T10:00:00Z",
    )
    report = fleet_report([old, new])
    assert kinds(report, "mi-0000000000000000a") == []
    assert kinds(report, "mi-0000000000000000b") == ["ping_lost"]


def test_one_name_online_twice_is_a_warning_on_both():
    report = fleet_report(
        [record("mi-0000000000000000a", computer_name="n1"), record("mi-0000000000000000b", computer_name="n1")]
    )
    assert kinds(report, "mi-0000000000000000a") == ["duplicate_name"]
    assert kinds(report, "mi-0000000000000000b") == ["duplicate_name"]
    assert report["summary"]["warning"] == 2


def test_problems_first_then_warnings_then_ok_and_summary():
    fleet = [
        record("mi-00000000000000001", computer_name="a"),
        record("mi-00000000000000002", computer_name="b", ecs_status="DRAINING"),
        record("mi-00000000000000003", computer_name="c", ping_status="ConnectionLost"),
        record("mi-00000000000000004", computer_name="d", ping_status="ConnectionLost", agent_connected=False),
        record("mi-00000000000000005", computer_name="e", cluster="other"),
    ]
    report = fleet_report(fleet)
    assert [r["managed_instance_id"][-1] for r in report["instances"]] == ["4", "3", "2", "1", "5"]
    assert [r["severity"] for r in report["instances"]] == ["problem", "problem", "warning", "ok", "ok"]
    summary = report["summary"]
    assert (summary["total"], summary["problem"], summary["warning"], summary["ok"]) == (5, 2, 1, 2)
    assert summary["by_kind"]["ping_lost"] == 2 and summary["by_kind"]["agent_disconnected"] == 1
    assert summary["by_kind"]["draining"] == 1 and summary["by_kind"]["stale"] == 0
    assert summary["by_cluster"] == {"onprem": 4, "other": 1}
    assert summary["online"] == 3
    # the input is not changed
    assert "problems" not in fleet[0]


def test_table_lines():
    report = fleet_report([record("mi-00000000000000001", computer_name="a", ping_status="ConnectionLost")])
    lines = fleet_report_table(report)
    assert lines[0] == "1 instances: 1 with problems, 0 with warnings, 0 ok (ping_lost 1)"
    assert lines[1].split() == [
        "STATUS",
        "CLUSTER",
        "HOST",
        "MANAGED",
        "INSTANCE",
        "PING",
        "ECS",
        "SSM",
        "AGENT",
        "ECS",
        "AGENT",
        "PROBLEMS",
    ]
    assert lines[2].split() == [
        "problem",
        "onprem",
        "a",
        "mi-00000000000000001",
        "ConnectionLost",
        "ACTIVE",
        "3.3.1957.0",
        "1.89.0",
        "ping_lost",
    ]
    # columns line up
    assert lines[1].index("HOST") == lines[2].index(" a ") + 1


def test_empty_fleet():
    report = fleet_report([])
    assert report["summary"]["total"] == 0 and report["instances"] == []
    assert len(fleet_report_table(report)) == 2


@pytest.mark.parametrize(
    "value, key",
    [
        ("1.89.0", (1, 89)),
        ("1.89", (1, 89)),
        ("v1.100.2", (1, 100, 2)),
        ("3.3.1957.0", (3, 3, 1957)),
        ("x", None),
        (None, None),
    ],
)
def test_version_key(value, key):
    assert version_key(value) == key


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("not a list",), {}, "fleet_info's instances"),
        (([1],), {}, "fleet_info's instances"),
        (([],), {"ssm_agent_version": "latest"}, "ssm_agent_version 'latest'"),
        (([],), {"ecs_agent_version": "new"}, "ecs_agent_version 'new'"),
    ],
)
def test_bad_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet_report(*args, **kwargs)
    with pytest.raises(AnsibleFilterError, match="result of fleet_report"):
        fleet_report_table([])


def test_messages_name_times_in_utc():
    lost = record("mi-00000000000000001", ping_status="ConnectionLost", last_ping="2026-11-29T12:30:59+02:00")
    never = record("mi-00000000000000002", ping_status="ConnectionLost", last_ping=None)
    report = fleet_report([lost, never])
    messages = {r["managed_instance_id"]: r["problems"][0]["message"] for r in report["instances"]}
    assert messages["mi-00000000000000001"] == "SSM ping ConnectionLost, last ping 2026-11-29 10:30 UTC"
    assert messages["mi-00000000000000002"] == "SSM ping ConnectionLost, last ping never"


def test_table_rows_can_be_limited_problems_kept():
    fleet = [record("mi-0000000000000000%d" % n, computer_name="h%d" % n) for n in range(5)]
    fleet.append(record("mi-00000000000000009", computer_name="z", agent_connected=False))
    lines = fleet_report_table(fleet_report(fleet), max_rows=2)
    assert len(lines) == 5
    assert lines[2].startswith("problem") and "mi-00000000000000009" in lines[2]
    assert lines[-1] == "... and 4 more (see the report files)"
    assert len(fleet_report_table(fleet_report(fleet), max_rows=6)) == 8


@pytest.mark.parametrize("max_rows", [-1, "3", True])
def test_table_rejects_a_bad_row_limit(max_rows):
    with pytest.raises(AnsibleFilterError, match="max_rows"):
        fleet_report_table(fleet_report([]), max_rows=max_rows)
