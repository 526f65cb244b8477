#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: managed_instance
version_added: 0.1.0
short_description: Drain, activate, deregister and tag ECS Anywhere instances
description:
  - Acts on one or many external instances, given by SSM managed instance id (C(mi-...)) or ECS container instance ARN.
  - V(draining) and V(active) set the container instance state (C(UpdateContainerInstancesState), ten per call);
    with O(wait=true) draining waits, bounded by O(wait_timeout), until the instances run no task.
  - "V(absent) deregisters the container instance from its cluster, then the managed instance from SSM (the order AWS
    documents). It refuses instances that still run tasks unless O(force=true). The agents on the host keep running:
    offboard the host too."
  - O(tags) manages the tags of the managed instances.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  instances:
    description: Managed instance ids (C(mi-) and 17 hex digits) or container instance ARNs.
    type: list
    elements: str
    required: true
  clusters:
    description:
      - Clusters to look for the container instances of managed instance ids in (names or ARNs).
      - Empty means every cluster of the region. Not needed for container instance ARNs.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) changes nothing but O(tags); V(active) and V(draining) set the container instance state;
        V(absent) deregisters.
    type: str
    choices: [present, active, draining, absent]
    default: present
  wait:
    description: With O(state=draining), wait until the instances run no task.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds. On timeout the module fails, naming the instances still running tasks.
    type: int
    default: 300
  force:
    description: With O(state=absent), deregister container instances even while they run tasks (ECS stops tracking them).
    type: bool
    default: false
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
      - The diff shows each instance's ECS status, registrations and tags.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Drain two hosts before maintenance and wait for their tasks to move
  ecs_anywhere.fleet.managed_instance:
    instances: [mi-0123456789abcdef0, mi-0fedcba9876543210]
    clusters: [onprem]
    state: draining
    wait: true
    wait_timeout: 900

- name: Back in service
  ecs_anywhere.fleet.managed_instance:
    instances: [mi-0123456789abcdef0, mi-0fedcba9876543210]
    clusters: [onprem]
    state: active

- name: Remove hosts that were re-imaged (stale registrations)
  ecs_anywhere.fleet.managed_instance:
    instances: "{{ fleet.instances | selectattr('ping_status', 'eq', 'ConnectionLost') | map(attribute='managed_instance_id') }}"
    state: absent

- name: Tag a managed instance
  ecs_anywhere.fleet.managed_instance:
    instances: [mi-0123456789abcdef0]
    tags:
      rack: r12
    purge_tags: false
"""

RETURN = r"""
instances:
  description: Each instance after the change.
  returned: always
  type: list
  elements: dict
  contains:
    managed_instance_id:
      description: The C(mi-) id, when known.
      type: str
      sample: mi-0123456789abcdef0
    cluster:
      description: Cluster of the container instance, when registered with ECS.
      type: str
      sample: onprem
    container_instance_arn:
      description: Container instance ARN, when registered with ECS.
      type: str
      sample: arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123456789abcdef0123456789abcdef
    ecs_status:
      description: Container instance status, or null when not registered with ECS.
      type: str
      sample: DRAINING
    running_tasks_count:
      description: Running tasks (after waiting, when O(wait=true)).
      type: int
      sample: 0
    ssm_registered:
      description: Whether SSM knows the managed instance.
      type: bool
      sample: true
    tags:
      description: Tags of the managed instance (when O(tags) is set).
      type: dict
      sample: {"rack": "r12"}
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _fleet as fleet
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish

WAIT_INTERVAL = 5


def validate(module):
    v = Validator(module)
    for value in module.params["instances"]:
        if not (ssm_api.MANAGED_INSTANCE_ID.match(value) or fleet.CONTAINER_INSTANCE_ARN.match(value)):
            v.error("instances", "%r is neither a managed instance id (mi-...) nor a container instance ARN" % value)
    v.each("clusters", module.params["clusters"], CLUSTER_NAME, "cluster name or ARN", "ecs", "cluster/")
    v.int_range("wait_timeout", module.params["wait_timeout"], 0, 86400)
    v.check()


def find(module, ssm, ecs_client):
    """Current state of every requested instance, keyed by what the user gave."""
    given = module.params["instances"]
    by_arn = {}
    for value in given:
        match = fleet.CONTAINER_INSTANCE_ARN.match(value)
        if match:
            by_arn.setdefault(match.group(1), []).append(value)
    containers = {}  # mi- id or arn -> (cluster, container instance)
    for cluster, arns in by_arn.items():
        for instance in ecs.describe_container_instances(ecs_client, cluster, arns):
            if instance.get("status") == "INACTIVE":
                continue  # deregistered: ECS still describes it for a while
            containers[instance["containerInstanceArn"]] = (cluster, instance)
            containers[instance.get("ec2InstanceId")] = (cluster, instance)
    ids = sorted(v for v in given if ssm_api.MANAGED_INSTANCE_ID.match(v))
    if ids:
        clusters = module.params["clusters"] or ecs.list_clusters(ecs_client)
        containers.update(fleet.container_instances_by_id(ecs_client, clusters, ids))
    all_ids = sorted(set(ids) | {c[1].get("ec2InstanceId") for c in containers.values() if c[1].get("ec2InstanceId")})
    managed = {i["InstanceId"]: i for i in ssm_api.describe_managed_instances(ssm, all_ids)} if all_ids else {}
    found = []
    for value in given:
        cluster, container = containers.get(value, (None, None))
        instance_id = value if ssm_api.MANAGED_INSTANCE_ID.match(value) else (container or {}).get("ec2InstanceId")
        found.append(
            dict(
                managed_instance_id=instance_id,
                cluster=cluster,
                container_instance_arn=(container or {}).get("containerInstanceArn"),
                ecs_status=(container or {}).get("status"),
                running_tasks_count=(container or {}).get("runningTasksCount", 0),
                ssm_registered=instance_id in managed,
            )
        )
    return found


