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
"""
