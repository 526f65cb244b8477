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
from .exceptions import ResourceNotFoundException

EXTERNAL_CAPABILITY = "ecs.capability.external"
CONTAINER_INSTANCE_STATUSES = ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED")
MAX_DESCRIBE = 100
MAX_UPDATE_STATE = 10

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
        self.attributes = {}
        self.registered_resources = []
        self.remaining_resources = []
        self.version_info = {}
        self.tags = []
        self.update_registration(attributes, total_resources, version_info, tags)

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

    def update_registration(self, attributes, total_resources, version_info, tags):
        """Apply what a (re-)registering agent reports."""
        self.attributes = {attribute["name"]: attribute.get("value") for attribute in attributes or []}
        self.registered_resources = copy.deepcopy(total_resources or DEFAULT_RESOURCES)
        self.remaining_resources = copy.deepcopy(self.registered_resources)
        self.version_info = {key: value for key, value in (version_info or {}).items() if value is not None}
        if tags:
            self.tags = [{"key": tag["key"], "value": tag.get("value", "")} for tag in tags]
        self.agent_connected = True


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
            existing.update_registration(attributes, total_resources, version_info, tags)
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

    def set_state(
        self, cluster_str, references, running_tasks_count=None, pending_tasks_count=None, agent_connected=None
    ):
        """Lab control: give container instances tasks or (dis)connect their agents."""
        changed = []
        for reference in references:
            instance = self.find(cluster_str, reference)
            if instance is None:
                raise InvalidParameterException("Container instance %s not found." % reference)
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
