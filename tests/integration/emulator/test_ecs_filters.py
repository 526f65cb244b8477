# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ListContainerInstances: cluster query language filters, status and paging, on one fleet per module."""

import pytest
from botocore.exceptions import ClientError
from emulator.agent import FakeAgent
from emulator.seed import SSM_TRUST_POLICY

CLUSTER = "onprem"


@pytest.fixture(scope="module")
def ecs(module_clients):
    return module_clients("ecs")


@pytest.fixture(scope="module")
def fleet(module_lab, module_clients, ecs):
    """Hosts gpu (2 running tasks), old (disconnected, old agent, zone dc1), drain (DRAINING, zone dc2)."""
    module_clients("iam").create_role(RoleName="ECSAnywhereRole", AssumeRolePolicyDocument=SSM_TRUST_POLICY)
    activation = module_clients("ssm").create_activation(IamRole="ECSAnywhereRole", RegistrationLimit=3)
    ecs.create_cluster(clusterName=CLUSTER)
    hosts = {}
    for name, attributes, agent_version in (
        ("gpu", [{"name": "gpu", "value": "nvidia"}], "1.89.0"),
        ("old", [{"name": "zone", "value": "dc1"}], "1.70.2"),
        ("drain", [{"name": "zone", "value": "dc2"}], "1.89.0"),
    ):
        agent = FakeAgent(module_lab.url)
        agent.register(activation["ActivationId"], activation["ActivationCode"])
        agent.refresh_credentials()
        registered = agent.register_container_instance(
            CLUSTER,
            attributes=attributes,
            version_info={"agentVersion": agent_version, "agentHash": "h", "dockerVersion": "DockerVersion: 25"},
        )
        hosts[name] = {"mi": agent.instance_id, "arn": registered["containerInstanceArn"]}
    module_lab.set_container_instances([hosts["gpu"]["arn"]], cluster=CLUSTER, running_tasks_count=2)
    module_lab.set_container_instances([hosts["old"]["mi"]], cluster=CLUSTER, agent_connected=False)
    ecs.update_container_instances_state(cluster=CLUSTER, containerInstances=[hosts["drain"]["arn"]], status="DRAINING")
    return hosts


def listed(ecs, **kwargs):
    return set(ecs.list_container_instances(cluster=CLUSTER, **kwargs)["containerInstanceArns"])


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("ec2InstanceId in [{gpu}, {old}]", ["gpu", "old"]),
        ("ec2InstanceId in ['{gpu}', '{drain}']", ["gpu", "drain"]),
        ("ec2InstanceId == {old}", ["old"]),
        ("ec2InstanceId != {old}", ["gpu", "drain"]),
        ("ec2InstanceId not_in [{old}]", ["gpu", "drain"]),
        ("ec2InstanceId =~ mi-.*", ["gpu", "old", "drain"]),
        ("attribute:gpu exists", ["gpu"]),
        ("attribute:gpu !exists", ["old", "drain"]),
        ("attribute:gpu not_exists", ["old", "drain"]),
        ("attribute:ecs.capability.external exists", ["gpu", "old", "drain"]),
        ("attribute:zone == dc1", ["old"]),
        ("attribute:zone equals dc2", ["drain"]),
        ("attribute:zone in [dc1, dc2]", ["old", "drain"]),
        ("attribute:zone =~ dc[0-9]", ["old", "drain"]),
        ("attribute:zone =~ 'dc(1|3)'", ["old"]),
        ("attribute:zone !~ dc1", ["gpu", "drain"]),
        ("agentConnected == false", ["old"]),
        ("agentConnected == true", ["gpu", "drain"]),
        ("agentVersion < 1.80.0", ["old"]),
        ("agentVersion >= 1.89.0", ["gpu", "drain"]),
        ("runningTasksCount > 0", ["gpu"]),
        ("runningTasksCount == 0", ["old", "drain"]),
        ("registeredAt > 2000-01-01", ["gpu", "old", "drain"]),
        ("registeredAt < 2000-01-01T00:00:00Z", []),
        ("attribute:ecs.capability.external exists and agentConnected == true", ["gpu", "drain"]),
        ("attribute:zone exists && agentVersion >= 1.89.0", ["drain"]),
        ("attribute:gpu exists or attribute:zone == dc1", ["gpu", "old"]),
        ("(attribute:zone == dc1 or attribute:gpu exists) and agentConnected == true", ["gpu"]),
        ("not attribute:gpu exists", ["old", "drain"]),
        ("!(agentConnected == true)", ["old"]),
    ],
)
def test_filter_expressions(ecs, fleet, expression, expected):
    query = expression.format(**{name: host["mi"] for name, host in fleet.items()})
    assert listed(ecs, filter=query) == {fleet[name]["arn"] for name in expected}


@pytest.mark.parametrize(
    "expression",
    [
        "instanceType == t3.small",
        "ec2InstanceId > mi-0",
        "agentVersion in [1.89.0]",
        "attribute:zone ==",
        "attribute:zone == dc1 and",
        "ec2InstanceId in [a, b",
        "(agentConnected == true",
        "runningTasksCount > many",
        "registeredAt > yesterday",
        "attribute:zone exists dc1",
        "agentConnected === true",
        "attribute:zone =~ 'dc[0-9'",
    ],
)
def test_invalid_filter_expressions(ecs, fleet, expression):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, filter=expression)
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterException"


def test_status_filter(ecs, fleet):
    assert listed(ecs) == {host["arn"] for host in fleet.values()}
    assert listed(ecs, status="DRAINING") == {fleet["drain"]["arn"]}
    assert listed(ecs, status="ACTIVE") == {fleet["gpu"]["arn"], fleet["old"]["arn"]}
    assert listed(ecs, status="ACTIVE", filter="agentConnected == true") == {fleet["gpu"]["arn"]}
    assert listed(ecs, status="REGISTERING") == set()
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, status="SLEEPING")
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterException"


def test_paging(ecs, fleet):
    first = ecs.list_container_instances(cluster=CLUSTER, maxResults=2)
    assert len(first["containerInstanceArns"]) == 2
    second = ecs.list_container_instances(cluster=CLUSTER, maxResults=2, nextToken=first["nextToken"])
    assert len(second["containerInstanceArns"]) == 1
    assert "nextToken" not in second
    assert set(first["containerInstanceArns"] + second["containerInstanceArns"]) == listed(ecs)
    paginator = ecs.get_paginator("list_container_instances")
    pages = list(paginator.paginate(cluster=CLUSTER, filter="agentConnected == true", PaginationConfig={"PageSize": 1}))
    assert [len(page["containerInstanceArns"]) for page in pages] == [1, 1]


@pytest.mark.parametrize("max_results", [0, 101])
def test_max_results_bounds(ecs, fleet, max_results):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, maxResults=max_results)
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterException"


def test_bad_next_token(ecs, fleet):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster=CLUSTER, nextToken="garbage")
    assert excinfo.value.response["Error"]["Code"] == "InvalidParameterException"


def test_unknown_cluster(ecs, fleet):
    with pytest.raises(ClientError) as excinfo:
        ecs.list_container_instances(cluster="nowhere")
    assert excinfo.value.response["Error"]["Code"] == "ClusterNotFoundException"
