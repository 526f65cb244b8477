# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the SSM managed instances a host left behind when it registered anew.

A host that loses its registration (re-imaged, restored from an old disk, or killed while ``amazon-ssm-agent
-register`` runs) registers again under a new ``mi-`` id; the old one stays in SSM. The agent's own order makes the
last case real: aws/amazon-ssm-agent core/agent_parser.go ``registerManagedInstance`` saves the new private key with an
empty instance id, calls ``RegisterManagedInstance``, and only then saves the id SSM returned -- killed in between,
SSM holds a managed instance the host never kept, and the host's vault a key without an id.

What links a left-behind instance to a host, from SSM's public API alone (DescribeInstanceInformation):

* ``ComputerName``, the fully qualified host name the agent reports with every ping: an instance that pinged as the
  host did and is no longer Online -- unless both report an ``IPAddress`` and they differ (cloned machines often share
  a default host name: such an instance is only reported as left alone);
* for a host whose vault shows an interrupted registration (a key without an id), an instance that never connected
  (no ping, no computer name) and whose activation is gone (deleted or expired): no run can still be registering with
  it, so no host is about to start with that instance.

Only instances of the collection's instance role that are not Online and that no host of the run holds are
considered; an instance two hosts of the run could both own is reported and left alone.
"""

import datetime

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import pages

#: Ping statuses of a managed instance no agent answers for now (botocore: Online | ConnectionLost | Inactive).
NOT_ONLINE = ("ConnectionLost", "Inactive")


@ssm_api.FleetRetry.jittered_backoff()
def _page(client, **params):
    return client.describe_instance_information(**params)


@ssm_api.ManagedInstanceErrorHandler.common_error_handler("describe managed instances")
def not_online(client, iam_role):
    """Managed (hybrid) instances registered with ``iam_role`` that are not Online: one call per 50."""
    filters = [
        dict(Key="ResourceType", Values=["ManagedInstance"]),
        dict(Key="IamRole", Values=[iam_role]),
        dict(Key="PingStatus", Values=list(NOT_ONLINE)),
    ]
    return pages(
        lambda **p: _page(client, **p), "InstanceInformationList", Filters=filters, MaxResults=ssm_api.SSM_PAGE
    )


def live_activations(client, activation_ids):
    """Of ``activation_ids``, those that still exist and have not expired (one call per 50 ids... at most a few)."""
    live = set()
    ids = sorted(set(activation_ids))
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        found = ssm_api.describe_activations(client, [dict(FilterKey="ActivationIds", FilterValues=chunk)])
        live.update(a["ActivationId"] for a in found if not a.get("Expired"))
    return live


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def _record(info, host, reason):
    return dict(
        host=host,
        instance_id=info["InstanceId"],
        reason=reason,
        computer_name=info.get("ComputerName"),
        ping_status=info.get("PingStatus"),
        last_ping=_iso(info.get("LastPingDateTime")),
        registration_date=_iso(info.get("RegistrationDate")),
        activation_id=info.get("ActivationId"),
    )


def find(candidates, hosts, known_ids, live_activation_ids=None):
    """Split ``candidates`` (DescribeInstanceInformation records, not Online, of the role) into duplicates of
    ``hosts`` (dicts name, instance_id, computer_name, ip_address, interrupted: the hosts that registered anew) and instances
    left alone for a reason worth telling. ``known_ids``: instances some host holds (never touched).
    ``live_activation_ids``: activations that still exist (None: not looked up yet). Returns (duplicates, kept)."""
    known = set(known_ids) | {h["instance_id"] for h in hosts}
    by_name = {}
    for host in hosts:
        if host.get("computer_name"):
            by_name.setdefault(host["computer_name"].lower(), []).append(host["name"])
    addresses = {h["name"]: h.get("ip_address") or "" for h in hosts}
    interrupted = sorted(h["name"] for h in hosts if h.get("interrupted"))
    duplicates, kept = [], []
    for info in sorted(candidates, key=lambda i: i["InstanceId"]):
        if info["InstanceId"] in known or info.get("PingStatus") not in NOT_ONLINE:
            continue
        name = info.get("ComputerName") or ""
        if name:
            owners = by_name.get(name.lower(), [])
            address, owner_address = info.get("IPAddress"), addresses.get(owners[0]) if len(owners) == 1 else None
            if len(owners) == 1 and address and owner_address and address != owner_address:
                kept.append(
                    _record(
                        info,
                        owners[0],
                        "same computer name %s, but it reported the address %s and the host now reports %s: it may be"
                        " another machine with the same name" % (name, address, owner_address),
                    )
                )
            elif len(owners) == 1:
                duplicates.append(
                    _record(
                        info,
                        owners[0],
                        "same computer name %s as the host's new managed instance, %s since %s"
                        % (name, info.get("PingStatus"), _iso(info.get("LastPingDateTime")) or "its registration"),
                    )
                )
            elif owners:
                kept.append(
                    _record(
                        info,
                        ", ".join(owners),
                        "computer name %s is reported by several hosts of this run: which one it was is unknown" % name,
                    )
                )
            continue
        if info.get("LastPingDateTime") or not interrupted:
            continue
        if live_activation_ids is None or info.get("ActivationId") in live_activation_ids:
            kept.append(
                _record(
                    info,
                    ", ".join(interrupted),
                    "never connected, but its activation %s is still live: a run may be registering with it now"
                    % info.get("ActivationId"),
                )
            )
            continue
        duplicates.append(
            _record(
                info,
                ", ".join(interrupted),
                "never connected, its activation is gone, and the host's SSM vault held a key without an id (a"
                " registration interrupted after SSM had answered)",
            )
        )
    return duplicates, kept


def unconnected_activations(candidates, hosts, known_ids):
    """The activations of the never-connected candidates ``find`` would consider: to look up whether they live."""
    if not any(h.get("interrupted") for h in hosts):
        return []
    known = set(known_ids) | {h["instance_id"] for h in hosts}
    return sorted(
        {
            i["ActivationId"]
            for i in candidates
            if i["InstanceId"] not in known
            and not i.get("ComputerName")
            and not i.get("LastPingDateTime")
            and i.get("ActivationId")
        }
    )
