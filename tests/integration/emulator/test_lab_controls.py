# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab controls: call log, fault injection, bulk seeding, reset, settings, and the CLI."""

import os
import signal
import socket
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from emulator.client import LabClient
from emulator.client import LabError

LAB_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lab")
NO_RETRIES = Config(retries={"total_max_attempts": 1})
RETRIES = Config(retries={"mode": "standard", "max_attempts": 4})


def test_call_log_records_every_aws_call(lab, aws_client, role):
    ssm, ecs = aws_client("ssm"), aws_client("ecs")
    lab.clear_calls()
    started = time.time()
    ssm.describe_activations()
    ecs.list_clusters()
    with pytest.raises(ClientError):
        ssm.delete_activation(ActivationId="11111111-2222-4333-8444-555555555555")
    aws_client("sts").get_caller_identity()

    calls = lab.calls()
    assert [(c["service"], c["operation"], c["status"]) for c in calls] == [
        ("ssm", "DescribeActivations", 200),
        ("ecs", "ListClusters", 200),
        ("ssm", "DeleteActivation", 400),
        ("sts", "GetCallerIdentity", 200),
    ]
    assert all(c["region"] == "us-east-1" and not c["throttled"] for c in calls)
    times = [c["time"] for c in calls]
    assert times == sorted(times) and started - 1 <= times[0] <= times[-1] <= time.time()
    assert [c["operation"] for c in lab.calls(service="ssm")] == ["DescribeActivations", "DeleteActivation"]
    assert [c["service"] for c in lab.calls(operation="ListClusters")] == ["ecs"]

    lab.clear_calls()
    assert lab.calls() == []


def test_call_log_names_the_agent_calls(lab, host):
    operations = [c["operation"] for c in lab.calls(service="ssm")]
    assert operations[-3:] == [
        "RegisterManagedInstance",
        "RequestManagedInstanceRoleToken",
        "UpdateInstanceInformation",
    ]


def test_throttling_without_retries_surfaces_the_error(lab, aws_client):
    lab.set_fault("ssm:DescribeInstanceInformation", throttle_rate=1.0)
    ssm = aws_client("ssm", config=NO_RETRIES)
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_instance_information()
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    ssm.describe_activations()  # other operations are untouched
    assert lab.faults()["ssm:DescribeInstanceInformation"]["throttled"] == 1


def test_botocore_retries_throttles_and_succeeds(lab, aws_client, role):
    lab.set_fault("ssm:DescribeActivations", throttle_rate=0.5)
    ssm = aws_client("ssm", config=RETRIES)
    lab.clear_calls()
    for _attempt in range(3):
        response = ssm.describe_activations()
        assert response["ResponseMetadata"]["RetryAttempts"] == 1
    attempts = [(c["status"], c["throttled"]) for c in lab.calls(operation="DescribeActivations")]
    assert attempts == [(400, True), (200, False)] * 3
    assert lab.faults()["ssm:DescribeActivations"] == {
        "throttle_rate": 0.5,
        "latency_ms": 0,
        "calls": 6,
        "throttled": 3,
    }


def test_query_protocol_services_get_their_throttling_error(lab, aws_client):
    lab.set_fault("iam:ListRoles", throttle_rate=1.0)
    with pytest.raises(ClientError) as excinfo:
        aws_client("iam", config=NO_RETRIES).list_roles()
    assert excinfo.value.response["Error"]["Code"] == "Throttling"
    lab.set_fault("iam:ListRoles", throttle_rate=0.5)
    assert aws_client("iam", config=RETRIES).list_roles()["ResponseMetadata"]["RetryAttempts"] == 1


def test_wildcard_faults_and_clearing(lab, aws_client):
    ecs = aws_client("ecs", config=NO_RETRIES)
    lab.set_fault("ecs:*", throttle_rate=1.0)
    with pytest.raises(ClientError):
        ecs.list_clusters()
    lab.set_fault("ecs:ListClusters", throttle_rate=0.0)  # the most specific fault wins
    ecs.list_clusters()
    with pytest.raises(ClientError):
        ecs.describe_clusters()
    lab.clear_faults("ecs:*")
    ecs.describe_clusters()
    assert set(lab.faults()) == {"ecs:ListClusters"}
    lab.clear_faults()
    assert lab.faults() == {}
    with pytest.raises(LabError):
        lab.set_fault("DescribeClusters", throttle_rate=0.5)
    with pytest.raises(LabError):
        lab.set_fault("ecs:DescribeClusters", throttle_rate=2)


def test_latency_injection(lab, aws_client):
    ssm = aws_client("ssm")
    ssm.describe_activations()
    lab.set_fault("ssm:DescribeActivations", latency_ms=400)
    started = time.monotonic()
    ssm.describe_activations()
    assert time.monotonic() - started >= 0.4
    # Only that operation is delayed (checked from the configuration, not by timing a fast call,
    # which a loaded machine could make slow).
    assert list(lab.faults()) == ["ssm:DescribeActivations"]


