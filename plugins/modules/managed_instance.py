#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: managed_instance
version_added: 0.1.0
short_description: Drain, activate, deregister, tag and set attributes on ECS Anywhere instances
description:
  - Acts on one or many external instances, given by SSM managed instance id (C(mi-...)) or ECS container instance ARN.
  - V(draining) and V(active) set the container instance state (C(UpdateContainerInstancesState), ten per call);
    with O(wait=true) draining waits, bounded by O(wait_timeout), until the instances run no task.
  - "V(absent) deregisters the container instance from its cluster, then the managed instance from SSM (the order AWS
    documents). It refuses instances that still run tasks unless O(force=true). The agents on the host keep running:
    offboard the host too."
  - "With O(keep_managed_instance=true), V(absent) deregisters the container instance only and keeps the SSM managed
    instance: what moving a host to another cluster, or making it register a new container instance, needs."
  - O(tags) manages the tags of the SSM managed instances.
  - O(ecs_attributes) and O(ecs_tags) manage the custom attributes and the tags of the ECS container instances. The ECS
    agent applies its own C(ECS_INSTANCE_ATTRIBUTES) and C(ECS_CONTAINER_INSTANCE_TAGS) only when the container
    instance first registers; later changes have to be made with the ECS API, which is what these options do
    (C(PutAttributes) and C(DeleteAttributes), ten attributes per call across the instances of a cluster;
    C(TagResource) and C(UntagResource), one call per container instance that needs it).
  - O(ecs_attributes_by_instance) and O(ecs_tags_by_instance) give instances their own values, so that one task can
    apply the desired attributes and tags of a whole fleet.
  - Every parameter is checked before the first AWS call, and every limit that depends on the current state (ten
    custom attributes and 50 tags per container instance) before the first change.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  instances:
    description: Managed instance ids (C(mi-) and 17 hex digits) or container instance ARNs (of the module's region).
    type: list
    elements: str
    required: true
  clusters:
    description:
      - Clusters to look for the container instances of managed instance ids in (names, or ARNs of the module's region;
        no wildcards).
      - Empty means every cluster of the region. Not needed for container instance ARNs.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) changes nothing but O(tags), O(ecs_attributes) and O(ecs_tags) (and their per-instance forms);
        V(active) and V(draining) also set the container instance state; V(absent) deregisters.
      - O(ecs_attributes), O(ecs_tags) and their per-instance forms cannot be combined with V(absent).
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
  keep_managed_instance:
    description:
      - With O(state=absent), deregister only the ECS container instance and keep the SSM managed instance (its
        C(mi-) id, ping and credentials stay).
      - For a host moving to another cluster, give the old container instance by its ARN (or O(clusters) the old
        cluster only), since the host's C(mi-) id may already have a container instance in the new cluster.
      - Only valid with O(state=absent).
    type: bool
    default: false
    version_added: 0.2.0
  ecs_attributes:
    description:
      - Custom attributes every container instance of O(instances) should have, as a dictionary of name and value.
        Task placement constraints select instances by them (C(attribute:rack == r12)).
      - A V(null) value makes an attribute without value (ECS allows that; C(attribute:gpu exists) selects it).
        Numbers and booleans are turned into strings (V(true), V(false)). An empty string is not a value ECS accepts.
      - Names have 1 to 128 letters, digits, hyphens, underscores, periods, forward or back slashes; they cannot start
        with V(ecs.) or V(com.amazonaws.ecs.), the ECS agent's own attributes. Values have 1 to 128 letters, digits,
        hyphens, underscores, periods, at signs, forward or back slashes, colons or spaces, and do not start or end
        with a space. A container instance has at most ten custom attributes.
      - Attributes not named here are left alone unless O(purge_ecs_attributes=true).
      - When O(ecs_attributes) and O(ecs_attributes_by_instance) are both unset, attributes are not managed.
    type: dict
  ecs_attributes_by_instance:
    description:
      - Custom attributes per instance. Each key is an entry of O(instances) (the same string), each value a
        dictionary like O(ecs_attributes).
      - An instance's desired attributes are O(ecs_attributes) updated with its own entry (its own value wins).
        Instances without an entry get O(ecs_attributes) alone, or no attributes when that is unset.
    type: dict
  purge_ecs_attributes:
    description:
      - Remove the custom attributes of the container instances that the desired attributes do not name.
      - The agent's attributes (V(ecs.*), V(com.amazonaws.ecs.*)) are never removed.
    type: bool
    default: false
  ecs_tags:
    description:
      - Tags every container instance of O(instances) should have, as a dictionary of key and value.
      - "Keys have 1 to 128 and values 0 to 256 letters, digits, spaces or C(_ . : / = + - @); a V(null) value is the
        empty string. Keys starting with V(aws:) (any case) are reserved for AWS. At most 50 tags per container
        instance."
      - Tags not named here are left alone unless O(purge_ecs_tags=true).
    type: dict
  ecs_tags_by_instance:
    description:
      - Tags per instance. Each key is an entry of O(instances), each value a dictionary like O(ecs_tags); an
        instance's own values win over O(ecs_tags).
    type: dict
  purge_ecs_tags:
    description:
      - Remove the container instance tags that the desired tags do not name. Tags whose key starts with V(aws:)
        are never removed.
    type: bool
    default: false
