# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SSM agent's private calls: RegisterManagedInstance, RequestManagedInstanceRoleToken, UpdateInstanceInformation."""

import datetime
import re

import pytest
from botocore.credentials import Credentials
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


def instance_ids(client):
    return [i["InstanceId"] for i in client.describe_instance_information()["InstanceInformationList"]]


def test_register_only_at_the_activation_regions_endpoint(aws_client, role, new_agent):
    """The agent registers anonymously: the region is the one of the endpoint it sends the request to."""
    eu_west = aws_client("ssm", region_name="eu-west-1")
    created = eu_west.create_activation(IamRole=role, RegistrationLimit=2)

    with pytest.raises(AgentCallError) as excinfo:
        new_agent(region="us-east-1").register(created["ActivationId"], created["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"
    assert excinfo.value.status == 400
    assert activation_record(eu_west, created["ActivationId"])["RegistrationsCount"] == 0

    instance_id = new_agent(region="eu-west-1").register(created["ActivationId"], created["ActivationCode"])
    assert instance_ids(eu_west) == [instance_id]
    assert instance_ids(aws_client("ssm")) == []
    assert activation_record(eu_west, created["ActivationId"])["RegistrationsCount"] == 1


def test_register_through_a_vpc_endpoint_name_or_a_signed_scope(aws_client, role, new_agent):
    eu_west = aws_client("ssm", region_name="eu-west-1")
    created = eu_west.create_activation(IamRole=role, RegistrationLimit=3)
    vpce = new_agent(region="eu-west-1", ssm_host="vpce-0123456789abcdef0-abcdefgh.ssm.eu-west-1.vpce.amazonaws.com")
    assert vpce.register(created["ActivationId"], created["ActivationCode"]) in instance_ids(eu_west)

    # A signed request is the request of the region it is signed for, whatever host it names.
    body = {"ActivationCode": created["ActivationCode"], "ActivationId": created["ActivationId"], "Fingerprint": "x"}
    keys = Credentials("AKIDLAB", "secret")
    signed_for_eu = new_agent(region="eu-west-1", ssm_host="ssm.us-east-1.amazonaws.com")
    assert signed_for_eu.call("RegisterManagedInstance", body, credentials=keys)["InstanceId"] in instance_ids(eu_west)
    signed_elsewhere = new_agent(region="ap-southeast-2", ssm_host="ssm.eu-west-1.amazonaws.com")
    with pytest.raises(AgentCallError) as excinfo:
        signed_elsewhere.call("RegisterManagedInstance", dict(body, Fingerprint="y"), credentials=keys)
    assert excinfo.value.code == "InvalidActivation"
    assert activation_record(eu_west, created["ActivationId"])["RegistrationsCount"] == 2


def test_register_at_a_region_less_endpoint_name(lab, aws_client, role, new_agent):
    """The lab's hosts use ``Ssm.Endpoint`` = http://aws.lab.internal, a name without a region."""
    eu_west = aws_client("ssm", region_name="eu-west-1")
    created = eu_west.create_activation(IamRole=role, RegistrationLimit=3)

    # Unknown region: the activation is found wherever it is.
    lab_host = new_agent(region="eu-west-1", ssm_host="aws.lab.internal")
    assert lab_host.register(created["ActivationId"], created["ActivationCode"]) in instance_ids(eu_west)

    # Told which region the name stands for, the emulator answers as that region's SSM.
    assert lab.settings(endpoint_region="us-east-1")["endpoint_region"] == "us-east-1"
    with pytest.raises(AgentCallError) as excinfo:
        new_agent(region="eu-west-1", ssm_host="aws.lab.internal").register(
            created["ActivationId"], created["ActivationCode"]
        )
    assert excinfo.value.code == "InvalidActivation"
    lab.settings(endpoint_region="eu-west-1")
    second = new_agent(region="eu-west-1", ssm_host="aws.lab.internal")
    assert second.register(created["ActivationId"], created["ActivationCode"]) in instance_ids(eu_west)
    assert activation_record(eu_west, created["ActivationId"])["RegistrationsCount"] == 2
    assert lab.settings(endpoint_region="")["endpoint_region"] is None


def test_agent_calls_signed_for_another_region_do_not_find_the_instance(aws_client, role, new_agent):
    created = aws_client("ssm", region_name="eu-west-1").create_activation(IamRole=role)
    agent = new_agent(region="eu-west-1")
    agent.register(created["ActivationId"], created["ActivationCode"])
    agent.region = "us-east-1"  # e.g. registered with -region eu-west-1 but signing for us-east-1
    with pytest.raises(AgentCallError) as excinfo:
        agent.refresh_credentials()
    assert excinfo.value.code == "InvalidInstanceId"
    agent.region = "eu-west-1"
    agent.refresh_credentials()
    agent.ping()
    info = aws_client("ssm", region_name="eu-west-1").describe_instance_information()["InstanceInformationList"]
    assert [(i["InstanceId"], i["PingStatus"]) for i in info] == [(agent.instance_id, "Online")]


def test_a_deregistered_host_needs_a_different_activation(ssm, new_agent, role):
    """The same machine -- the same fingerprint from the agent's vault -- with a fresh key pair."""
    first = ssm.create_activation(IamRole=role, RegistrationLimit=5)
    host = new_agent()
    old_id = host.register(first["ActivationId"], first["ActivationCode"])
    ssm.deregister_managed_instance(InstanceId=old_id)

    with pytest.raises(AgentCallError) as excinfo:
        host.register(first["ActivationId"], first["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"
    assert "different activation" in excinfo.value.message
    assert activation_record(ssm, first["ActivationId"])["RegistrationsCount"] == 1

    # Another machine still registers with it; this one with another activation.
    assert new_agent().register(first["ActivationId"], first["ActivationCode"])
    second = ssm.create_activation(IamRole=role)
    new_id = host.register(second["ActivationId"], second["ActivationCode"])
    assert new_id != old_id
    assert instance(ssm, new_id)["ActivationId"] == second["ActivationId"]
    assert activation_record(ssm, first["ActivationId"])["RegistrationsCount"] == 2

    # A wiped vault (`-register -clear`, or AWS's offboarding removing /var/lib/amazon/ssm) is a new fingerprint:
    # SSM cannot tell it is the same machine.
    host.fingerprint = "a-fresh-fingerprint"
    assert host.register(first["ActivationId"], first["ActivationCode"])


def test_a_registered_host_registering_again_uses_up_another_registration(ssm, new_agent, role):
    """Re-running the registration without deregistering gives a new instance (AWS troubleshooting: re-runs
    consume the activation's registration limit); only deregistered machines are refused."""
    created = ssm.create_activation(IamRole=role, RegistrationLimit=2)
    host = new_agent()
    first_id = host.register(created["ActivationId"], created["ActivationCode"])
    second_id = host.register(created["ActivationId"], created["ActivationCode"])
    assert first_id != second_id
    assert activation_record(ssm, created["ActivationId"])["RegistrationsCount"] == 2


def test_the_fingerprint_of_a_role_token_request_identifies_the_host_too(ssm, new_agent, role):
    created = ssm.create_activation(IamRole=role, RegistrationLimit=3)
    host = new_agent()
    instance_id = host.register(created["ActivationId"], created["ActivationCode"])
    host.fingerprint = "changed-after-a-hardware-change"
    host.refresh_credentials()
    ssm.deregister_managed_instance(InstanceId=instance_id)
    with pytest.raises(AgentCallError) as excinfo:
        host.register(created["ActivationId"], created["ActivationCode"])
    assert excinfo.value.code == "InvalidActivation"


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
