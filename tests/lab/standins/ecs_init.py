# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LAB STAND-IN for AWS's ``amazon-ecs-init`` (``/usr/libexec/amazon-ecs-init``, run by ``ecs.service``).

It is not AWS's ECS agent and runs no containers. It behaves as the real one does where the
collection's roles can observe it:

* configuration: only what ``/var/lib/ecs/ecs.config`` and then ``/etc/ecs/ecs.config`` say (the latter
  wins), parsed as ecs-init parses them (``KEY=VALUE`` lines, values verbatim: no quotes removed) -- the
  real ecs-init hands exactly those files' contents to the agent container (aws/amazon-ecs-agent
  ecs-init/docker/docker.go, LoadEnvVars and getContainerConfig), so neither ecs-init's own process
  environment nor ``ecs.service`` drop-ins reach the agent;
* refuses to start without ``ECS_EXTERNAL=true`` and ``AWS_DEFAULT_REGION``, or without a running
  Docker daemon (``systemctl is-active docker`` or ``/var/run/docker.sock``);
* takes credentials as the agent does on an external instance (ecs-agent/credentials/providers/
  instance_credentials_provider.go): ``AWS_ACCESS_KEY_ID``... if the config files set them (the agent
  container's environment), else the rotating shared credentials ``/root/.aws/credentials`` (mounted as
  ``/rotatingcreds``), profile ``ECS_ALTERNATE_CREDENTIAL_PROFILE`` or ``default``, written by the SSM agent;
* registers the container instance (ECS ``RegisterContainerInstance``, SigV4 by hand) at
  ``ECS_BACKEND_HOST`` or ``https://ecs.<region>.amazonaws.com``, through ``HTTP_PROXY`` /
  ``HTTPS_PROXY`` unless ``NO_PROXY`` matches (from the config files), with ``ecs.capability.external``,
  ``versionInfo``, ``ECS_CONTAINER_INSTANCE_TAGS``, ``ECS_INSTANCE_ATTRIBUTES`` (first registration only,
  as the agent sends them) and ``ecs.capability.execute-command`` only when the ECS Exec dependencies
  are under ``/var/lib/ecs/deps/execute-command``;
