# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/onboard.yml end to end on two lab hosts (bookworm, trixie) behind the site proxy:
check mode changes nothing, the first run joins both hosts to the cluster (as the emulator sees it),
deletes its activation, never prints the activation code, and a second run changes nothing at all.
"""

import os
import subprocess

import pytest

from labctl.testing import needs_lab
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-onboard"

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab():
    with two_hosts("inventory-onboard.yml") as running:
        yield running


def onboard(running_lab, *options):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, PLAYBOOK, "-e", "ecs_anywhere_cluster=" + CLUSTER]
    result = subprocess.run(command + list(options), env=env, capture_output=True, text=True, check=False, timeout=1200)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def changed(output):
    """{host: changed count} from the play recap."""
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] == ":" and parts[2].startswith("ok="):
            counts[parts[0]] = int(dict(p.split("=") for p in parts[2:])["changed"])
    return counts


def test_onboard_check_then_join_then_nothing_to_do(running_lab):
    ecs, ssm = running_lab.aws("ecs"), running_lab.aws("ssm")

    checked = onboard(running_lab, "--check")
    assert all(count > 0 for count in changed(checked).values()), changed(checked)
    clusters = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == [], "check mode created the cluster"
    assert ssm.describe_activations()["ActivationList"] == [], "check mode created an activation"

    first = onboard(running_lab, "-v")
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    instances = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
    managed = {
        i["InstanceId"]: i["ComputerName"]
        for i in ssm.describe_instance_information()["InstanceInformationList"]
        if i["PingStatus"] == "Online"
    }
    joined = sorted(managed[i["ec2InstanceId"]] for i in instances if i["ec2InstanceId"] in managed)
    assert joined == sorted(running_lab.hosts)
    assert all(i["status"] == "ACTIVE" and i["agentConnected"] for i in instances)
    assert ssm.describe_activations()["ActivationList"] == [], "the run's activation was not deleted"
    for host, hostvars in running_lab.hosts.items():
        daemon = running_lab.ssh(host, "systemctl is-active docker; systemctl show docker -p Environment")
        assert daemon.startswith("active\n") and "HTTPS_PROXY=%s" % hostvars["ecs_anywhere_proxy_url"] in daemon
    # The tasks that hold the code are censored (test_role_ssm_agent.py greps a real code's absence).
    hidden = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
    for task in ("Activation for the hosts not registered yet", "ecs_anywhere.fleet.ssm_agent : Register the agent"):
        section = first.split("TASK [%s" % task, 1)[1].split("TASK [", 1)[0]
        assert hidden in section, section

    again = onboard(running_lab)
    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)
    assert len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) == 2
