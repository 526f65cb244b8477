# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: the fleet -- SSM managed instances joined with ECS container instances.

The cost of a listing grows with pages, not instances: DescribeInstanceInformation pages of 50,
ListContainerInstances pages of 100 (narrowed with the cluster query language), and
DescribeContainerInstances batches of 100.  No per-instance call is made.
"""

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import FleetRetry
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import chunks
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import pages

CONTAINER_INSTANCE_ARN = re.compile(r"^arn:[\w-]+:ecs:[\w-]+:\d{12}:container-instance/([\w-]+)/([0-9a-f]{32})$")
ECS_PAGE = 100  # ListContainerInstances' maxResults limit
FILTER_VALUES = 50  # ids per ECS "in" expression


# ---------------------------------------------------------------- ECS container instances


@FleetRetry.jittered_backoff()
def _container_instances_page(client, **params):
    return client.list_container_instances(**params)


@ecs.ECSErrorHandler.list_error_handler("list container instances", ())
def external_container_instances(client, cluster, instance_ids=None, status=None):
    """Describe the external container instances of ``cluster`` (optionally only those of ``instance_ids``).

    A cluster that does not exist (deleted since a host joined it: ClusterNotFoundException) has none.

    Up to ``FILTER_VALUES`` ids are looked up with one ``ec2InstanceId in [...]`` expression.  For more, the
    cluster's external instances are listed whole (pages of 100) and those of ``instance_ids`` kept: a call per 100
    instances of the cluster instead of a call per 50 ids -- fewer calls whenever the ids are most of the cluster,
    as a site's hosts are in its own cluster.
    """
    if instance_ids and len(instance_ids) > FILTER_VALUES:
        wanted = set(instance_ids)
        whole = external_container_instances(client, cluster, status=status)
        return [instance for instance in whole if instance.get("ec2InstanceId") in wanted]
    arns = []
    for chunk in chunks(instance_ids or [], FILTER_VALUES):
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
        ecs_attributes=ecs.custom_attributes(instance),
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


def look_up(ssm_client, ecs_client, clusters, instance_ids=None, ping_status=None, tags=None):
    """The joined records of the managed instances (all, or ``instance_ids``) and of the external container
    instances of ``clusters`` (none given: every cluster of the region).

    The two sides do not depend on each other: SSM's pages are read while ECS's are, so the wait for one service
    overlaps the other's and the parsing of each page (botocore clients are thread-safe)."""

    def ecs_side():
        return container_instances_by_id(ecs_client, clusters or ecs.list_clusters(ecs_client), instance_ids)

    with ThreadPoolExecutor(max_workers=2) as pool:
        ecs_future = pool.submit(ecs_side)
        ssm_future = pool.submit(ssm.describe_managed_instances, ssm_client, instance_ids, ping_status, tags)
        managed, container = ssm_future.result(), ecs_future.result()
    return join(managed, container)