def wait_until_drained(module, ecs_client, after):
    deadline = time.monotonic() + module.params["wait_timeout"]
    pending = [i for i in after if i["container_instance_arn"]]
    while True:
        busy = []
        for cluster in sorted({i["cluster"] for i in pending}):
            arns = [i["container_instance_arn"] for i in pending if i["cluster"] == cluster]
            for instance in ecs.describe_container_instances(ecs_client, cluster, arns):
                for record in after:
                    if record["container_instance_arn"] == instance["containerInstanceArn"]:
                        record["running_tasks_count"] = instance.get("runningTasksCount", 0)
                        if record["running_tasks_count"]:
                            busy.append(record)
        if not busy:
            return
        if time.monotonic() >= deadline:
            module.fail_json(
                msg="Timed out after %ss waiting for %d instance(s) to drain; they are DRAINING and still run tasks: %s. "
                "Raise wait_timeout or check the services placing those tasks."
                % (
                    module.params["wait_timeout"],
                    len(busy),
                    ", ".join(r["managed_instance_id"] or r["container_instance_arn"] for r in busy),
                ),
                instances=after,
                changed=True,
            )
        pending = busy
        time.sleep(min(WAIT_INTERVAL, max(0, deadline - time.monotonic())))


def set_state(module, ecs_client, before, status):
    after = [dict(i) for i in before]
    todo = {}
    for record in after:
        if record["container_instance_arn"] is None:
            module.fail_json(
                msg="%s is not registered as a container instance in the clusters searched; nothing was changed."
                % record["managed_instance_id"]
            )
        if record["ecs_status"] != status:
            todo.setdefault(record["cluster"], []).append(record["container_instance_arn"])
            record["ecs_status"] = status
    if not module.check_mode:
        for cluster, arns in sorted(todo.items()):
            ecs.update_container_instances_state(ecs_client, cluster, arns, status)
        if status == "DRAINING" and module.params["wait"]:
            wait_until_drained(module, ecs_client, after)
    return after


def remove(module, ssm, ecs_client, before):
    busy = [i for i in before if i["container_instance_arn"] and i["running_tasks_count"]]
    if busy and not module.params["force"]:
        module.fail_json(
            msg="%d instance(s) still run tasks: %s. Drain them first (state=draining, wait=true) or set force=true. "
            "Nothing was changed."
            % (len(busy), ", ".join(i["managed_instance_id"] or i["container_instance_arn"] for i in busy))
        )
    after = []
    for record in before:
        if not module.check_mode:
            if record["container_instance_arn"]:
                ecs.deregister_container_instance(
                    ecs_client, record["cluster"], record["container_instance_arn"], force=module.params["force"]
                )
            if record["ssm_registered"]:
                ssm_api.deregister_managed_instance(ssm, record["managed_instance_id"])
        after.append(
            dict(
                record,
                cluster=None,
                container_instance_arn=None,
                ecs_status=None,
                running_tasks_count=0,
                ssm_registered=False,
            )
        )
    return after


def check_taggable(module, before):
    unknown = [i["managed_instance_id"] or i["container_instance_arn"] for i in before if not i["ssm_registered"]]
    if unknown:
        module.fail_json(
            msg="Not registered managed instances, cannot tag: %s. Nothing was changed." % ", ".join(unknown)
        )


def apply_tags(module, ssm, before, after):
    for old, new in zip(before, after):
        old["tags"] = ssm_api.managed_instance_tags(ssm, old["managed_instance_id"])
        to_set, to_unset = compare_aws_tags(old["tags"], module.params["tags"], module.params["purge_tags"])
        new["tags"] = {k: v for k, v in old["tags"].items() if k not in to_unset}
        new["tags"].update(to_set)
        if (to_set or to_unset) and not module.check_mode:
            ssm_api.tag_managed_instance(ssm, old["managed_instance_id"], to_set, to_unset)


def main():
    argument_spec = dict(
        instances=dict(type="list", elements="str", required=True),
        clusters=dict(type="list", elements="str", default=[]),
        state=dict(type="str", default="present", choices=["present", "active", "draining", "absent"]),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        force=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    state = module.params["state"]
    ssm = module.client("ssm")
    ecs_client = module.client("ecs")
    try:
        before = find(module, ssm, ecs_client)
        tagging = module.params["tags"] is not None and state != "absent"
        if tagging:
            check_taggable(module, before)
        if state == "absent":
            before = [i for i in before if i["container_instance_arn"] or i["ssm_registered"]]
            after = remove(module, ssm, ecs_client, before)
        elif state in ("active", "draining"):
            after = set_state(module, ecs_client, before, state.upper())
        else:
            after = [dict(i) for i in before]
        if tagging:
            apply_tags(module, ssm, before, after)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    volatile = ("running_tasks_count",)
    finish(
        module,
        dict(instances=[{k: v for k, v in i.items() if k not in volatile} for i in before]),
        dict(instances=[{k: v for k, v in i.items() if k not in volatile} for i in after]),
        instances=after,
    )


if __name__ == "__main__":
    main()
