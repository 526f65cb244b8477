# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast no-op path of the host roles (issue 12), on two lab hosts onboarded once with playbooks/onboard.yml, as the
ordinary user `ops` with sudo behind the site proxy:

- a re-run over the converged hosts changes nothing and walks none of the roles' full paths (their converge.yml);
- one thing per role drifts on the hosts -- Docker's proxy file edited, the SSM agent stopped, the ECS agent's
  configuration made world-readable, a proxy file of the SSM agent written after the agent started (a restart an
  earlier run lost), the ECS agent's package at another version than the inventory pins --: check mode names each
  and changes nothing on the hosts; the next run repairs each (read back on the hosts), and a run after it with
  ecs_anywhere_full_run walks every task and changes nothing.

Time is never asserted here (tests/bench/noop_ratio.py measures it); what the fast path skipped is read from the
output (which task files ran), what it repaired from the hosts.
"""

import os
import subprocess
import time

import pytest
import yaml

from labctl.testing import changed
from labctl.testing import needs_lab
from labctl.testing import report
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-fast"
OLD_ECS = "1.88.0-1"  # labctl.packages.ECS_OLDER_VERSION, published on the lab's mirror
FULL_PATHS = ("docker/tasks/converge.yml", "ssm_agent/tasks/converge.yml", "ecs_agent/tasks/converge.yml")
SSM_DROP_IN = "/etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env"
DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/http-proxy.env"

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab(request):
    started = time.monotonic()
    with two_hosts("inventory-fast-noop.yml") as running:
        running.first, running.second = sorted(running.hosts)
        running.site = inventory(running, "site")
        onboard(running, running.site)
        yield running
    report(request, "fast no-op module took %.0f s" % (time.monotonic() - started))


def inventory(running_lab, name, host_vars=None):
    """The lab's inventory with the site's cluster and per-host overrides."""
    with open(running_lab.inventory_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["all"]["vars"]["ecs_anywhere_cluster"] = CLUSTER
    hosts = data["all"]["children"]["ecs_anywhere_hosts"]["hosts"]
    for host, values in (host_vars or {}).items():
        hosts[host] = dict(hosts.get(host) or {}, **values)
    path = os.path.join(os.path.dirname(running_lab.inventory_path), "inventory-fast-noop-%s.yml" % name)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)
    return path


def onboard(running_lab, inventory_path, *options):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", inventory_path, PLAYBOOK] + list(options)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def full_paths_walked(output):
    """{host: [role task files of the full path included for it]} from ansible-playbook's `included:` lines."""
    walked = {}
    for line in output.splitlines():
        if line.startswith("included: "):
            for name in FULL_PATHS:
                if name in line:
                    for host in line.split(" for ", 1)[1].split(", "):
                        walked.setdefault(host.strip(), []).append(name.split("/", 1)[0])
    return walked


def host_state(running_lab, host):
    """What the drift below touches, read as root on the host."""
    script = (
        "systemctl is-active amazon-ssm-agent || true; stat -c %a /etc/ecs/ecs.config;"
        " dpkg-query -W -f '${Version}\\n' amazon-ecs-init;"
        " systemctl show -p ActiveEnterTimestampMonotonic --value amazon-ssm-agent;"
        " grep -c '^EXTRA=' " + DOCKER_DROP_IN + " || true"
    )
    active, mode, version, started, extra = running_lab.ssh(host, script).split()
    return {"ssm": active, "ecs_config_mode": mode, "ecs_init": version, "ssm_started": int(started), "extra": extra}


def test_a_re_run_over_converged_hosts_walks_no_full_path(running_lab):
    output = onboard(running_lab, running_lab.site)

    assert changed(output) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(output)
    assert full_paths_walked(output) == {}, full_paths_walked(output)


def test_drift_in_each_role_is_reported_in_check_mode_and_repaired_by_the_next_run(running_lab):
    first, second = running_lab.first, running_lab.second
    # The second host's inventory pins the ECS agent's older package: what it has is no longer what is wanted.
    pinned = inventory(running_lab, "pinned", {second: {"ecs_anywhere_ecs_agent_version": OLD_ECS}})
    running_lab.ssh(
        first,
        "echo EXTRA=1 >> %s; systemctl stop amazon-ssm-agent; chmod 0644 /etc/ecs/ecs.config" % DOCKER_DROP_IN,
    )
    # Same content, written after the agent started: what a run that failed before its restart handler leaves.
    running_lab.ssh(second, "sleep 1; touch %s" % SSM_DROP_IN)
    before = {host: host_state(running_lab, host) for host in running_lab.hosts}
    assert before[first]["ssm"] == "inactive" and before[first]["ecs_config_mode"] == "644", before
    assert before[first]["extra"] == "1" and before[second]["ecs_init"] != OLD_ECS, before

    checked = onboard(running_lab, pinned, "--check")

    assert changed(checked)[first] > 0 and changed(checked)[second] > 0, changed(checked)
    assert "%s: %s differs" % (first, DOCKER_DROP_IN) in checked
    assert "%s: amazon-ssm-agent.service is inactive" % first in checked
    assert "%s: /etc/ecs/ecs.config differs" % first in checked
    assert "%s: %s is newer than the running amazon-ssm-agent.service" % (second, SSM_DROP_IN) in checked
    assert "%s: amazon-ecs-init is %s, not %s" % (second, before[second]["ecs_init"], OLD_ECS) in checked
    assert {host: host_state(running_lab, host) for host in running_lab.hosts} == before, "check mode changed a host"

    repaired = onboard(running_lab, pinned)

    assert sorted(full_paths_walked(repaired)) == sorted(running_lab.hosts), full_paths_walked(repaired)
    after = {host: host_state(running_lab, host) for host in running_lab.hosts}
    assert after[first]["ssm"] == "active" and after[first]["ecs_config_mode"] == "600", after
    assert after[first]["extra"] == "0", after
    proxy = running_lab.hosts[first]["ecs_anywhere_proxy_url"]
    daemon = running_lab.ssh(first, "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value docker)/environ")
    assert "HTTPS_PROXY=%s" % proxy in daemon and "EXTRA=1" not in daemon
    # The agent whose proxy file was newer than it was restarted (once), and runs with the proxy.
    assert after[second]["ssm_started"] > before[second]["ssm_started"], (before[second], after[second])
    agent = running_lab.ssh(second, "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value amazon-ssm-agent)/environ")
    assert "https_proxy=%s" % running_lab.hosts[second]["ecs_anywhere_proxy_url"] in agent
    assert after[second]["ecs_init"] == OLD_ECS, after
    # Both hosts are still ACTIVE container instances of their cluster, as ECS sees them.
    ecs = running_lab.aws("ecs")
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    instances = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
    assert len(instances) == 2 and all(i["status"] == "ACTIVE" and i["agentConnected"] for i in instances), instances

    again = onboard(running_lab, pinned, "-e", "ecs_anywhere_full_run=true")

    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)
    assert sorted(full_paths_walked(again)) == sorted(running_lab.hosts), full_paths_walked(again)
    assert all(sorted(roles) == ["docker", "ecs_agent", "ssm_agent"] for roles in full_paths_walked(again).values())
