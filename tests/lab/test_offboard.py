# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/offboard.yml on two lab hosts onboarded once with playbooks/onboard.yml, logged in as `ops` with sudo.

Without a --limit it refuses and changes nothing; check mode changes nothing; one host offboarded at -vvvv is gone
from SSM and ECS (as the emulator sees them), its agents, their files and the credentials the SSM agent shared are
gone (somebody else's profile stays), the other host is untouched and no secret is in the output; a re-run changes
nothing; the host can be onboarded again (a new mi- id); a host still running a task after the wait is refused,
left as it was, and offboarded with offboard_force (that host has the snap layout of the SSM agent, removed too); an
unreachable host is offboarded in AWS by the mi- id the inventory gives it, and on the host once it is back.
"""

import json
import os
import subprocess

import pytest
import yaml

from emulator.client import LabClient
from labctl.testing import changed
from labctl.testing import lab_hosts
from labctl.testing import needs_lab
from labctl.testing import snap_layout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
ONBOARD = os.path.join(REPO, "playbooks", "onboard.yml")
OFFBOARD = os.path.join(REPO, "playbooks", "offboard.yml")
CLUSTER = "onprem-offboard"
# ECS statuses a container instance can have before it is INACTIVE (deregistered).
LIVE_STATUSES = ("ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED")
# Somebody else's profile in root's shared credentials file: long-term keys, no session token. It must survive.
OTHER_PROFILE = "[ops-admin]\naws_access_key_id = AKIAOPSADMIN00000000\naws_secret_access_key = ops-admin-secret\n"
# What the agents and onboarding leave on a host, and offboarding removes.
AGENT_PATHS = (
    "/etc/ecs",
    "/var/lib/ecs",
    "/var/log/ecs",
    "/var/cache/ecs",
    "/etc/amazon",
    "/var/lib/amazon",
    "/var/log/amazon",
    "/etc/systemd/system/ecs.service.d",
    "/etc/systemd/system/amazon-ssm-agent.service.d",
    "/var/cache/ecs-anywhere",
    # The snap layout of the SSM agent (the second host has it): its unit, drop-ins and program.
    "/etc/systemd/system/snap.amazon-ssm-agent.amazon-ssm-agent.service",
    "/etc/systemd/system/snap.amazon-ssm-agent.amazon-ssm-agent.service.d",
    "/snap/amazon-ssm-agent",
)
UNITS = ("ecs.service", "amazon-ssm-agent.service", "snap.amazon-ssm-agent.amazon-ssm-agent.service")
# A host with nothing of the agents left (Docker stays).
CLEAN = [
    "package amazon-ssm-agent absent",
    "package amazon-ecs-init absent",
    "unit ecs.service not-found inactive",
    "unit amazon-ssm-agent.service not-found inactive",
    "unit snap.amazon-ssm-agent.amazon-ssm-agent.service not-found inactive",
    "docker active",
]
# The real ecs-init runs the agent as the container "ecs-agent" from the image amazon/amazon-ecs-agent:latest
# (aws/amazon-ecs-init ecs-init/docker/docker.go); the lab's stand-in runs no container, so the test makes both.
FAKE_AGENT_CONTAINER = """\
tar -cf - --files-from /dev/null | docker import - amazon/amazon-ecs-agent:latest >/dev/null
docker create --name ecs-agent amazon/amazon-ecs-agent:latest /agent >/dev/null
"""

pytestmark = needs_lab
#: host -> the mi- id it had before it was offboarded
OFFBOARDED = {}


def play(running_lab, playbook, *options, expect_rc=0, inventory=None):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    inventory = inventory or running_lab.inventory_path
    command = [ANSIBLE_PLAYBOOK, "-i", inventory, playbook, "-e", "ecs_anywhere_cluster=" + CLUSTER]
    result = subprocess.run(command + list(options), env=env, capture_output=True, text=True, check=False, timeout=1800)
    output = result.stdout + result.stderr
    assert result.returncode == expect_rc, output[-8000:]
    return output


def instance_id(running_lab, host):
    vault = running_lab.ssh(host, "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey")
    return json.loads(vault)["instanceID"]


def aws_view(running_lab, mi_id):
    """(SSM PingStatus or None, [ECS statuses other than INACTIVE]) of a managed instance, as the emulator has it."""
    ssm, ecs = running_lab.aws("ssm"), running_lab.aws("ecs")
    found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [mi_id]}])
    pings = [i["PingStatus"] for i in found["InstanceInformationList"]]
    statuses = []
    for status in LIVE_STATUSES:
        arns = ecs.list_container_instances(cluster=CLUSTER, status=status)["containerInstanceArns"]
        if arns:
            described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
            statuses += [i["status"] for i in described["containerInstances"] if i["ec2InstanceId"] == mi_id]
    return (pings[0] if pings else None), statuses


def host_state(running_lab, host):
    """What of the agents is on the host: packages, units, paths, credentials profiles, Docker objects."""
    script = """
for p in amazon-ssm-agent amazon-ecs-init; do
  echo "package $p $(dpkg-query -W -f='${db:Status-Status}' $p 2>/dev/null || echo absent)"
done
for u in %s; do
  echo "unit $u $(systemctl show -p LoadState --value $u) $(systemctl is-active $u || true)"
done
for f in %s; do if test -e "$f"; then echo "path $f"; fi; done
if test -f /root/.aws/credentials; then sed -n 's/^\\[\\(.*\\)\\]$/profile \\1/p' /root/.aws/credentials; fi
docker ps --all --format 'container {{.Names}}'
docker image ls --format 'image {{.Repository}}'
echo "docker $(systemctl is-active docker)"
""" % (" ".join(UNITS), " ".join(AGENT_PATHS))
    return running_lab.ssh(host, script).splitlines()


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-offboard.yml") as running:
        # The second host's SSM agent is the snap's (Ubuntu's layout), which offboarding removes too.
        snap_layout(running, sorted(running.hosts)[1])
        play(running, ONBOARD)
        yield running


@pytest.fixture(scope="module")
def hosts(running_lab):
    """(the host offboarded first, the other one)."""
    return tuple(sorted(running_lab.hosts))


def test_refuses_all_hosts_without_a_limit_and_check_mode_changes_nothing(running_lab, hosts):
    refused = play(running_lab, OFFBOARD, expect_rc=2)
    assert "name them with --limit HOST[,HOST...]" in refused and "Nothing was changed" in refused, refused[-3000:]

    # A given mi- id that is not the reachable host's own registration: one message naming it, nothing changed.
    other_id = instance_id(running_lab, hosts[1])
    wrong = play(
        running_lab,
        OFFBOARD,
        "--limit",
        hosts[1],
        "-e",
        "offboard_managed_instance_id=mi-00000000000000000",
        expect_rc=2,
    )
    assert (
        "offboard_managed_instance_id is mi-00000000000000000 but the host is registered as %s" % other_id in wrong
    ), wrong[-3000:]

    checked = play(running_lab, OFFBOARD, "--check", "--limit", hosts[0])
    assert changed(checked)[hosts[0]] > 0, changed(checked)
    for host in hosts:
        assert aws_view(running_lab, instance_id(running_lab, host)) == ("Online", ["ACTIVE"])
        state = host_state(running_lab, host)
        assert "unit ecs.service loaded active" in state and "path /var/lib/amazon" in state, state


def test_offboard_one_host(running_lab, hosts):
    gone, other = hosts
    gone_id, other_id = instance_id(running_lab, gone), instance_id(running_lab, other)
    OFFBOARDED[gone] = gone_id
    # Somebody else's credentials beside the agent's, and the agent's container and image as the real ecs-init leaves them.
    running_lab.ssh(gone, "printf '\\n%s' >> /root/.aws/credentials\n%s" % (OTHER_PROFILE, FAKE_AGENT_CONTAINER))
    agent_credentials = running_lab.ssh(gone, "cat /root/.aws/credentials")
    assert "[default]" in agent_credentials and "aws_session_token" in agent_credentials
    private_key = json.loads(running_lab.ssh(gone, "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey"))["privateKey"]
    other_before = host_state(running_lab, other)

    output = play(running_lab, OFFBOARD, "--limit", gone, "-vvvv")

    assert aws_view(running_lab, gone_id) == (None, [])
    state = host_state(running_lab, gone)
    assert state == CLEAN[:-1] + ["profile ops-admin", "docker active"], state
    assert running_lab.ssh(gone, "cat /root/.aws/credentials").strip() == OTHER_PROFILE.strip()

    assert aws_view(running_lab, other_id) == ("Online", ["ACTIVE"])
    assert host_state(running_lab, other) == other_before
    assert "unit ecs.service loaded active" in other_before and "path /var/lib/amazon" in other_before

    password = running_lab.state["proxy_credentials"].split(":", 1)[1]
    secrets = {"proxy password": password, "SSM private key": private_key}
    for line in agent_credentials.splitlines():
        if line.startswith(("aws_secret_access_key", "aws_session_token")):
            secrets["agent's " + line.split("=")[0].strip()] = line.split("=", 1)[1].strip()
    leaked = [what for what, value in secrets.items() if value in output]
    assert leaked == [], "secrets in the -vvvv output: %s" % leaked


def test_a_rerun_changes_nothing(running_lab, hosts):
    again = play(running_lab, OFFBOARD, "--limit", hosts[0])
    assert changed(again) == {hosts[0]: 0}, changed(again)


def test_an_offboarded_host_can_be_onboarded_again(running_lab, hosts):
    host = hosts[0]
    # The other host is registered and consumes nothing; this one gets a new registration.
    play(running_lab, ONBOARD)
    new_id = instance_id(running_lab, host)
    assert new_id != OFFBOARDED[host]
    assert aws_view(running_lab, new_id) == ("Online", ["ACTIVE"])


def test_a_host_still_running_tasks_is_refused_then_forced(running_lab, hosts):
    busy = hosts[1]
    busy_id = instance_id(running_lab, busy)
    emulator = LabClient(running_lab.controller["aws_endpoint_url"])
    emulator.set_container_instances(
        [busy_id], cluster=CLUSTER, running_tasks_count=1, region=running_lab.controller["aws_region"]
    )

    refused = play(running_lab, OFFBOARD, "--limit", busy, "-e", "offboard_drain_timeout=5", expect_rc=2)
    assert "%s (%s) still runs 1 task(s) after waiting 5s" % (busy, busy_id) in refused, refused[-4000:]
    assert "offboard_force=true" in refused
    assert aws_view(running_lab, busy_id) == ("Online", ["DRAINING"])
    assert "unit ecs.service loaded active" in host_state(running_lab, busy)

    play(running_lab, OFFBOARD, "--limit", busy, "-e", "offboard_drain_timeout=5", "-e", "offboard_force=true")
    assert aws_view(running_lab, busy_id) == (None, [])
    assert host_state(running_lab, busy) == CLEAN


def test_an_unreachable_host_is_offboarded_in_aws_by_its_id_and_on_the_host_when_back(running_lab, hosts, tmp_path):
    host = hosts[0]
    mi_id = instance_id(running_lab, host)
    # The same site with the host out of reach, and its mi- id in the inventory.
    inventory = yaml.safe_load(open(running_lab.inventory_path, encoding="utf-8"))
    entry = inventory["all"]["children"]["ecs_anywhere_hosts"]["hosts"]
    entry[host] = dict(entry[host] or {}, ansible_host="192.0.2.1", offboard_managed_instance_id=mi_id)
    unreachable = tmp_path / "unreachable.yml"
    unreachable.write_text(yaml.safe_dump(inventory), encoding="utf-8")

    output = play(running_lab, OFFBOARD, "--limit", host, "-e", "ansible_ssh_timeout=5", inventory=str(unreachable))
    assert "%s was unreachable: %s is deregistered from ECS and SSM" % (host, mi_id) in output, output[-4000:]
    assert aws_view(running_lab, mi_id) == (None, [])
    assert "unit ecs.service loaded active" in host_state(running_lab, host)

    back = play(running_lab, OFFBOARD, "--limit", host)
    assert changed(back)[host] > 0
    # Somebody else's profile, added before the first offboarding, is still there.
    assert host_state(running_lab, host) == CLEAN[:-1] + ["profile ops-admin", "docker active"]
