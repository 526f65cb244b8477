#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: site
version_added: 0.6.0
short_description: The AWS side of an ECS Anywhere site in one run -- clusters, instance role, registrations check
description:
  - Ensures the ECS clusters the site's hosts join and the instance role they register with, looks the hosts'
    registrations up in SSM and ECS (one batched look-up), and deletes the instance role's spent activations -- in
    one module run, so in one Python process on the controller instead of one per resource.
  - The same convergence as M(ecs_anywhere.fleet.cluster) (state V(present)) for each of O(clusters), as
    M(ecs_anywhere.fleet.instance_role) (state V(present)) for O(instance_role), the same records as
    M(ecs_anywhere.fleet.fleet_info) for O(instance_ids), and the same clean-up as M(ecs_anywhere.fleet.activation)
    with state V(cleaned). Use those modules to delete what this one ensures.
  - Every input is checked before any AWS call; a bad value fails naming the option and changes nothing.
  - The role M(ecs_anywhere.fleet.aws_setup) runs this module; C(playbooks/onboard.yml) runs that role on every run,
    where a run with nothing to do spends most of its controller time starting module processes.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  clusters:
    description:
      - The clusters to ensure (names in the module's region), created when missing, with O(container_insights) and
        O(tags). Up to 255 letters, digits, hyphens and underscores each.
      - Read with one C(DescribeClusters) call per 100. A name given twice is ensured once.
    type: list
    elements: str
    default: []
  container_insights:
    description:
      - CloudWatch Container Insights for O(clusters).
      - When not set, a new cluster takes the account default and an existing cluster is left as it is.
    type: str
    choices: [enabled, disabled, enhanced]
  instance_role:
    description:
      - The instance role to ensure, with the options of M(ecs_anywhere.fleet.instance_role) except its C(state)
        (C(name), C(policy_mode), C(clusters), C(activation_regions), C(ecr_repositories), C(readable_parameters),
        C(adopt), C(tags), ...), with the same defaults and input rules. A bad value fails naming
        C(instance_role.<option>).
      - Not given, no role is ensured (and O(clean_activations) cannot be used).
    type: dict
  instance_ids:
    description:
      - Managed instances (C(mi-) ids) to look up in SSM and in the container instances of O(instance_clusters);
        RV(instances) has a record for each that either side knows.
      - Empty (the default) looks nothing up.
    type: list
    elements: str
    default: []
  instance_clusters:
    description:
      - Where to look for the container instances of O(instance_ids) (names or ARNs); empty means every cluster of
        the region.
    type: list
    elements: str
    default: []
  clean_activations:
    description:
      - Delete this collection's activations for the O(instance_role) that are spent (expired, or used up); live ones
        are left alone (a concurrent run may be using them).
      - Best effort, since a spent activation can register nothing. When SSM refuses the listing or a deletion, the
        module warns and goes on (a later run deletes what is left).
    type: bool
    default: false
notes:
  - The tags (O(tags), O(purge_tags)) are the clusters'; the role's are O(instance_role)'s C(tags).
  - "IAM actions: those of M(ecs_anywhere.fleet.cluster), M(ecs_anywhere.fleet.instance_role),
    M(ecs_anywhere.fleet.fleet_info) and, with O(clean_activations), C(ssm:DescribeActivations) and
    C(ssm:DeleteActivation)."
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
      - The look-up runs (it changes nothing); nothing is created, updated or deleted.
  diff_mode:
    support: full
    details:
      - The diff shows each cluster (exists, Container Insights, tags), the role and the activations deleted.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Clusters, instance role and the hosts' registrations, in one module run
  ecs_anywhere.fleet.site:
    region: eu-west-1
    clusters: [onprem, onprem-gpu]
    tags:
      team: platform
    instance_role:
      name: ECSAnywhereRole
      clusters: [onprem, onprem-gpu]
    instance_ids: [mi-0123456789abcdef0, mi-0fedcba9876543210]
    instance_clusters: [onprem]
    clean_activations: true
  register: site

- name: The hosts SSM no longer knows
  ansible.builtin.debug:
    msg: "{{ site.instances | selectattr('registered_in', 'eq', 'ecs') | map(attribute='managed_instance_id') }}"
"""

RETURN = r"""
clusters:
  description:
    - Each of O(clusters) after the change, once, in the order given, as M(ecs_anywhere.fleet.cluster) returns its
      RV(ecs_anywhere.fleet.cluster#module:cluster).
  returned: always
  type: list
  elements: dict
  sample: [{"cluster_arn": "arn:aws:ecs:eu-west-1:123456789012:cluster/onprem", "cluster_name": "onprem",
            "status": "ACTIVE", "container_insights": "enabled", "registered_container_instances_count": 3,
            "running_tasks_count": 5, "pending_tasks_count": 0, "active_services_count": 1, "tags": {}}]
role:
  description:
    - The instance role after the change, as M(ecs_anywhere.fleet.instance_role) returns its
      RV(ecs_anywhere.fleet.instance_role#module:role); empty without O(instance_role).
  returned: always
  type: dict
  sample: {"arn": "arn:aws:iam::123456789012:role/ECSAnywhereRole", "name": "ECSAnywhereRole"}
generated_policy_arn:
  description: ARN of the role's generated policy (whether or not it is attached).
  returned: with O(instance_role)
  type: str
  sample: arn:aws:iam::123456789012:policy/ECSAnywhereRole-ecs-anywhere
grants_ecr_pull:
  description: Whether the role lets instances pull images from Amazon ECR.
  returned: with O(instance_role)
  type: bool
  sample: false
ecr_pull_repositories:
  description: What the role lets instances pull (V(*) for every repository); as M(ecs_anywhere.fleet.instance_role).
  returned: with O(instance_role)
  type: list
  elements: str
  sample: []
policy_document:
  description: The generated policy document (none with C(policy_mode=managed)).
  returned: with O(instance_role)
  type: dict
instances:
  description:
    - One record per managed instance of O(instance_ids) that SSM or ECS knows, sorted by id, with the fields of
      M(ecs_anywhere.fleet.fleet_info)'s RV(ecs_anywhere.fleet.fleet_info#module:instances).
  returned: always
  type: list
  elements: dict
  contains:
    managed_instance_id:
      description: The C(mi-) id.
      type: str
      sample: mi-0123456789abcdef0
    registered_in:
      description: V(both), V(ssm) (not a container instance in O(instance_clusters)) or V(ecs) (SSM registration gone).
      type: str
      sample: both
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
deleted_activation_ids:
  description: The spent activations deleted (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: ["3c5c2d5e-1a2b-4c3d-8e9f-0123456789ab"]
"""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _cluster as clusters
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _fleet as fleet
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _instance_role as instance_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish


def role_params(module, validator):
    """O(instance_role) with instance_role's defaults filled in and its types checked: (params, whether they are
    sound enough for the role's own rules); (None, False) when not given."""
    given = module.params["instance_role"]
    if given is None:
        return None, False
    checked = ArgumentSpecValidator(instance_role.ARGUMENT_SPEC).validate(given)
    for message in checked.error_messages:
        validator.error("instance_role", message)
    # state: what the shared input rules read (this module only ensures the role).
    return dict(checked.validated_parameters, state="present"), not checked.error_messages


def validate(module):
    """Every input rule, before any AWS call. Returns the instance role's parameters (or None)."""
    p = module.params
    v = Validator(module)
    v.region()
    clusters.validate(v, "clusters", p["clusters"], p["tags"])
    v.each("instance_ids", p["instance_ids"], ssm.MANAGED_INSTANCE_ID, "mi- followed by 17 hex digits")
    v.each("instance_clusters", p["instance_clusters"], CLUSTER_NAME, "cluster name or ARN", "ecs", "cluster/")
    role, sound = role_params(module, v)
    if sound:
        instance_role.validate(v.scoped("instance_role", top_level=("region",)), role)
    if p["clean_activations"] and role is None:
        v.error("clean_activations", "needs instance_role (the activations cleaned are that role's)")
    v.check()
    return role


class Site:
    """One run: a client per service (each costs time to make), and what has changed so far (for a failure's
    message: whatever fails later, what was already created or updated is said)."""

    def __init__(self, module):
        self.module = module
        self._clients = {}
        self.before, self.after, self.result = dict(clusters={}), dict(clusters={}), dict(role={}, instances=[])

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = self.module.client(service)
        return self._clients[service]

    def changed_so_far(self):
        """What this run created or updated, named (the clusters and the role whose diff is not empty)."""
        names = [
            name for name in self.after["clusters"] if self.before["clusters"][name] != self.after["clusters"][name]
        ]
        done = ["cluster %s" % name for name in names]
        if self.before.get("instance_role") != self.after.get("instance_role"):
            done.append("instance role %s" % self.after["instance_role"].get("name"))
        return done

    def clusters(self):
        p = self.module.params
        names = list(dict.fromkeys(p["clusters"]))  # each once, in the order given
        current = ecs.describe_clusters(self.client("ecs"), names) if names else {}
        self.result["clusters"] = []
        for name in names:
            was, now = clusters.ensure_present(
                self.client("ecs"),
                name,
                p["container_insights"],
                p["tags"],
                p["purge_tags"],
                self.module.check_mode,
                current.get(name),
            )
            self.before["clusters"][name], self.after["clusters"][name] = clusters.diffable(was), clusters.diffable(now)
            self.result["clusters"].append(now)

    def instance_role(self, role):
        account, partition = get_aws_account_info(self.module)
        spec = instance_role.build_spec(role, self.module.region, account, partition)
        was, now, result = instance_role.ensure_present(self.module, self.client("iam"), role, spec)
        self.before["instance_role"], self.after["instance_role"] = iam_role.diffable(was), iam_role.diffable(now)
        self.result.update(result)

    def look_up(self):
        p = self.module.params
        self.result["instances"] = fleet.look_up(
            self.client("ssm"), self.client("ecs"), p["instance_clusters"], p["instance_ids"]
        )

    def clean_activations(self, role_name):
        """Delete the role's spent activations. Best effort: a spent activation can register nothing, so one left
        for a later run is no harm and no reason to fail what the run is for; a failure is a warning."""
        deleted = self.result["deleted_activation_ids"] = []
        try:
            for activation in ssm.spent_activations(self.client("ssm"), role_name):
                if not self.module.check_mode:
                    ssm.delete_activation(self.client("ssm"), activation["ActivationId"])
                deleted.append(activation["ActivationId"])
        except AnsibleAWSError as e:
            self.module.warn(
                "The spent activations of %s were not all deleted (%s); they can register nothing, and a later run "
                "with clean_activations deletes them."
                % (role_name, "%s: %s" % (e.message, e.exception) if e.exception else e.message)
            )
        if deleted:
            self.before["activations"], self.after["activations"] = list(deleted), []


def main():
    argument_spec = dict(
        clusters=dict(type="list", elements="str", default=[]),
        container_insights=dict(type="str", choices=["enabled", "disabled", "enhanced"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        instance_role=dict(type="dict"),
        instance_ids=dict(type="list", elements="str", default=[]),
        instance_clusters=dict(type="list", elements="str", default=[]),
        clean_activations=dict(type="bool", default=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    role = validate(module)
    p = module.params

    site = Site(module)
    site.result["deleted_activation_ids"] = []
    step = "the clusters"
    try:
        site.clusters()
        if role is not None:
            step = "the instance role %s (a re-run brings it the rest of the way)" % role["name"]
            site.instance_role(role)
        step = "the look-up of the hosts' registrations"
        if p["instance_ids"]:
            site.look_up()
        if p["clean_activations"]:
            site.clean_activations(role["name"])
    except AnsibleAWSError as e:
        done = site.changed_so_far()
        e.message = "%s (stopped at %s%s)" % (
            e.message,
            step,
            (
                "; before that, this run created or updated: %s; a re-run goes on from there" % ", ".join(done)
                if done and not module.check_mode
                else ""
            ),
        )
        module.fail_json_aws_error(e)
    finish(module, site.before, site.after, **site.result)


if __name__ == "__main__":
    main()