def test_seeding_2500_instances_into_a_cluster(lab, aws_client, capsys):
    ssm, ecs = aws_client("ssm"), aws_client("ecs")
    ecs.create_cluster(clusterName="scale")
    started = time.monotonic()
    seeded = lab.seed(2500, create_role=True, cluster="scale", tags={"fleet": "scale"})
    elapsed = time.monotonic() - started
    with capsys.disabled():  # shown in every run, not only with -s
        print(
            "\nseeded 2,500 managed + container instances in %.2f s (%.2f s in the emulator)"
            % (elapsed, seeded["seconds"])
        )
    assert len(seeded["instances"]) == 2500
    assert len(seeded["activations"]) == 3  # RegistrationLimit is at most 1000
    activations = {a["ActivationId"]: a for a in ssm.describe_activations()["ActivationList"]}
    assert sorted(a["RegistrationsCount"] for a in activations.values()) == [500, 1000, 1000]
    assert all(a["RegistrationsCount"] == a["RegistrationLimit"] for a in activations.values())

    paginator = ssm.get_paginator("describe_instance_information")
    online = [
        info
        for page in paginator.paginate(
            Filters=[{"Key": "tag:fleet", "Values": ["scale"]}], PaginationConfig={"PageSize": 50}
        )
        for info in page["InstanceInformationList"]
    ]
    assert len(online) == 2500
    assert {info["PingStatus"] for info in online} == {"Online"}
    assert {info["InstanceId"] for info in online} == {entry["instance_id"] for entry in seeded["instances"]}

    arns = [
        arn
        for page in ecs.get_paginator("list_container_instances").paginate(cluster="scale")
        for arn in page["containerInstanceArns"]
    ]
    assert sorted(arns) == sorted(entry["container_instance_arn"] for entry in seeded["instances"])
    some = seeded["instances"][1234]
    assert ecs.list_container_instances(cluster="scale", filter="ec2InstanceId == %s" % some["instance_id"])[
        "containerInstanceArns"
    ] == [some["container_instance_arn"]]
    cluster = ecs.describe_clusters(clusters=["scale"])["clusters"][0]
    assert cluster["registeredContainerInstancesCount"] == 2500


def test_seeding_needs_the_role_and_cluster(lab, aws_client):
    with pytest.raises(LabError, match="Not existing role"):
        lab.seed(3)
    with pytest.raises(LabError, match="ClusterNotFoundException"):
        lab.seed(3, create_role=True, cluster="missing")
    assert aws_client("ssm").describe_instance_information()["InstanceInformationList"] == []
    offline = lab.seed(2, create_role=True, online=False)
    assert [i["PingStatus"] for i in aws_client("ssm").describe_instance_information()["InstanceInformationList"]] == [
        "ConnectionLost"
    ] * 2
    assert len(offline["instances"]) == 2


def test_reset_forgets_everything(lab, aws_client, role, host):
    lab.set_fault("ecs:ListClusters", latency_ms=1)
    lab.advance_clock(3600)
    assert lab.calls()
    lab.reset()
    assert lab.calls() == []
    assert lab.faults() == {}
    assert lab.settings()["clock_offset_seconds"] == 0
    ssm = aws_client("ssm")
    assert ssm.describe_activations()["ActivationList"] == []
    assert ssm.describe_instance_information()["InstanceInformationList"] == []
    assert role not in [r["RoleName"] for r in aws_client("iam").list_roles()["Roles"]]
    managed = aws_client("iam").get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    assert managed["Policy"]["PolicyName"] == "AmazonSSMManagedInstanceCore"  # AWS managed policies are loaded


def test_settings(lab):
    assert lab.settings()["connection_lost_after_seconds"] == 600
    changed = lab.settings(connection_lost_after_seconds=120, latest_ssm_agent_version="9.9.9.9")
    assert changed["connection_lost_after_seconds"] == 120
    assert changed["latest_ssm_agent_version"] == "9.9.9.9"
    assert lab.advance_clock(90)["clock_offset_seconds"] == 90
    assert lab.advance_clock(-30)["clock_offset_seconds"] == 60
    with pytest.raises(LabError):
        lab.settings(connection_lost_after_seconds=0)
    with pytest.raises(LabError):
        lab.settings(colour="blue")
    with pytest.raises(LabError, match="no lab endpoint"):
        LabClient(lab.url)._request("GET", "/_lab/nothing")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_serves_in_the_foreground_with_a_pidfile(tmp_path):
    port = free_port()
    pidfile = tmp_path / "emulator.pid"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--pidfile",
            str(pidfile),
            "--quiet",
        ],
        cwd=LAB_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists():
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the emulator did not write its pidfile"
            time.sleep(0.1)
        assert int(pidfile.read_text(encoding="utf-8")) == process.pid
        url = "http://127.0.0.1:%d" % port
        ecs = boto3.client(
            "ecs", region_name="us-east-1", endpoint_url=url, aws_access_key_id="a", aws_secret_access_key="b"
        )
        ecs.create_cluster(clusterName="cli")
        assert [call["operation"] for call in LabClient(url).calls()] == ["CreateCluster"]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert "AWS emulator listening on http://127.0.0.1:%d" % port in output
    assert process.returncode == 128 + signal.SIGTERM
    assert not pidfile.exists()


def test_error_faults_answer_the_real_error_shape_and_a_count_ends_them(lab, aws_client, role):
    """An AWS error injected in each protocol as botocore parses it (JSON __type / query ErrorResponse), for as many
    calls as ``count`` says; the call log marks them."""
    lab.set_fault("ssm:CreateActivation", error="AccessDeniedException", error_message="not allowed", count=2)
    ssm = aws_client("ssm", config=NO_RETRIES)
    for _attempt in range(2):
        with pytest.raises(ClientError) as excinfo:
            ssm.create_activation(IamRole=role)
        assert excinfo.value.response["Error"] == {"Code": "AccessDeniedException", "Message": "not allowed"}
    assert ssm.create_activation(IamRole=role)["ActivationId"]  # the count is spent: the outage is over
    assert lab.faults()["ssm:CreateActivation"]["failed"] == 2
    lab.set_fault("iam:ListRoles", error="AccessDenied", status=403)
    with pytest.raises(ClientError) as excinfo:
        aws_client("iam", config=NO_RETRIES).list_roles()
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [c.get("error") for c in lab.calls(operation="CreateActivation")] == ["AccessDeniedException"] * 2 + [None]
    with pytest.raises(LabError):
        lab.set_fault("ssm:CreateActivation", error="Not a code!")
