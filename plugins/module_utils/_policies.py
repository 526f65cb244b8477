# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the IAM documents it generates (trust and least-privilege policies).

Pure functions of their inputs -- no AWS calls -- so they are unit-tested directly and checked
against IAM's action/resource catalogue.  Every ARN is built for the given partition.
"""

VERSION = "2012-10-17"

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


def log_stream_arn(partition, region, account, log_group):
    if log_group.startswith("arn:"):
        group = log_group[:-2] if log_group.endswith(":*") else log_group
        return group + ":log-stream:*"
    return _arn(partition, "logs", region, account, "log-group:%s:log-stream:*" % log_group)


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


def instance_policy(
    partition,
    region,
    account,
    clusters,
    ecr_repositories=None,
    log_groups=None,
    instance_tags=True,
    task_metadata_tags=True,
):
    """Least-privilege policy for the ECS agent of an external (ECS Anywhere) instance.

    Compared with AmazonEC2ContainerServiceforEC2Role it leaves out what an external instance never
    calls (ec2:DescribeTags, ecs:CreateCluster, ecs:DeregisterContainerInstance,
    ecs:UpdateContainerInstancesState) and scopes every cluster-bound action to ``clusters``.
    """
    arns = sorted({cluster_arn(partition, region, account, c) for c in clusters})
    instances = [_cluster_child_arn(a, "container-instance") for a in arns]
    statements = [
        _statement("DiscoverPollEndpoint", ["ecs:DiscoverPollEndpoint"], ["*"]),
        _statement("RegisterAndReportToClusters", ECS_CLUSTER_ACTIONS, arns),
        _statement(
            "PollAsContainerInstance", ECS_INSTANCE_ACTIONS, instances, {"ArnEquals": {"ecs:cluster": arns}}
        ),
    ]
    if instance_tags:
        statements.append(
            _statement(
                "TagContainerInstanceOnRegistration",
                ["ecs:TagResource"],
                instances,
                {"StringEquals": {"ecs:CreateAction": "RegisterContainerInstance"}},
            )
        )
    if task_metadata_tags:
        tasks = [_cluster_child_arn(a, "task") for a in arns]
        statements.append(_statement("ReadTagsForTaskMetadata", ["ecs:ListTagsForResource"], instances + tasks))
    statements += _ecr_statements(partition, region, account, ecr_repositories)
    statements += _logs_statements(partition, region, account, log_groups)
    return dict(Version=VERSION, Statement=statements)


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
        resources = [
            p if p.startswith("arn:") else _arn(partition, "ssm", region, account, "parameter/" + p.lstrip("/"))
            for p in ssm_parameters
        ]
        statements.append(_statement("ReadSsmParameters", ["ssm:GetParameters"], resources))
    if secrets_manager_secrets:
        statements.append(_statement("ReadSecrets", ["secretsmanager:GetSecretValue"], secrets_manager_secrets))
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
