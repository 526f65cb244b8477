# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test support: drive the lab (``lab()``) and see the running lab as a user of the collection does (``Lab``)."""

import base64
import contextlib
import json
import os
import shutil
import subprocess

import boto3
import pytest
import yaml

from labctl.common import STATE_DIR

LAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
# LAB_ANSIBLE_PLAYBOOK runs the lab's playbook tests with another ansible-core (the lowest meta/runtime.yml claims, in
# a venv of its own: README, "The fault suite").
ANSIBLE_PLAYBOOK = os.environ.get("LAB_ANSIBLE_PLAYBOOK") or os.path.join(REPO, ".venv", "bin", "ansible-playbook")
ONBOARD = os.path.join(REPO, "playbooks", "onboard.yml")


def lab(*args, timeout=600):
    return subprocess.run([LAB] + list(args), capture_output=True, text=True, timeout=timeout, check=False)


def report(request, line):
    """Show a timing in pytest's output even under -q and output capture."""
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("lab smoke: " + line)


def recap(output):
    """{host: {ok, changed, unreachable, failed, ...}} from ansible-playbook's play recap."""
    found = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] == ":" and parts[2].startswith("ok="):
            found[parts[0]] = {k: int(v) for k, v in (p.split("=") for p in parts[2:])}
    return found


def site_inventory(running_lab, prefix, cluster, name, host_vars=None):
    """The lab's inventory with ``cluster`` as the site's ecs_anywhere_cluster and per-host overrides, written next to
    the lab's as ``inventory-<prefix>-<name>.yml``; returns its path."""
    with open(running_lab.inventory_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["all"]["vars"]["ecs_anywhere_cluster"] = cluster
    hosts = data["all"]["children"]["ecs_anywhere_hosts"]["hosts"]
    for host, values in (host_vars or {}).items():
        hosts[host] = dict(hosts.get(host) or {}, **values)
    path = os.path.join(os.path.dirname(running_lab.inventory_path), "inventory-%s-%s.yml" % (prefix, name))
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)
    return path


def run_onboard(inventory_path, *options, playbook=ONBOARD):
    """ansible-playbook ``playbook`` (onboard.yml) on ``inventory_path``; returns (stdout + stderr, exit code)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", inventory_path, playbook] + list(options)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)
    return result.stdout + result.stderr, result.returncode


def local_id(running_lab, host):
    """The mi- id in the host's own SSM vault (read as root on the host)."""
    vault = running_lab.ssh(host, "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey")
    return json.loads(vault)["instanceID"]


def changed(output):
    """{host: changed count} from ansible-playbook's play recap."""
    return {host: counts["changed"] for host, counts in recap(output).items()}


