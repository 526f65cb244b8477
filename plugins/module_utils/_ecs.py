# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: Amazon ECS calls, with retries and one exception type."""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import FleetRetry
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import chunks

DESCRIBE_BATCH = 100  # DescribeContainerInstances / DeregisterContainerInstance limits


class AnsibleECSError(AnsibleAWSError):
    pass


class ECSErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleECSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ClusterNotFoundException")


def ecs_tags(tags):
    return ansible_dict_to_boto3_tag_list(tags or {}, "key", "value")


def ansible_tags(tags):
    return boto3_tag_list_to_ansible_dict(tags or [], "key", "value")


@ECSErrorHandler.list_error_handler("describe cluster")
@FleetRetry.jittered_backoff()
def describe_cluster(client, name):
    """The ACTIVE cluster called ``name`` (with settings and tags), or None."""
    result = client.describe_clusters(clusters=[name], include=["SETTINGS", "TAGS"])
    for cluster in result.get("clusters", []):
        if cluster.get("status") != "INACTIVE":
            return cluster
    return None


@ECSErrorHandler.list_error_handler("describe clusters", default_value={})
@FleetRetry.jittered_backoff()
def _describe_clusters(client, names):
    result = client.describe_clusters(clusters=names, include=["SETTINGS", "TAGS"])
    return {c["clusterName"]: c for c in result.get("clusters", []) if c.get("status") != "INACTIVE"}


def describe_clusters(client, names):
    """{name: cluster} for the ACTIVE clusters among ``names`` (with settings and tags): a call per 100 names."""
    found = {}
    for batch in chunks(names, DESCRIBE_BATCH):
        if batch:
            found.update(_describe_clusters(client, batch))
    return found


@ECSErrorHandler.common_error_handler("create cluster")
@FleetRetry.jittered_backoff()
def _create_cluster(client, name, settings, tags):
    params = dict(clusterName=name, settings=settings)
    if tags:
        params["tags"] = ecs_tags(tags)
    return client.create_cluster(**params)["cluster"]


def create_cluster(client, name, settings, tags):
    """CreateCluster, tolerating concurrent runs that create the same cluster.

    AWS answers CreateCluster for an existing ACTIVE cluster with that cluster, without an error (and, as far as is
    documented, without applying the request's tags or settings): the caller reads it back and converges.  Should
    a concurrent create be refused all the same, the cluster that now exists is returned instead of the error.
    """
    try:
        return _create_cluster(client, name, settings, tags)
    except AnsibleECSError:
        existing = describe_cluster(client, name)
        if existing is None:
            raise
        return existing


@ECSErrorHandler.common_error_handler("update cluster settings")
@FleetRetry.jittered_backoff()
def update_cluster_settings(client, name, settings):
    # UpdateCluster takes the same settings as UpdateClusterSettings and is the more widely emulated call.
    return client.update_cluster(cluster=name, settings=settings)["cluster"]


@ECSErrorHandler.common_error_handler("tag cluster")
@FleetRetry.jittered_backoff()
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ecs_tags(tags))


@ECSErrorHandler.common_error_handler("untag cluster")
@FleetRetry.jittered_backoff()
def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))


@ECSErrorHandler.deletion_error_handler("delete cluster")
@FleetRetry.jittered_backoff()
def delete_cluster(client, name):
    client.delete_cluster(cluster=name)
    return True


@ECSErrorHandler.list_error_handler("list container instances", default_value=[])
@FleetRetry.jittered_backoff()
def list_container_instances(client, cluster, filter_expression=None, status=None):
    params = dict(cluster=cluster)
    if filter_expression:
        params["filter"] = filter_expression
    if status:
        params["status"] = status
    paginator = client.get_paginator("list_container_instances")
    return paginator.paginate(**params).build_full_result()["containerInstanceArns"]


@ECSErrorHandler.common_error_handler("deregister container instance")
@FleetRetry.jittered_backoff()
def deregister_container_instance(client, cluster, arn, force=False):
    client.deregister_container_instance(cluster=cluster, containerInstance=arn, force=force)


STATE_BATCH = 10  # UpdateContainerInstancesState limit
EXTERNAL = "attribute:ecs.capability.external exists"


