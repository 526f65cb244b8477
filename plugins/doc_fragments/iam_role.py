# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # Options shared by the modules that manage an IAM service role (instance_role, task_execution_role).
    DOCUMENTATION = r"""
options:
  path:
    description:
      - Path of the role and of the generated policy. IAM cannot change the path of an existing role.
    type: str
    default: /
  max_session_duration:
    description: Maximum session duration in seconds (3600-43200). Left as it is when not set.
    type: int
  permissions_boundary:
    description:
      - ARN of a managed policy to use as the role's permissions boundary.
      - An empty string removes the boundary; when not set, the boundary is left as it is.
    type: str
  managed_policies:
    description: ARNs of further managed policies to attach.
    type: list
    elements: str
    default: []
  purge_policies:
    description: Detach managed policies that are attached to the role but not wanted by this module.
    type: bool
    default: true
  generated_policy_name:
    description: Name of the generated customer-managed policy. Defaults to C(<name>-ecs-anywhere).
    type: str
  wait:
    description:
      - After creating the role, wait until IAM returns it, so the next step can use it.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 60
notes:
  - "Input is checked before any AWS call, and bad input fails the task naming the option: the module's region must
    be set (the generated ARNs name it, and it decides the partition; C(eusc-*) regions are partition C(aws-eusc));
    O(name) and O(path) are ASCII; the role's O(description) has at most 1000 of tab, newline, printable ASCII and
    U+00A1-U+00FF (IAM's pattern); O(tags) are at most 50, keys of 1 to 128 and values of up to 256 letters, digits,
    spaces and C(_ . : / = + - @), no control characters, and keys starting with C(aws:), in any case, are AWS's;
    ARNs are in the partition of the module's region; O(permissions_boundary) and O(managed_policies) take no
    wildcards, and a role has at most 20 managed policies attached, the module's own included (IAM's maximum; 10
    unless the account's quota was raised)."
  - "The generated policy must fit IAM's 6,144 characters for a managed policy (white space not counted). It is
    built and measured before any AWS call, so an oversized policy fails the task before the role is created. For
    M(ecs_anywhere.fleet.instance_role) with the default options, about 14 clusters fit."
  - "M(ecs_anywhere.fleet.instance_role): cluster ARNs take no wildcards (C(cluster/*) would grant every cluster), are
    in the module's region or one of O(ecs_anywhere.fleet.instance_role#module:activation_regions) (which are in the
    module's region's partition), and name one account. That it is the account in use is known only once STS has
    answered: a cluster of another account cannot be joined, and its ARN grants nothing."
  - "M(ecs_anywhere.fleet.task_execution_role): a Secrets Manager ARN without the six random characters AWS appends
    to the secret's name (a partial ARN) becomes C(arn:...:secret:<name>-??????) in the generated policy, AWS's
    documented way to match exactly that secret; a task definition's C(valueFrom) with
    C(:json-key:version-stage:version-id) is refused."
"""
