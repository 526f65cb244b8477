# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's stand-in ECS agent (tests/lab/standins/ecs_init.py) registering with the emulator, run in a scratch root.

Each test runs ``amazon-ecs-init start`` as a process with ``LAB_STANDIN_ROOT`` pointing at a scratch
directory that holds the host's files (config files, /root/.aws/credentials, ECS Exec dependencies, a
listening docker.sock) and reads what it registered back from the emulator through boto3.
"""

import importlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

STANDINS = os.path.join(os.path.dirname(__file__), "..", "..", "lab", "standins")
ECS_INIT = os.path.join(STANDINS, "ecs_init.py")
CLUSTER = "onprem"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Host:
    """A scratch root with the files a host would have, and the stand-in's process."""

    def __init__(self, path):
        self.path = path
        self.process = None
        self.docker = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        os.makedirs(self.file("/var/run"))
        self.docker.bind(self.file("/var/run/docker.sock"))  # docker_running() only connects
        self.docker.listen(8)

    def file(self, path):
        return self.path + path

    def write(self, path, text):
        os.makedirs(os.path.dirname(self.file(path)), exist_ok=True)
        with open(self.file(path), "w", encoding="utf-8") as handle:
            handle.write(text)

    def credentials(self, **profiles):
        text = ""
        for name, keys in profiles.items():
            text += "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n" % (name, keys[0], keys[1])
            if len(keys) > 2:
                text += "aws_session_token = %s\n" % keys[2]
        self.write("/root/.aws/credentials", text)

    def exec_dependencies(
        self, version="3.3.4108.0", binaries=("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")
    ):
        root = "/var/lib/ecs/deps/execute-command"
        self.write(root + "/certs/tls-ca-bundle.pem", "-----BEGIN CERTIFICATE-----\n")
        os.makedirs(self.file(root + "/bin/" + version), exist_ok=True)
        for name in binaries:
            self.write("%s/bin/%s/%s" % (root, version, name), "#!/bin/sh\n")

    def start(self, **environment):
        env = dict(os.environ, LAB_STANDIN_ROOT=self.path, DOCKER_HOST="unix://%s" % self.file("/var/run/none"))
        for key in [key for key in env if key.startswith("AWS_") or key.startswith("ECS_")]:
            del env[key]
        env.update(environment)
        self.process = subprocess.Popen(
            [sys.executable, ECS_INIT, "start"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def log(self):
        try:
            with open(self.file("/var/log/ecs/ecs-agent.log"), encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            return ""

    def wait_for(self, text, timeout=60):
        """Wait until the agent log has *text*; returns the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            if self.process.poll() is not None:
                pytest.fail("the stand-in exited (%s):\n%s" % (self.process.returncode, log))
            time.sleep(0.2)
        pytest.fail("no %r in the agent log after %ds:\n%s" % (text, timeout, self.log()))

    def registered_arn(self):
        log = self.wait_for("Registration completed successfully")
        return log.split("I am running as '")[1].split("'")[0]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.docker.close()


@pytest.fixture
def scratch():
    path = tempfile.mkdtemp(prefix="ei", dir="/tmp")  # short: docker.sock must fit a unix socket path
    host = Host(path)
    yield host
    host.stop()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def cluster(ecs):
    ecs.create_cluster(clusterName=CLUSTER)
    return CLUSTER


@pytest.fixture
def role_keys(host):
    """The role credentials the SSM agent would have written for this host."""
    return (host.credentials.access_key, host.credentials.secret_key, host.credentials.token)


def base_config(scratch, lab, cluster=CLUSTER):
    scratch.write(
        "/var/lib/ecs/ecs.config",
        "AWS_DEFAULT_REGION=us-east-1\nECS_EXTERNAL=true\nECS_BACKEND_HOST=%s\nECS_CLUSTER=not-this-one\n" % lab.url,
    )
    return "ECS_CLUSTER=%s\nECS_INTROSPECTION_PORT=%d\n" % (cluster, free_port())


def described(ecs, arn, cluster=CLUSTER):
    (instance,) = ecs.describe_container_instances(cluster=cluster, containerInstances=[arn], include=["TAGS"])[
        "containerInstances"
    ]
    return instance, {attribute["name"]: attribute.get("value") for attribute in instance["attributes"]}


def test_configuration_comes_only_from_the_two_files(lab, ecs, host, cluster, scratch, role_keys):
    etc = base_config(scratch, lab)
    etc += 'ECS_INSTANCE_ATTRIBUTES={"zone": "dc1"}\nECS_CONTAINER_INSTANCE_TAGS={"owner": "ops"}\n'
    scratch.write("/etc/ecs/ecs.config", etc)
    scratch.credentials(default=role_keys)
    # What ecs-init's own environment (or an ecs.service drop-in) holds never reaches the agent:
    # were these used, the instance would join "elsewhere" or the call would be signed with a stranger's keys.
    scratch.start(
        ECS_CLUSTER="elsewhere",
        ECS_INSTANCE_ATTRIBUTES='{"from": "environment"}',
        AWS_ACCESS_KEY_ID="AKIAFROMTHEENVIRONMENT",
        AWS_SECRET_ACCESS_KEY="not-the-agents",
        ECS_ALTERNATE_CREDENTIAL_PROFILE="missing",
    )
    arn = scratch.registered_arn()

    assert arn.startswith("arn:aws:ecs:us-east-1:123456789012:container-instance/%s/" % CLUSTER)
    instance, attributes = described(ecs, arn)
    assert instance["ec2InstanceId"] == host.instance_id
    assert attributes["zone"] == "dc1" and "from" not in attributes
    assert "ecs.capability.external" in attributes
    assert "ecs.capability.execute-command" not in attributes
    assert instance["tags"] == [{"key": "owner", "value": "ops"}]


def test_credentials_in_the_config_files_come_before_the_rotating_file(lab, ecs, host, cluster, scratch, role_keys):
    """The agent container's environment is the config files: keys there hijack the agent (as on AWS)."""
    etc = base_config(scratch, lab)
    etc += "AWS_ACCESS_KEY_ID=AKIAINTHECONFIGFILE\nAWS_SECRET_ACCESS_KEY=hijacked\n"
    scratch.write("/etc/ecs/ecs.config", etc)
    scratch.credentials(default=role_keys)
    scratch.start()
    log = scratch.wait_for("Unable to register as a container instance with ECS")
    assert "ClientException" in log
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []


def test_the_alternate_credential_profile(lab, ecs, host, cluster, scratch, role_keys):
    etc = base_config(scratch, lab) + "ECS_ALTERNATE_CREDENTIAL_PROFILE=ecs\n"
    scratch.write("/etc/ecs/ecs.config", etc)
    scratch.credentials(default=("AKIASOMEONEELSE", "not-the-role"), ecs=role_keys)
    scratch.start()
    instance, _attributes = described(ecs, scratch.registered_arn())
    assert instance["ec2InstanceId"] == host.instance_id


def test_the_default_profile_unless_the_config_files_name_another(lab, ecs, host, cluster, scratch, role_keys):
    scratch.write("/etc/ecs/ecs.config", base_config(scratch, lab))
    scratch.credentials(default=("AKIASOMEONEELSE", "not-the-role"), ecs=role_keys)
    scratch.start(ECS_ALTERNATE_CREDENTIAL_PROFILE="ecs")  # the process environment: not the agent's
    assert "ClientException" in scratch.wait_for("Unable to register as a container instance with ECS")
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []


def test_no_credentials_file_no_registration(lab, ecs, host, cluster, scratch):
    scratch.write("/etc/ecs/ecs.config", base_config(scratch, lab))
    scratch.start(AWS_ACCESS_KEY_ID=host.credentials.access_key, AWS_SECRET_ACCESS_KEY=host.credentials.secret_key)
    assert "(profile default)" in scratch.wait_for("Unable to get credentials")
    assert ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] == []


def test_execute_command_capability_with_the_exec_dependencies(lab, ecs, host, cluster, scratch, role_keys):
    scratch.write("/etc/ecs/ecs.config", base_config(scratch, lab))
    scratch.credentials(default=role_keys)
    scratch.exec_dependencies()
    scratch.start()
    _instance, attributes = described(ecs, scratch.registered_arn())
    assert "ecs.capability.execute-command" in attributes
    assert attributes["ecs.capability.execute-command"] is None


@pytest.fixture
def ecs_init_module(scratch, monkeypatch):
    """The stand-in imported with its root at the scratch directory (its paths are fixed at import)."""
    monkeypatch.setenv("LAB_STANDIN_ROOT", scratch.path)
    monkeypatch.syspath_prepend(STANDINS)
    sys.modules.pop("ecs_init", None)
    module = importlib.import_module("ecs_init")
    yield module
    sys.modules.pop("ecs_init", None)


@pytest.mark.parametrize(
    "prepare, expected",
    [
        (lambda host: host.exec_dependencies(), True),
        (lambda host: host.exec_dependencies(version="3"), True),
        (lambda host: None, False),
        (lambda host: host.exec_dependencies(binaries=("amazon-ssm-agent", "ssm-agent-worker")), False),
        (lambda host: host.exec_dependencies(version="latest"), False),
        (
            lambda host: (
                host.exec_dependencies(),
                os.remove(host.file("/var/lib/ecs/deps/execute-command/certs/tls-ca-bundle.pem")),
            ),
            False,
        ),
        (
            lambda host: (
                host.exec_dependencies(version="3.2.0.0", binaries=("amazon-ssm-agent",)),
                host.exec_dependencies(version="3.3.4108.0"),
            ),
            True,
        ),
        (
            lambda host: os.makedirs(host.file("/var/lib/ecs/deps/execute-command/bin/3.3.4108.0/amazon-ssm-agent")),
            False,
        ),
    ],
    ids=[
        "complete",
        "single-number-version",
        "nothing",
        "a-binary-missing",
        "version-not-numeric",
        "no-ca-bundle",
        "one-complete-version-is-enough",
        "binary-is-a-directory",
    ],
)
def test_exec_dependencies_as_the_agent_checks_them(ecs_init_module, scratch, prepare, expected):
    prepare(scratch)
    assert ecs_init_module.exec_dependencies_present() is expected


def test_config_files_are_read_as_ecs_init_reads_them(ecs_init_module, scratch):
    scratch.write("/var/lib/ecs/ecs.config", "ECS_CLUSTER=base\nAWS_DEFAULT_REGION=eu-west-1\n")
    scratch.write(
        "/etc/ecs/ecs.config",
        '# a comment\nECS_CLUSTER="quoted"\nECS_INSTANCE_ATTRIBUTES={"a": "b=c"}\n  SPACED=  x \nNOEQUALS\n',
    )
    config = ecs_init_module.load_config()
    assert config == {
        "ECS_CLUSTER": '"quoted"',  # ecs-init keeps quotes: the agent would look for a cluster named "quoted"
        "AWS_DEFAULT_REGION": "eu-west-1",
        "ECS_INSTANCE_ATTRIBUTES": '{"a": "b=c"}',
        "SPACED": "  x",
    }