notes:
  - O(tags) and O(purge_tags) are the tags of the SSM managed instances (C(AddTagsToResource)); O(ecs_tags) those of the
    ECS container instances. The two are separate resources in AWS.
  - "O(tags) follow SSM's rules: at most 50; keys of 1 to 128 and values of up to 256 letters (of any script), digits,
    spaces and C(_ . : / = + - @), no newlines or other control characters; keys starting with C(aws:), in any case,
    are reserved for AWS. Bad input fails before any AWS call."
  - "The container instances need to be registered with ECS: an instance that is not fails the task before any change.
    The IAM identity running the module needs C(ecs:PutAttributes), C(ecs:DeleteAttributes), C(ecs:TagResource) and
    C(ecs:UntagResource) on the container instances."
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Reads the current state and reports what would change; calls no API that changes anything.
  diff_mode:
    support: full
    details:
      - The diff shows each instance's ECS status, registrations, tags, and the custom attributes and tags of its
        container instance.
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

- name: After a host moved to cluster onprem-b, deregister its container instance from onprem-a (SSM keeps it)
  ecs_anywhere.fleet.managed_instance:
    instances: [arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem-a/0123456789abcdef0123456789abcdef]
    state: absent
    keep_managed_instance: true

- name: Tag a managed instance
  ecs_anywhere.fleet.managed_instance:
    instances: [mi-0123456789abcdef0]
    tags:
      rack: r12
    purge_tags: false

# ECS_INSTANCE_ATTRIBUTES and ECS_CONTAINER_INSTANCE_TAGS in ecs.config only count when a host first registers.
# Attributes changed after registration are applied from the controller:
- name: Attributes changed after registration - the hosts moved to rack r14
  ecs_anywhere.fleet.managed_instance:
    instances: [mi-0123456789abcdef0, mi-0fedcba9876543210]
    clusters: [onprem]
    ecs_attributes:
      rack: r14
      gpu: null  # an attribute without value: placement constraint "attribute:gpu exists"
    ecs_tags:
      owner: platform

- name: The whole fleet's attributes and tags in one call, each host with its own, anything else removed
  ecs_anywhere.fleet.managed_instance:
    instances: "{{ ansible_play_hosts | map('extract', hostvars, 'managed_instance_id') }}"
    clusters: [onprem]
    ecs_attributes:
      site: paris
    ecs_attributes_by_instance: >-
      {{ dict(ansible_play_hosts | map('extract', hostvars, 'managed_instance_id')
              | zip(ansible_play_hosts | map('extract', hostvars, 'ecs_attributes'))) }}
    purge_ecs_attributes: true
    ecs_tags_by_instance:
      mi-0123456789abcdef0: {role: edge}
      mi-0fedcba9876543210: {role: batch}
    purge_ecs_tags: true
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
instances:
  description: Each instance after the change (in check mode, as it would be).
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
    ecs_attributes:
      description:
        - Custom attributes of the container instance (null values are attributes without value), or null when not
          registered with ECS.
        - The agent's own attributes (C(ecs.*), C(com.amazonaws.ecs.*)) are left out.
      type: dict
      sample: {"rack": "r14", "gpu": null}
    ecs_tags:
      description: Tags of the container instance, or null when not registered with ECS.
      type: dict
      sample: {"owner": "platform"}
