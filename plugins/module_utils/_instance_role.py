# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the ECS Anywhere instance role (SSM-trusted) -- its options, input rules and wanted
shape, for the instance_role and site modules. The role's convergence itself is _iam_role's."""

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _iam_role as iam_role
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import ECR_REPOSITORY_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import REGION
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import SSM_PARAMETER_NAME

# The instance role's own options (besides _iam_role.ARGUMENT_SPEC's and state).
ARGUMENT_SPEC = dict(
    **iam_role.ARGUMENT_SPEC,
    name=dict(type="str", default="ECSAnywhereRole"),
    description=dict(
        type="str", default="Role for Amazon ECS Anywhere external instances (managed by ecs_anywhere.fleet)"
    ),
    confused_deputy_protection=dict(type="bool", default=True),
    activation_regions=dict(type="list", elements="str"),
    policy_mode=dict(type="str", default="least_privilege", choices=["least_privilege", "managed"]),
    clusters=dict(type="list", elements="str", default=[]),
    ecr_repositories=dict(type="list", elements="str", default=[]),
    readable_parameters=dict(type="list", elements="str", default=[]),
    instance_tags=dict(type="bool", default=True),
    task_metadata_tags=dict(type="bool", default=True),
)


def validate(v, p, state="present"):
    """Input rules (see _common.Validator); ``p`` the options above."""
    iam_role.validate(v, p)
    v.each("activation_regions", p["activation_regions"], REGION, "an AWS region such as eu-west-1")
    v.each("clusters", p["clusters"], CLUSTER_NAME, "cluster name or ARN", "ecs", "cluster/")
    if p["ecr_repositories"] != ["*"]:
        v.each(
            "ecr_repositories",
            p["ecr_repositories"],
            ECR_REPOSITORY_NAME,
            "repository name or ARN",
            "ecr",
            "repository/",
        )
    for parameter in p["readable_parameters"]:
        if parameter.startswith("arn:"):
            v.arn("readable_parameters", parameter, "ssm", "parameter/")
        else:
            prefix = parameter[:-2] if parameter.endswith("/*") else parameter
            v.pattern("readable_parameters", prefix, SSM_PARAMETER_NAME, "parameter name, <path>/* or parameter ARN")
    if state == "present" and p["policy_mode"] == "least_privilege" and not p["clusters"]:
        v.error("clusters", "required with policy_mode=least_privilege (the generated policy is scoped to them)")
    if p["policy_mode"] == "managed" and (p["ecr_repositories"] or p["readable_parameters"]):
        v.error("policy_mode", "ecr_repositories and readable_parameters apply to policy_mode=least_privilege only")


def build_spec(p, region, account, partition, state="present"):
    """The role as it should be (an _iam_role.RoleSpec)."""
    regions = p["activation_regions"] or [region]
    trust = policies.ssm_trust_policy(partition, regions[0], account, p["confused_deputy_protection"])
    if p["confused_deputy_protection"] and len(regions) > 1:
        trust["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] = [
            "arn:%s:ssm:%s:%s:*" % (partition, r, account) for r in regions
        ]
    managed = [policies.managed_policy_arn(partition, policies.SSM_CORE_POLICY)]
    generated = None
    if p["policy_mode"] == "managed":
        managed.append(policies.managed_policy_arn(partition, policies.ECS_INSTANCE_POLICY))
    elif state == "present":
        generated = policies.instance_policy(
            partition,
            region,
            account,
            p["clusters"],
            ecr_repositories="*" if p["ecr_repositories"] == ["*"] else p["ecr_repositories"],
            instance_tags=p["instance_tags"],
            task_metadata_tags=p["task_metadata_tags"],
            readable_parameters=p["readable_parameters"],
        )
    return iam_role.RoleSpec(
        name=p["name"],
        path=p["path"],
        account=account,
        partition=partition,
        trust_policy=trust,
        managed_policy_arns=managed + list(p["managed_policies"]),
        generated_policy_name=p["generated_policy_name"] or "%s-ecs-anywhere" % p["name"],
        generated_policy=generated,
        description=p["description"],
        max_session_duration=p["max_session_duration"],
        permissions_boundary=p["permissions_boundary"],
        tags=p["tags"],
        purge_tags=p["purge_tags"],
        purge_policies=p["purge_policies"],
        adopt=p["adopt"],
    )


def ecr_pull_repositories(partition, spec, after):
    """What the role ``after`` lets instances pull: ["*"] through an AWS managed policy, else the generated grant."""
    if not after:
        return []
    every = {policies.managed_policy_arn(partition, name) for name in policies.ECR_PULL_MANAGED_POLICIES}
    if every & set(after["attached_policies"]):
        return ["*"]
    if spec.generated_policy_arn not in after["attached_policies"]:
        return []
    return policies.ecr_pull_resources(after.get("generated_policy") or spec.generated_policy)


def ensure_present(module, client, p, spec):
    """(before, after, result) for the role present as ``spec``; ``result``: what the modules return about it."""
    wait_timeout = p["wait_timeout"] if p["wait"] else 0
    before, after = iam_role.ensure_present(module, client, spec, wait_timeout)
    return before, after, result(spec, after)


def result(spec, after):
    pull = ecr_pull_repositories(spec.partition, spec, after)
    return dict(
        role=after or {},
        generated_policy_arn=spec.generated_policy_arn,
        policy_document=spec.generated_policy,
        grants_ecr_pull=bool(pull),
        ecr_pull_repositories=pull,
    )
