# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters: the fleet as a person reads it -- fleet_info's records classified into problems, problems first.

Pure functions of fleet_info's ``instances`` (no AWS call, no clock): the same fleet gives the same report, and
every rule is unit-tested on plain dicts (tests/unit/plugins/filter/test_fleet_report.py).
"""

import re
from datetime import datetime
from datetime import timezone

from ansible.errors import AnsibleFilterError

#: Problem kinds, in the order the report lists them, with their severity and a short title.
KINDS = (
    ("ping_lost", "problem", "SSM ping lost"),
    ("agent_disconnected", "problem", "ECS agent disconnected"),
    ("ssm_only", "problem", "registered in SSM only"),
    ("ecs_only", "problem", "registered in ECS only"),
    ("stale", "problem", "stale registration"),
    ("duplicate_name", "warning", "computer name online twice"),
    ("ssm_agent_outdated", "warning", "old SSM agent"),
    ("ecs_agent_outdated", "warning", "old ECS agent"),
    ("draining", "warning", "draining"),
)
SEVERITY = {kind: severity for kind, severity, _title in KINDS}
TITLES = {kind: title for kind, _severity, title in KINDS}
SEVERITY_RANK = {"problem": 0, "warning": 1, "ok": 2}
VERSION = re.compile(r"^\s*v?(\d+(?:\.\d+)*)")


def version_key(value):
    """``"3.3.1957.0"`` -> ``(3, 3, 1957, 0)``; None for a missing or unreadable version (never compared)."""
    match = VERSION.match(value) if isinstance(value, str) else None
    if not match:
        return None
    parts = [int(p) for p in match.group(1).split(".")]
    while len(parts) > 1 and parts[-1] == 0:  # 1.89 == 1.89.0
        parts.pop()
    return tuple(parts)


def _when(value):
    """An ISO 8601 time as a naive UTC datetime for ordering (missing or unreadable: the oldest)."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _short(value):
    """An ISO 8601 time as ``2026-11-29 10:00 UTC`` for messages (unreadable: as it is)."""
    when = _when(value)
    return when.strftime("%Y-%m-%d %H:%M UTC") if when != datetime.min else (value or "never")


def _newest(records, field):
    keyed = [(version_key(r.get(field)), r.get(field)) for r in records]
    keyed = [k for k in keyed if k[0] is not None]
    return max(keyed)[1] if keyed else None


def _check_target(name, value):
    if value in (None, ""):
        return None
    if version_key(value) is None:
        raise AnsibleFilterError("fleet_report: %s %r is not a version like 1.89.0" % (name, value))
    return str(value)


def _outdated(record, field, newest, target, is_latest=None):
    """Why the agent version in ``field`` is old, or None."""
    current = record.get(field)
    key = version_key(current)
    reasons = []
    if target and key is not None and key < version_key(target):
        reasons.append("older than the target %s" % target)
    elif newest and key is not None and key < version_key(newest):
        reasons.append("older than %s, the newest in the fleet" % newest)
    if is_latest is False:
        reasons.append("SSM reports it is not the latest")
    return "%s %s" % (current, " and ".join(reasons)) if reasons else None


def _name_groups(records):
    """{lower-case computer name: [records]} for names registered more than once."""
    groups = {}
    for record in records:
        name = record.get("computer_name")
        if name:
            groups.setdefault(name.lower(), []).append(record)
    return {name: group for name, group in groups.items() if len(group) > 1}


def _name_problems(records):
    """{managed instance id: (kind, message)} for stale and duplicate registrations of one computer name."""
    found = {}
    for group in _name_groups(records).values():
        newest = max(group, key=lambda r: (_when(r.get("registration_date")), r.get("ping_status") == "Online"))
        online = [r for r in group if r.get("ping_status") == "Online"]
        for record in group:
            if record is newest:
                continue
            if record.get("ping_status") != "Online":
                found[record["managed_instance_id"]] = (
                    "stale",
                    "%s registered again as %s on %s; this id is left over (deregister it)"
                    % (record["computer_name"], newest["managed_instance_id"], _short(newest.get("registration_date"))),
                )
        if len(online) > 1:
            others = sorted(r["managed_instance_id"] for r in online)
            for record in online:
                found[record["managed_instance_id"]] = (
                    "duplicate_name",
                    "%s is online as %s (cloned host name?)" % (record["computer_name"], ", ".join(others)),
                )
    return found


def classify(record, newest, targets, name_problems):
    """The problems of one fleet_info record: a list of ``{kind, severity, message}``."""
    found = []

    def add(kind, message):
        found.append(dict(kind=kind, severity=SEVERITY[kind], title=TITLES[kind], message=message))

    if record.get("ping_status") in ("ConnectionLost", "Inactive"):
        add("ping_lost", "SSM ping %s, last ping %s" % (record["ping_status"], _short(record.get("last_ping"))))
    if record.get("agent_connected") is False:
        add("agent_disconnected", "ECS agent not connected to cluster %s" % record.get("cluster"))
    if record.get("registered_in") == "ssm":
        add("ssm_only", "SSM managed instance without a container instance in the clusters reported (half-onboarded)")
    if record.get("registered_in") == "ecs":
        add("ecs_only", "container instance in %s whose SSM registration is gone" % record.get("cluster"))
    if record.get("managed_instance_id") in name_problems:
        add(*name_problems[record["managed_instance_id"]])
    ssm_old = _outdated(record, "ssm_agent_version", newest["ssm"], targets["ssm"], record.get("ssm_agent_is_latest"))
    if ssm_old:
        add("ssm_agent_outdated", "SSM agent " + ssm_old)
    ecs_old = _outdated(record, "ecs_agent_version", newest["ecs"], targets["ecs"])
    if ecs_old:
        add("ecs_agent_outdated", "ECS agent " + ecs_old)
    if record.get("ecs_status") == "DRAINING":
        add("draining", "container instance DRAINING (%d tasks running)" % (record.get("running_tasks_count") or 0))
    return found