* keeps the registration in ``/var/lib/ecs/data/agent.db`` and refuses a changed ``ECS_CLUSTER``
  while that checkpoint exists (AWS's "move to another cluster" procedure removes it);
* serves ``http://localhost:51678/v1/metadata`` and logs to ``/var/log/ecs/ecs-agent.log``.
"""

import datetime
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import awsreq  # pylint: disable=import-error

VERSION = "1.89.0"
#: True only in a lab build that stands in for a bad release (labctl.packages, ``broken="service"``): the package
#: installs and is correctly signed, but its agent exits at start without registering, as the real agent exits
#: when it cannot initialise (agent/app/run.go: a terminal error ends the process and systemd restarts it).
BROKEN_RELEASE = False
ROOT = os.environ.get("LAB_STANDIN_ROOT", "")  # lets the lab exercise the program outside a host
CONFIG_FILES = (ROOT + "/var/lib/ecs/ecs.config", ROOT + "/etc/ecs/ecs.config")
AGENT_LOG = ROOT + "/var/log/ecs/ecs-agent.log"
INIT_LOG = ROOT + "/var/log/ecs/ecs-init.log"
DOCKER_SOCKET = ROOT + "/var/run/docker.sock"
CREDENTIALS_FILE = ROOT + "/root/.aws/credentials"
#: ECS Exec's dependencies on the host, which ecs-init mounts into the agent container as
#: /managed-agents (ecs-init/docker/docker.go: hostResourcesRootDir, getCapabilityBinds).
EXEC_DEPS = ROOT + "/var/lib/ecs/deps/execute-command"
EXEC_REQUIRED_CERTS = ("tls-ca-bundle.pem",)
EXEC_REQUIRED_BINARIES = ("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")
EXEC_VERSION = re.compile(r"^\d+(\.\d+)*$")
TERMINAL_EXIT = 5  # the real agent's "do not restart me" exit code
TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


def log(path, level, message, *args):
    text = message % args if args else message
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = 'level=%s time=%s msg="%s" module=lab-standin\n' % (level, stamp, text.replace('"', "'"))
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError:
        pass
    stream = sys.stderr if level in ("error", "critical", "warn") else sys.stdout
    stream.write(line)
    stream.flush()


def read_config_file(path):
    """One config file as ecs-init reads it (ecs-init/docker/docker.go, getEnvVars): the whole file trimmed,
    split into lines, each trimmed and split at its first ``=``; lines without one are skipped, and keys and
    values are taken as they are -- no comments, no quotes removed (``A="b"`` gives the agent ``"b"``)."""
    values = {}
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return values
    for line in text.strip().split("\n"):
        parts = line.strip().split("=", 1)
        if len(parts) == 2:
            values[parts[0]] = parts[1]
    return values


def load_config():
    """The agent's configuration: /var/lib/ecs/ecs.config, then /etc/ecs/ecs.config over it.

    ecs-init's LoadEnvVars merges loadCustomInstanceEnvVars (/var/lib/ecs/ecs.config) and then
    loadUsrEnvVars (/etc/ecs/ecs.config, "Overriding instance config"), and getContainerConfig gives the
    agent container those values over ecs-init's defaults -- not ecs-init's own environment, so what
    ``ecs.service`` drop-ins set (``Environment=``) never reaches the agent.  The proxy variables ecs-init
    itself uses for its own downloads are outside what this stand-in models.
    """
    config = {}
    for path in CONFIG_FILES:
        config.update(read_config_file(path))
    return config


def validate(config):
    """The reasons the real agent refuses to start, as (exit code, message) or None."""
    if config.get("ECS_EXTERNAL", "").lower() != "true":
        return TERMINAL_EXIT, (
            "ECS_EXTERNAL is not 'true': this host is not an EC2 instance, so the agent cannot find its "
            "identity (instance metadata is unreachable). Set ECS_EXTERNAL=true in /var/lib/ecs/ecs.config"
        )
    if not config.get("AWS_DEFAULT_REGION"):
        return TERMINAL_EXIT, "AWS_DEFAULT_REGION must be set when ECS_EXTERNAL is true"
    for name in ("ECS_CONTAINER_INSTANCE_TAGS", "ECS_INSTANCE_ATTRIBUTES"):
        if config.get(name):
            try:
                value = json.loads(config[name])
            except ValueError:
                value = None
            if not isinstance(value, dict):
                return TERMINAL_EXIT, "Unable to parse %s: must be a JSON object of strings" % name
    return None


def docker_running():
    try:
        if subprocess.call(["systemctl", "is-active", "--quiet", "docker"]) == 0:
            return True
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(DOCKER_SOCKET)
        return True
    except OSError:
        return False


def docker_version():
    try:
        out = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    return "DockerVersion: %s" % (out or "unknown")


def credentials(config):
    """The agent's credentials on an external instance, from *config* (the agent container's environment).

    ecs-agent/credentials/providers/instance_credentials_provider.go (NewInstanceCredentialsCache, external):
    environment variables first -- which, in the agent container, only the config files can set -- then
    the rotating shared credentials provider: /rotatingcreds/credentials, which ecs-init mounts from the
    host's /root/.aws when ECS_EXTERNAL=true (ecs-init/docker/docker.go, externalEnvCredsHostDir), profile
    ECS_ALTERNATE_CREDENTIAL_PROFILE else ``default`` (rotating_shared_credentials_provider_v2.go).  The
    chain's later members -- shared files inside the agent container, and EC2 role credentials, which an
    external instance cannot reach -- have nothing to give here.
    """
    if config.get("AWS_ACCESS_KEY_ID") and config.get("AWS_SECRET_ACCESS_KEY"):
        return {
            "access_key": config["AWS_ACCESS_KEY_ID"],
            "secret_key": config["AWS_SECRET_ACCESS_KEY"],
            "token": config.get("AWS_SESSION_TOKEN"),
        }
    profile = config.get("ECS_ALTERNATE_CREDENTIAL_PROFILE") or "default"
    section, values = None, {}
    try:
        with open(CREDENTIALS_FILE, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in lines:
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == profile and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    if values.get("aws_access_key_id") and values.get("aws_secret_access_key"):
        return {
            "access_key": values["aws_access_key_id"],
            "secret_key": values["aws_secret_access_key"],
            "token": values.get("aws_session_token"),
        }
    return None


def resources():
    memory = 0
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) // 1024
    except OSError:
        pass
    return [
        {"name": "CPU", "type": "INTEGER", "integerValue": (os.cpu_count() or 1) * 1024},
        {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
        {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22", "2375", "2376", "51678", "51679"]},
        {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
    ]


class State:
    """What the introspection endpoint reports."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.arn = None


