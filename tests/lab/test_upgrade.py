# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/upgrade.yml on two lab hosts, logged in as `ops` with sudo: onboarded once with the older stand-in
agents (pinned in the inventory), then rolled to the latest ones one host at a time. While it runs, a thread samples
the emulator: at every moment at least one host is ACTIVE, and each host is drained in turn. Check mode says who would
go from which version to which and changes nothing; a re-run changes nothing. Then a pinned version that is not
published fails before anything is drained, naming the host and the URL; and a correctly signed but broken release
stops the roll-out at the first host, left DRAINING and named, the second host untouched (old version, ACTIVE).
"""

import os
import subprocess
import threading
import time

import pytest
import yaml

from labctl import packages
from labctl.testing import Lab
from labctl.testing import changed
from labctl.testing import needs_lab
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
CLUSTER = "onprem-upgrade"
OLD_SSM, NEW_SSM = packages.SSM_OLDER_VERSION, packages.SSM_VERSION
OLD_ECS, NEW_ECS = packages.ECS_OLDER_VERSION, packages.ECS_VERSION

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab():
    with two_hosts("inventory-upgrade.yml") as running:
        # The site pins the older agents in its inventory, as it would have when it onboarded.
        with open(running.inventory_path, encoding="utf-8") as handle:
            inventory = yaml.safe_load(handle)
        inventory["all"]["vars"]["ecs_anywhere_cluster"] = CLUSTER
        inventory["all"]["children"]["ecs_anywhere_hosts"]["vars"].update(
            {"ssm_agent_version": OLD_SSM, "ecs_agent_version": OLD_ECS + "-1"}
        )
        with open(running.inventory_path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(inventory, handle)
        pinned = Lab(running.inventory_path)
        playbook(pinned, "onboard.yml")
        yield pinned


def playbook(running_lab, name, *options, check=True):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, os.path.join(REPO, "playbooks", name)]
    result = subprocess.run(command + list(options), env=env, capture_output=True, text=True, check=False, timeout=1800)
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, output[-8000:]
    return result.returncode, output


def upgrade(running_lab, *options, check=True):
    return playbook(running_lab, "upgrade.yml", "-e", "upgrade_serial=1", *options, check=check)


def aws_view(running_lab):
    """{host: (ECS status, agent connected, ECS agent version, SSM ping, SSM agent version)} as AWS reports them."""
    ecs, ssm = running_lab.aws("ecs"), running_lab.aws("ssm")
    names = {i["InstanceId"]: i for i in ssm.describe_instance_information()["InstanceInformationList"]}
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    view = {}
    for instance in ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]:
        managed = names[instance["ec2InstanceId"]]
        view[managed["ComputerName"]] = (
            instance["status"],
            instance["agentConnected"],
            instance["versionInfo"]["agentVersion"],
            managed["PingStatus"],
            managed["AgentVersion"],
        )
    return view


def installed(running_lab, host):
    out = running_lab.ssh(
        host, "dpkg-query --show --showformat='${Package}=${Version} ' amazon-ssm-agent amazon-ecs-init"
    )
    return dict(item.split("=") for item in out.split())


class Sampler(threading.Thread):
    """Polls the container instances' status in the emulator while a playbook runs."""

    def __init__(self, running_lab):
        super().__init__(daemon=True)
        self.ecs = running_lab.aws("ecs")
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            arns = self.ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
            described = self.ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)
            self.samples.append({i["ec2InstanceId"]: i["status"] for i in described["containerInstances"]})
            time.sleep(0.3)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.join(timeout=30)


def test_rolling_upgrade_keeps_one_host_active(running_lab):
    hosts = list(running_lab.hosts)
    old = {host: ("ACTIVE", True, OLD_ECS, "Online", OLD_SSM) for host in hosts}
    assert aws_view(running_lab) == old
    for host in hosts:
        assert installed(running_lab, host) == {"amazon-ssm-agent": OLD_SSM + "-1", "amazon-ecs-init": OLD_ECS + "-1"}
    latest = ("-e", "ssm_agent_version=latest", "-e", "ecs_agent_version=latest")

    _rc, checked = upgrade(running_lab, "--check", *latest)
    for host in hosts:
        assert (
            "%s would be drained, upgraded (amazon-ssm-agent %s-1 -> %s-1, amazon-ecs-init %s-1 -> %s-1)"
            % (host, OLD_SSM, NEW_SSM, OLD_ECS, NEW_ECS)
        ) in checked, checked[-6000:]
    assert aws_view(running_lab) == old, "check mode changed AWS's view"
    assert installed(running_lab, hosts[0])["amazon-ecs-init"] == OLD_ECS + "-1", "check mode installed a package"

    with Sampler(running_lab) as sampler:
        _rc, output = upgrade(running_lab, *latest)
    samples = sampler.samples
    assert len(samples) > 20, samples
    assert all(list(sample.values()).count("ACTIVE") >= 1 for sample in samples), [
        s for s in samples if "ACTIVE" not in s.values()
    ]
    drained = {mi for sample in samples for mi, status in sample.items() if status == "DRAINING"}
    assert len(drained) == 2, "each host is drained in turn: %s" % samples
    assert not any(list(sample.values()).count("DRAINING") == 2 for sample in samples), "both drained at once"

    new = {host: ("ACTIVE", True, NEW_ECS, "Online", NEW_SSM) for host in hosts}
    assert aws_view(running_lab) == new
    for host in hosts:
        assert installed(running_lab, host) == {"amazon-ssm-agent": NEW_SSM + "-1", "amazon-ecs-init": NEW_ECS + "-1"}
        assert (
            running_lab.ssh(host, "test -e /var/lib/ecs/ecs-anywhere-upgrade-drained && echo left || echo gone").strip()
            == "gone"
        )

    with Sampler(running_lab) as sampler:
        _rc, again = upgrade(running_lab, *latest)
    assert changed(again) == {host: 0 for host in hosts} | {"localhost": 0}, again[-3000:]
    assert all(set(sample.values()) == {"ACTIVE"} for sample in sampler.samples), "a re-run drained a host"
    assert aws_view(running_lab) == new


def test_unpublished_version_and_broken_release_stop_the_rollout(running_lab):
    first, second = list(running_lab.hosts)
    before = aws_view(running_lab)
    assert {view[0] for view in before.values()} == {"ACTIVE"}
    versions = {host: installed(running_lab, host) for host in running_lab.hosts}

    # A pinned version the mirror does not have: the first host fails before it is drained, naming the URL.
    rc, output = upgrade(running_lab, "-e", "ecs_agent_version=9.9.9-1", check=False)
    assert rc != 0
    assert "%s: amazon-ecs-init 9.9.9-1 could not be installed from http://" % first in output, output[-4000:]
    assert "amazon-ecs-init-9.9.9-1.amd64.deb" in output
    assert aws_view(running_lab) == before

    # A correctly signed release whose agent fails at start, as a bad release would.
    broken = packages.publish_release(running_lab.state, "ecs", "1.90.0", broken="service")
    rc, output = upgrade(running_lab, "-e", "ecs_agent_version=" + broken, "-e", "upgrade_wait_timeout=20", check=False)
    assert rc != 0
    assert "The roll-out stops here: %s is left DRAINING in cluster %s" % (first, CLUSTER) in output, output[-4000:]
    assert "ECS agent %s, wanted 1.90.0" % before[first][2] in output, output[-4000:]
    after = aws_view(running_lab)
    assert after[first][0] == "DRAINING"
    assert after[second] == before[second], "the host after the failed one was touched"
    assert installed(running_lab, second) == versions[second]
    assert installed(running_lab, first)["amazon-ecs-init"] == broken