class Lab:
    """The running lab as a user of the collection sees it: the inventory and SSH."""

    def __init__(self, inventory_path):
        self.inventory_path = inventory_path
        with open(inventory_path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        self.controller = data["all"]["vars"]
        group = data["all"]["children"]["ecs_anywhere_hosts"]
        self.group_vars = group["vars"]
        self.hosts = {name: dict(self.group_vars, **(values or {})) for name, values in group["hosts"].items()}
        self.releases = {
            name[len("debian_") :]: sorted(child["hosts"])
            for name, child in data["all"]["children"].items()
            if name.startswith("debian_")
        }
        with open(os.path.join(STATE_DIR, "state.json"), encoding="utf-8") as handle:
            self.state = json.load(handle)

    def ssh(self, host, script, check=True, timeout=300):
        hostvars = self.hosts[host]
        cmd = ["ssh", "-i", hostvars["ansible_ssh_private_key_file"], "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        cmd += hostvars["ansible_ssh_common_args"].split()
        # The script travels base64-encoded and runs with stdin from /dev/null, so nothing in it can
        # swallow the rest of it (apt, dpkg and the agent's prompt all read stdin).
        encoded = base64.b64encode(("set -eu\n" + script).encode()).decode()
        remote = 'f=$(mktemp); echo %s | base64 -d > "$f"; bash "$f" </dev/null; rc=$?; rm -f "$f"; exit $rc' % encoded
        cmd += ["root@" + hostvars["ansible_host"], remote]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(
                "on %s (rc %d):\n%s\n--- stdout\n%s\n--- stderr\n%s"
                % (host, proc.returncode, script, proc.stdout, proc.stderr)
            )
        return proc.stdout

    def aws(self, service):
        return boto3.client(
            service,
            endpoint_url=self.controller["aws_endpoint_url"],
            region_name=self.controller["aws_region"],
            aws_access_key_id=self.controller["aws_access_key_id"],
            aws_secret_access_key=self.controller["aws_secret_access_key"],
        )


#: Mark for tests that boot lab hosts.
needs_lab = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("systemd-nspawn") is None,
    reason="the lab needs root and systemd-nspawn (run `tests/lab/lab setup` as root)",
)


def two_hosts(inventory_name):
    """A fresh lab with one bookworm and one trixie host, torn down afterwards."""
    return lab_hosts(inventory_name)


# An SSM agent installed the way Ubuntu images ship it, as a snap: AWS's installer detects it by
# `systemctl is-enabled snap.amazon-ssm-agent.amazon-ssm-agent.service` and then uses the unit and
# /snap/amazon-ssm-agent/current/amazon-ssm-agent instead of installing the .deb
# (ecs-anywhere-install.sh, "Detected SSM agent installed via snap"). snapd names an app's unit
# snap.<snap>.<app>.service and writes it to /etc/systemd/system; the lab puts the stand-in agent's
# program where the snap's would be and a unit of that name that runs it (no snapd, no squashfs).
SNAP_LAYOUT = """\
cd "$(mktemp -d)"
http_proxy={proxy} python3 -c "import sys, urllib.request as u; u.urlretrieve(sys.argv[1], 'agent.deb')" {deb}
dpkg-deb -x agent.deb unpacked
mkdir -p /snap/amazon-ssm-agent/current /etc/amazon/ssm
install -m 0755 unpacked/usr/bin/amazon-ssm-agent /snap/amazon-ssm-agent/current/amazon-ssm-agent
cat > /etc/systemd/system/snap.amazon-ssm-agent.amazon-ssm-agent.service <<'UNIT'
[Unit]
Description=Service for snap application amazon-ssm-agent.amazon-ssm-agent (LAB STAND-IN layout)
After=network-online.target
[Service]
ExecStart=/snap/amazon-ssm-agent/current/amazon-ssm-agent
Restart=always
RestartSec=5
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now snap.amazon-ssm-agent.amazon-ssm-agent.service
"""


def snap_layout(running_lab, host):
    """Give a lab host the snap-installed SSM agent (the lab's stand-in program, in the snap's layout)."""
    values = running_lab.hosts[host]
    deb = "%s/%s" % (values["ecs_anywhere_artifact_base_url"], running_lab.state["mirror"]["ssm_deb_path"])
    running_lab.ssh(host, SNAP_LAYOUT.format(proxy=values["ecs_anywhere_proxy_url"], deb=deb))


@contextlib.contextmanager
def lab_hosts(inventory_name, count=2, releases="bookworm,trixie"):
    """A fresh lab with ``count`` hosts, torn down afterwards."""
    lab("down")
    up = lab("up", "--hosts", str(count), "--release", releases)
    assert up.returncode == 0, up.stderr + up.stdout
    inventory = os.path.join(STATE_DIR, inventory_name)
    written = lab("inventory", "-o", inventory)
    assert written.returncode == 0, written.stderr
    try:
        yield Lab(inventory)
    finally:
        lab("down")


def activation_play(role, registration_limit, *extra_tasks):
    """A play on the controller: instance role ``role`` and an activation, registered (no_log) as ``activation``
    for the host plays to read from ``hostvars['localhost']``."""
    return {
        "name": "Activation for the hosts",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {
            "group/ecs_anywhere.fleet.fleet": {
                "region": "{{ aws_region }}",
                "endpoint_url": "{{ aws_endpoint_url }}",
                "access_key": "{{ aws_access_key_id }}",
                "secret_key": "{{ aws_secret_access_key }}",
            }
        },
        "tasks": [
            {"name": "Instance role", "ecs_anywhere.fleet.instance_role": {"name": role, "clusters": ["onprem-lab"]}},
            {
                "name": "Activation",
                "ecs_anywhere.fleet.activation": {"iam_role": role, "registration_limit": registration_limit},
                "register": "activation",
                "no_log": True,
            },
        ]
        + list(extra_tasks),
    }


#: The ssm_agent role on the lab's hosts, registering with the activation of :func:`activation_play`.
SSM_AGENT_PLAY = {
    "name": "SSM agent on the hosts",
    "hosts": "ecs_anywhere_hosts",
    "become": True,
    "roles": [
        {
            "role": "ecs_anywhere.fleet.ssm_agent",
            "vars": {
                "ssm_agent_activation_id": "{{ hostvars['localhost']['activation']['activation_id'] | default('') }}",
                "ssm_agent_activation_code": "{{ hostvars['localhost']['activation']['activation_code'] | default('') }}",
            },
        }
    ],
}


#: The host roles' full paths (tasks/converge.yml): a role includes its own only when the host differs from what it
#: wants (or with ecs_anywhere_full_run); the fast no-op path includes none.
FULL_PATHS = ("docker/tasks/converge.yml", "ssm_agent/tasks/converge.yml", "ecs_agent/tasks/converge.yml")


def full_paths_walked(output):
    """{host: [roles whose full path ran for it]} from ansible-playbook's `included: <file> for <hosts>` lines."""
    walked = {}
    for line in output.splitlines():
        if line.startswith("included: ") and " for " in line:
            for name in FULL_PATHS:
                if name in line.split(" for ", 1)[0]:
                    for host in line.split(" for ", 1)[1].split(","):
                        walked.setdefault(host.strip(), []).append(name.split("/", 1)[0])
    return walked
