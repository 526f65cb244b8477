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
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish


def summarize(cluster):
    """The cluster as this module reports and diffs it (None when it does not exist)."""
    if not cluster:
        return None
    settings = {s["name"]: s["value"] for s in cluster.get("settings", [])}
    return dict(
        cluster_arn=cluster["clusterArn"],
        cluster_name=cluster["clusterName"],
        status=cluster["status"],
        container_insights=settings.get("containerInsights"),
        registered_container_instances_count=cluster.get("registeredContainerInstancesCount", 0),
        running_tasks_count=cluster.get("runningTasksCount", 0),
        pending_tasks_count=cluster.get("pendingTasksCount", 0),
        active_services_count=cluster.get("activeServicesCount", 0),
        tags=ecs.ansible_tags(cluster.get("tags")),
    )


def diffable(summary):
    if not summary:
        return {}
    return dict(name=summary["cluster_name"], container_insights=summary["container_insights"], tags=summary["tags"])


def ensure_present(module, client, current):
    name = module.params["name"]
    insights = module.params["container_insights"]
    tags = module.params["tags"]
    before = summarize(current)
    if before is not None:
        return before, converge(module, client, before)

    after = dict(
        cluster_arn=None,
        cluster_name=name,
        status="ACTIVE",
        container_insights=insights,
        registered_container_instances_count=0,
        running_tasks_count=0,
        pending_tasks_count=0,
        active_services_count=0,
        tags=tags or {},
    )
    if not module.check_mode:
        settings = [dict(name="containerInsights", value=insights)] if insights else []
        created = ecs.create_cluster(client, name, settings, tags)
        # A concurrent run (AWX job slices) may have created the cluster first: then CreateCluster answers with
        # that cluster as it is, so read it back and converge its settings and tags like an existing cluster's.
        after = converge(module, client, summarize(ecs.describe_cluster(client, name) or created))
    return before, after


def converge(module, client, before):
    """Container Insights and tags of an existing cluster; returns the cluster after the change."""
    name = module.params["name"]
    insights = module.params["container_insights"]
    tags = module.params["tags"]
    after = dict(before)
    if insights and insights != before["container_insights"]:
        after["container_insights"] = insights
        if not module.check_mode:
            ecs.update_cluster_settings(client, name, [dict(name="containerInsights", value=insights)])
    if tags is not None:
        to_set, to_unset = compare_aws_tags(before["tags"], tags, module.params["purge_tags"])
        new_tags = {k: v for k, v in before["tags"].items() if k not in to_unset}
        new_tags.update(to_set)
        after["tags"] = new_tags
        if not module.check_mode:
            if to_unset:
                ecs.untag_resource(client, before["cluster_arn"], to_unset)
            if to_set:
                ecs.tag_resource(client, before["cluster_arn"], to_set)
    if after != before and not module.check_mode:
        after = summarize(ecs.describe_cluster(client, name))
    return after


def ensure_absent(module, client, current):
    name = module.params["name"]
    before = summarize(current)
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
    validator.pattern("name", module.params["name"], CLUSTER_NAME, "1-255 letters, digits, hyphens, underscores")
    validator.tags("tags", module.params["tags"], ecs.MAX_TAGS)
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
            finish(module, diffable(before), diffable(after), cluster=after or {})
        before, after, deregistered = ensure_absent(module, client, current)
        finish(module, diffable(before), diffable(after), cluster={}, deregistered_container_instances=deregistered)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
