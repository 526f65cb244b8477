#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: instance_role
version_added: 0.1.0
short_description: Manage the IAM role ECS Anywhere instances use (ECSAnywhereRole)
description:
  - Manages the IAM role that every external (ECS Anywhere) instance assumes through AWS Systems Manager.
    It is named in SSM hybrid activations, so it trusts C(ssm.amazonaws.com).
  - By default the trust policy carries the confused-deputy conditions AWS recommends for the hybrid
    activation service role (C(aws:SourceAccount) and C(aws:SourceArn)).
  - O(policy_mode=managed) attaches the two AWS managed policies of the AWS documentation,
    C(AmazonSSMManagedInstanceCore) and C(service-role/AmazonEC2ContainerServiceforEC2Role).
  - O(policy_mode=least_privilege) (the default) attaches C(AmazonSSMManagedInstanceCore) and a
    customer-managed policy that this module generates and keeps in sync, granting only what the ECS
    agent of an external instance calls, scoped to O(clusters). See the notes for the statements.
  - In that mode the generated policy also denies reading SSM parameters other than O(readable_parameters); without it
    C(AmazonSSMManagedInstanceCore) would let every host read every parameter of the account, including those meant
    for the tasks of one service only.
  - Never creates an instance profile; SSM does not use one.
  - All ARNs are built for the partition of the account in use (C(aws), C(aws-cn), C(aws-us-gov)).
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  name:
    description: Name of the role.
    type: str
    default: ECSAnywhereRole
  description:
    description: Description of the role.
    type: str
    default: Role for Amazon ECS Anywhere external instances (managed by ecs_anywhere.fleet)
  state:
    description:
      - V(present) creates or updates the role.
      - V(absent) detaches its policies, deletes the generated policy and the role -- only when this collection created
        them (or O(adopt=true)); otherwise the module fails and deletes nothing.
    type: str
    choices: [present, absent]
    default: present
  confused_deputy_protection:
    description:
      - Add the C(aws:SourceAccount) and C(aws:SourceArn) conditions to the trust policy, so only SSM acting for
        this account (in O(activation_regions)) can assume the role.
    type: bool
    default: true
  activation_regions:
    description:
      - Regions in which SSM activations for this role are created; used in the C(aws:SourceArn) condition.
      - Defaults to the module's region.
    type: list
    elements: str
  policy_mode:
    description:
      - V(least_privilege) attaches C(AmazonSSMManagedInstanceCore) and the generated policy.
      - V(managed) attaches C(AmazonSSMManagedInstanceCore) and C(AmazonEC2ContainerServiceforEC2Role); AWS notes that the
        latter may grant more than the instances need. Switching to V(managed) deletes the generated policy.
    type: str
    choices: [least_privilege, managed]
    default: least_privilege
  clusters:
    description:
      - Clusters the instances may join (names in the module's region, or cluster ARNs).
      - Required with O(policy_mode=least_privilege).
    type: list
    elements: str
    default: []
  ecr_repositories:
    description:
      - Let the instances pull images from Amazon ECR (used when tasks have no task execution role).
      - A list of repository names (this account and region) or ARNs; V(*) alone means every repository of the account.
      - Empty (the default) grants no ECR access. Only with O(policy_mode=least_privilege).
      - Pass RV(ecr_pull_repositories) to O(ecs_anywhere.fleet.task_execution_role#module:instance_role_ecr_repositories);
        tasks pulling from a repository not listed here still need a task execution role.
    type: list
    elements: str
    default: []
  readable_parameters:
    description:
      - SSM parameters the instances may read (C(ssm:GetParameter), C(ssm:GetParameters), C(ssm:GetParametersByPath),
        C(ssm:GetParameterHistory)); the generated policy denies reading every other parameter.
      - Parameter names (this account and region, with or without the leading V(/)), path prefixes ending in V(/*)
        (such as V(/onprem/agents/*)), or parameter ARNs (which may end in V(*)).
      - Empty (the default) denies reading every parameter. List here the parameters that Run Command documents sent to
        the hosts reference as C({{ssm:name}}), and public parameters such as
        V(arn:aws:ssm:eu-west-1::parameter/aws/service/*) if the hosts read them.
      - Tasks read their secrets with the task execution role, not with this role; they need nothing here.
      - Only with O(policy_mode=least_privilege).
    type: list
    elements: str
    default: []
  instance_tags:
    description:
      - Allow the agent to tag its container instance when it registers (C(ECS_CONTAINER_INSTANCE_TAGS)).
    type: bool
    default: true
  task_metadata_tags:
    description:
      - Allow the agent to read container instance and task tags for the task metadata endpoint.
    type: bool
    default: true
notes:
  - "The generated policy (O(policy_mode=least_privilege)) has these statements, with C(<cluster>) for each of O(clusters):"
  - "C(DiscoverPollEndpoint): C(ecs:DiscoverPollEndpoint) on C(*) -- the action has no resource type."
  - "C(RegisterAndReportToClusters): C(ecs:RegisterContainerInstance), C(ecs:SubmitAttachmentStateChanges),
    C(ecs:SubmitContainerStateChange), C(ecs:SubmitTaskStateChange) on C(arn:<partition>:ecs:<region>:<account>:cluster/<cluster>)."
  - "C(PollAsContainerInstance): C(ecs:Poll), C(ecs:StartTelemetrySession) on
    C(arn:...:container-instance/<cluster>/*) with C(ArnEquals ecs:cluster) the cluster ARNs."
  - "C(TagOnRegistration) (O(instance_tags)): C(ecs:TagResource) on C(*) only when C(ecs:CreateAction) is
    C(CreateCluster) or C(RegisterContainerInstance) -- the statement of C(AmazonEC2ContainerServiceforEC2Role): IAM
    names no required resource type for tagging on create, and the agent itself cannot call C(ecs:CreateCluster)."
  - "C(ReadTagsForTaskMetadata) (O(task_metadata_tags)): C(ecs:ListTagsForResource) on the clusters' container instances and tasks."
  - "C(EcrAuthorizationToken) and C(EcrPullImages) (O(ecr_repositories)): C(ecr:GetAuthorizationToken) on C(*);
    C(ecr:BatchCheckLayerAvailability), C(ecr:GetDownloadUrlForLayer), C(ecr:BatchGetImage) on the repositories."
  - "C(DenyParametersNotGiven): C(Deny) of C(ssm:GetParameter), C(ssm:GetParameters), C(ssm:GetParametersByPath),
    C(ssm:GetParameterHistory) with C(NotResource) the O(readable_parameters) (C(Resource *) when there are none)."
  - "Left out, compared with C(AmazonEC2ContainerServiceforEC2Role): C(ec2:DescribeTags) (EC2 metadata only),
    C(ecs:CreateCluster) (only when C(ECS_CLUSTER) is empty), C(ecs:DeregisterContainerInstance) (the agent never calls it),
    C(ecs:UpdateContainerInstancesState) (Spot draining) and C(logs:CreateLogStream), C(logs:PutLogEvents): on an
    external instance the C(awslogs) driver of a task writes with the task execution role (the AWS ECS Anywhere IAM
    page lists awslogs as a reason for that role), so give the log groups to
    M(ecs_anywhere.fleet.task_execution_role)."
  - IAM is eventually consistent. The M(ecs_anywhere.fleet.activation) module retries while SSM does not yet see a new role.
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
- name: ECSAnywhereRole with a generated least-privilege policy for two clusters
  ecs_anywhere.fleet.instance_role:
    clusters: [onprem, onprem-gpu]
    tags:
      team: platform
  register: instance_role

# The generated document for clusters=[onprem] in eu-west-1, account 123456789012:
# {"Version": "2012-10-17", "Statement": [
#   {"Sid": "DiscoverPollEndpoint", "Effect": "Allow", "Action": ["ecs:DiscoverPollEndpoint"], "Resource": ["*"]},
#   {"Sid": "RegisterAndReportToClusters", "Effect": "Allow",
#    "Action": ["ecs:RegisterContainerInstance", "ecs:SubmitAttachmentStateChanges",
#               "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange"],
#    "Resource": ["arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"]},
#   {"Sid": "PollAsContainerInstance", "Effect": "Allow", "Action": ["ecs:Poll", "ecs:StartTelemetrySession"],
#    "Resource": ["arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/*"],
#    "Condition": {"ArnEquals": {"ecs:cluster": ["arn:aws:ecs:eu-west-1:123456789012:cluster/onprem"]}}},
#   {"Sid": "TagOnRegistration", "Effect": "Allow", "Action": ["ecs:TagResource"], "Resource": ["*"],
#    "Condition": {"StringEquals": {"ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"]}}},
#   {"Sid": "ReadTagsForTaskMetadata", "Effect": "Allow", "Action": ["ecs:ListTagsForResource"],
#    "Resource": ["arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/*",
#                 "arn:aws:ecs:eu-west-1:123456789012:task/onprem/*"]},
#   {"Sid": "DenyParametersNotGiven", "Effect": "Deny",
#    "Action": ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"],
#    "Resource": ["*"]}]}

- name: Instances also pull from two private ECR repositories (tasks without an execution role pull with it)
  ecs_anywhere.fleet.instance_role:
    clusters: [onprem]
    ecr_repositories: [web, batch/worker]
  register: instance_role

- name: Tasks pulling other repositories (here batch/other) still get an execution role
  ecs_anywhere.fleet.task_execution_role:
    ecr_repositories: [web, batch/other]
    instance_role_ecr_repositories: "{{ instance_role.ecr_pull_repositories }}"

- name: Hosts may read the parameters under /onprem/agents/ and one more, and no other
  ecs_anywhere.fleet.instance_role:
    clusters: [onprem]
    readable_parameters:
      - /onprem/agents/*
      - /shared/ntp-server

- name: The role exactly as the AWS documentation describes it
  ecs_anywhere.fleet.instance_role:
    name: ecsAnywhereRole
    policy_mode: managed

- name: Take over an ECSAnywhereRole made earlier in the console (its attached policies stay attached)
  ecs_anywhere.fleet.instance_role:
    clusters: [onprem]
    adopt: true

- name: Remove the role and its generated policy (only if this collection created or adopted them)
  ecs_anywhere.fleet.instance_role:
    state: absent
"""

RETURN = r"""
role:
  description: The role after the change (empty when O(state=absent)).
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the role.
      type: str
      sample: arn:aws:iam::123456789012:role/ECSAnywhereRole
    name:
      description: Name of the role (what SSM activations name).
      type: str
      sample: ECSAnywhereRole
    role_id:
      description: Stable ID of the role (null in check mode before creation).
      type: str
      sample: AROAEXAMPLEEXAMPLE1234
    path:
      description: Path of the role.
      type: str
      sample: /
    description:
      description: Description of the role.
      type: str
      sample: Role for Amazon ECS Anywhere external instances (managed by ecs_anywhere.fleet)
    max_session_duration:
      description: Maximum session duration in seconds.
      type: int
      sample: 3600
    permissions_boundary:
      description: ARN of the permissions boundary, or an empty string.
      type: str
      sample: ""
    trust_policy:
      description: The trust (assume role) policy document.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"},
               "Action": "sts:AssumeRole"}]}
    attached_policies:
      description: ARNs of the managed policies attached to the role.
      type: list
      elements: str
      sample: ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::123456789012:policy/ECSAnywhereRole-ecs-anywhere"]
    tags:
      description: Tags of the role, without the collection's own C(ecs_anywhere.fleet:*) tags.
      type: dict
      sample: {"team": "platform"}
    owned:
      description: Whether the role carries the collection's ownership tag C(ecs_anywhere.fleet:managed=true).
      type: bool
      sample: true
    attached_by_collection:
      description:
        - ARNs of the attached policies this collection attached (the only ones O(purge_policies) may detach).
      type: list
      elements: str
      sample: ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:iam::123456789012:policy/ECSAnywhereRole-ecs-anywhere"]
    generated_policy:
      description: Default version of the generated policy document, or null.
      type: dict
      sample: {"Version": "2012-10-17", "Statement": []}
generated_policy_arn:
  description: ARN of the generated policy (whether or not it exists).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:policy/ECSAnywhereRole-ecs-anywhere
policy_document:
  description: The generated least-privilege policy document the role should have (null with O(policy_mode=managed)).
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": [{"Sid": "DiscoverPollEndpoint", "Effect": "Allow",
           "Action": ["ecs:DiscoverPollEndpoint"], "Resource": ["*"]}]}
grants_ecr_pull:
  description:
    - Whether the role lets instances pull from at least one ECR repository (see RV(ecr_pull_repositories) for which).
  returned: always
  type: bool
  sample: false
ecr_pull_repositories:
  description:
    - Repositories the role lets instances pull from, as ARNs or ARN patterns; V(*) when an attached AWS managed policy
      (C(AmazonEC2ContainerServiceforEC2Role) or an C(AmazonEC2ContainerRegistry*) policy) grants every repository.
    - For O(ecs_anywhere.fleet.task_execution_role#module:instance_role_ecr_repositories), which compares repository by
      repository. Customer-managed policies in O(managed_policies) are not read.
  returned: always
  type: list
  elements: str
  sample: ["arn:aws:ecr:eu-west-1:123456789012:repository/web"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _instance_role as instance_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish


def validate(module):
    v = Validator(module)
    instance_role.validate(v, module.params, module.params["state"])
    v.check()


def build_spec(module, account, partition):
    return instance_role.build_spec(module.params, module.region, account, partition, module.params["state"])


def run(module, client, account, partition):
    """Bring the role to the wanted state and exit (the module after validation and STS)."""
    spec = build_spec(module, account, partition)
    try:
        if module.params["state"] == "present":
            before, after, result = instance_role.ensure_present(module, client, module.params, spec)
        else:
            before, after = iam_role.ensure_absent(module, client, spec)
            result = instance_role.result(spec, after)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    finish(module, iam_role.diffable(before), iam_role.diffable(after), **result)


def main():
    argument_spec = dict(
        **instance_role.ARGUMENT_SPEC,
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)

    account, partition = get_aws_account_info(module)
    run(module, module.client("iam"), account, partition)


if __name__ == "__main__":
    main()
