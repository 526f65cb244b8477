# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's AWS calls in the emulator's call log, and issue 12's budgets for them.

The emulator logs each call's SigV4 access key (``access_key``): the controller signs with its own key (the
inventory's ``aws_access_key_id``); the SSM agent signs its instance calls with the managed instance id and its other
calls, like the ECS agent, with the STS session keys of the instance role (``ASIA...``); RegisterManagedInstance is
unsigned. So the controller's calls are exactly those signed with the controller's key.
"""

import collections


def ceil_div(count, size):
    return -(-count // size)


def budget_fresh(hosts):
    """Controller calls allowed for onboarding ``hosts`` fresh hosts: 12 + 2*ceil(N/50) + 2*ceil(N/100)."""
    return 12 + 2 * ceil_div(hosts, 50) + 2 * ceil_div(hosts, 100)


def budget_noop(hosts):
    """Controller calls allowed for a no-op re-run over ``hosts`` hosts: 8 + ceil(N/50) + 2*ceil(N/100)."""
    return 8 + ceil_div(hosts, 50) + 2 * ceil_div(hosts, 100)


def controller_calls(calls, access_key):
    """The calls of the emulator's call log signed with the controller's access key."""
    return [call for call in calls if call.get("access_key") == access_key]


def by_operation(calls):
    """{"service:Operation": count}, sorted."""
    return dict(sorted(collections.Counter("%s:%s" % (c["service"], c["operation"]) for c in calls).items()))
