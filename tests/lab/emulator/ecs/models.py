# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""External container instances and the container instance backend (over moto's ECS store)."""

import copy

from moto.core.base_backend import BackendDict
from moto.core.base_backend import BaseBackend
from moto.core.common_models import BaseModel
from moto.ecs.exceptions import EcsClientException
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import ContainerInstanceFailure
from moto.ecs.models import ecs_backends
from moto.moto_api._internal import mock_random
from moto.utilities.paginator import paginate

from ..settings import lab
from .cql import QueryError
from .cql import compile_filter
from .exceptions import AttributeLimitExceededException
from .exceptions import ResourceNotFoundException
from .exceptions import TargetNotFoundException

EXTERNAL_CAPABILITY = "ecs.capability.external"
CONTAINER_INSTANCE_STATUSES = ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED")
MAX_DESCRIBE = 100
MAX_UPDATE_STATE = 10
#: "You can specify up to 10 custom attributes for each resource. You can specify up to 10 attributes in a
#: single call." (botocore model, PutAttributes; DeleteAttributes: "up to 10 attributes for each request")
MAX_ATTRIBUTES_PER_CALL = 10
MAX_CUSTOM_ATTRIBUTES = 10

#: Names of the attributes the agent itself reports: its capabilities (``com.amazonaws.ecs.capability.*``,
#: ``ecs.capability.*``) and built-in attributes such as ``ecs.os-type`` -- aws/amazon-ecs-agent
#: agent/app/agent_capability.go (capabilityPrefix, attributePrefix) and ecs-agent/api/ecs/client/
#: ecs_client.go (getAdditionalAttributes).  Every other name is a custom attribute (ECS_INSTANCE_ATTRIBUTES,
#: PutAttributes).
AGENT_ATTRIBUTE_PREFIXES = ("ecs.", "com.amazonaws.ecs.")

#: InstanceHealthCheckState, most severe first: "The most severe status takes precedence in the following
#: order: IMPAIRED, INSUFFICIENT_DATA, INITIALIZING, and OK." (ECS Developer Guide, "Monitor Amazon ECS
#: container instance health").
HEALTH_SEVERITY = ("IMPAIRED", "INSUFFICIENT_DATA", "INITIALIZING", "OK")
#: The one check the agent runs: aws/amazon-ecs-agent agent/app/agent.go newDoctorWithHealthchecks
#: configures only the Docker runtime health check (agent/doctor/docker_runtime_healthcheck.go).
RUNTIME_HEALTH_CHECK = "CONTAINER_RUNTIME"