"""

import time
import unicodedata

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
#: ECS Attribute rules (botocore model, ECS API reference).
ATTRIBUTE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./\\")
ATTRIBUTE_VALUE_CHARS = ATTRIBUTE_NAME_CHARS | frozenset("@: ")
ATTRIBUTE_MAX = 128
#: ECS Tag rules: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, key 1-128, value 0-256.
TAG_SYMBOLS = frozenset("_.:/=+-@")
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256

# The two kinds of container instance settings, each: (common option, per-instance option, purge option).
ATTRIBUTES = ("ecs_attributes", "ecs_attributes_by_instance", "purge_ecs_attributes")
ECS_TAGS = ("ecs_tags", "ecs_tags_by_instance", "purge_ecs_tags")


# ---------------------------------------------------------------- parameters


def _text(value, none):
    """A setting's value as ECS wants it: a string (booleans lowercase), or ``none`` for null."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError(type(value).__name__)


def _attribute_problem(name, value):
    if not 1 <= len(name) <= ATTRIBUTE_MAX or not set(name) <= ATTRIBUTE_NAME_CHARS:
        return (
            "attribute name %r is not valid (1-%d letters, digits, hyphens, underscores, periods, forward or back "
            "slashes)" % (name, ATTRIBUTE_MAX)
        )
    if ecs.is_agent_attribute(name):
        return "attribute name %r is reserved for the ECS agent (ecs.*, com.amazonaws.ecs.*)" % name
    if value is None:
        return None
    if value == "":
        return "attribute %r: an empty value is not allowed; use null for an attribute without value" % name
    if len(value) > ATTRIBUTE_MAX or not set(value) <= ATTRIBUTE_VALUE_CHARS or value != value.strip(" "):
        return (
            "attribute %r: value %r is not valid (1-%d letters, digits, hyphens, underscores, periods, at signs, "
            "forward or back slashes, colons or spaces, not starting or ending with a space)"
            % (name, value, ATTRIBUTE_MAX)
        )
    return None


def _tag_chars_ok(text):
    return all(c in TAG_SYMBOLS or unicodedata.category(c)[0] in "LZN" for c in text)


def _tag_problem(key, value):
    if not 1 <= len(key) <= TAG_KEY_MAX or not _tag_chars_ok(key):
        return "tag key %r is not valid (1-%d letters, digits, spaces or _ . : / = + - @)" % (key, TAG_KEY_MAX)
    if ecs.is_aws_tag(key):
        return "tag key %r: the aws: prefix is reserved for AWS" % key
    if len(value) > TAG_VALUE_MAX or not _tag_chars_ok(value):
        return "tag %r: value %r is not valid (0-%d letters, digits, spaces or _ . : / = + - @)" % (
            key,
            value,
            TAG_VALUE_MAX,
        )
    return None


def desired(v, params, kind, none, problem, limit, what):
    """The desired settings of ``kind`` (ATTRIBUTES or ECS_TAGS): {entry of instances: {name: text}}, or None when
    the options are unset. Each instance gets the common option updated with its own entry.

    Problems are recorded on the Validator ``v``, each once (a bad common value is not reported per instance).
    """
    common_key, by_key, _purge = kind
    common, by_instance = params[common_key], params[by_key]
    if common is None and by_instance is None:
        return None
    well_formed = True
    for key, value in (by_instance or {}).items():
        if key not in params["instances"]:
            v.error(by_key, "%r is not an entry of instances" % key)
            well_formed = False
        elif value is not None and not isinstance(value, dict):
            v.error(by_key, "%s: expected a dictionary, got %s" % (key, type(value).__name__))
            well_formed = False
    if not well_formed:
        return None
    problems = {}  # (option, message): kept in order, each once
    result = {}
    for given in params["instances"]:
        own = (by_instance or {}).get(given) or {}
        settings = dict(common or {})
        settings.update(own)
        result[given] = {}
        for name, value in settings.items():
            # A per-instance value's problem names the instance; a common value's is reported once.
            option, prefix = (by_key, "%s: " % given) if name in own else (common_key, "")
            try:
                result[given][str(name)] = text = _text(value, none)
            except TypeError as e:
                message = "%r: a value must be a string, number, boolean or null, not %s" % (name, e)
            else:
                message = problem(str(name), text)
            if message:
                problems[(option, prefix + message)] = 1
        if len(settings) > limit:
            option, prefix = (by_key, "%s: " % given) if own else (common_key, "")
            message = "%d %s, ECS allows %d per container instance" % (len(settings), what, limit)
            problems[(option, prefix + message)] = 1
    for option, message in problems:
        v.error(option, message)
    return result