def serve_introspection(state, port=51678):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
            if self.path.rstrip("/") != "/v1/metadata":
                self.send_error(404)
                return
            body = json.dumps(
                {
                    "Cluster": state.cluster,
                    "ContainerInstanceArn": state.arn,
                    "Version": "Amazon ECS Agent - v%s (lab stand-in)" % VERSION,
                }
            ).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def checkpoint_path(config):
    return ROOT + (config.get("ECS_DATADIR") or "/var/lib/ecs/data") + "/agent.db"


def _is_dir(path):
    return os.path.isdir(path)


def _is_file(path):
    return os.path.exists(path) and not os.path.isdir(path)


def exec_dependencies_present():
    """Whether the agent would advertise ``ecs.capability.execute-command`` on this host.

    aws/amazon-ecs-agent agent/app/agent_capability.go, appendExecCapabilities, with the Linux lists of
    agent_capability_unix.go: the directories bin, config and certs under execute-command, the file
    certs/tls-ca-bundle.pem, and at least one bin/<version> directory (named ``^\\d+(\\.\\d+)*$``) holding
    the files amazon-ssm-agent, ssm-agent-worker and ssm-session-worker.  ecs-init binds config whenever the
    execute-command directory exists, and Docker creates it then (ecs-init/docker/docker.go,
    getCapabilityBinds), so on a host config is present as soon as execute-command is.
    """
    certs, bins = os.path.join(EXEC_DEPS, "certs"), os.path.join(EXEC_DEPS, "bin")
    if not (_is_dir(bins) and _is_dir(certs)):
        return False
    if not all(_is_file(os.path.join(certs, name)) for name in EXEC_REQUIRED_CERTS):
        return False
    for version in sorted(os.listdir(bins)):
        directory = os.path.join(bins, version)
        if EXEC_VERSION.match(version) and _is_dir(directory):
            if all(_is_file(os.path.join(directory, name)) for name in EXEC_REQUIRED_BINARIES):
                return True
    return False


def register(config, state, creds):
    region = config["AWS_DEFAULT_REGION"]
    endpoint = awsreq.endpoint_url(config.get("ECS_BACKEND_HOST") or "ecs.%s.amazonaws.com" % region)
    attributes = [
        {"name": "ecs.capability.external"},
        {"name": "ecs.os-type", "value": "linux"},
        {"name": "ecs.os-family", "value": "LINUX"},
        {"name": "ecs.cpu-architecture", "value": "x86_64"},
        {"name": "com.amazonaws.ecs.capability.docker-remote-api.1.17"},
        {"name": "com.amazonaws.ecs.capability.logging-driver.json-file"},
    ]
    if exec_dependencies_present():
        attributes.append({"name": "ecs.capability.execute-command"})
    if not state.arn:
        # "Custom attribute registration only happens on initial instance registration." (ecs-agent/api/ecs/
        # client/ecs_client.go, registerContainerInstance); tags go with every registration, as there.
        for name, value in sorted(json.loads(config.get("ECS_INSTANCE_ATTRIBUTES") or "{}").items()):
            attributes.append({"name": name, "value": str(value)})
    payload = {
        "cluster": state.cluster,
        "totalResources": resources(),
        "versionInfo": {"agentVersion": VERSION, "agentHash": "labstand", "dockerVersion": docker_version()},
        "attributes": attributes,
    }
    tags = json.loads(config.get("ECS_CONTAINER_INSTANCE_TAGS") or "{}")
    if tags:
        payload["tags"] = [{"key": str(k), "value": str(v)} for k, v in sorted(tags.items())]
    if state.arn:
        payload["containerInstanceArn"] = state.arn
    environ = dict((k, v) for k, v in config.items() if k.lower() in ("http_proxy", "https_proxy", "no_proxy"))
    answer = awsreq.json_call(
        endpoint, TARGET_PREFIX + "RegisterContainerInstance", payload, region, "ecs", creds, environ=environ
    )
    return answer["containerInstance"]["containerInstanceArn"]


