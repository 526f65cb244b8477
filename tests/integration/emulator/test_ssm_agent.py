# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SSM agent's private calls: RegisterManagedInstance, RequestManagedInstanceRoleToken, UpdateInstanceInformation."""

import datetime
import re

import pytest
from emulator.agent import AgentCallError


def instance(ssm, instance_id):
    filters = [{"Key": "InstanceIds", "Values": [instance_id]}]
    (info,) = ssm.describe_instance_information(Filters=filters)["InstanceInformationList"]
    return info


def activation_record(ssm, activation_id):
    filters = [{"FilterKey": "ActivationIds", "FilterValues": [activation_id]}]
    (record,) = ssm.describe_activations(Filters=filters)["ActivationList"]
    return record


def test_register_creates_a_managed_instance_from_the_activation(ssm, new_agent, activation, role):
    agent = new_agent()
    instance_id = agent.register(activation["ActivationId"], activation["ActivationCode"])

    assert re.fullmatch(r"mi-[0-9a-f]{17}", instance_id)
    info = instance(ssm, instance_id)
    assert info["ActivationId"] == activation["ActivationId"]
    assert info["IamRole"] == role
    assert info["Name"] == "onprem"
    assert info["ResourceType"] == "ManagedInstance"
    assert info["PingStatus"] == "ConnectionLost"  # registered, but the agent has not pinged yet
    assert "LastPingDateTime" not in info
    assert activation_record(ssm, activation["ActivationId"])["RegistrationsCount"] == 1


def test_register_copies_the_activation_tags_to_the_instance(ssm, new_agent, activation):
    instance_id = new_agent().register(activation["ActivationId"], activation["ActivationCode"])
    tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)["TagList"]
    assert sorted((tag["Key"], tag["Value"]) for tag in tags) == [("site", "dc1"), ("team", "platform")]


