# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS responses: moto's, with ECS Anywhere (external) container instances."""

from moto.core.exceptions import InvalidToken
from moto.core.responses import ActionResult
from moto.core.responses import EmptyResult
from moto.core.serialize import never_return
from moto.ecs.exceptions import EcsClientException
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse

from ..signing import parse_authorization
from ..ssm.models import instance_for_access_key
from .models import EXTERNAL_CAPABILITY
from .models import container_instance_backends

DESCRIBE_CONTAINER_INSTANCES_TAGS = "DescribeContainerInstancesResponse.containerInstances.ContainerInstance.tags"
DESCRIBE_CONTAINER_INSTANCES_HEALTH = (
    "DescribeContainerInstancesResponse.containerInstances.ContainerInstance.healthStatus"
)


class ECSResponse(EC2ContainerServiceResponse):
    """moto's ECS responses with ECS Anywhere container instances."""

    # healthStatus only where asked for: "If CONTAINER_INSTANCE_HEALTH is specified, the container instance
    # health is included in the response. If this field is omitted, tags and container instance health status
    # aren't included in the response." (botocore model, DescribeContainerInstances include).  No other
    # operation has an include, so their container instances never carry it.
    RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(
        EC2ContainerServiceResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER,
        **{
            "RegisterContainerInstanceResponse.containerInstance.healthStatus": never_return,
            "DeregisterContainerInstanceResponse.containerInstance.healthStatus": never_return,
            "UpdateContainerInstancesStateResponse.containerInstances.ContainerInstance.healthStatus": never_return,
        },
    )

    @property
    def container_instance_backend(self):
        return container_instance_backends[self.current_account][self.region]

    def _cluster(self):
        return self._get_param("cluster") or "default"

    def create_cluster(self):
        """AWS answers CreateCluster for an existing ACTIVE cluster with that cluster as it is, without an error
        (concurrent creators all succeed); moto would replace it, dropping its tags, settings and instances."""
        existing = self.ecs_backend.clusters.get(self._get_param("clusterName") or "default")
        if existing is not None and existing.status == "ACTIVE":
            return ActionResult({"cluster": existing})
        return super().create_cluster()

    def register_container_instance(self):
        attributes = self._get_param("attributes") or []
        if not any(attribute.get("name") == EXTERNAL_CAPABILITY for attribute in attributes):
            if not self._get_param("instanceIdentityDocument"):
                raise InvalidParameterException("instanceIdentityDocument is required for EC2 container instances.")
            return super().register_container_instance()
        credential = parse_authorization(self.headers.get("Authorization"))
        managed = credential and instance_for_access_key(self.current_account, self.region, credential.access_key)
        if not managed:
            raise EcsClientException(
                "External container instances must register with the role credentials of an SSM managed instance."
            )
        instance = self.container_instance_backend.register_external_instance(
            self._cluster(),
            managed.instance_id,
            attributes,
            total_resources=self._get_param("totalResources"),
            version_info=self._get_param("versionInfo"),
            tags=self._get_param("tags"),
            arn=self._get_param("containerInstanceArn"),
        )
        return ActionResult({"containerInstance": instance})

    def list_container_instances(self):
        max_results = self._get_param("maxResults")
        if max_results is not None and not 1 <= max_results <= 100:
            raise InvalidParameterException("maxResults must be between 1 and 100.")
        try:
            instances, next_token = self.container_instance_backend.list_container_instances(
                self._cluster(),
                status=self._get_param("status"),
                query=self._get_param("filter"),
                max_results=max_results,
                next_token=self._get_param("nextToken"),
            )
        except InvalidToken as error:
            raise InvalidParameterException("Invalid nextToken.") from error
        return ActionResult(
            {
                "containerInstanceArns": [instance.container_instance_arn for instance in instances],
                "nextToken": next_token,
            }
        )

    def describe_container_instances(self):
        instances, failures = self.container_instance_backend.describe_container_instances(
            self._cluster(), self._get_param("containerInstances")
        )
        include = self._get_param("include") or []
        excluded = {
            path: never_return
            for field, path in (
                ("TAGS", DESCRIBE_CONTAINER_INSTANCES_TAGS),
                ("CONTAINER_INSTANCE_HEALTH", DESCRIBE_CONTAINER_INSTANCES_HEALTH),
            )
            if field not in include
        }
        # Per request, unlike moto's class-wide _exclude_from_response: responses run concurrently.
        self.RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(self.RESPONSE_KEY_PATH_TO_TRANSFORMER, **excluded)
        return ActionResult({"containerInstances": instances, "failures": failures})

    def update_container_instances_state(self):
        instances, failures = self.container_instance_backend.update_container_instances_state(
            self._cluster(), self._get_param("containerInstances"), self._get_param("status")
        )
        return ActionResult({"containerInstances": instances, "failures": failures})

    def deregister_container_instance(self):
        instance = self.container_instance_backend.deregister_container_instance(
            self._cluster(), self._get_param("containerInstance"), force=bool(self._get_param("force"))
        )
        return ActionResult({"containerInstance": instance})

    def put_attributes(self):
        attributes = self.container_instance_backend.put_attributes(self._cluster(), self._get_param("attributes"))
        return ActionResult({"attributes": attributes})

    def delete_attributes(self):
        attributes = self.container_instance_backend.delete_attributes(self._cluster(), self._get_param("attributes"))
        return ActionResult({"attributes": attributes})

    def list_tags_for_resource(self):
        instance = self.container_instance_backend.tagged_instance(self._get_param("resourceArn"))
        if instance is None:
            return super().list_tags_for_resource()
        return ActionResult({"tags": getattr(instance, "tags", [])})

    def tag_resource(self):
        instance = self.container_instance_backend.tagged_instance(self._get_param("resourceArn"))
        if instance is None:
            return super().tag_resource()
        self.container_instance_backend.tag_instance(instance, self._get_param("tags") or [])
        return EmptyResult()

    def untag_resource(self):
        instance = self.container_instance_backend.tagged_instance(self._get_param("resourceArn"))
        if instance is None:
            return super().untag_resource()
        self.container_instance_backend.untag_instance(instance, self._get_param("tagKeys") or [])
        return EmptyResult()
