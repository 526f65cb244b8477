# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet that lives on (issue 10): two lab hosts onboarded once with playbooks/onboard.yml, as the ordinary user
`ops` with sudo; then, in order (each test starts from the state the previous one left):

- the ecs_anywhere.fleet.fleet inventory lists them by host name with the groups and variables the emulator and the
  hosts say; combined with the lab's SSH inventory (``-i lab.fleet.yml -i inventory.yml``) it targets "the
  ConnectionLost hosts of the cluster" over SSH as ``ops``, and a play on that group (become) starts their stopped SSM
  agent again until SSM sees them Online;
- a host whose managed instance was deregistered in SSM is re-registered with a new mi- id and a new container
  instance, the old container instance is gone, the other host keeps its id and uses up no registration;
- a host whose ecs_anywhere_cluster changed in the inventory moves: ACTIVE in the new cluster, nothing left in the old,
  the other host untouched, a re-run changes nothing;
- a host that cannot be reached drops out alone: the other is registered again, the activation is deleted, the summary
  names the unreachable host;
- a host that fails mid-run fails alone: the other finishes, no activation is left, the summary names the failed host.

The inventory plugin's tests share this module's lab (they leave the fleet as they found it): onboarding a fresh lab
is the costliest step of a lab test module, and make test runs on two cores.
Everything is read back from the emulator (boto3) and the hosts (SSH), never from the playbook's own variables.
"""

import json
import os
import subprocess
import time

import pytest
import yaml
from emulator.client import LabClient

from labctl.testing import changed
from labctl.testing import local_id
from labctl.testing import needs_lab
from labctl.testing import recap
from labctl.testing import report
from labctl.testing import run_onboard
from labctl.testing import site_inventory
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(REPO, ".venv", "bin")
SITE_CLUSTER = "onprem-life"
MOVED_CLUSTER = "onprem-life-b"
# The fleet inventory's group of the site's cluster, and of its hosts SSM lost.
CLUSTER_GROUP = "cluster_onprem_life"
LOST = CLUSTER_GROUP + ":&ping_ConnectionLost"

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab(request):
    started = time.monotonic()
    with two_hosts("inventory-lifecycle.yml") as running:
        running.first, running.second = sorted(running.hosts)
        output, code = onboard(running, inventory(running, "site"))
        assert code == 0, output[-6000:]
        yield running
    report(request, "onboard lifecycle module took %.0f s" % (time.monotonic() - started))


def inventory(running_lab, name, host_vars=None):
    """The lab's inventory with the site's cluster as a group variable and per-host overrides."""
    return site_inventory(running_lab, "lifecycle", SITE_CLUSTER, name, host_vars)


def onboard(_running_lab, inventory_path, *options):
    return run_onboard(inventory_path, *options)


def managed(running_lab):
    """{mi- id: computer name} of the managed instances SSM knows."""
    ssm = running_lab.aws("ssm")
    return {i["InstanceId"]: i["ComputerName"] for i in ssm.describe_instance_information()["InstanceInformationList"]}


def container_instances(running_lab, cluster):
    """Container instances of ``cluster`` in any status but INACTIVE (what ListContainerInstances returns)."""
    ecs = running_lab.aws("ecs")
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    if not arns:
        return []
    return ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]


def emulator_calls(running_lab, operation):
    """Successful calls of ``operation`` in the emulator's call log (the agents' calls included)."""
    calls = LabClient(running_lab.controller["aws_endpoint_url"]).calls(operation=operation)
    return [c for c in calls if c.get("status") == 200]


def forget_calls(running_lab):
    LabClient(running_lab.controller["aws_endpoint_url"]).clear_calls()


def no_live_activation(running_lab):
    return running_lab.aws("ssm").describe_activations()["ActivationList"] == []


def run(command, env=None, timeout=1800):
    env = dict(env or os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    assert result.returncode == 0, " ".join(command) + "\n" + result.stdout[-6000:] + result.stderr[-3000:]
    return result


def plain(value):
    """ansible-inventory (ansible-core 2.19) marks strings from a plugin as {"__ansible_unsafe": ...}."""
    return value["__ansible_unsafe"] if list(value) == ["__ansible_unsafe"] else value


@pytest.fixture(scope="module")
def fleet(running_lab, tmp_path_factory):
    """The fleet inventory file as a site writes it (credentials and endpoint from the environment) and that
    environment."""
    path = tmp_path_factory.mktemp("fleet") / "lab.fleet.yml"
    path.write_text(
        yaml.safe_dump(
            dict(
                plugin="ecs_anywhere.fleet.fleet",
                regions=[running_lab.controller["aws_region"]],
                clusters=[SITE_CLUSTER],
            )
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


def test_the_fleet_inventory_lists_the_hosts_by_name_with_groups_and_variables(running_lab, fleet, tmp_path):
    listed = listing(fleet, tmp_path)
    hosts = sorted(running_lab.hosts)
    described = {i["ec2InstanceId"]: i for i in container_instances(running_lab, SITE_CLUSTER)}
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
        instance_id = local_id(running_lab, host)
        assert values["managed_instance_id"] == instance_id and values["computer_name"] == host
        assert values["container_instance_arn"] == described[instance_id]["containerInstanceArn"]
        assert values["agent_connected"] is True and values["cluster"] == SITE_CLUSTER
        ssm_group = "ssm_agent_" + infos[instance_id]["AgentVersion"].replace(".", "_")
        ecs_group = "ecs_agent_" + described[instance_id]["versionInfo"]["agentVersion"].replace(".", "_")
        assert host in members(listed, ssm_group) and host in members(listed, ecs_group)


def test_connection_lost_hosts_of_the_cluster_targeted_over_ssh_and_healed(running_lab, fleet, tmp_path):
    source, env = fleet
    lost_host, other_host = running_lab.first, running_lab.second
    lost_id = local_id(running_lab, lost_host)
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
    counts = {
        host: [c[k] for k in ("ok", "changed", "unreachable", "failed")] for host, c in recap(played.stdout).items()
    }
    assert counts == {lost_host: [1, 1, 0, 0]}, played.stdout

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


def test_a_host_deregistered_in_ssm_is_registered_again_the_other_left_alone(running_lab):
    first, second = running_lab.first, running_lab.second
    old_id, kept_id = local_id(running_lab, first), local_id(running_lab, second)
    old_arn = next(i for i in container_instances(running_lab, SITE_CLUSTER) if i["ec2InstanceId"] == old_id)
    other_arn = next(i for i in container_instances(running_lab, SITE_CLUSTER) if i["ec2InstanceId"] == kept_id)
    running_lab.aws("ssm").deregister_managed_instance(InstanceId=old_id)
    forget_calls(running_lab)

    output, code = onboard(running_lab, inventory(running_lab, "site"))

    assert code == 0, output[-6000:]
    assert "%s: %s is no longer an SSM managed instance" % (first, old_id) in output
    new_id = local_id(running_lab, first)
    assert new_id != old_id and managed(running_lab).get(new_id) == first
    # The other host keeps its identity and consumed nothing: one activation, one registration (the first host's).
    assert local_id(running_lab, second) == kept_id and managed(running_lab).get(kept_id) == second
    assert len(emulator_calls(running_lab, "CreateActivation")) == 1
    assert len(emulator_calls(running_lab, "RegisterManagedInstance")) == 1
    # The old identity was cleared as the agent does it: an empty fingerprint was written, then a new one made.
    fingerprint = json.loads(running_lab.ssh(first, "cat /var/lib/amazon/ssm/Vault/Store/InstanceFingerprint"))
    assert fingerprint["fingerprint"]
    # ECS: a new container instance for the new id, ACTIVE and connected; the old one deregistered; the other's kept.
    instances = {i["ec2InstanceId"]: i for i in container_instances(running_lab, SITE_CLUSTER)}
    assert sorted(instances) == sorted([new_id, kept_id])
    assert instances[new_id]["status"] == "ACTIVE" and instances[new_id]["agentConnected"]
    assert instances[new_id]["containerInstanceArn"] != old_arn["containerInstanceArn"]
    assert instances[kept_id]["containerInstanceArn"] == other_arn["containerInstanceArn"]
    described = running_lab.aws("ecs").describe_container_instances(
        cluster=SITE_CLUSTER, containerInstances=[old_arn["containerInstanceArn"]]
    )["containerInstances"]
    assert [i["status"] for i in described] == ["INACTIVE"]
    # The host's own checkpoint names the new container instance.
    checkpoint = json.loads(running_lab.ssh(first, "cat /var/lib/ecs/data/agent.db"))
    assert checkpoint["ContainerInstanceArn"] == instances[new_id]["containerInstanceArn"]
    assert no_live_activation(running_lab)


def test_a_cluster_move_of_one_host(running_lab):
    first, second = running_lab.first, running_lab.second
    moved = inventory(running_lab, "moved", {first: {"ecs_anywhere_cluster": MOVED_CLUSTER}})
    first_id, second_id = local_id(running_lab, first), local_id(running_lab, second)
    second_before = next(i for i in container_instances(running_lab, SITE_CLUSTER) if i["ec2InstanceId"] == second_id)

    output, code = onboard(running_lab, moved)

    assert code == 0, output[-6000:]
    assert "%s: moving from cluster %s to %s" % (first, SITE_CLUSTER, MOVED_CLUSTER) in output
    # ACTIVE in the new cluster with the same managed instance; nothing of it left in the old one, in any status but
    # INACTIVE (DRAINING included).
    new = container_instances(running_lab, MOVED_CLUSTER)
    assert [(i["ec2InstanceId"], i["status"], i["agentConnected"]) for i in new] == [(first_id, "ACTIVE", True)]
    old = container_instances(running_lab, SITE_CLUSTER)
    assert [i["ec2InstanceId"] for i in old] == [second_id]
    assert managed(running_lab).get(first_id) == first and local_id(running_lab, first) == first_id
    assert running_lab.ssh(first, "grep ^ECS_CLUSTER= /etc/ecs/ecs.config").strip() == "ECS_CLUSTER=" + MOVED_CLUSTER
    # The other host untouched: same container instance, still ACTIVE, same registration time.
    (second_after,) = old
    assert second_after["containerInstanceArn"] == second_before["containerInstanceArn"]
    assert second_after["status"] == "ACTIVE" and second_after["registeredAt"] == second_before["registeredAt"]
    assert changed(output)[second] == 0
    # The instance role may act in both clusters (the one hosts join, the one a host left).
    policies = running_lab.aws("iam").list_role_policies(RoleName="ECSAnywhereRole")["PolicyNames"]
    documents = [
        json.dumps(
            running_lab.aws("iam").get_role_policy(RoleName="ECSAnywhereRole", PolicyName=name)["PolicyDocument"]
        )
        for name in policies
    ]
    attached = running_lab.aws("iam").list_attached_role_policies(RoleName="ECSAnywhereRole")["AttachedPolicies"]
    for policy in attached:
        version = running_lab.aws("iam").get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
        documents.append(
            json.dumps(
                running_lab.aws("iam").get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)[
                    "PolicyVersion"
                ]["Document"]
            )
        )
    assert any('cluster/%s"' % MOVED_CLUSTER in d and 'cluster/%s"' % SITE_CLUSTER in d for d in documents), documents
    assert no_live_activation(running_lab)

    again, code = onboard(running_lab, moved)
    assert code == 0, again[-6000:]
    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)

    # --limit (issue 12): without localhost the hosts stop before anything changes, saying why; with it, the run
    # works for the hosts of the limit and the hostvars of those outside it are not needed.
    limited, code = onboard(running_lab, moved, "--limit", second)
    assert code != 0 and "with --limit, include localhost" in limited, limited[-4000:]
    assert changed(limited) == {second: 0}, changed(limited)
    limited, code = onboard(running_lab, moved, "--limit", "%s,localhost" % second)
    assert code == 0, limited[-6000:]
    assert changed(limited) == {second: 0, "localhost": 0}, changed(limited)
    assert "Finished: %s." % second in limited


def test_an_unreachable_host_drops_out_alone_and_the_activation_is_deleted(running_lab):
    """The second host cannot be reached (its inventory names a port nothing listens on, on its own address) while
    the first needs a new activation: the first is registered again, the activation is deleted, the summary names
    the unreachable host."""
    first, second = running_lab.first, running_lab.second
    first_id = local_id(running_lab, first)
    running_lab.aws("ssm").deregister_managed_instance(InstanceId=first_id)
    unreachable = inventory(
        running_lab, "unreachable", {first: {"ecs_anywhere_cluster": MOVED_CLUSTER}, second: {"ansible_port": 9}}
    )
    forget_calls(running_lab)

    output, code = onboard(running_lab, unreachable)

    assert code != 0, output[-6000:]
    counts = recap(output)
    assert counts[second]["unreachable"] == 1 and counts[first]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % second in output, output[-4000:]
    assert "Finished: %s." % first in output
    new_id = local_id(running_lab, first)
    assert new_id != first_id and managed(running_lab).get(new_id) == first
    assert [(i["ec2InstanceId"], i["status"]) for i in container_instances(running_lab, MOVED_CLUSTER)] == [
        (new_id, "ACTIVE")
    ]
    assert len(emulator_calls(running_lab, "CreateActivation")) == 1
    assert len(emulator_calls(running_lab, "DeleteActivation")) == 1
    assert no_live_activation(running_lab)


def test_a_host_that_fails_mid_run_fails_alone_and_the_activation_is_deleted(running_lab, tmp_path):
    """Last in this module: it leaves the second host half-onboarded."""
    first, second = running_lab.first, running_lab.second
    # The second host needs an activation (deregistered in SSM) and then fails in the ECS agent's role, after its
    # SSM agent has registered again: an ECS_CLUSTER in ecs_agent_extra_config is refused there.
    second_id = local_id(running_lab, second)
    running_lab.aws("ssm").deregister_managed_instance(InstanceId=second_id)
    failing = inventory(
        running_lab,
        "failing",
        {
            first: {"ecs_anywhere_cluster": MOVED_CLUSTER},
            second: {"ecs_agent_extra_config": {"ECS_CLUSTER": "not-this-way"}},
        },
    )
    forget_calls(running_lab)

    output, code = onboard(running_lab, failing)

    assert code != 0, output[-6000:]
    counts = recap(output)
    assert counts[first]["failed"] == 0 and counts[first]["unreachable"] == 0, counts
    assert counts[second]["failed"] == 1, counts
    assert "Did not finish: %s (failed or unreachable" % second in output
    assert "Finished: %s." % first in output
    # The activation was minted for the second host and deleted although it failed.
    assert len(emulator_calls(running_lab, "CreateActivation")) == 1
    assert len(emulator_calls(running_lab, "DeleteActivation")) == 1
    assert no_live_activation(running_lab)
    # The first host is as it was: ACTIVE in its cluster.
    first_id = local_id(running_lab, first)
    assert [(i["ec2InstanceId"], i["status"]) for i in container_instances(running_lab, MOVED_CLUSTER)] == [
        (first_id, "ACTIVE")
    ]
