# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prove with moto's IAM enforcement that the generated instance policy lets its holder register a
container instance in the allowed cluster and denies it in another.

moto's ECS responses authorise every request against resource ``*``; AWS authorises
RegisterContainerInstance against the cluster ARN.  The fixture gives moto that resource, so the
policy's scoping is what decides.
"""

import json

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from moto.ecs.responses import EC2ContainerServiceResponse

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _policies as policies

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ADMIN_CALLS = 8  # the set-up calls below, made before moto starts enforcing IAM


@pytest.fixture
def ecs_authorises_against_the_cluster(monkeypatch):
    def determine_resource(self):
        cluster = self._get_param("cluster", "default")
        if cluster.startswith("arn:"):
            return cluster
        return policies.cluster_arn("aws", self.region, self.current_account, cluster)

    monkeypatch.setattr(EC2ContainerServiceResponse, "_determine_resource", determine_resource, raising=False)


def client(service, **credentials):
    return boto3.client(service, region_name=REGION, **credentials)


@mock_aws
@set_initial_no_auth_action_count(ADMIN_CALLS)
def test_generated_policy_allows_its_cluster_and_denies_another(ecs_authorises_against_the_cluster):
    admin = dict(aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs = client("ecs", **admin)
    iam = client("iam", **admin)
    ec2 = client("ec2", **admin)
    ecs.create_cluster(clusterName="allowed")  # 1
    ecs.create_cluster(clusterName="other")  # 2
    iam.create_user(UserName="agent")  # 3
    document = policies.instance_policy("aws", REGION, ACCOUNT, ["allowed"])
    arn = iam.create_policy(PolicyName="generated", PolicyDocument=json.dumps(document))["Policy"]["Arn"]  # 4
    iam.attach_user_policy(UserName="agent", PolicyArn=arn)  # 5
    key = iam.create_access_key(UserName="agent")["AccessKey"]  # 6
    image = ec2.describe_images()["Images"][0]["ImageId"]  # 7
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]  # 8
    identity = json.dumps({"instanceId": instance, "region": REGION, "accountId": ACCOUNT})

    agent = client("ecs", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    # Denied first: had moto not started enforcing yet, this call would pass and the test fail.
    with pytest.raises(agent.exceptions.ClientError) as denied:
        agent.register_container_instance(cluster="other", instanceIdentityDocument=identity)
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "ecs:RegisterContainerInstance" in str(denied.value)

    registered = agent.register_container_instance(cluster="allowed", instanceIdentityDocument=identity)
    assert registered["containerInstance"]["containerInstanceArn"].split(":")[5].startswith("container-instance/")

    with pytest.raises(agent.exceptions.ClientError) as denied:
        agent.create_cluster(clusterName="new")  # never needed by an external instance
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# ---------------------------------------------------------------- SSM parameters a host may read


@pytest.fixture
def ssm_authorises_against_the_parameter(monkeypatch):
    """moto authorises SSM requests against ``*``; AWS against the parameter's ARN.  And moto's statement evaluation
    has no ``NotResource`` (it reads a statement without ``Resource`` as a trust policy and permits): teach it IAM's
    rule -- the statement applies to every resource except those listed -- so the generated Deny is what decides."""
    from moto.iam.access_control import IAMPolicyStatement
    from moto.iam.access_control import PermissionResult
    from moto.ssm.responses import SimpleSystemManagerResponse

    def determine_resource(self):
        name = self._get_param("Name") or (self._get_param("Names") or [None])[0] or self._get_param("Path")
        if not name:
            return "*"
        return policies.parameter_arn("aws", self.region, self.current_account, name)

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        statement = self._statement
        if "NotResource" not in statement:
            return original(self, action, resource, principal, incoming_condition_values)
        if IAMPolicyStatement({"NotResource": statement["NotResource"]})._check_element_matches(
            "NotResource", resource
        ):
            return PermissionResult.NEUTRAL
        widened = {k: v for k, v in statement.items() if k != "NotResource"}
        widened["Resource"] = "*"
        return original(IAMPolicyStatement(widened), action, resource, principal, incoming_condition_values)

    monkeypatch.setattr(SimpleSystemManagerResponse, "_determine_resource", determine_resource, raising=False)
    monkeypatch.setattr(IAMPolicyStatement, "is_action_permitted", is_action_permitted)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


SSM_ADMIN_CALLS = 8


@pytest.mark.parametrize("given", [["/onprem/agents/*"], []], ids=["prefix-given", "none-given"])
@mock_aws
@set_initial_no_auth_action_count(SSM_ADMIN_CALLS)
def test_a_host_reads_the_parameters_it_was_given_and_no_other(ssm_authorises_against_the_parameter, given):
    admin = dict(aws_access_key_id="testing", aws_secret_access_key="testing")
    ssm = client("ssm", **admin)
    iam = client("iam", **admin)
    ssm.put_parameter(Name="/onprem/agents/proxy", Value="http://proxy:3128", Type="String")  # 1
    ssm.put_parameter(Name="/prod/db-password", Value="secret", Type="SecureString")  # 2
    iam.create_user(UserName="host")  # 3
    document = policies.instance_policy("aws", REGION, ACCOUNT, ["onprem"], readable_parameters=given)
    arn = iam.create_policy(PolicyName="generated", PolicyDocument=json.dumps(document))["Policy"]["Arn"]  # 4
    iam.attach_user_policy(UserName="host", PolicyArn=arn)  # 5
    core = policies.managed_policy_arn("aws", policies.SSM_CORE_POLICY)
    iam.attach_user_policy(UserName="host", PolicyArn=core)  # 6: AWS's copy, allowing ssm:GetParameter* on *
    assert iam.get_policy(PolicyArn=core)["Policy"]["DefaultVersionId"]  # 7
    key = iam.create_access_key(UserName="host")["AccessKey"]  # 8
    host = client("ssm", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    # Denied first: had moto not started enforcing yet, this call would pass and the test fail.
    for call in (
        lambda: host.get_parameter(Name="/prod/db-password", WithDecryption=True),
        lambda: host.get_parameters(Names=["/prod/db-password"]),
        lambda: host.get_parameters_by_path(Path="/prod"),
        lambda: host.get_parameter_history(Name="/prod/db-password"),
    ):
        with pytest.raises(host.exceptions.ClientError) as denied:
            call()
        assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    if given:
        assert host.get_parameter(Name="/onprem/agents/proxy")["Parameter"]["Value"] == "http://proxy:3128"
        assert host.get_parameters(Names=["/onprem/agents/proxy"])["Parameters"][0]["Value"] == "http://proxy:3128"
    else:
        with pytest.raises(host.exceptions.ClientError):
            host.get_parameter(Name="/onprem/agents/proxy")
