# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the fleet -- SSM managed instances joined with ECS container instances.

The cost of a listing grows with pages, not instances: DescribeInstanceInformation pages of 50,
ListContainerInstances pages of 100 (narrowed with the cluster query language), and
DescribeContainerInstances batches of 100.  No per-instance call is made.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import pages

MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")
CONTAINER_INSTANCE_ARN = re.compile(r"^arn:[\w-]+:ecs:[\w-]+:\d{12}:container-instance/([\w-]+)/([0-9a-f]{32})$")
SSM_PAGE = 50  # DescribeInstanceInformation's MaxResults limit
ECS_PAGE = 100  # ListContainerInstances' maxResults limit
FILTER_VALUES = 50  # values per DescribeInstanceInformation filter, and ids per ECS "in" expression


class AnsibleSSMError(AnsibleAWSError):
    pass


class SSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleSSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidInstanceId")


def _chunks(values, size):
    values = sorted(values)
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


# ---------------------------------------------------------------- SSM managed instances


@AWSRetry.jittered_backoff()
def _instance_information_page(client, **params):
    return client.describe_instance_information(**params)


@SSMErrorHandler.common_error_handler("describe managed instances")
def describe_managed_instances(client, instance_ids=None, ping_status=None, tags=None):
    """Managed (hybrid) instances.  Tag filters cannot be combined with others in the API, so with
    ``tags`` the other criteria are applied here."""
    found = []
    if tags:
        filters = [dict(Key="tag:%s" % k, Values=[str(v)]) for k, v in tags.items()]
        found = pages(
            lambda **p: _instance_information_page(client, **p),
            "InstanceInformationList",
            Filters=filters,
            MaxResults=SSM_PAGE,
        )
        found = [i for i in found if i.get("ResourceType") == "ManagedInstance"]
        if instance_ids:
            found = [i for i in found if i["InstanceId"] in instance_ids]
        if ping_status:
            found = [i for i in found if i.get("PingStatus") in ping_status]
        return found
    for chunk in _chunks(instance_ids or [], FILTER_VALUES):
        filters = [dict(Key="ResourceType", Values=["ManagedInstance"])]
        if chunk:
            filters.append(dict(Key="InstanceIds", Values=chunk))
        if ping_status:
            filters.append(dict(Key="PingStatus", Values=list(ping_status)))
        found += pages(
            lambda **p: _instance_information_page(client, **p),
            "InstanceInformationList",
            Filters=filters,
            MaxResults=SSM_PAGE,
        )
    return found


@SSMErrorHandler.deletion_error_handler("deregister managed instance")
@AWSRetry.jittered_backoff()
def deregister_managed_instance(client, instance_id):
    client.deregister_managed_instance(InstanceId=instance_id)
    return True


@SSMErrorHandler.list_error_handler("list managed instance tags", default_value={})
@AWSRetry.jittered_backoff()
def managed_instance_tags(client, instance_id):
    result = client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)
    return boto3_tag_list_to_ansible_dict(result.get("TagList", []))


@SSMErrorHandler.common_error_handler("tag managed instance")
@AWSRetry.jittered_backoff()
def tag_managed_instance(client, instance_id, to_set, to_unset):
    if to_unset:
        client.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=instance_id, TagKeys=list(to_unset))
    if to_set:
        client.add_tags_to_resource(
            ResourceType="ManagedInstance", ResourceId=instance_id, Tags=ansible_dict_to_boto3_tag_list(to_set)
        )


# ---------------------------------------------------------------- ECS container instances


@AWSRetry.jittered_backoff()
def _container_instances_page(client, **params):
    return client.list_container_instances(**params)


@ecs.ECSErrorHandler.common_error_handler("list container instances")
def external_container_instances(client, cluster, instance_ids=None, status=None):
    """Describe the external container instances of ``cluster`` (optionally only those of ``instance_ids``)."""
    arns = []
    for chunk in _chunks(instance_ids or [], FILTER_VALUES):
        params = dict(cluster=cluster, filter=ecs.external_filter(chunk), maxResults=ECS_PAGE)
        if status:
            params["status"] = status
        arns += pages(lambda **p: _container_instances_page(client, **p), "containerInstanceArns", **params)
    return ecs.describe_container_instances(client, cluster, arns)


def container_instances_by_id(client, clusters, instance_ids=None):
    """{mi- id: (cluster name, container instance)} over ``clusters``.

    Without a status, ListContainerInstances returns every status but INACTIVE (ACTIVE, DRAINING, ...).
    """
    found = {}
    for cluster in clusters:
        name = cluster.rsplit("/", 1)[-1]
        for instance in external_container_instances(client, name, instance_ids):
            found[instance.get("ec2InstanceId")] = (name, instance)
    return found


# ---------------------------------------------------------------- the joined view


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def ssm_record(info):
    return dict(
        managed_instance_id=info["InstanceId"],
        name=info.get("Name"),
        computer_name=info.get("ComputerName"),
        ip_address=info.get("IPAddress"),
        ping_status=info.get("PingStatus"),
        last_ping=_iso(info.get("LastPingDateTime")),
        ssm_agent_version=info.get("AgentVersion"),
        ssm_agent_is_latest=info.get("IsLatestVersion"),
        platform_type=info.get("PlatformType"),
        platform_name=info.get("PlatformName"),
        platform_version=info.get("PlatformVersion"),
        registration_date=_iso(info.get("RegistrationDate")),
        activation_id=info.get("ActivationId"),
        iam_role=info.get("IamRole"),
    )


def ecs_record(cluster, instance):
    version = instance.get("versionInfo", {})
    return dict(
        cluster=cluster,
        container_instance_arn=instance["containerInstanceArn"],
        ecs_status=instance.get("status"),
        ecs_status_reason=instance.get("statusReason"),
        agent_connected=instance.get("agentConnected"),
        ecs_agent_version=version.get("agentVersion"),
        docker_version=version.get("dockerVersion"),
        running_tasks_count=instance.get("runningTasksCount", 0),
        pending_tasks_count=instance.get("pendingTasksCount", 0),
        registered_at=_iso(instance.get("registeredAt")),
        ecs_tags=boto3_tag_list_to_ansible_dict(instance.get("tags", []), "key", "value"),
    )


EMPTY_SSM = {k: None for k in ssm_record(dict(InstanceId=None))}
EMPTY_ECS = {k: None for k in ecs_record(None, dict(containerInstanceArn=None))}


def join(managed, container):
    """One record per instance; ``registered_in`` says which side knows it (ssm, ecs or both)."""
    records = {}
    for info in managed:
        records[info["InstanceId"]] = dict(EMPTY_ECS, **ssm_record(info), registered_in="ssm")
    for instance_id, (cluster, instance) in container.items():
        record = records.get(instance_id) or dict(EMPTY_SSM, managed_instance_id=instance_id, registered_in="ecs")
        if record["registered_in"] == "ssm":
            record["registered_in"] = "both"
        record.update(ecs_record(cluster, instance))
        records[instance_id] = record
    return [records[k] for k in sorted(records, key=str)]


def summarize(records):
    return dict(
        total=len(records),
        both=sum(1 for r in records if r["registered_in"] == "both"),
        ssm_only=sum(1 for r in records if r["registered_in"] == "ssm"),
        ecs_only=sum(1 for r in records if r["registered_in"] == "ecs"),
        online=sum(1 for r in records if r["ping_status"] == "Online"),
        agent_disconnected=sum(1 for r in records if r["agent_connected"] is False),
        draining=sum(1 for r in records if r["ecs_status"] == "DRAINING"),
    )
