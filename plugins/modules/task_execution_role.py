#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: task_execution_role
version_added: 0.1.0
short_description: Manage the ECS task execution role, only when tasks need one
description:
  - Manages the IAM role the ECS container agent uses on behalf of tasks (named in task definitions as
    C(executionRoleArn)). It trusts C(ecs-tasks.amazonaws.com).
  - "The role is required only for a reason, and the module's inputs are those reasons: tasks that send logs with
    the C(awslogs) driver (O(log_groups)) -- always, whatever the instance role grants: on an external instance the
    driver writes with this role; tasks that pull images from private Amazon ECR repositories (O(ecr_repositories)) that
    the instance role does not grant (O(instance_role_ecr_repositories), compared repository by repository);
    tasks that read secrets (O(ssm_parameters), O(secrets_manager_secrets), O(kms_keys))."
  - With no reason the module reports RV(required=false) and creates nothing; with O(remove_when_not_required=true)
    it also deletes the role (and its generated policy) if it exists and this collection created it.
  - O(policy_mode=least_privilege) (the default) generates a policy scoped to the given resources;
    O(policy_mode=managed) attaches C(AmazonECSTaskExecutionRolePolicy) (ECR pull and logs on C(*)) and generates
    a policy only for secrets.
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  name:
    description: Name of the role.
    type: str
    default: ecsTaskExecutionRole
  description:
    description: Description of the role.
    type: str
    default: ECS task execution role for ECS Anywhere tasks (managed by ecs_anywhere.fleet)
  state:
    description:
      - V(present) creates or updates the role when it is required (see RV(required)).
      - V(absent) deletes the role and its generated policy -- only when this collection created them (or
        O(adopt=true)); otherwise the module fails and deletes nothing.
    type: str
    choices: [present, absent]
    default: present
  remove_when_not_required:
    description:
      - With O(state=present), delete the role named O(name) when no reason requires it.
      - Only a role (and generated policy) this collection created, or adopted with O(adopt=true), is deleted. Anyone
        else's, such as an C(ecsTaskExecutionRole) made in the console that other tasks use, is left as it is with a
        warning.
    type: bool
    default: false
  confused_deputy_protection:
    description:
      - Add C(aws:SourceAccount) and C(ArnLike aws:SourceArn arn:<partition>:ecs:<region>:<account>:*) conditions to
        the trust policy, as AWS recommends.
    type: bool
    default: true
  policy_mode:
    description: V(least_privilege) or V(managed), see the description.
    type: str
    choices: [least_privilege, managed]
    default: least_privilege
  log_groups:
    description: CloudWatch Logs groups the tasks' C(awslogs) driver writes to (names or ARNs).
    type: list
    elements: str
    default: []
  ecr_repositories:
    description: Private ECR repositories the tasks pull from (names or ARNs; V(*) alone for every repository).
    type: list
    elements: str
    default: []
  instance_role_ecr_repositories:
    description:
      - The repositories the instance role already lets instances pull from, typically
        RV(ecs_anywhere.fleet.instance_role#module:ecr_pull_repositories).
      - Repository names (this account and region), ARNs, ARN patterns such as
        V(arn:aws:ecr:eu-west-1:123456789012:repository/team/*), or V(*) for every repository.
      - Each of O(ecr_repositories) is looked up on its own; only when every one is covered do ECR pulls not require this
        role. V(*) in O(ecr_repositories) is covered only by a grant on every repository.
    type: list
    elements: str
    default: []
  ssm_parameters:
    description: SSM parameters the tasks read as secrets (names or ARNs).
    type: list
    elements: str
    default: []
  secrets_manager_secrets:
    description: ARNs of Secrets Manager secrets the tasks read.
    type: list
    elements: str
    default: []
  kms_keys:
    description: ARNs of customer-managed KMS keys that encrypt those secrets or parameters.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - ecs_anywhere.fleet.iam_role
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
      - The diff shows the trust policy, attached policies, generated policy document, tags, ownership and settings.
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Execution role for tasks that log to CloudWatch and pull from one private repository
  ecs_anywhere.fleet.task_execution_role:
    log_groups: [/ecs/onprem]
    ecr_repositories: [web]
  register: execution_role

# Deletes the role only if this collection created it: a console-made ecsTaskExecutionRole is left alone (warning).
- name: Only ECR pulls, all from repositories the instance role grants -> nothing is created
  ecs_anywhere.fleet.task_execution_role:
    ecr_repositories: [web]
    instance_role_ecr_repositories: "{{ instance_role.ecr_pull_repositories }}"
    remove_when_not_required: true
  register: execution_role

- name: Manage the account's existing ecsTaskExecutionRole; AmazonECSTaskExecutionRolePolicy stays attached
  ecs_anywhere.fleet.task_execution_role:
    log_groups: [/ecs/onprem]
    adopt: true

- name: Tasks read a database password from Secrets Manager
  ecs_anywhere.fleet.task_execution_role:
    secrets_manager_secrets:
      - arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-AbCdEf
    kms_keys:
      - arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

RETURN = r"""
required:
  description: Whether any reason requires a task execution role.
  returned: always
  type: bool
  sample: true
reasons:
  description: The reasons found (V(awslogs), V(private_ecr), V(secrets)).
  returned: always
  type: list
  elements: str
  sample: [awslogs, private_ecr]
ecr_repositories_not_granted:
  description: Those of O(ecr_repositories) that O(instance_role_ecr_repositories) does not cover (the V(private_ecr) reason).
  returned: always
  type: list
  elements: str
  sample: [batch/other]
role:
  description: The role after the change (empty when it is not required or O(state=absent)).
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the role, for task definitions' C(executionRoleArn).
      type: str
      sample: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    name:
      description: Name of the role.
      type: str
      sample: ecsTaskExecutionRole
    role_id:
      description: Stable ID of the role.
      type: str
      sample: AROAEXAMPLEEXAMPLE5678
    path:
      description: Path of the role.
      type: str
      sample: /
    description:
      description: Description of the role.
      type: str
      sample: ECS task execution role for ECS Anywhere tasks (managed by ecs_anywhere.fleet)
    max_session_duration:
      description: Maximum session duration in seconds.
      type: int
      sample: 3600
    permissions_boundary:
      description: ARN of the permissions boundary, or an empty string.
      type: str
      sample: ""
    trust_policy:
      description: The trust policy document.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
               "Action": "sts:AssumeRole"}]}
    attached_policies:
      description: ARNs of the attached managed policies.
      type: list
      elements: str
      sample: ["arn:aws:iam::123456789012:policy/ecsTaskExecutionRole-ecs-anywhere"]
    tags:
      description: Tags of the role, without the collection's own C(ecs_anywhere.fleet:*) tags.
      type: dict
      sample: {}
    owned:
      description: Whether the role carries the collection's ownership tag C(ecs_anywhere.fleet:managed=true).
      type: bool
      sample: true
    attached_by_collection:
      description:
        - ARNs of the attached policies this collection attached (the only ones O(purge_policies) may detach).
      type: list
      elements: str
      sample: ["arn:aws:iam::123456789012:policy/ecsTaskExecutionRole-ecs-anywhere"]
    generated_policy:
      description: Default version of the generated policy document, or null.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": []}
generated_policy_arn:
  description: ARN of the generated policy (whether or not it exists).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:policy/ecsTaskExecutionRole-ecs-anywhere
policy_document:
  description: The generated policy document the role should have, or null.
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": [{"Sid": "WriteContainerLogs", "Effect": "Allow",
           "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
           "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/onprem:log-stream:*"]}]}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import ECR_REPOSITORY_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import LOG_GROUP_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import SSM_PARAMETER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish


def validate(module):
    p = module.params
    v = Validator(module)
    iam_role.validate(v, p)
    v.each("log_groups", p["log_groups"], LOG_GROUP_NAME, "log group name or ARN", "logs", "log-group:")
    if p["ecr_repositories"] != ["*"]:
        v.each(
            "ecr_repositories",
            p["ecr_repositories"],
            ECR_REPOSITORY_NAME,
            "repository name or ARN",
            "ecr",
            "repository/",
        )
    for repository in p["instance_role_ecr_repositories"]:
        if repository.startswith("arn:"):
            v.arn("instance_role_ecr_repositories", repository, "ecr", "repository/")
        elif repository != "*":
            v.pattern("instance_role_ecr_repositories", repository, ECR_REPOSITORY_NAME, "repository name, ARN or *")
    v.each("ssm_parameters", p["ssm_parameters"], SSM_PARAMETER_NAME, "parameter name or ARN", "ssm", "parameter/")
    for arn in p["secrets_manager_secrets"]:
        v.arn("secrets_manager_secrets", arn, "secretsmanager", "secret:")
    for arn in p["kms_keys"]:
        v.arn("kms_keys", arn, "kms", "key/")
    v.check()


def ecr_not_granted(params, partition, region, account):
    """Those of ``ecr_repositories`` the instance role does not let instances pull from, repository by repository."""
    granted = [
        g if g.startswith("arn:") or g == "*" else policies.repository_arn(partition, region, account, g)
        for g in params["instance_role_ecr_repositories"]
    ]
    return policies.ecr_repositories_not_covered(partition, region, account, params["ecr_repositories"], granted)


def reasons(params, not_granted):
    """Why tasks need an execution role: awslogs always; ECR repositories the instance role does not grant; secrets."""
    found = []
    if params["log_groups"]:
        found.append("awslogs")
    if not_granted:
        found.append("private_ecr")
    if params["ssm_parameters"] or params["secrets_manager_secrets"]:
        found.append("secrets")
    return found


def build_spec(module, account, partition):
    p = module.params
    region = module.region
    managed = list(p["managed_policies"])
    secrets = dict(
        ssm_parameters=p["ssm_parameters"],
        secrets_manager_secrets=p["secrets_manager_secrets"],
        kms_keys=p["kms_keys"] if (p["ssm_parameters"] or p["secrets_manager_secrets"]) else [],
    )
    if p["policy_mode"] == "managed":
        managed.append(policies.managed_policy_arn(partition, policies.TASK_EXECUTION_POLICY))
        document = policies.task_execution_policy(partition, region, account, **secrets)
    else:
        # When the role exists the agent pulls with it, so it carries the repositories whenever they are given.
        document = policies.task_execution_policy(
            partition,
            region,
            account,
            ecr_repositories="*" if p["ecr_repositories"] == ["*"] else p["ecr_repositories"],
            log_groups=p["log_groups"],
            **secrets,
        )
    return iam_role.RoleSpec(
        name=p["name"],
        path=p["path"],
        account=account,
        partition=partition,
        trust_policy=policies.ecs_tasks_trust_policy(partition, region, account, p["confused_deputy_protection"]),
        managed_policy_arns=managed,
        generated_policy_name=p["generated_policy_name"] or "%s-ecs-anywhere" % p["name"],
        generated_policy=document if document["Statement"] else None,
        description=p["description"],
        max_session_duration=p["max_session_duration"],
        permissions_boundary=p["permissions_boundary"],
        tags=p["tags"],
        purge_tags=p["purge_tags"],
        purge_policies=p["purge_policies"],
        adopt=p["adopt"],
    )


def run(module, client, account, partition):
    """Find the reasons, bring the role to the wanted state and exit (the module after validation and STS)."""
    not_granted = ecr_not_granted(module.params, partition, module.region, account)
    found = reasons(module.params, not_granted)
    state = module.params["state"]
    spec = build_spec(module, account, partition)
    try:
        if state == "present" and found:
            wait_timeout = module.params["wait_timeout"] if module.params["wait"] else 0
            before, after = iam_role.ensure_present(module, client, spec, wait_timeout)
        elif state == "absent":
            before, after = iam_role.ensure_absent(module, client, spec)
        elif module.params["remove_when_not_required"]:
            before, after = iam_role.ensure_absent(module, client, spec, leave_unowned=True)
        else:
            before = after = None
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    finish(
        module,
        iam_role.diffable(before),
        iam_role.diffable(after),
        required=bool(found),
        reasons=found,
        ecr_repositories_not_granted=not_granted,
        role=(after or {}) if state == "present" and found else {},
        generated_policy_arn=spec.generated_policy_arn,
        policy_document=spec.generated_policy if found else None,
    )


def main():
    argument_spec = dict(
        **iam_role.ARGUMENT_SPEC,
        name=dict(type="str", default="ecsTaskExecutionRole"),
        description=dict(
            type="str", default="ECS task execution role for ECS Anywhere tasks (managed by ecs_anywhere.fleet)"
        ),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        remove_when_not_required=dict(type="bool", default=False),
        confused_deputy_protection=dict(type="bool", default=True),
        policy_mode=dict(type="str", default="least_privilege", choices=["least_privilege", "managed"]),
        log_groups=dict(type="list", elements="str", default=[]),
        ecr_repositories=dict(type="list", elements="str", default=[]),
        instance_role_ecr_repositories=dict(type="list", elements="str", default=[]),
        ssm_parameters=dict(type="list", elements="str", default=[]),
        secrets_manager_secrets=dict(type="list", elements="str", default=[], no_log=False),
        kms_keys=dict(type="list", elements="str", default=[], no_log=False),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)

    account, partition = get_aws_account_info(module)
    run(module, module.client("iam"), account, partition)


if __name__ == "__main__":
    main()
