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
    description:
      - Detach managed policies that this collection attached to the role and no longer wants.
      - Policies attached by anyone else are never detached (the module warns about them); see the notes.
    type: bool
    default: true
  adopt:
    description:
      - Take over a role, or a generated policy named O(generated_policy_name), that exists but was not created by
        this collection (it lacks the C(ecs_anywhere.fleet:managed=true) tag), for example one made in the console.
      - Without it, such a role or policy is left untouched and the module fails, naming it, before any change.
      - With it, the module gives the role (and the policy) the tag and manages them from then on, including trust
        policy, description and deletion with O(state=absent). Policies already attached stay attached, as
        O(purge_policies) only detaches what this collection attaches itself.
    type: bool
    default: false
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
  - "Ownership: the role and the generated policy this collection creates carry the tag C(ecs_anywhere.fleet:managed=true)
    from the create call on. A role or generated policy without it is someone else's: it is neither changed nor deleted
    unless O(adopt=true)."
  - "IAM keeps no record of who attached a policy, so the role's tag C(ecs_anywhere.fleet:attached-policies) lists
    the names of the managed policies this collection attached (space-separated; a comma in a name is written as
    C(:); past 256 characters the list continues in C(ecs_anywhere.fleet:attached-policies:2) and so on). Only
    those, and the generated policy, are ever detached. Tag keys starting with C(ecs_anywhere.fleet:) are the
    collection's own: O(tags) cannot set them and O(purge_tags) never removes them."
  - "Concurrent runs (for example AWX job slices on a fresh account) converge: a role or policy another run of the
    collection created meanwhile (C(EntityAlreadyExists), with the tag) is treated as this run's own, IAM's
    C(ConcurrentModification) is retried, and a policy version refused because concurrent runs filled IAM's five
    versions is retried after pruning."
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