#: What an agent reports when it sends no totalResources (a small 2-vCPU, 4-GiB host).
DEFAULT_RESOURCES = [
    {"name": "CPU", "type": "INTEGER", "integerValue": 2048, "doubleValue": 0.0, "longValue": 0},
    {"name": "MEMORY", "type": "INTEGER", "integerValue": 3800, "doubleValue": 0.0, "longValue": 0},
    {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375", "2376", "51678", "51679"]},
    {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
]

PAGINATION_MODEL = {
    "list_container_instances": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 100,
        "unique_attribute": "container_instance_arn",
        "fail_on_invalid_token": True,
    },
}


class ExternalContainerInstance(BaseModel):
    """A container instance on a machine outside EC2, registered through SSM."""

    def __init__(self, backend, cluster_name, ec2_instance_id, attributes, total_resources, version_info, tags):
        self._backend = backend
        self._account_id = backend.account_id
        self.region_name = backend.region_name
        self.cluster_name = cluster_name
        self.id = mock_random.uuid4().hex
        self.ec2_instance_id = ec2_instance_id
        self.status = "ACTIVE"
        self.status_reason = None
        self.agent_connected = True
        self.running_tasks_count = 0
        self.pending_tasks_count = 0
        self.version = 1
        self.registered_at = lab.now()
        self.registered_resources = []
        self.remaining_resources = []
        self.version_info = {}
        # The first registration applies every attribute and tag it carries (see update_registration).
        self.attributes = {attribute["name"]: attribute.get("value") for attribute in attributes or []}
        self.tags = [{"key": tag["key"], "value": tag.get("value", "")} for tag in tags or []]
        self.health_checks = {}
        # The agent's doctor starts its runtime check as INITIALIZING (NewDockerRuntimeHealthcheck) and reports
        # it over the telemetry session, which the emulator does not model: lab controls stand in for reports.
        self.report_health(RUNTIME_HEALTH_CHECK, "INITIALIZING")
        self.update_registration(attributes, total_resources, version_info)

    @property
    def container_instance_arn(self):
        resource = "%s/%s" % (self.cluster_name, self.id)
        if not self._backend.enable_long_arn_for_name(name="containerInstanceLongArnFormat"):
            resource = self.id
        return "arn:%s:ecs:%s:%s:container-instance/%s" % (
            self._backend.partition,
            self.region_name,
            self._account_id,
            resource,
        )

    def update_registration(self, attributes, total_resources, version_info):
        """Apply what a (re-)registering agent reports: its resources, versions and its own attributes.

        On a re-registration (the agent restarting with its saved containerInstanceArn) ECS keeps the custom
        attributes and tags of the first registration: "ECS_INSTANCE_ATTRIBUTES ... take effect only during
        initial registration. After the agent has joined an ECS cluster, use the PutAttributes API action"
        (aws/amazon-ecs-agent README), and container instance tags from the agent configuration "You can't
        do this after registering" (ECS Developer Guide, "Tagging your Amazon ECS resources"); so tags and
        custom attributes in the request are ignored here.  The agent's own attributes are refreshed: the
        agent sends them with every registration ("Standard attributes are included with all registrations",
        ecs-agent/api/ecs/client/ecs_client.go registerContainerInstance) and exits if the answer lacks any of
        them (validateRegisteredAttributes/findMissingAttributes there; agent/app/agent.go
        reregisterContainerInstance treats that AttributeError as terminal), so ECS must apply them.  Whether
        ECS also drops an agent attribute a newer registration no longer sends is not documented: it is kept.
        """
        for attribute in attributes or []:
            if attribute["name"].startswith(AGENT_ATTRIBUTE_PREFIXES):
                self.attributes[attribute["name"]] = attribute.get("value")
        # "Supplying a non-empty container instance ARN allows a container instance to update its registered
        # resources." (ecs_client.go, RegisterContainerInstance)
        self.registered_resources = copy.deepcopy(total_resources or DEFAULT_RESOURCES)
        self.remaining_resources = copy.deepcopy(self.registered_resources)
        self.version_info = {key: value for key, value in (version_info or {}).items() if value is not None}
        self.agent_connected = True

    def report_health(self, check_type, status):
        """Record a health check result as the agent reports it (times as the agent's SetHealthcheckStatus)."""
        if status not in HEALTH_SEVERITY:
            raise InvalidParameterException("health status must be one of %s" % ", ".join(HEALTH_SEVERITY))
        now = lab.now()
        previous = self.health_checks.get(check_type)
        changed = previous is None or previous["status"] != status
        self.health_checks[check_type] = {
            "type": check_type,
            "status": status,
            "lastUpdated": now,
            "lastStatusChange": now if changed else previous["lastStatusChange"],
        }

    @property
    def health_status(self):
        """``healthStatus`` (ContainerInstanceHealthStatus): the most severe check result is the overall one."""
        details = [dict(check) for check in self.health_checks.values()]
        if not details:
            return None
        overall = min((check["status"] for check in details), key=HEALTH_SEVERITY.index)
        return {"overallStatus": overall, "details": details}


class ContainerInstanceBackend(BaseBackend):
    """Container instance operations on top of moto's ECS backend of the same account and region."""

    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.inactive = {}

    @property
    def ecs(self):
        return ecs_backends[self.account_id][self.region_name]

    def _active(self, cluster_str):
        cluster = self.ecs._get_cluster(cluster_str)
        return cluster, self.ecs.container_instances.setdefault(cluster.name, {})

    def register_external_instance(
        self, cluster_str, ec2_instance_id, attributes, total_resources=None, version_info=None, tags=None, arn=None
    ):
        cluster, active = self._active(cluster_str)
        existing = active.get(arn.split("/")[-1]) if arn else None
        if existing is not None:
            existing.update_registration(attributes, total_resources, version_info)
            return existing
        instance = ExternalContainerInstance(
            self.ecs, cluster.name, ec2_instance_id, attributes, total_resources, version_info, tags
        )
        active[instance.id] = instance
        cluster.registered_container_instances_count += 1
        return instance

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_container_instances(self, cluster_str, status=None, query=None):
        active = self._active(cluster_str)[1]
        if status is not None and status not in CONTAINER_INSTANCE_STATUSES:
            raise InvalidParameterException("status must be one of %s" % ", ".join(CONTAINER_INSTANCE_STATUSES))
        try:
            predicate = compile_filter(query) if query else None
        except QueryError as error:
            raise InvalidParameterException(str(error)) from error
        selected = [
            instance
            for instance in active.values()
            if (status is None or instance.status == status) and (predicate is None or predicate(instance))
        ]
        return sorted(selected, key=lambda instance: instance.container_instance_arn)

    def find(self, cluster_str, reference, include_inactive=False):
        """A container instance by ARN, id or (for lab controls) EC2/managed instance id, or None."""
        cluster, active = self._active(cluster_str)
        pools = [active, self.inactive.get(cluster.name, {})] if include_inactive else [active]
        key = reference.split("/")[-1]
        for pool in pools:
            if key in pool:
                return pool[key]
            for instance in pool.values():
                if instance.ec2_instance_id == reference:
                    return instance
        return None

    def _failure(self, reference):
        return ContainerInstanceFailure("MISSING", reference.split("/")[-1], self.account_id, self.region_name)

    def describe_container_instances(self, cluster_str, references):
        if not references:
            raise EcsClientException("Container Instances cannot be empty.")
        if len(references) > MAX_DESCRIBE:
            raise InvalidParameterException("containerInstances can have at most %d items." % MAX_DESCRIBE)
        found, failures = [], []
        for reference in references:
            instance = self.find(cluster_str, reference, include_inactive=True)
            if instance is None:
                failures.append(self._failure(reference))
            else:
                found.append(instance)
        return found, failures

    def update_container_instances_state(self, cluster_str, references, status):
        if not references:
            raise EcsClientException("Container Instances cannot be empty.")
        if len(references) > MAX_UPDATE_STATE:
            raise InvalidParameterException("containerInstances can have at most %d items." % MAX_UPDATE_STATE)
        if status not in ("ACTIVE", "DRAINING"):
            raise InvalidParameterException("Container instance status should be one of [ACTIVE, DRAINING]")
        updated, failures = [], []
        for reference in references:
            instance = self.find(cluster_str, reference)
            if instance is None:
                failures.append(self._failure(reference))
                continue
            if instance.status != status:
                instance.status = status
                instance.version = getattr(instance, "version", 0) + 1
            updated.append(instance)
        return updated, failures

    def deregister_container_instance(self, cluster_str, reference, force=False):
        cluster, active = self._active(cluster_str)
        instance = self.find(cluster_str, reference)
        if instance is None:
            raise InvalidParameterException("Container instance not found.")
        if instance.running_tasks_count > 0 and not force:
            raise InvalidParameterException("Found running tasks on the instance.")
        del active[instance.id]
        cluster.registered_container_instances_count -= 1
        instance.status = "INACTIVE"
        instance.agent_connected = False
        instance.version = getattr(instance, "version", 0) + 1
        self.inactive.setdefault(cluster.name, {})[instance.id] = instance
        return instance

    def _attribute_target(self, cluster_str, attribute):
        """The container instance an Attribute's targetId/targetType names (PutAttributes, DeleteAttributes).

        "targetId: The ID of the target. You can specify the short form ID for a resource or the full Amazon
        Resource Name (ARN)." "targetType ... is required if you use the short form ID for a resource instead
        of the full ARN." (botocore model, Attribute); an unknown target is TargetNotFoundException ("Amazon
        ECS container instances are cluster-specific and Region-specific", the model's description of it).
        """
        target_id, target_type = attribute.get("targetId"), attribute.get("targetType")
        if not target_id:
            # What ECS answers for an attribute without a target is not documented; moto would apply it to
            # every instance of the cluster, which no AWS document describes.  The emulator refuses it.
            raise InvalidParameterException("Attribute %s names no targetId." % attribute.get("name"))
        is_arn = target_id.startswith("arn:")
        if not is_arn and target_type != "container-instance":
            raise InvalidParameterException(
                "targetType must be container-instance when targetId is not an ARN: %s" % target_id
            )
        if is_arn and ":container-instance/" not in target_id:
            raise TargetNotFoundException("Could not find %s" % target_id)
        instance = self._active(cluster_str)[1].get(target_id.split("/")[-1])
        if instance is None:
            raise TargetNotFoundException("Could not find %s" % target_id)
        return instance

    @staticmethod
    def _check_attribute_count(attributes):
        # The limit is documented; the error code for breaking it is not (InvalidParameterException assumed).
        if len(attributes) > MAX_ATTRIBUTES_PER_CALL:
            raise InvalidParameterException(
                "You can specify up to %d attributes in a single call." % MAX_ATTRIBUTES_PER_CALL
            )

    def put_attributes(self, cluster_str, attributes):
        """PutAttributes on container instances: "If the attribute exists, its value is replaced" (model)."""
        if not attributes:
            raise InvalidParameterException("attributes can not be empty")
        self._check_attribute_count(attributes)
        targets = [(self._attribute_target(cluster_str, attribute), attribute) for attribute in attributes]
        for instance in {id(instance): instance for instance, _attribute in targets}.values():
            names = {name for name in instance.attributes if not name.startswith(AGENT_ATTRIBUTE_PREFIXES)}
            names.update(
                attribute["name"]
                for target, attribute in targets
                if target is instance and not attribute["name"].startswith(AGENT_ATTRIBUTE_PREFIXES)
            )
            if len(names) > MAX_CUSTOM_ATTRIBUTES:
                # AttributeLimitExceededException: "You can apply up to 10 custom attributes for each
                # resource." (botocore model)
                raise AttributeLimitExceededException(
                    "You can apply up to %d custom attributes for each resource." % MAX_CUSTOM_ATTRIBUTES
                )
        for instance, attribute in targets:
            instance.attributes[attribute["name"]] = attribute.get("value")
        return attributes

    def delete_attributes(self, cluster_str, attributes):
        """DeleteAttributes: "For custom attributes, specify the attribute name and target ID, but don't specify
        the value." (botocore model) -- so the name alone deletes it, whatever its value (moto compares values)."""
        if not attributes:
            raise InvalidParameterException("attributes value is required")
        self._check_attribute_count(attributes)
        targets = [(self._attribute_target(cluster_str, attribute), attribute) for attribute in attributes]
        for instance, attribute in targets:
            instance.attributes.pop(attribute["name"], None)
        return attributes

    def set_state(
        self,
        cluster_str,
        references,
        running_tasks_count=None,
        pending_tasks_count=None,
        agent_connected=None,
        runtime_health=None,
    ):
        """Lab control: give container instances tasks, (dis)connect their agents, or report runtime health."""
        changed = []
        for reference in references:
            instance = self.find(cluster_str, reference)
            if instance is None:
                raise InvalidParameterException("Container instance %s not found." % reference)
            if runtime_health is not None:
                if not isinstance(instance, ExternalContainerInstance):
                    raise InvalidParameterException("Only external container instances report health here.")
                instance.report_health(RUNTIME_HEALTH_CHECK, runtime_health)
            if running_tasks_count is not None:
                instance.running_tasks_count = int(running_tasks_count)
            if pending_tasks_count is not None:
                instance.pending_tasks_count = int(pending_tasks_count)
            if agent_connected is not None:
                instance.agent_connected = bool(agent_connected)
            changed.append(instance)
        return changed

    def tagged_instance(self, arn):
        """The container instance a ``container-instance`` ARN names, or None for other ARNs."""
        resource = arn.split(":", 5)[-1]
        if not resource.startswith("container-instance/"):
            return None
        parts = resource.split("/")
        clusters = [parts[1]] if len(parts) == 3 else list(self.ecs.clusters)
        for cluster in clusters:
            if cluster not in self.ecs.clusters:
                continue
            instance = self.find(cluster, parts[-1], include_inactive=True)
            if instance is not None:
                return instance
        raise ResourceNotFoundException("The specified resource could not be found.")

    @staticmethod
    def tag_instance(instance, tags):
        merged = {tag["key"]: tag.get("value", "") for tag in getattr(instance, "tags", [])}
        merged.update({tag["key"]: tag.get("value", "") for tag in tags})
        instance.tags = [{"key": key, "value": value} for key, value in merged.items()]

    @staticmethod
    def untag_instance(instance, keys):
        removed = set(keys)
        instance.tags = [tag for tag in getattr(instance, "tags", []) if tag["key"] not in removed]


container_instance_backends = BackendDict(ContainerInstanceBackend, "ecs")
