# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the IAM documents it generates (trust and least-privilege policies).

Pure functions of their inputs -- no AWS calls -- so they are unit-tested directly and checked
against IAM's action/resource catalogue.  Every ARN is built for the given partition.

``validate_role`` holds the input rules of the two role modules that go beyond names: the partition and
regions of the ARNs given, and the size of the generated policy, all checked before any AWS call.
"""

import json
import re

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import ACCOUNT_ID
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import iam_description_text
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import parse_arn
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import partition_of

VERSION = "2012-10-17"

#: IAM quotas (IAM User Guide, "IAM and AWS STS quotas"): a managed policy has at most 6,144 characters,
#: white space not counted; a role has at most 20 managed policies attached (10 unless the quota was raised).
MANAGED_POLICY_MAX = 6144
ATTACHED_POLICIES_MAX = 20
ROLE_DESCRIPTION_MAX = 1000
#: Stands for the account in documents generated before the account is known: account ids always have 12
#: digits, so a document's size does not depend on which account it is.
ANY_ACCOUNT = "123456789012"

#: A full secret ARN ends with "-" and the six random characters Secrets Manager appends to the name.
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}\Z")
SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@*?-]{1,512}\Z")

# AWS managed policies used by policy_mode=managed (the seed document's two policies).
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
ECS_INSTANCE_POLICY = "service-role/AmazonEC2ContainerServiceforEC2Role"
TASK_EXECUTION_POLICY = "service-role/AmazonECSTaskExecutionRolePolicy"

# What the ECS agent on an external instance calls, by resource type (see the module docs).
ECS_CLUSTER_ACTIONS = [
    "ecs:RegisterContainerInstance",
    "ecs:SubmitAttachmentStateChanges",
    "ecs:SubmitContainerStateChange",
    "ecs:SubmitTaskStateChange",
]
ECS_INSTANCE_ACTIONS = ["ecs:Poll", "ecs:StartTelemetrySession"]
ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOGS_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
#: Every way to read a parameter's value.  AmazonSSMManagedInstanceCore allows the first two on ``*`` (the SSM
#: agent resolves ``{{ssm:...}}`` references in documents with them); the instance policy denies all four outside
#: the parameters a host is given.
SSM_READ_ACTIONS = ["ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"]
#: What AmazonEC2ContainerServiceforEC2Role lets the agent tag, and only while creating it (AWS's statement).
TAG_ON_CREATE_ACTIONS = ["CreateCluster", "RegisterContainerInstance"]
#: AWS managed policies that grant ECR pull on every repository (``*``), when attached to the instance role.
ECR_PULL_MANAGED_POLICIES = [
    ECS_INSTANCE_POLICY,
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess",
]


def managed_policy_arn(partition, name):
    return "arn:%s:iam::aws:policy/%s" % (partition, name)


def _arn(partition, service, region, account, resource):
    return "arn:%s:%s:%s:%s:%s" % (partition, service, region, account, resource)


def cluster_arn(partition, region, account, cluster):
    """ARN of a cluster given by name (in this region/account) or already as an ARN."""
    if cluster.startswith("arn:"):
        return cluster
    return _arn(partition, "ecs", region, account, "cluster/" + cluster)


def _cluster_child_arn(cluster, kind):
    """container-instance/<cluster>/* or task/<cluster>/* under a cluster ARN."""
    prefix, name = cluster.split(":cluster/", 1)
    return "%s:%s/%s/*" % (prefix, kind, name)


def repository_arn(partition, region, account, repository):
    if repository.startswith("arn:"):
        return repository
    return _arn(partition, "ecr", region, account, "repository/" + repository)


def parameter_arn(partition, region, account, parameter):
    """ARN (or ARN pattern, for a path prefix such as ``/app/*``) of an SSM parameter given by name or ARN."""
    if parameter.startswith("arn:"):
        return parameter
    return _arn(partition, "ssm", region, account, "parameter/" + parameter.lstrip("/"))


def _glob(pattern):
    """IAM's ARN matching: ``*`` any run of characters, ``?`` any one character, everything else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


def ecr_repositories_not_covered(partition, region, account, wanted, granted):
    """Those of ``wanted`` (repository names/ARNs, or ``["*"]``) that no pattern of ``granted`` covers.

    ``granted`` are the resources of the instance role's ECR pull grant (ARNs, ARN patterns or ``*``). Each wanted
    repository is compared on its own: a grant on repository A says nothing about repository B.  ``*`` (every
    repository of the account) is covered only by a grant on every repository.
    """
    patterns = [_glob(g) for g in granted or []]
    missing = []
    for repository in wanted or []:
        # "*" stands for every repository: covered only by a pattern that matches the pattern itself.
        if repository == "*":
            arn = _arn(partition, "ecr", region, account, "repository/*")
        else:
            arn = repository_arn(partition, region, account, repository)
        if not any(p.match(arn) for p in patterns):
            missing.append(repository)
    return missing


def log_stream_arn(partition, region, account, log_group):
    if log_group.startswith("arn:"):
        group = log_group[:-2] if log_group.endswith(":*") else log_group
        return group + ":log-stream:*"
    return _arn(partition, "logs", region, account, "log-group:%s:log-stream:*" % log_group)


def secret_resource(arn):
    """The policy resource for a Secrets Manager secret ARN.

    A secret's ARN is its name followed by "-" and six random characters.  A partial ARN (the name without
    them) matches nothing in a policy, so it becomes AWS's documented pattern ``<name>-??????``, which
    matches exactly that secret, also after it is re-created (Secrets Manager User Guide, "Limiting
    access to specific secrets").  A full ARN, or one with wildcards, is kept as given.
    """
    if SECRET_SUFFIX.search(arn) or "*" in arn or "?" in arn:
        return arn
    return arn + "-??????"


def _statement(sid, actions, resources, condition=None):
    statement = dict(Sid=sid, Effect="Allow", Action=sorted(actions), Resource=sorted(resources))
    if condition:
        statement["Condition"] = condition
    return statement


def _ecr_statements(partition, region, account, repositories):
    """``repositories``: None (no ECR), "*" (all repositories of the account) or a list of names/ARNs."""
    if not repositories:
        return []
    if repositories == "*":
        resources = [_arn(partition, "ecr", region, account, "repository/*")]
    else:
        resources = [repository_arn(partition, region, account, r) for r in repositories]
    return [
        _statement("EcrAuthorizationToken", ["ecr:GetAuthorizationToken"], ["*"]),
        _statement("EcrPullImages", ECR_PULL_ACTIONS, resources),
    ]


def _logs_statements(partition, region, account, log_groups):
    if not log_groups:
        return []
    resources = [log_stream_arn(partition, region, account, g) for g in log_groups]
    return [_statement("WriteContainerLogs", LOGS_ACTIONS, resources)]


def _parameter_statement(partition, region, account, readable_parameters):
    """Deny reading any parameter but ``readable_parameters`` (names, ``<path>/*`` prefixes or ARNs).

    An explicit Deny wins over the Allow on ``*`` in AmazonSSMManagedInstanceCore (and over any other policy of the
    role), so a host reads only what it is given.  With no parameters given it denies every parameter.
    """
    resources = sorted({parameter_arn(partition, region, account, p) for p in readable_parameters or []})
    statement = dict(Sid="DenyParametersNotGiven", Effect="Deny", Action=sorted(SSM_READ_ACTIONS))
    if resources:
        statement["NotResource"] = resources
    else:
        statement["Resource"] = ["*"]
    return statement


def instance_policy(
    partition,
    region,
    account,
    clusters,
    ecr_repositories=None,
    instance_tags=True,
    task_metadata_tags=True,
    readable_parameters=None,
):
    """Least-privilege policy for the ECS agent of an external (ECS Anywhere) instance.

    Compared with AmazonEC2ContainerServiceforEC2Role it leaves out what an external instance never
    calls (ec2:DescribeTags, ecs:CreateCluster, ecs:DeregisterContainerInstance,
    ecs:UpdateContainerInstancesState, and logs: the awslogs driver of an external instance's tasks writes with
    the task execution role), scopes every cluster-bound action to ``clusters``, and denies reading SSM
    parameters other than ``readable_parameters``.
    """
    arns = sorted({cluster_arn(partition, region, account, c) for c in clusters})
    instances = [_cluster_child_arn(a, "container-instance") for a in arns]
    statements = [
        _statement("DiscoverPollEndpoint", ["ecs:DiscoverPollEndpoint"], ["*"]),
        _statement("RegisterAndReportToClusters", ECS_CLUSTER_ACTIONS, arns),
        _statement("PollAsContainerInstance", ECS_INSTANCE_ACTIONS, instances, {"ArnEquals": {"ecs:cluster": arns}}),
    ]
    if instance_tags:
        # As AWS's AmazonEC2ContainerServiceforEC2Role has it: IAM names no required resource type for
        # ecs:TagResource on create, so the grant is on * and bound to the creating action.
        statements.append(
            _statement(
                "TagOnRegistration",
                ["ecs:TagResource"],
                ["*"],
                {"StringEquals": {"ecs:CreateAction": list(TAG_ON_CREATE_ACTIONS)}},
            )
        )
    if task_metadata_tags:
        tasks = [_cluster_child_arn(a, "task") for a in arns]
        statements.append(_statement("ReadTagsForTaskMetadata", ["ecs:ListTagsForResource"], instances + tasks))
    statements += _ecr_statements(partition, region, account, ecr_repositories)
    statements.append(_parameter_statement(partition, region, account, readable_parameters))
    return dict(Version=VERSION, Statement=statements)


def ecr_pull_resources(document):
    """Resources on which ``document`` (a generated policy) allows pulling images, [] when it allows none."""
    for statement in (document or {}).get("Statement", []):
        if statement.get("Sid") == "EcrPullImages" and statement.get("Effect") == "Allow":
            return list(statement["Resource"])
    return []


def task_execution_policy(
    partition,
    region,
    account,
    ecr_repositories=None,
    log_groups=None,
    ssm_parameters=None,
    secrets_manager_secrets=None,
    kms_keys=None,
):
    """Least-privilege policy for a task execution role, from the reasons a task needs one."""
    statements = _ecr_statements(partition, region, account, ecr_repositories)
    statements += _logs_statements(partition, region, account, log_groups)
    if ssm_parameters:
        resources = [parameter_arn(partition, region, account, p) for p in ssm_parameters]
        statements.append(_statement("ReadSsmParameters", ["ssm:GetParameters"], resources))
    if secrets_manager_secrets:
        resources = [secret_resource(s) for s in secrets_manager_secrets]
        statements.append(_statement("ReadSecrets", ["secretsmanager:GetSecretValue"], resources))
    if kms_keys:
        statements.append(_statement("DecryptSecrets", ["kms:Decrypt"], kms_keys))
    return dict(Version=VERSION, Statement=statements)


def service_trust_policy(service, conditions=None):
    statement = dict(Effect="Allow", Principal=dict(Service=service), Action="sts:AssumeRole")
    if conditions:
        statement["Condition"] = conditions
    return dict(Version=VERSION, Statement=[statement])


def ssm_trust_policy(partition, region, account, confused_deputy_protection=True):
    """Trust for the hybrid-activation service role, with AWS's recommended confused-deputy conditions."""
    conditions = None
    if confused_deputy_protection:
        conditions = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnEquals": {"aws:SourceArn": _arn(partition, "ssm", region, account, "*")},
        }
    return service_trust_policy("ssm.amazonaws.com", conditions)


def ecs_tasks_trust_policy(partition, region, account, confused_deputy_protection=True):
    conditions = None
    if confused_deputy_protection:
        conditions = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": _arn(partition, "ecs", region, account, "*")},
        }
    return service_trust_policy("ecs-tasks.amazonaws.com", conditions)


# ---------------------------------------------------------------- input rules of the role modules


def document_size(document):
    """Characters IAM counts against a policy size quota: the JSON text without white space."""
    return sum(1 for c in json.dumps(document) if not c.isspace())


def _cluster_given(value):
    """Whether ``value`` is a cluster name or cluster ARN that a document can be generated for."""
    if not value.startswith("arn:"):
        return bool(CLUSTER_NAME.match(value))
    parts = parse_arn(value)
    return (
        bool(parts)
        and parts[1] == "ecs"
        and parts[4].startswith("cluster/")
        and bool(CLUSTER_NAME.match(parts[4][len("cluster/") :]))
    )


def _check_size(v, params, document, options):
    """Fail (naming the option with the most entries) when ``document`` is over the managed policy quota."""
    size = document_size(document)
    if size > MANAGED_POLICY_MAX:
        param = max(options, key=lambda o: len(params[o] or []))
        v.error(
            param,
            "the generated policy would have {:,} characters, over IAM's limit of {:,} for a managed policy (white "
            "space not counted); give fewer {}".format(size, MANAGED_POLICY_MAX, ", ".join(options)),
        )


def _check_attachments(v, params, own):
    count = len(set(params["managed_policies"])) + own
    if count > ATTACHED_POLICIES_MAX:
        v.error(
            "managed_policies",
            "the role would have %d managed policies attached (%d of them this module's); IAM allows at most %d"
            % (count, own, ATTACHED_POLICIES_MAX),
        )


def _instance_role_rules(v, params, partition, region):
    regions = [region] + [r for r in params["activation_regions"] or [] if r != region]
    for other in params["activation_regions"] or []:
        if partition_of(other) and partition_of(other) != partition:
            v.error("activation_regions", "%r is not in partition %s of region %s" % (other, partition, region))
    v.arn_regions("clusters", params["clusters"], regions, "the module's region and activation_regions")
    accounts = set()
    for cluster in params["clusters"]:
        parts = parse_arn(cluster) if cluster.startswith("arn:") else None
        if parts and parts[1] == "ecs" and ACCOUNT_ID.match(parts[3]):
            accounts.add(parts[3])
    if len(accounts) > 1:
        v.error(
            "clusters",
            "the cluster ARNs name %d accounts (%s); instances join clusters of the role's own account only"
            % (len(accounts), ", ".join(sorted(accounts))),
        )
    managed = params["policy_mode"] == "managed"
    generated = not managed and params["state"] == "present"
    _check_attachments(v, params, 2 if managed else 1 + generated)
    clusters = [c for c in params["clusters"] if _cluster_given(c)]
    if generated and clusters:
        document = instance_policy(
            partition,
            region,
            ANY_ACCOUNT,
            clusters,
            ecr_repositories="*" if params["ecr_repositories"] == ["*"] else params["ecr_repositories"],
            instance_tags=params["instance_tags"],
            task_metadata_tags=params["task_metadata_tags"],
            readable_parameters=params["readable_parameters"],
        )
        _check_size(v, params, document, ["clusters", "ecr_repositories", "readable_parameters"])


def _task_execution_role_rules(v, params, partition, region):
    for secret in params["secrets_manager_secrets"]:
        parts = parse_arn(secret)
        if not parts or parts[1] != "secretsmanager" or not parts[4].startswith("secret:"):
            continue  # the module's own checks name it
        name = parts[4][len("secret:") :]
        if ":" in name:
            v.error(
                "secrets_manager_secrets",
                "%r: give the secret's ARN, without the :json-key:version-stage:version-id of a task definition's "
                "valueFrom" % secret,
            )
        elif not SECRET_NAME.match(name):
            v.error(
                "secrets_manager_secrets", "%r: %r is not a secret name (1-512 of A-Za-z0-9/_+=.@-)" % (secret, name)
            )
    managed = params["policy_mode"] == "managed"
    _check_attachments(v, params, 1 + managed)
    secrets = dict(
        ssm_parameters=params["ssm_parameters"],
        secrets_manager_secrets=params["secrets_manager_secrets"],
        kms_keys=params["kms_keys"] if (params["ssm_parameters"] or params["secrets_manager_secrets"]) else [],
    )
    if managed:
        document = task_execution_policy(partition, region, ANY_ACCOUNT, **secrets)
    else:
        document = task_execution_policy(
            partition,
            region,
            ANY_ACCOUNT,
            ecr_repositories="*" if params["ecr_repositories"] == ["*"] else params["ecr_repositories"],
            log_groups=params["log_groups"],
            **secrets
        )
    if params["state"] == "present":
        options = ["log_groups", "ecr_repositories", "ssm_parameters", "secrets_manager_secrets", "kms_keys"]
        _check_size(v, params, document, options[2:] if managed else options)


def validate_role(v, params):
    """Rules of instance_role and task_execution_role beyond the IAM names, recorded on the Validator ``v``.

    The module's region must be known (the generated ARNs and trust conditions name it) and decides the
    partition; the description and tags must be what IAM accepts; and the generated policy is built here,
    for a stand-in account, so that a policy over IAM's size quota fails before the role is created.
    (Whether cluster ARNs are of the caller's own account is known only after STS answers.)
    """
    v.region(required=True, why="the generated ARNs and trust conditions name it")
    v.text(
        "description",
        params.get("description"),
        ROLE_DESCRIPTION_MAX,
        iam_description_text,
        "tab, newline, printable ASCII and Latin-1 letters",
    )
    v.tags("tags", params.get("tags"))
    partition, region = v.partition, v.module_region
    if not partition:
        return
    if "clusters" in params:
        _instance_role_rules(v, params, partition, region)
    if "secrets_manager_secrets" in params:
        _task_execution_role_rules(v, params, partition, region)