@ECSErrorHandler.common_error_handler("list clusters")
@FleetRetry.jittered_backoff()
def list_clusters(client):
    return client.get_paginator("list_clusters").paginate().build_full_result()["clusterArns"]


def external_filter(instance_ids=None):
    """Cluster query language expression for external instances, narrowed to ``instance_ids`` when given."""
    if instance_ids:
        return "%s and ec2InstanceId in [%s]" % (EXTERNAL, ",".join(sorted(instance_ids)))
    return EXTERNAL


@ECSErrorHandler.list_error_handler("describe container instances", default_value=[])
@FleetRetry.jittered_backoff()
def _describe_batch(client, cluster, arns):
    result = client.describe_container_instances(cluster=cluster, containerInstances=arns, include=["TAGS"])
    return result["containerInstances"]


def describe_container_instances(client, cluster, arns):
    """DescribeContainerInstances in batches of 100 (its limit)."""
    found = []
    for start in range(0, len(arns), DESCRIBE_BATCH):
        found.extend(_describe_batch(client, cluster, arns[start : start + DESCRIBE_BATCH]))
    return found


@ECSErrorHandler.common_error_handler("update container instances state")
@FleetRetry.jittered_backoff()
def _update_state_batch(client, cluster, arns, status):
    result = client.update_container_instances_state(cluster=cluster, containerInstances=arns, status=status)
    if result.get("failures"):
        raise AnsibleECSError(message="Failed to set %s on %s" % (status, result["failures"]))


def update_container_instances_state(client, cluster, arns, status):
    for start in range(0, len(arns), STATE_BATCH):
        _update_state_batch(client, cluster, arns[start : start + STATE_BATCH], status)


# ---------------------------------------------------------------- container instance attributes and tags

ATTRIBUTE_BATCH = 10  # PutAttributes / DeleteAttributes: attributes per call (targets may differ)
MAX_CUSTOM_ATTRIBUTES = 10  # custom attributes per container instance (AttributeLimitExceededException)
MAX_TAGS = 50  # user tags per resource (aws: tags do not count)
#: Attributes the ECS agent reports at registration (capabilities, os-type, cpu-architecture ...): not custom.
AGENT_ATTRIBUTE_PREFIXES = ("ecs.", "com.amazonaws.ecs.")


def is_agent_attribute(name):
    return name.startswith(AGENT_ATTRIBUTE_PREFIXES)


def is_aws_tag(key):
    """Tags whose key starts with aws: (any case) belong to AWS: users can neither set nor remove them."""
    return key.lower().startswith("aws:")


def custom_attributes(instance):
    """{name: value or None} of a described container instance's custom attributes (the agent's left out)."""
    return {
        attribute["name"]: attribute.get("value")
        for attribute in instance.get("attributes") or []
        if not is_agent_attribute(attribute["name"])
    }


@ECSErrorHandler.common_error_handler("put attributes")
@FleetRetry.jittered_backoff()
def _put_attributes_batch(client, cluster, attributes):
    client.put_attributes(cluster=cluster, attributes=attributes)


@ECSErrorHandler.common_error_handler("delete attributes")
@FleetRetry.jittered_backoff()
def _delete_attributes_batch(client, cluster, attributes):
    client.delete_attributes(cluster=cluster, attributes=attributes)


def put_attributes(client, cluster, attributes):
    """PutAttributes, ten attributes per call; each attribute names its target (``targetId``: a full ARN)."""
    for start in range(0, len(attributes), ATTRIBUTE_BATCH):
        _put_attributes_batch(client, cluster, attributes[start : start + ATTRIBUTE_BATCH])


def delete_attributes(client, cluster, attributes):
    """DeleteAttributes, ten per call; custom attributes are given by name and target, without value (AWS's rule)."""
    for start in range(0, len(attributes), ATTRIBUTE_BATCH):
        _delete_attributes_batch(client, cluster, attributes[start : start + ATTRIBUTE_BATCH])


@ECSErrorHandler.common_error_handler("tag container instance")
@FleetRetry.jittered_backoff()
def tag_container_instance(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ecs_tags(tags))


@ECSErrorHandler.common_error_handler("untag container instance")
@FleetRetry.jittered_backoff()
def untag_container_instance(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys))
