#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: fleet_info
version_added: 0.1.0
short_description: Joined view of SSM managed instances and ECS external container instances
description:
  - Lists ECS Anywhere hosts as one record per instance, joining the SSM managed instance (hybrid activation
    registration, agent ping) with the ECS container instance it registered (cluster, status, agent, tasks) on the
    C(mi-) id.
  - Instances known to only one side are reported as such (RV(instances[].registered_in)), which is how stale and
    half-onboarded hosts show up.
  - "The cost grows with pages, not instances: one C(DescribeInstanceInformation) call per 50 instances, one
    C(ListContainerInstances) call per 100 container instances per cluster (narrowed with the cluster query language),
    one C(DescribeContainerInstances) call per 100."
  - With O(instance_ids), up to 50 of them are looked up in a cluster with one query language expression; more are
    found by listing the cluster's external container instances whole (a call per 100 instances rather than per 50
    ids).
  - SSM and ECS are read side by side (two threads), so the wait for one service overlaps the other's.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  clusters:
    description:
      - Clusters whose container instances to join (names or ARNs). Empty means every cluster of the region.
    type: list
    elements: str
    default: []
  instance_ids:
    description: Only these managed instances (C(mi-) ids).
    type: list
    elements: str
    default: []
  computer_names:
    description: Only instances with these host names.
    type: list
    elements: str
    default: []
  ip_addresses:
    description: Only instances with these IP addresses.
    type: list
    elements: str
    default: []
  ping_status:
    description: Only instances with these SSM ping statuses.
    type: list
    elements: str
    choices: [Online, ConnectionLost, Inactive]
    default: []
  tags:
    description:
      - Only managed instances carrying all these tags (SSM tags, as copied from the activation).
      - Instances known only to ECS are then left out, since they have no SSM tags to match.
    type: dict
    default: {}
  registered_in:
    description: Only instances known to these sides (V(both), V(ssm) only, V(ecs) only).
    type: list
    elements: str
    choices: [both, ssm, ecs]
    default: []
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - ecs_anywhere.fleet.attributes.info_module
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Every ECS Anywhere host of the region
  ecs_anywhere.fleet.fleet_info:
  register: fleet

- name: Hosts of one cluster that lost their SSM connection
  ecs_anywhere.fleet.fleet_info:
    clusters: [onprem]
    ping_status: [ConnectionLost]
  register: lost

- name: Half-onboarded hosts (registered with SSM, never joined ECS)
  ecs_anywhere.fleet.fleet_info:
    clusters: [onprem]
    registered_in: [ssm]
  register: half

- name: Show them
  ansible.builtin.debug:
    msg: "{{ half.instances | map(attribute='computer_name') | list }}"