def test_register_enforces_the_registration_limit(ssm, new_agent, role):
    created = ssm.create_activation(IamRole=role, RegistrationLimit=2)
    ids = {new_agent().register(created["ActivationId"], created["ActivationCode"]) for _number in range(2)}
    assert len(ids) == 2

    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register(created["ActivationId"], created["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"
    assert excinfo.value.status == 400
    assert "registration limit" in excinfo.value.message
    assert activation_record(ssm, created["ActivationId"])["RegistrationsCount"] == 2


def test_deregistering_does_not_give_the_registration_back(ssm, new_agent, role):
    created = ssm.create_activation(IamRole=role, RegistrationLimit=1)
    instance_id = new_agent().register(created["ActivationId"], created["ActivationCode"])
    ssm.deregister_managed_instance(InstanceId=instance_id)
    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register(created["ActivationId"], created["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"


def test_register_with_a_wrong_code_or_unknown_activation(new_agent, activation):
    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register(activation["ActivationId"], "A" * 20)
    assert excinfo.value.code == "InvalidActivation"
    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register("11111111-2222-4333-8444-555555555555", activation["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"


def test_register_with_a_deleted_activation(ssm, new_agent, activation):
    ssm.delete_activation(ActivationId=activation["ActivationId"])
    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register(activation["ActivationId"], activation["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"


def test_register_with_an_expired_activation(lab, ssm, new_agent, role):
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    created = ssm.create_activation(IamRole=role, RegistrationLimit=3, ExpirationDate=expires)
    new_agent().register(created["ActivationId"], created["ActivationCode"])
    lab.advance_clock(3601)

    with pytest.raises(AgentCallError) as excinfo:
        new_agent().register(created["ActivationId"], created["ActivationCode"])
    assert excinfo.value.code == "ActivationExpired"
    assert activation_record(ssm, created["ActivationId"])["RegistrationsCount"] == 1


def test_register_finds_an_activation_of_another_region(aws_client, role, new_agent):
    """The agent registers anonymously, so the request carries no region."""
    created = aws_client("ssm", region_name="eu-west-1").create_activation(IamRole=role)
    agent = new_agent(region="eu-west-1")
    instance_id = agent.register(created["ActivationId"], created["ActivationCode"])
    eu_west = aws_client("ssm", region_name="eu-west-1")
    assert [i["InstanceId"] for i in eu_west.describe_instance_information()["InstanceInformationList"]] == [
        instance_id
    ]
    assert aws_client("ssm").describe_instance_information()["InstanceInformationList"] == []


def test_role_token_is_a_session_of_the_activation_role(aws_client, new_agent, activation, role):
    agent = new_agent()
    instance_id = agent.register(activation["ActivationId"], activation["ActivationCode"])
    token = agent.refresh_credentials()

    assert token["AccessKeyId"].startswith("ASIA")
    assert token["SecretAccessKey"] and token["SessionToken"]
    expires = datetime.datetime.fromtimestamp(token["TokenExpirationDate"], datetime.timezone.utc)
    remaining = expires - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(minutes=55) < remaining <= datetime.timedelta(hours=1)
    assert token["UpdateKeyPair"] is False
    identity = agent.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/%s/%s" % (role, instance_id)


def test_role_token_for_an_unknown_or_deregistered_instance(ssm, new_agent, activation):
    stranger = new_agent()
    stranger.instance_id = "mi-0123456789abcdef0"
    with pytest.raises(AgentCallError) as excinfo:
        stranger.refresh_credentials()
    assert excinfo.value.code == "InvalidInstanceId"

    agent = new_agent()
    agent.register(activation["ActivationId"], activation["ActivationCode"])
    ssm.deregister_managed_instance(InstanceId=agent.instance_id)
    with pytest.raises(AgentCallError) as excinfo:
        agent.refresh_credentials()
    assert excinfo.value.code == "InvalidInstanceId"


def test_role_token_when_the_role_is_gone(iam, new_agent, activation, role):
    agent = new_agent()
    agent.register(activation["ActivationId"], activation["ActivationCode"])
    iam.delete_role(RoleName=role)
    with pytest.raises(AgentCallError) as excinfo:
        agent.refresh_credentials()
    assert excinfo.value.code == "AccessDeniedException"


def test_heartbeat_reports_the_instance_online(ssm, new_agent, activation):
    agent = new_agent()
    agent.register(activation["ActivationId"], activation["ActivationCode"])
    agent.refresh_credentials()
    agent.ping(
        AgentVersion="3.3.1957.0",
        PlatformName="Debian GNU/Linux",
        PlatformVersion="12",
        IPAddress="10.1.2.3",
        ComputerName="rack4-node7",
    )

    info = instance(ssm, agent.instance_id)
    assert info["PingStatus"] == "Online"
    assert info["AgentVersion"] == "3.3.1957.0"
    assert info["IsLatestVersion"] is True
    assert info["PlatformType"] == "Linux"
    assert info["PlatformName"] == "Debian GNU/Linux"
    assert info["PlatformVersion"] == "12"
    assert info["IPAddress"] == "10.1.2.3"
    assert info["ComputerName"] == "rack4-node7"
    age = datetime.datetime.now(datetime.timezone.utc) - info["LastPingDateTime"]
    assert age < datetime.timedelta(seconds=30)
    assert info["RegistrationDate"] <= info["LastPingDateTime"]


def test_heartbeat_without_instance_id_uses_the_role_session(ssm, new_agent, activation):
    agent = new_agent()
    agent.register(activation["ActivationId"], activation["ActivationCode"])
    agent.refresh_credentials()
    agent.ping(send_instance_id=False, ComputerName="modern-agent")
    assert instance(ssm, agent.instance_id)["ComputerName"] == "modern-agent"


def test_heartbeat_for_an_unknown_instance(new_agent, host):
    host.instance_id = "mi-0123456789abcdef0"
    with pytest.raises(AgentCallError) as excinfo:
        host.ping()
    assert excinfo.value.code == "InvalidInstanceId"


def test_old_agent_versions_are_not_latest(ssm, host):
    host.ping(AgentVersion="3.1.1004.0")
    assert instance(ssm, host.instance_id)["IsLatestVersion"] is False


def test_ping_age_drives_connection_lost(lab, ssm, host):
    assert instance(ssm, host.instance_id)["PingStatus"] == "Online"
    lab.advance_clock(601)
    assert instance(ssm, host.instance_id)["PingStatus"] == "ConnectionLost"
    host.ping()
    assert instance(ssm, host.instance_id)["PingStatus"] == "Online"

    lab.settings(connection_lost_after_seconds=60)
    assert lab.set_ping([host.instance_id], seconds_ago=61) == {host.instance_id: "ConnectionLost"}
    assert instance(ssm, host.instance_id)["PingStatus"] == "ConnectionLost"
    assert lab.set_ping([host.instance_id], seconds_ago=59) == {host.instance_id: "Online"}
