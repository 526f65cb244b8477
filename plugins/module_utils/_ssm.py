# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: AWS Systems Manager calls (hybrid activations, managed instances), with retries and
one exception type."""

import re
import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing SDK

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import FleetRetry
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import chunks
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import pages

#: Every activation this collection creates carries this tag, so that cleanup only ever touches ours.
MANAGED_TAG_KEY = "ecs_anywhere.fleet:managed"
MANAGED_TAG_VALUE = "true"

ACTIVATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
#: SSM's pattern for DefaultInstanceName, tag keys and values is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$, which Python's
#: re cannot spell (\s would let newlines and tabs through): _common.aws_text checks it by Unicode category.
#: An activation's Description has no pattern, only 0-256 characters (botocore's ssm service model).
DESCRIPTION_MAX = 256
DEFAULT_INSTANCE_NAME_MAX = 256

#: What CreateActivation answers (ValidationException) while a just-created role is not yet visible to SSM:
#: AWS says "Nonexistent role or missing ssm service principal in trust policy: arn:...".
ROLE_NOT_READY = re.compile(r"(non-?existent|not existing|not exist)[^:]*role|trust policy|service principal", re.I)
MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}\Z")
SSM_PAGE = 50  # DescribeInstanceInformation's MaxResults limit
FILTER_VALUES = 50  # values per DescribeInstanceInformation filter
RETRY_DELAY = 2
RETRY_MAX_DELAY = 10


class AnsibleSSMError(AnsibleAWSError):
    pass


class SSMErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleSSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidActivation")


class ManagedInstanceErrorHandler(SSMErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidInstanceId")


def ssm_tags(tags):
    return ansible_dict_to_boto3_tag_list(tags or {}, "Key", "Value")


def ansible_tags(tags):
    return boto3_tag_list_to_ansible_dict(tags or [], "Key", "Value")


def is_managed(activation):
    """Whether the activation carries this collection's tag."""
    return ansible_tags(activation.get("Tags")).get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE


def is_spent(activation):
    """Expired, or every registration it allows has been used: nothing can join with it any more."""
    return bool(activation.get("Expired")) or activation.get("RegistrationsCount", 0) >= activation.get(
        "RegistrationLimit", 1
    )


def spent_activations(client, iam_role=None):
    """This collection's activations that are expired or used up (optionally of one role)."""
    filters = [dict(FilterKey="IamRole", FilterValues=[iam_role])] if iam_role else None
    return [a for a in describe_activations(client, filters) if is_managed(a) and is_spent(a)]


def is_role_not_ready(error):
    """The ValidationException SSM answers for a role it cannot see (yet) or that does not trust it."""
    if not isinstance(error, botocore.exceptions.ClientError):
        return False
    details = error.response.get("Error", {})
    return details.get("Code") == "ValidationException" and bool(ROLE_NOT_READY.search(details.get("Message", "")))


@FleetRetry.jittered_backoff()
def _create_activation(client, request):
    return client.create_activation(**request)


@SSMErrorHandler.common_error_handler("create activation")
def create_activation(client, request, wait_timeout=0):
    """CreateActivation; while SSM does not see the role yet (IAM propagation), retry for up to ``wait_timeout`` s.

    Returns the response (``ActivationId``, ``ActivationCode``).
    """
    deadline = time.monotonic() + wait_timeout
    delay = RETRY_DELAY
    waited = 0
    while True:
        try:
            return _create_activation(client, request)
        except botocore.exceptions.ClientError as e:
            if not is_role_not_ready(e):
                raise
            if time.monotonic() + delay > deadline:
                raise AnsibleSSMError(
                    message=(
                        "Failed to create activation: SSM cannot use the role %s (after waiting %d seconds for IAM). "
                        "Check that the role exists and trusts ssm.amazonaws.com, or raise wait_timeout"
                        % (request.get("IamRole"), waited)
                    ),
                    exception=e,
                ) from e
        time.sleep(delay)
        waited += delay
        delay = min(delay * 2, RETRY_MAX_DELAY)


@SSMErrorHandler.list_error_handler("describe activations", default_value=[])
@FleetRetry.jittered_backoff()
def describe_activations(client, filters=None):
    params = dict(Filters=filters) if filters else {}
    paginator = client.get_paginator("describe_activations")
    return paginator.paginate(**params).build_full_result().get("ActivationList", [])


def describe_activation(client, activation_id):
    """The activation with this id, or None."""
    found = describe_activations(client, [dict(FilterKey="ActivationIds", FilterValues=[activation_id])])
    for activation in found:
        if activation["ActivationId"] == activation_id:
            return activation
    return None


@SSMErrorHandler.deletion_error_handler("delete activation")
@FleetRetry.jittered_backoff()
def delete_activation(client, activation_id):
    """True when deleted, False when it was already gone."""
    client.delete_activation(ActivationId=activation_id)
    return True


# ---------------------------------------------------------------- SSM managed instances


@FleetRetry.jittered_backoff()
def _instance_information_page(client, **params):
    return client.describe_instance_information(**params)


@ManagedInstanceErrorHandler.common_error_handler("describe managed instances")
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
    for chunk in chunks(instance_ids or [], FILTER_VALUES):
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


@ManagedInstanceErrorHandler.deletion_error_handler("deregister managed instance")
@FleetRetry.jittered_backoff()
def deregister_managed_instance(client, instance_id):
    client.deregister_managed_instance(InstanceId=instance_id)
    return True


@ManagedInstanceErrorHandler.list_error_handler("list managed instance tags", default_value={})
@FleetRetry.jittered_backoff()
def managed_instance_tags(client, instance_id):
    result = client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)
    return ansible_tags(result.get("TagList", []))


@ManagedInstanceErrorHandler.common_error_handler("tag managed instance")
@FleetRetry.jittered_backoff()
def tag_managed_instance(client, instance_id, to_set, to_unset):
    if to_unset:
        client.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=instance_id, TagKeys=list(to_unset))
    if to_set:
        client.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=instance_id, Tags=ssm_tags(to_set))