def _sort_key(record):
    return (
        SEVERITY_RANK[record["severity"]],
        -len(record["problems"]),
        record.get("cluster") or "",
        record["host"].lower(),
        record.get("managed_instance_id") or "",
    )


def fleet_report(instances, ssm_agent_version=None, ecs_agent_version=None):
    """fleet_info's ``instances`` -> ``{summary, instances}``, each instance with ``problems`` and ``severity``."""
    if not isinstance(instances, list) or not all(isinstance(r, dict) for r in instances):
        raise AnsibleFilterError("fleet_report: the input must be fleet_info's instances, a list of dicts")
    targets = dict(
        ssm=_check_target("ssm_agent_version", ssm_agent_version),
        ecs=_check_target("ecs_agent_version", ecs_agent_version),
    )
    newest = dict(ssm=_newest(instances, "ssm_agent_version"), ecs=_newest(instances, "ecs_agent_version"))
    name_problems = _name_problems(instances)
    records = []
    for instance in instances:
        record = dict(instance)
        record["host"] = instance.get("computer_name") or instance.get("name") or instance.get("managed_instance_id")
        record["problems"] = classify(instance, newest, targets, name_problems)
        severities = [p["severity"] for p in record["problems"]] or ["ok"]
        record["severity"] = min(severities, key=SEVERITY_RANK.get)
        records.append(record)
    records.sort(key=_sort_key)
    by_kind = {kind: sum(1 for r in records if any(p["kind"] == kind for p in r["problems"])) for kind, _s, _t in KINDS}
    clusters = {}
    for record in records:
        clusters[record.get("cluster") or ""] = clusters.get(record.get("cluster") or "", 0) + 1
    summary = dict(
        total=len(records),
        problem=sum(1 for r in records if r["severity"] == "problem"),
        warning=sum(1 for r in records if r["severity"] == "warning"),
        ok=sum(1 for r in records if r["severity"] == "ok"),
        online=sum(1 for r in records if r.get("ping_status") == "Online"),
        by_kind=by_kind,
        titles=dict(TITLES),
        by_cluster=clusters,
        newest_ssm_agent_version=newest["ssm"],
        newest_ecs_agent_version=newest["ecs"],
        target_ssm_agent_version=targets["ssm"],
        target_ecs_agent_version=targets["ecs"],
    )
    return dict(summary=summary, instances=records)


TABLE_COLUMNS = (
    ("STATUS", lambda r: r["severity"]),
    ("CLUSTER", lambda r: r.get("cluster") or "-"),
    ("HOST", lambda r: r["host"]),
    ("MANAGED INSTANCE", lambda r: r.get("managed_instance_id") or "-"),
    ("PING", lambda r: r.get("ping_status") or "-"),
    ("ECS", lambda r: r.get("ecs_status") or "-"),
    ("SSM AGENT", lambda r: r.get("ssm_agent_version") or "-"),
    ("ECS AGENT", lambda r: r.get("ecs_agent_version") or "-"),
    ("PROBLEMS", lambda r: ", ".join(p["kind"] for p in r["problems"]) or "-"),
)


def fleet_report_table(report, max_rows=0):
    """A fleet_report as lines of a fixed-width table: a summary line, the header, one line per instance.

    With ``max_rows``, only the first rows (problems come first) and a line saying how many are left out.
    """
    if not isinstance(report, dict) or "instances" not in report or "summary" not in report:
        raise AnsibleFilterError("fleet_report_table: the input must be the result of fleet_report")
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 0:
        raise AnsibleFilterError("fleet_report_table: max_rows must be a whole number >= 0, not %r" % (max_rows,))
    summary = report["summary"]
    shown = report["instances"][:max_rows] if max_rows else report["instances"]
    rows = [[str(get(r)) for _name, get in TABLE_COLUMNS] for r in shown]
    header = [name for name, _get in TABLE_COLUMNS]
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(len(header))]
    kinds = ", ".join("%s %d" % (kind, n) for kind, n in summary["by_kind"].items() if n)
    lines = [
        "%d instances: %d with problems, %d with warnings, %d ok%s"
        % (summary["total"], summary["problem"], summary["warning"], summary["ok"], " (%s)" % kinds if kinds else "")
    ]
    for row in [header] + rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    if len(shown) < len(report["instances"]):
        lines.append("... and %d more (see the report files)" % (len(report["instances"]) - len(shown)))
    return lines


class FilterModule:
    def filters(self):
        return {"fleet_report": fleet_report, "fleet_report_table": fleet_report_table}
