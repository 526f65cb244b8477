#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: duplicate_info
version_added: 0.1.0
short_description: Find the SSM managed instances hosts left behind when they registered anew
description:
  - A host that loses its SSM registration (re-imaged, restored from an old disk, or killed while
    C(amazon-ssm-agent -register) runs) registers again under a new C(mi-) id and leaves the old managed instance in
    SSM, so that SSM holds two managed instances for one host. The agent's own order makes the last case real. It
    saves the new private key with an empty instance id, calls C(RegisterManagedInstance), and only then saves the id
    SSM returned (aws/amazon-ssm-agent C(core/agent_parser.go)).
  - Given the hosts that registered anew (O(hosts)), finds the managed instances they left behind among those
    registered with O(iam_role) that are not Online and that no host holds (O(known_instance_ids)), by what links them
    to a host in SSM's public API, either of these.
  - "An instance whose C(ComputerName) (the fully qualified host name the agent reports with each ping) is the one
    the host's new instance reports, unless both report an C(IPAddress) and the two differ (cloned machines often
    share a default host name; that one is only listed in RV(kept));"
  - For a host whose SSM vault showed an interrupted registration (O(hosts[].interrupted)), an instance that never
    connected (no ping) and whose activation is deleted or expired, so that no run can still be registering with it.
  - Never reports an Online instance, one of another instance role, or one two hosts of O(hosts) could both own (that
    one is in RV(kept), with the reason).
  - "Cost: one C(DescribeInstanceInformation) call per 50 managed instances of the role that are not Online; one
    C(DescribeActivations) call only when a never-connected instance is to be linked to an interrupted registration."
  - Reads only. M(ecs_anywhere.fleet.managed_instance) with O(ecs_anywhere.fleet.managed_instance#module:state=absent)
    deregisters what it finds (and its container instance); playbooks/onboard.yml does so.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  iam_role:
    description: The instance role (name) the hosts' activations name; only managed instances of this role are considered.
    type: str
    required: true
  hosts:
    description: The hosts that registered anew.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The host's name (inventory name), reported back in RV(duplicates[].host).
        type: str
        required: true
      instance_id:
        description: Its new managed instance (C(mi-) id).
        type: str
        required: true
      computer_name:
        description: The computer name its new managed instance reports (empty when it has not pinged yet).
        type: str
        default: ""
      ip_address:
        description:
          - The IP address its new managed instance reports (empty when it has not pinged yet). An instance with the
            same computer name that reported another address is not taken for this host's.
        type: str
        default: ""
      interrupted:
        description:
          - Its SSM vault held a private key without an instance id before it registered anew (an interrupted or
            failed earlier registration; RV(ecs_anywhere.fleet.host_facts#module:ansible_facts.ecs_anywhere.ssm_registration.interrupted)).
        type: bool
        default: false
  known_instance_ids:
    description: Managed instances some host holds (its registration now, or at the start of the run); never reported.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - ecs_anywhere.fleet.attributes.info_module
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Managed instances a re-imaged host left behind
  ecs_anywhere.fleet.duplicate_info:
    iam_role: ECSAnywhereRole
    hosts:
      - name: rack1-node07
        instance_id: mi-0123456789abcdef1
        computer_name: rack1-node07.example.com
  register: left

- name: Deregister them (container instance, then managed instance)
  ecs_anywhere.fleet.managed_instance:
    instances: "{{ left.duplicates | map(attribute='instance_id') | list }}"
    clusters: [onprem]
    state: absent
    force: true
  when: left.duplicates | length > 0
"""

RETURN = r"""
duplicates:
  description: Managed instances left behind by one of O(hosts), sorted by id.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host it belonged to (for an interrupted registration with several such hosts, their names).
      type: str
      sample: rack1-node07
    instance_id:
      description: The managed instance left behind.
      type: str
      sample: mi-0123456789abcdef0
    reason:
      description: What links it to the host.
      type: str
      sample: "same computer name rack1-node07.example.com as the host's new managed instance, ConnectionLost since 2026-11-29T06:00:00+00:00"
    computer_name:
      description: Its computer name (V(null) when it never connected).
      type: str
      sample: rack1-node07.example.com
    ping_status:
      description: Its SSM ping status.
      type: str
      sample: ConnectionLost
    last_ping:
      description: Its last ping (ISO 8601; V(null) when it never connected).
      type: str
      sample: "2026-11-29T06:00:00+00:00"
    registration_date:
      description: When it registered (ISO 8601).
      type: str
      sample: "2026-11-28T10:00:00+00:00"
    activation_id:
      description: The activation it registered with.
      type: str
      sample: 3c5c2d5e-1a2b-4c3d-8e9f-0123456789ab
kept:
  description: Instances that may be a host's, left alone, with the reason (same fields as RV(duplicates)).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The hosts it may belong to.
      type: str
      sample: rack1-node07, rack2-node07
    instance_id:
      description: The managed instance.
      type: str
      sample: mi-0123456789abcdef0
    reason:
      description: Why it was left alone.
      type: str
      sample: "computer name node07 is reported by several hosts of this run: which one it was is unknown"
    computer_name:
      description: Its computer name.
      type: str
      sample: node07
    ping_status:
      description: Its SSM ping status.
      type: str
      sample: ConnectionLost
    last_ping:
      description: Its last ping (ISO 8601).
      type: str
      sample: "2026-11-29T06:00:00+00:00"
    registration_date:
      description: When it registered (ISO 8601).
      type: str
      sample: "2026-11-28T10:00:00+00:00"
    activation_id:
      description: The activation it registered with.
      type: str
      sample: 3c5c2d5e-1a2b-4c3d-8e9f-0123456789ab
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _duplicates as duplicates
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator


def main():
    argument_spec = dict(
        iam_role=dict(type="str", required=True),
        hosts=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                instance_id=dict(type="str", required=True),
                computer_name=dict(type="str", default=""),
                ip_address=dict(type="str", default=""),
                interrupted=dict(type="bool", default=False),
            ),
        ),
        known_instance_ids=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    v = Validator(module)
    v.each(
        "hosts[].instance_id",
        [h["instance_id"] for h in p["hosts"]],
        ssm_api.MANAGED_INSTANCE_ID,
        "mi- followed by 17 hex digits",
    )
    v.each("known_instance_ids", p["known_instance_ids"], ssm_api.MANAGED_INSTANCE_ID, "mi- followed by 17 hex digits")
    v.check()

    client = module.client("ssm")
    try:
        candidates = duplicates.not_online(client, p["iam_role"]) if p["hosts"] else []
        unconnected = duplicates.unconnected_activations(candidates, p["hosts"], p["known_instance_ids"])
        live = duplicates.live_activations(client, unconnected) if unconnected else set()
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    found, kept = duplicates.find(candidates, p["hosts"], p["known_instance_ids"], live)
    module.exit_json(changed=False, duplicates=found, kept=kept)


if __name__ == "__main__":
    main()