def start():
    if BROKEN_RELEASE:
        log(
            AGENT_LOG,
            "critical",
            "Amazon ECS agent Version: %s failed to initialise (LAB STAND-IN of a bad release)",
            VERSION,
        )
        return 1
    config = load_config()
    problem = validate(config)
    if problem:
        log(AGENT_LOG, "critical", problem[1])
        return problem[0]
    if not docker_running():
        log(AGENT_LOG, "error", "Docker daemon is not running (systemctl is-active docker; %s)", DOCKER_SOCKET)
        return 1
    state = State(config.get("ECS_CLUSTER") or "default")
    checkpoint = checkpoint_path(config)
    saved = {}
    try:
        with open(checkpoint, encoding="utf-8") as handle:
            saved = json.load(handle)
    except (OSError, ValueError):
        saved = {}
    if saved.get("Cluster") and saved["Cluster"] != state.cluster:
        log(
            AGENT_LOG,
            "critical",
            "Data mismatch; saved cluster '%s' does not match configured cluster '%s'. "
            "Perhaps you want to delete the configured checkpoint file?",
            saved["Cluster"],
            state.cluster,
        )
        return TERMINAL_EXIT
    state.arn = saved.get("ContainerInstanceArn")
    log(
        AGENT_LOG,
        "info",
        "Amazon ECS agent Version: %s (LAB STAND-IN, not AWS's agent); cluster %s",
        VERSION,
        state.cluster,
    )
    try:
        serve_introspection(state, int(config.get("ECS_INTROSPECTION_PORT") or 51678))
    except OSError as exc:
        log(AGENT_LOG, "critical", "Unable to start the introspection server: %s", exc)
        return 1
    delay = 5
    while True:
        creds = credentials(load_config())
        if creds is None:
            log(
                AGENT_LOG,
                "error",
                "Unable to get credentials: none in the ECS config files or in /root/.aws/credentials "
                "(profile %s); retrying",
                load_config().get("ECS_ALTERNATE_CREDENTIAL_PROFILE") or "default",
            )
        else:
            try:
                state.arn = register(config, state, creds)
                break
            except awsreq.AWSError as exc:
                log(AGENT_LOG, "error", "Unable to register as a container instance with ECS: %s", exc)
        time.sleep(delay)
        delay = min(delay * 2, 30)
    os.makedirs(os.path.dirname(checkpoint), exist_ok=True)
    awsreq.write_private(checkpoint, json.dumps({"Cluster": state.cluster, "ContainerInstanceArn": state.arn}))
    log(
        AGENT_LOG,
        "info",
        "Registration completed successfully. I am running as '%s' in cluster '%s'",
        state.arn,
        state.cluster,
    )
    while True:
        time.sleep(3600)


def pre_start():
    config = load_config()
    problem = validate(config)
    if problem:
        log(INIT_LOG, "critical", problem[1])
        return problem[0]
    if not docker_running():
        log(INIT_LOG, "error", "pre-start: Docker daemon is not running; start docker.service first")
        return 1
    log(INIT_LOG, "info", "pre-start: configuration valid, docker running (LAB STAND-IN)")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else ""
    if command == "pre-start":
        return pre_start()
    if command == "start":
        try:
            return start()
        except KeyboardInterrupt:
            return 0
    if command in ("stop", "post-stop", "reload-cache"):
        return 0
    if command == "version":
        sys.stdout.write("ecs-init version %s (LAB STAND-IN, not AWS's amazon-ecs-init)\n" % VERSION)
        return 0
    sys.stderr.write("usage: amazon-ecs-init pre-start|start|stop|post-stop|version  (LAB STAND-IN)\n")
    return 2


def entry():
    """Entry point of the packaged program (a zipapp)."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