def validate(module):
    """Check every parameter before any AWS call; return the desired (attributes, ecs tags) per entry of instances."""
    params = module.params
    v = Validator(module)
    v.region()
    for value in params["instances"]:
        if fleet.CONTAINER_INSTANCE_ARN.match(value):
            v.arn("instances", value, "ecs", "container-instance/")
        elif not ssm_api.MANAGED_INSTANCE_ID.match(value):
            v.error("instances", "%r is neither a managed instance id (mi-...) nor a container instance ARN" % value)
    v.each("clusters", params["clusters"], CLUSTER_NAME, "cluster name or ARN", "ecs", "cluster/")
    # The module calls ECS in its own region: ARNs of another region name nothing it can reach.
    regions = [v.module_region] if v.module_region else []
    v.arn_regions("instances", params["instances"], regions, "the module's region")
    v.arn_regions("clusters", params["clusters"], regions, "the module's region")
    v.tags("tags", params["tags"])
    v.int_range("wait_timeout", params["wait_timeout"], 0, 86400)
    if params["state"] == "absent":
        for option in ATTRIBUTES[:2] + ECS_TAGS[:2]:
            if params[option] is not None:
                v.error(option, "cannot be combined with state=absent")
    elif params["keep_managed_instance"]:
        v.error("keep_managed_instance", "is only valid with state=absent (got state=%s)" % params["state"])
    attributes = desired(
        v, params, ATTRIBUTES, None, _attribute_problem, ecs.MAX_CUSTOM_ATTRIBUTES, "custom attributes"
    )
    tags = desired(v, params, ECS_TAGS, "", _tag_problem, ecs.MAX_TAGS, "tags")
    v.check()
    return attributes, tags


# ---------------------------------------------------------------- current state


def _label(record):
    return record["managed_instance_id"] or record["container_instance_arn"]


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
                ecs_attributes=ecs.custom_attributes(container) if container else None,
                ecs_tags=ecs.ansible_tags(container.get("tags")) if container else None,
            )
        )
    return found


# ---------------------------------------------------------------- container instance state


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
                    ", ".join(_label(r) for r in busy),
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
            "Nothing was changed." % (len(busy), ", ".join(_label(i) for i in busy))
        )
    keep_ssm = module.params["keep_managed_instance"]
    after = []
    for record in before:
        if not module.check_mode:
            if record["container_instance_arn"]:
                ecs.deregister_container_instance(
                    ecs_client, record["cluster"], record["container_instance_arn"], force=module.params["force"]
                )
            if record["ssm_registered"] and not keep_ssm:
                ssm_api.deregister_managed_instance(ssm, record["managed_instance_id"])
        after.append(
            dict(
                record,
                cluster=None,
                container_instance_arn=None,
                ecs_status=None,
                running_tasks_count=0,
                ssm_registered=record["ssm_registered"] and keep_ssm,
                ecs_attributes=None,
                ecs_tags=None,
            )
        )
    return after


# ---------------------------------------------------------------- container instance attributes and tags


def plan_settings(module, before, attributes, tags):
    """{container instance ARN: change} for the desired ``attributes`` and ``tags`` ({entry of instances: {...}} or
    None when not managed). Fails, naming every problem, before any change.

    A change holds the cluster, the attributes to ``put`` ({name: value}) and ``delete`` (names), the tags to ``tag``
    ({key: value}) and ``untag`` (keys), and the container instance's resulting ``attributes`` and ``tags``.
    """
    params = module.params
    unregistered = [
        _label(r) or given for given, r in zip(params["instances"], before) if not r["container_instance_arn"]
    ]
    if unregistered:
        module.fail_json(
            msg="Not registered as container instances in the clusters searched, cannot set ECS attributes or tags: %s. "
            "Nothing was changed." % ", ".join(unregistered)
        )
    plan, problems = {}, []
    for given, record in zip(params["instances"], before):
        current_attributes, current_tags = record["ecs_attributes"], record["ecs_tags"]
        change = dict(
            cluster=record["cluster"],
            put={},
            delete=[],
            tag={},
            untag=[],
            attributes=current_attributes,
            tags=current_tags,
        )
        if attributes is not None:
            want = attributes[given]
            change["put"] = {n: v for n, v in want.items() if n not in current_attributes or current_attributes[n] != v}
            if params["purge_ecs_attributes"]:
                change["delete"] = sorted(n for n in current_attributes if n not in want)
            change["attributes"] = {n: v for n, v in current_attributes.items() if n not in change["delete"]}
            change["attributes"].update(change["put"])
            if len(change["attributes"]) > ecs.MAX_CUSTOM_ATTRIBUTES:
                problems.append(
                    "%s would have %d custom attributes (%s); ECS allows %d per container instance: set "
                    "purge_ecs_attributes=true or name fewer"
                    % (
                        _label(record),
                        len(change["attributes"]),
                        ", ".join(sorted(change["attributes"])),
                        ecs.MAX_CUSTOM_ATTRIBUTES,
                    )
                )
        if tags is not None:
            own = {k: v for k, v in current_tags.items() if not ecs.is_aws_tag(k)}
            to_set, to_unset = compare_aws_tags(own, tags[given], params["purge_ecs_tags"])
            change["tag"], change["untag"] = dict(sorted(to_set.items())), sorted(to_unset)
            change["tags"] = {k: v for k, v in current_tags.items() if k not in change["untag"]}
            change["tags"].update(change["tag"])
            user_tags = [k for k in change["tags"] if not ecs.is_aws_tag(k)]
            if len(user_tags) > ecs.MAX_TAGS:
                problems.append(
                    "%s would have %d tags; ECS allows %d per resource: set purge_ecs_tags=true or name fewer"
                    % (_label(record), len(user_tags), ecs.MAX_TAGS)
                )
        arn = record["container_instance_arn"]
        if arn in plan and plan[arn] != change:
            problems.append("%s is given twice (by managed instance id and by ARN) with different settings" % arn)
        plan[arn] = change
    if problems:
        module.fail_json(msg="%s. Nothing was changed." % "; ".join(problems))
    return plan


