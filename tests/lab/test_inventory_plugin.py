# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ecs_anywhere.fleet.fleet inventory on two lab hosts onboarded once with playbooks/onboard.yml: it lists them
by host name with the groups and variables the emulator and the hosts say; combined with the lab's SSH inventory
(``-i lab.fleet.yml -i inventory.yml``) it targets "the ConnectionLost hosts of the cluster" over SSH as ``ops``,
and a play on that group (become) starts their stopped SSM agent again until SSM sees them Online."""

import json
import os
import subprocess
import time

import pytest
import yaml
from emulator.client import LabClient

from labctl.testing import lab_hosts
from labctl.testing import needs_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(REPO, ".venv", "bin")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-fleet-inventory"
CLUSTER_GROUP = "cluster_onprem_fleet_inventory"
LOST = CLUSTER_GROUP + ":&ping_ConnectionLost"

pytestmark = needs_lab


def run(command, env=None, timeout=1800):
    env = dict(env or os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    assert result.returncode == 0, " ".join(command) + "\n" + result.stdout[-6000:] + result.stderr[-3000:]
    return result


def plain(value):
    """ansible-inventory (ansible-core 2.19) marks strings from a plugin as {"__ansible_unsafe": ...}."""
    return value["__ansible_unsafe"] if list(value) == ["__ansible_unsafe"] else value


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-fleet-plugin.yml", count=2) as running:
        started = time.monotonic()
        run(
            [
                os.path.join(BIN, "ansible-playbook"),
                "-i",
                running.inventory_path,
                PLAYBOOK,
                "-e",
                "ecs_anywhere_cluster=" + CLUSTER,
            ]
        )
        print("onboard.yml on 2 hosts: %.0fs" % (time.monotonic() - started))
        yield running


@pytest.fixture(scope="module")
def fleet(running_lab, tmp_path_factory):
    """The fleet inventory file as a site writes it (credentials and endpoint from the environment) and that
    environment."""
    path = tmp_path_factory.mktemp("fleet") / "lab.fleet.yml"
    path.write_text(
        yaml.safe_dump(
            dict(plugin="ecs_anywhere.fleet.fleet", regions=[running_lab.controller["aws_region"]], clusters=[CLUSTER])
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=running_lab.controller["aws_endpoint_url"],
        AWS_ACCESS_KEY_ID=running_lab.controller["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=running_lab.controller["aws_secret_access_key"],
        ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
    )
    return str(path), env


def listing(fleet, tmp_path):
    source, env = fleet
    output = tmp_path / "listing.json"
    run([os.path.join(BIN, "ansible-inventory"), "-i", source, "--list", "--output", str(output)], env=env)
    return json.loads(output.read_text(), object_hook=plain)


def members(listed, group):
    return sorted(listed.get(group, {}).get("hosts", []))


def recap(output):
    """{host: {ok, changed, unreachable, failed}} from ansible-playbook's PLAY RECAP."""
    counts = {}
    for line in output.split("PLAY RECAP")[-1].splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] == ":":
            values = dict(p.split("=") for p in parts[2:])
            counts[parts[0]] = {k: int(values[k]) for k in ("ok", "changed", "unreachable", "failed")}
    return counts


def registered_id(running_lab, host):
    return json.loads(running_lab.ssh(host, "cat /var/lib/amazon/ssm/registration"))["ManagedInstanceID"]


def test_lists_the_lab_hosts_by_name_with_groups_and_variables(running_lab, fleet, tmp_path):
    listed = listing(fleet, tmp_path)
    hosts = sorted(running_lab.hosts)
    ecs = running_lab.aws("ecs")
    described = {
        c["ec2InstanceId"]: c
        for c in ecs.describe_container_instances(
            cluster=CLUSTER, containerInstances=ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
        )["containerInstances"]
    }
    infos = {
        i["InstanceId"]: i
        for i in running_lab.aws("ssm").describe_instance_information(
            Filters=[dict(Key="InstanceIds", Values=list(described))]
        )["InstanceInformationList"]
    }

    assert sorted(listed["_meta"]["hostvars"]) == hosts
    for group in (CLUSTER_GROUP, "ping_Online", "ecs_status_ACTIVE", "registered_in_both", "ecs_anywhere_fleet"):
        assert members(listed, group) == hosts, group
    for host in hosts:
        values = listed["_meta"]["hostvars"][host]
        instance_id = registered_id(running_lab, host)
        assert values["managed_instance_id"] == instance_id and values["computer_name"] == host
        assert values["container_instance_arn"] == described[instance_id]["containerInstanceArn"]
        assert values["agent_connected"] is True and values["cluster"] == CLUSTER
        ssm_group = "ssm_agent_" + infos[instance_id]["AgentVersion"].replace(".", "_")
        ecs_group = "ecs_agent_" + described[instance_id]["versionInfo"]["agentVersion"].replace(".", "_")
        assert host in members(listed, ssm_group) and host in members(listed, ecs_group)


def test_connection_lost_hosts_of_the_cluster_targeted_over_ssh_and_healed(running_lab, fleet, tmp_path):
    source, env = fleet
    lost_host, other_host = sorted(running_lab.hosts)
    lost_id = registered_id(running_lab, lost_host)
    # The agent dies (no more heartbeats) and SSM notices: its last ping is an hour old.
    running_lab.ssh(lost_host, "systemctl stop amazon-ssm-agent")
    lab = LabClient(running_lab.controller["aws_endpoint_url"])
    assert lab.set_ping([lost_id], seconds_ago=3600, region=running_lab.controller["aws_region"]) == {
        lost_id: "ConnectionLost"
    }
    listed = listing(fleet, tmp_path)
    assert members(listed, "ping_ConnectionLost") == [lost_host]

    # The fleet selects, the lab's SSH inventory connects (as ops): host variables of both, one host.
    both = ["-i", source, "-i", running_lab.inventory_path]
    whoami = run(
        [os.path.join(BIN, "ansible")] + both + [LOST, "-m", "ansible.builtin.command", "-a", "id -un"], env=env
    )
    assert "%s | CHANGED | rc=0 >>\nops" % lost_host in whoami.stdout, whoami.stdout
    assert other_host not in whoami.stdout

    heal = tmp_path / "heal.yml"
    heal.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Restart the SSM agent of the hosts SSM lost",
                    "hosts": LOST,
                    "become": True,
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Restart amazon-ssm-agent",
                            "ansible.builtin.systemd_service": {"name": "amazon-ssm-agent", "state": "restarted"},
                        }
                    ],
                }
            ]
        )
    )
    played = run([os.path.join(BIN, "ansible-playbook")] + both + [str(heal)], env=env)
    assert recap(played.stdout) == {lost_host: dict(ok=1, changed=1, unreachable=0, failed=0)}, played.stdout

    ssm = running_lab.aws("ssm")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = ssm.describe_instance_information(Filters=[dict(Key="InstanceIds", Values=[lost_id])])[
            "InstanceInformationList"
        ][0]["PingStatus"]
        if status == "Online":
            break
        time.sleep(3)
    assert status == "Online"
    assert members(listing(fleet, tmp_path), "ping_Online") == sorted(running_lab.hosts)
