# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract: every operation the extension emulates answers in the shape AWS's model describes.

boto3 clients call each operation; a ``before-parse`` hook checks the raw JSON body against the
botocore output shape (no member the model lacks, every value of the modelled type, enums
respected) before botocore parses it.  The agent's private operations, which botocore does not
model, are checked against the shapes of the agent's own SDK (aws/amazon-ssm-agent).
"""

import json

import pytest
from botocore.config import Config

SSM_OPERATIONS = {
    "CreateActivation",
    "DescribeActivations",
    "DeleteActivation",
    "DescribeInstanceInformation",
    "DeregisterManagedInstance",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "ListTagsForResource",
}
ECS_OPERATIONS = {
    "CreateCluster",
    "RegisterContainerInstance",
    "ListContainerInstances",
    "DescribeContainerInstances",
    "UpdateContainerInstancesState",
    "DeregisterContainerInstance",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "PutAttributes",
    "DeleteAttributes",
}
#: The agent's private calls: response members and their JSON types (agent SDK, service/ssm).
AGENT_RESPONSES = {
    "RegisterManagedInstance": {"InstanceId": str},
    "RequestManagedInstanceRoleToken": {
        "AccessKeyId": str,
        "SecretAccessKey": str,
        "SessionToken": str,
        "TokenExpirationDate": (int, float),
        "UpdateKeyPair": bool,
    },
    "UpdateInstanceInformation": {},
}
JSON_TYPES = {
    "string": str,
    "blob": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float),
    "structure": dict,
    "map": dict,
    "list": list,
}


def conformance_problems(value, shape, path):
    """Where *value* (decoded JSON) departs from the botocore *shape*."""
    expected = JSON_TYPES[shape.type_name]
    if not isinstance(value, expected) or (isinstance(value, bool) and shape.type_name != "boolean"):
        return ["%s: %r is not a %s" % (path, value, shape.type_name)]
    problems = []
    if shape.type_name == "structure":
        for key, item in value.items():
            if key not in shape.members:
                problems.append("%s.%s: not in the model" % (path, key))
            else:
                problems += conformance_problems(item, shape.members[key], "%s.%s" % (path, key))
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            problems += conformance_problems(item, shape.member, "%s[%d]" % (path, index))
    elif shape.type_name == "map":
        for key, item in value.items():
            problems += conformance_problems(item, shape.value, "%s[%s]" % (path, key))
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        problems.append("%s: %r is not one of %s" % (path, value, shape.enum))
    return problems


class ContractChecker:
    """Checks every successful response of the clients it is attached to."""

    def __init__(self):
        self.seen = {}
        self.problems = []

    def attach(self, client):
        service = client.meta.service_model.service_name
        client.meta.events.register("before-parse.%s.*" % service, self.check)
        return client

    def check(self, operation_model, response_dict, **_kwargs):
        service = operation_model.service_model.service_name
        self.seen.setdefault(service, set()).add(operation_model.name)
        if response_dict["status_code"] != 200:
            return
        body = json.loads(response_dict["body"] or b"{}")
        self.problems += conformance_problems(body, operation_model.output_shape, operation_model.name)


@pytest.fixture
def checker():
    return ContractChecker()


def test_every_emulated_operation_answers_in_the_modelled_shape(lab, aws_client, checker, role, new_agent):
    ssm = checker.attach(aws_client("ssm"))
    ecs = checker.attach(aws_client("ecs"))

    activation = ssm.create_activation(
        IamRole=role, RegistrationLimit=2, DefaultInstanceName="contract", Tags=[{"Key": "k", "Value": "v"}]
    )
    assert ssm.describe_activations()["ActivationList"][0]["RegistrationLimit"] == 2

    agent = new_agent()
    registered = agent.call(
        "RegisterManagedInstance",
        {
            "ActivationCode": activation["ActivationCode"],
            "ActivationId": activation["ActivationId"],
            "PublicKey": "key",
            "PublicKeyType": "Rsa",
            "Fingerprint": "fp",
        },
    )
    agent.instance_id = registered["InstanceId"]
    token = agent.refresh_credentials()
    heartbeat = agent.ping()
    for operation, response in (
        ("RegisterManagedInstance", registered),
        ("RequestManagedInstanceRoleToken", token),
        ("UpdateInstanceInformation", heartbeat),
    ):
        members = AGENT_RESPONSES[operation]
        assert set(response) == set(members), operation
        for key, expected_type in members.items():
            assert isinstance(response[key], expected_type), (operation, key)

    info = ssm.describe_instance_information(MaxResults=5)["InstanceInformationList"]
    assert [i["InstanceId"] for i in info] == [agent.instance_id]
    assert info[0]["PingStatus"] == "Online"
    resource = {"ResourceType": "ManagedInstance", "ResourceId": agent.instance_id}
    ssm.add_tags_to_resource(Tags=[{"Key": "extra", "Value": "1"}], **resource)
    ssm.remove_tags_from_resource(TagKeys=["k"], **resource)
    assert ssm.list_tags_for_resource(**resource)["TagList"] == [{"Key": "extra", "Value": "1"}]

    ecs.create_cluster(clusterName="contract")
    ecs_agent = checker.attach(agent.client("ecs"))
    joined = ecs_agent.register_container_instance(
        cluster="contract",
        attributes=[{"name": "ecs.capability.external"}],
        versionInfo={"agentVersion": "1.89.0", "agentHash": "h", "dockerVersion": "DockerVersion: 25"},
        tags=[{"key": "a", "value": "b"}],
    )["containerInstance"]
    arn = joined["containerInstanceArn"]
    listed = ecs.list_container_instances(cluster="contract", filter="ec2InstanceId == %s" % agent.instance_id)
    assert listed["containerInstanceArns"] == [arn]
    described = ecs.describe_container_instances(
        cluster="contract", containerInstances=[arn], include=["TAGS", "CONTAINER_INSTANCE_HEALTH"]
    )
    assert described["containerInstances"][0]["tags"] == [{"key": "a", "value": "b"}]
    assert described["containerInstances"][0]["healthStatus"]["details"][0]["type"] == "CONTAINER_RUNTIME"
    ecs.put_attributes(cluster="contract", attributes=[{"name": "zone", "value": "dc1", "targetId": arn}])
    ecs.delete_attributes(cluster="contract", attributes=[{"name": "zone", "targetId": arn}])
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "c", "value": "d"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "c", "value": "d"}]
    drained = ecs.update_container_instances_state(cluster="contract", containerInstances=[arn], status="DRAINING")
    assert drained["containerInstances"][0]["status"] == "DRAINING"
    gone = ecs.deregister_container_instance(cluster="contract", containerInstance=arn)
    assert gone["containerInstance"]["status"] == "INACTIVE"

    ssm.deregister_managed_instance(InstanceId=agent.instance_id)
    ssm.delete_activation(ActivationId=activation["ActivationId"])

    assert checker.problems == []
    assert checker.seen["ssm"] == SSM_OPERATIONS
    assert checker.seen["ecs"] == ECS_OPERATIONS
    logged = {(call["service"], call["operation"]) for call in lab.calls()}
    expected = {("ssm", op) for op in SSM_OPERATIONS | set(AGENT_RESPONSES)} | {("ecs", op) for op in ECS_OPERATIONS}
    assert expected <= logged


def test_a_describe_of_a_seeded_fleet_conforms(lab, aws_client, checker, role):
    """Every optional member filled in (seeded instances have pinged, container instances have tags)."""
    lab.seed(12, iam_role=role, cluster=aws_client("ecs").create_cluster(clusterName="big")["cluster"]["clusterName"])
    ssm = checker.attach(aws_client("ssm"))
    ecs = checker.attach(aws_client("ecs"))
    assert len(ssm.describe_instance_information(MaxResults=50)["InstanceInformationList"]) == 12
    assert len(ssm.describe_activations()["ActivationList"]) == 1
    arns = ecs.list_container_instances(cluster="big")["containerInstanceArns"]
    described = ecs.describe_container_instances(
        cluster="big", containerInstances=arns, include=["TAGS", "CONTAINER_INSTANCE_HEALTH"]
    )["containerInstances"]
    assert len(described) == 12 and all(i["healthStatus"]["overallStatus"] for i in described)
    assert checker.problems == []


@pytest.mark.parametrize(
    "service, call, expected_code",
    [
        (
            "ssm",
            lambda c: c.delete_activation(ActivationId="11111111-2222-4333-8444-555555555555"),
            "InvalidActivation",
        ),
        ("ssm", lambda c: c.deregister_managed_instance(InstanceId="mi-0123456789abcdef0"), "InvalidInstanceId"),
        ("ssm", lambda c: c.describe_instance_information(MaxResults=4), "ValidationException"),
        ("ssm", lambda c: c.create_activation(IamRole="Missing"), "ValidationException"),
        ("ecs", lambda c: c.list_container_instances(cluster="x", filter="bogus"), "ClusterNotFoundException"),
        (
            "ecs",
            lambda c: c.describe_container_instances(cluster="x", containerInstances=["y"]),
            "ClusterNotFoundException",
        ),
    ],
)
def test_errors_parse_into_modelled_exceptions(lab, aws_client, service, call, expected_code):
    """Errors come back in the protocol's error shape, so botocore raises the modelled exception class."""
    client = aws_client(service, config=Config(retries={"total_max_attempts": 1}, parameter_validation=False))
    with pytest.raises(getattr(client.exceptions, expected_code)) as excinfo:
        call(client)
    assert excinfo.value.response["Error"]["Code"] == expected_code
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_the_conformance_check_catches_departures(aws_client):
    """The contract check itself: it must flag what a sloppy emulator would send."""
    shape = aws_client("ssm").meta.service_model.operation_model("DescribeInstanceInformation").output_shape
    body = {
        "InstanceInformationList": [
            {"InstanceId": "mi-0123456789abcdef0", "PingStatus": "Sleeping", "IsLatestVersion": "yes", "Tags": []}
        ],
        "NextToken": 5,
    }
    problems = conformance_problems(body, shape, "DescribeInstanceInformation")
    assert sorted(problems) == [
        "DescribeInstanceInformation.InstanceInformationList[0].IsLatestVersion: 'yes' is not a boolean",
        "DescribeInstanceInformation.InstanceInformationList[0].PingStatus: 'Sleeping' is not one of "
        "['Online', 'ConnectionLost', 'Inactive']",
        "DescribeInstanceInformation.InstanceInformationList[0].Tags: not in the model",
        "DescribeInstanceInformation.NextToken: 5 is not a string",
    ]
