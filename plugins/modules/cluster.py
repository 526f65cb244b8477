#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cluster
version_added: 0.1.0
short_description: Manage the Amazon ECS cluster that ECS Anywhere instances join
description:
  - Creates, updates and deletes an Amazon ECS cluster for external (ECS Anywhere) instances.
  - Manages the cluster's tags and its CloudWatch Container Insights setting.
  - Deleting a cluster that still has registered container instances is refused unless O(force=true).
  - "O(tags): at most 50; keys of 1 to 128 and values of up to 256 letters (of any script), digits, spaces and
    C(_ . : / = + - @), no newlines or other control characters; keys starting with C(aws:), in any case, are
    reserved for AWS. Bad input fails before any AWS call."
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  name:
    description:
      - Name of the cluster. Up to 255 letters, digits, hyphens and underscores.
    type: str
    required: true
    aliases: [cluster]
  state:
    description:
      - V(present) ensures the cluster exists with the given settings and tags.
      - V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  container_insights:
    description:
      - CloudWatch Container Insights for the cluster.
      - When not set, a new cluster takes the account default and an existing cluster is left as it is.
    type: str
    choices: [enabled, disabled, enhanced]
  force:
    description:
      - With O(state=absent), deregister the cluster's container instances first, then delete the cluster.
      - Without it, deleting a cluster that has registered container instances fails and changes nothing.
      - Deregistering does not stop the agents on the hosts; offboard them too.
    type: bool
    default: false
notes:
  - Concurrent runs creating the same cluster (for example AWX job slices on a fresh account) all succeed; Amazon ECS
    answers C(CreateCluster) for an existing cluster with that cluster, which the module then reads back and brings to
    the requested Container Insights setting and tags.
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows whether the cluster exists, its Container Insights setting and its tags.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Ensure the cluster for on-prem hosts
  ecs_anywhere.fleet.cluster:
    name: onprem
    container_insights: enabled
    tags:
      team: platform
  register: cluster

- name: Delete a cluster, deregistering any instances still registered
  ecs_anywhere.fleet.cluster:
    name: onprem-old
    state: absent
    force: true
"""

RETURN = r"""
cluster:
  description: The cluster after the change (empty when O(state=absent)).
  returned: always
  type: dict
  contains:
    cluster_arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:cluster/onprem
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: onprem
    status:
      description: Status of the cluster.
      type: str
      sample: ACTIVE
    container_insights:
      description: The Container Insights setting, when the cluster reports one.
      type: str
      sample: enabled
    registered_container_instances_count:
      description: Number of container instances registered to the cluster.
      type: int
      sample: 3
    running_tasks_count:
      description: Number of tasks running in the cluster.
      type: int
      sample: 5
    pending_tasks_count:
      description: Number of tasks pending in the cluster.
      type: int
      sample: 0
    active_services_count:
      description: Number of active services in the cluster.
      type: int
      sample: 1
    tags:
      description: Tags of the cluster.
      type: dict
      sample: {"team": "platform"}
deregistered_container_instances:
  description: ARNs of container instances deregistered (or that would be) because of O(force=true).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _cluster as clusters
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish


def ensure_present(module, client, current):
    p = module.params
    return clusters.ensure_present(
        client, p["name"], p["container_insights"], p["tags"], p["purge_tags"], module.check_mode, current
    )


def ensure_absent(module, client, current):
    name = module.params["name"]
    before = clusters.summarize(current)
    if before is None:
        return before, None, []
    instances = ecs.list_container_instances(client, name)
    if instances and not module.params["force"]:
        module.fail_json(
            msg=(
                "Cluster %s still has %d registered container instance(s); nothing was changed. "
                "Offboard or deregister them first, or set force=true to deregister them." % (name, len(instances))
            ),
            container_instances=instances,
        )
    if not module.check_mode:
        for arn in instances:
            ecs.deregister_container_instance(client, name, arn, force=True)
        ecs.delete_cluster(client, name)
    return before, None, instances


def validate(module):
    """Every input rule, before any AWS call: the region, the name and ECS's tag rules."""
    validator = Validator(module)
    validator.region()
    clusters.validate(validator, "name", [module.params["name"]], module.params["tags"])
    validator.check()


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["cluster"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        container_insights=dict(type="str", choices=["enabled", "disabled", "enhanced"]),
        force=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    validate(module)

    client = module.client("ecs")
    try:
        current = ecs.describe_cluster(client, module.params["name"])
        if module.params["state"] == "present":
            before, after = ensure_present(module, client, current)
            finish(module, clusters.diffable(before), clusters.diffable(after), cluster=after or {})
        before, after, deregistered = ensure_absent(module, client, current)
        finish(
            module,
            clusters.diffable(before),
            clusters.diffable(after),
            cluster={},
            deregistered_container_instances=deregistered,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
