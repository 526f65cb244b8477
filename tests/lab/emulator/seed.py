# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bulk seeding for scale tests: thousands of managed (and container) instances without hosts.

Every instance goes through the backends' own code paths -- CreateActivation (as many as the
registration limit needs), RegisterManagedInstance, UpdateInstanceInformation for the agent's
first ping, and the external branch of RegisterContainerInstance -- just without HTTP.
"""

import json
import time

from moto.iam.models import iam_backends

from .ecs.models import EXTERNAL_CAPABILITY
from .ecs.models import container_instance_backends
from .ssm.models import SSM_PRINCIPAL
from .ssm.models import managed_instance_backends

SSM_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": SSM_PRINCIPAL}, "Action": "sts:AssumeRole"}],
    }
)


def _external_attributes(extra):
    attributes = {
        EXTERNAL_CAPABILITY: None,
        "ecs.os-type": "linux",
        "ecs.os-family": "LINUX",
        "ecs.cpu-architecture": "x86_64",
        "ecs.capability.docker-remote-api.1.44": None,
    }
    attributes.update(extra or {})
    return [
        {"name": name, "value": value} if value is not None else {"name": name} for name, value in attributes.items()
    ]


def seed(
    account_id,
    region,
    count,
    iam_role="ECSAnywhereRole",
    create_role=False,
    registration_limit=1000,
    default_instance_name=None,
    tags=None,
    online=True,
    ssm_agent_version="3.3.1957.0",
    platform_name="Ubuntu",
    platform_version="22.04",
    cluster=None,
    attributes=None,
    ecs_agent_version="1.89.0",
    docker_version="DockerVersion: 25.0.5",
    container_instance_tags=None,
):
    """Register *count* managed instances (and container instances in *cluster*); return a summary."""
    if not 1 <= count <= 100000:
        raise ValueError("count must be between 1 and 100000")
    started = time.monotonic()
    ssm = managed_instance_backends[account_id][region]
    if ssm.get_role(iam_role) is None and create_role:
        path, _slash, name = iam_role.rpartition("/")
        iam_backends[account_id][ssm.partition].create_role(
            name, SSM_TRUST_POLICY, "/%s/" % path if path else "/", None, "lab seed role", [], None
        )
    containers = container_instance_backends[account_id][region] if cluster else None
    if containers is not None:
        containers.ecs._get_cluster(cluster)  # fail before registering anything
    tag_list = [{"Key": key, "Value": value} for key, value in (tags or {}).items()]
    ecs_tags = [{"key": key, "value": value} for key, value in (container_instance_tags or {}).items()]
    activation, activations, instances = None, [], []
    for number in range(count):
        if activation is None or activation.registrations_count >= activation.registration_limit:
            activation = ssm.create_activation(
                iam_role,
                registration_limit=min(registration_limit, count - number),
                default_instance_name=default_instance_name,
                description="lab seed",
                tags=tag_list,
            )
            activations.append(activation.activation_id)
        instance = ssm.register_managed_instance(activation.activation_id, activation.activation_code)
        if online:
            ssm.update_instance_information(
                instance.instance_id,
                agent_name="amazon-ssm-agent",
                agent_version=ssm_agent_version,
                platform_type="Linux",
                platform_name=platform_name,
                platform_version=platform_version,
                ip_address="10.%d.%d.%d" % (number // 65536 % 256, number // 256 % 256, number % 256),
                computer_name="seed-%05d" % number,
            )
        entry = {"instance_id": instance.instance_id, "activation_id": activation.activation_id}
        if containers is not None:
            container = containers.register_external_instance(
                cluster,
                instance.instance_id,
                _external_attributes(attributes),
                version_info={"agentVersion": ecs_agent_version, "agentHash": "lab", "dockerVersion": docker_version},
                tags=ecs_tags,
            )
            entry["container_instance_arn"] = container.container_instance_arn
        instances.append(entry)
    return {"activations": activations, "instances": instances, "seconds": round(time.monotonic() - started, 3)}