"""

RETURN = r"""
instances:
  description: One record per instance, sorted by managed instance id.
  returned: always
  type: list
  elements: dict
  contains:
    managed_instance_id:
      description: The C(mi-) id (also the container instance's C(ec2InstanceId)).
      type: str
      sample: mi-0123456789abcdef0
    registered_in:
      description: Which side knows the instance, V(both), V(ssm) (never joined ECS, or in another cluster) or V(ecs) (SSM registration gone).
      type: str
      sample: both
    name:
      description: SSM instance name (the activation's default instance name).
      type: str
      sample: onprem-host
    computer_name:
      description: Host name reported by the SSM agent.
      type: str
      sample: rack1-node07
    ip_address:
      description: IP address reported by the SSM agent.
      type: str
      sample: 10.20.0.7
    ping_status:
      description: SSM ping status.
      type: str
      sample: Online
    last_ping:
      description: Last SSM agent heartbeat (ISO 8601).
      type: str
      sample: "2026-11-29T06:00:00+00:00"
    ssm_agent_version:
      description: SSM agent version.
      type: str
      sample: 3.3.1142.0
    ssm_agent_is_latest:
      description: Whether SSM considers the agent current.
      type: bool
      sample: true
    platform_type:
      description: Platform type.
      type: str
      sample: Linux
    platform_name:
      description: Platform name.
      type: str
      sample: Debian GNU/Linux
    platform_version:
      description: Platform version.
      type: str
      sample: "12"
    registration_date:
      description: When the instance registered with SSM (ISO 8601).
      type: str
      sample: "2026-11-28T10:00:00+00:00"
    activation_id:
      description: Activation it registered with.
      type: str
      sample: 3c5c2d5e-1a2b-4c3d-8e9f-0123456789ab
    iam_role:
      description: IAM role of the managed instance.
      type: str
      sample: ECSAnywhereRole
    cluster:
      description: Cluster of the container instance.
      type: str
      sample: onprem
    container_instance_arn:
      description: ARN of the container instance.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef
    ecs_status:
      description: Container instance status (ACTIVE, DRAINING, ...).
      type: str
      sample: ACTIVE
    ecs_status_reason:
      description: Reason for the status, when ECS gives one.
      type: str
      sample: null
    agent_connected:
      description: Whether the ECS agent is connected.
      type: bool
      sample: true
    ecs_agent_version:
      description: ECS agent version.
      type: str
      sample: 1.90.0
    docker_version:
      description: Docker version reported by the ECS agent.
      type: str
      sample: DockerVersion 26.1.5
    running_tasks_count:
      description: Running tasks.
      type: int
      sample: 2
    pending_tasks_count:
      description: Pending tasks.
      type: int
      sample: 0
    registered_at:
      description: When the container instance registered (ISO 8601).
      type: str
      sample: "2026-11-28T10:01:00+00:00"
    ecs_tags:
      description: Tags of the container instance.
      type: dict
      sample: {"rack": "1"}
    ecs_attributes:
      description:
        - Custom attributes of the container instance (those the ECS agent reports, C(ecs.*), left out); V(null) for an
          attribute without value.
        - V(null) when the instance is not a container instance.
      type: dict
      sample: {"rack": "b7", "gpu": null}
summary:
  description: Counts over RV(instances).
  returned: always
  type: dict
  contains:
    total:
      description: Records.
      type: int
      sample: 3
    both:
      description: Known to SSM and ECS.
      type: int
      sample: 1
    ssm_only:
      description: Known to SSM only.
      type: int
      sample: 1
    ecs_only:
      description: Known to ECS only.
      type: int
      sample: 1
    online:
      description: SSM ping status Online.
      type: int
      sample: 2
    agent_disconnected:
      description: ECS agent not connected.
      type: int
      sample: 0
    draining:
      description: Container instances in DRAINING.
      type: int
      sample: 0
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _fleet as fleet
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator


def keep(record, params):
    if params["computer_names"] and record["computer_name"] not in params["computer_names"]:
        return False
    if params["ip_addresses"] and record["ip_address"] not in params["ip_addresses"]:
        return False
    if params["registered_in"] and record["registered_in"] not in params["registered_in"]:
        return False
    # SSM-side criteria: an instance known only to ECS cannot match them.
    ssm_criteria = params["ping_status"] or params["tags"] or params["computer_names"] or params["ip_addresses"]
    return not (ssm_criteria and record["registered_in"] == "ecs")


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="str", default=[]),
        instance_ids=dict(type="list", elements="str", default=[]),
        computer_names=dict(type="list", elements="str", default=[]),
        ip_addresses=dict(type="list", elements="str", default=[]),
        ping_status=dict(type="list", elements="str", default=[], choices=["Online", "ConnectionLost", "Inactive"]),
        tags=dict(type="dict", default={}),
        registered_in=dict(type="list", elements="str", default=[], choices=["both", "ssm", "ecs"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    v = Validator(module)
    v.each("clusters", p["clusters"], CLUSTER_NAME, "cluster name or ARN", "ecs", "cluster/")
    v.each("instance_ids", p["instance_ids"], ssm_api.MANAGED_INSTANCE_ID, "mi- followed by 17 hex digits")
    v.check()

    try:
        found = fleet.look_up(
            module.client("ssm"), module.client("ecs"), p["clusters"], p["instance_ids"], p["ping_status"], p["tags"]
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    records = [r for r in found if keep(r, p)]
    module.exit_json(changed=False, instances=records, summary=fleet.summarize(records))


if __name__ == "__main__":
    main()