def apply_settings(module, ecs_client, plan, after):
    """Delete, then put attributes (ten per call, per cluster); untag, then tag each container instance.

    Deleting and untagging first keeps a container instance within its limits while its settings are replaced.
    """
    deletes, puts = {}, {}
    for arn, change in sorted(plan.items()):
        for name in change["delete"]:
            deletes.setdefault(change["cluster"], []).append(dict(name=name, targetId=arn))
        for name, value in sorted(change["put"].items()):
            attribute = dict(name=name, targetId=arn)
            if value is not None:
                attribute["value"] = value
            puts.setdefault(change["cluster"], []).append(attribute)
    if not module.check_mode:
        for cluster, batch in sorted(deletes.items()):
            ecs.delete_attributes(ecs_client, cluster, batch)
        for cluster, batch in sorted(puts.items()):
            ecs.put_attributes(ecs_client, cluster, batch)
        for arn, change in sorted(plan.items()):
            if change["untag"]:
                ecs.untag_container_instance(ecs_client, arn, change["untag"])
            if change["tag"]:
                ecs.tag_container_instance(ecs_client, arn, change["tag"])
    for record in after:
        change = plan[record["container_instance_arn"]]
        record["ecs_attributes"], record["ecs_tags"] = dict(change["attributes"]), dict(change["tags"])


# ---------------------------------------------------------------- managed instance tags


def check_taggable(module, before):
    unknown = [_label(i) for i in before if not i["ssm_registered"]]
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


# ---------------------------------------------------------------- main


def run(module, ssm, ecs_client, attributes, tags):
    """Read, check, change; return (before, after)."""
    state = module.params["state"]
    before = find(module, ssm, ecs_client)
    tagging = module.params["tags"] is not None and state != "absent"
    if tagging:
        check_taggable(module, before)
    plan = None
    if attributes is not None or tags is not None:
        plan = plan_settings(module, before, attributes, tags)
    if state == "absent":
        keep_ssm = module.params["keep_managed_instance"]
        before = [i for i in before if i["container_instance_arn"] or (i["ssm_registered"] and not keep_ssm)]
        return before, remove(module, ssm, ecs_client, before)
    after = [dict(i) for i in before]
    if plan is not None:
        apply_settings(module, ecs_client, plan, after)
    if state in ("active", "draining"):
        after = set_state(module, ecs_client, after, state.upper())
    if tagging:
        apply_tags(module, ssm, before, after)
    return before, after


def main():
    argument_spec = dict(
        instances=dict(type="list", elements="str", required=True),
        clusters=dict(type="list", elements="str", default=[]),
        state=dict(type="str", default="present", choices=["present", "active", "draining", "absent"]),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
        force=dict(type="bool", default=False),
        keep_managed_instance=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        ecs_attributes=dict(type="dict"),
        ecs_attributes_by_instance=dict(type="dict"),
        purge_ecs_attributes=dict(type="bool", default=False),
        ecs_tags=dict(type="dict"),
        ecs_tags_by_instance=dict(type="dict"),
        purge_ecs_tags=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    attributes, tags = validate(module)
    ssm = module.client("ssm")
    ecs_client = module.client("ecs")
    try:
        before, after = run(module, ssm, ecs_client, attributes, tags)
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
