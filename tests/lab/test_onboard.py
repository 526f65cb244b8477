# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/onboard.yml end to end on two lab hosts (bookworm, trixie), logged in as the ordinary user `ops` with
sudo, behind the site proxy that wants a password: check mode changes nothing; the first run, at -vvvv and with
private registry credentials, joins both hosts to the cluster (as the emulator sees it), deletes its activation and
prints none of the secrets; the files that hold them are root-only; a second run changes nothing and walks none of the
roles' full paths; attributes and tags changed after registration reach ECS through the controller; one thing per role
that drifts is named in check mode and repaired by the next run.
"""

import base64
import json
import os
import secrets
import subprocess

import pytest

from emulator.client import LabClient
from labctl.calls import budget_noop
from labctl.calls import by_operation
from labctl.calls import controller_calls
from labctl.testing import changed
from labctl.testing import full_paths_walked
from labctl.testing import needs_lab
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# LAB_ANSIBLE_PLAYBOOK: another ansible-core (make lab-217: the lowest meta/runtime.yml claims, in .venv-2.17).
ANSIBLE_PLAYBOOK = os.environ.get("LAB_ANSIBLE_PLAYBOOK") or os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-onboard"
# A private registry credential as a site would set it (ECS_ENGINE_AUTH_DATA); the token is this run's own.
REGISTRY_TOKEN = "registry-" + secrets.token_hex(12)
REGISTRY = {
    "ecs_agent_engine_auth_type": "dockercfg",
    "ecs_agent_engine_auth_data": {
        "https://registry.example.com": {"auth": REGISTRY_TOKEN, "email": "ops@example.com"}
    },
}

# Attributes and tags a site sets after registration (test_attributes_and_tags_changed_after_registration_reach_ecs).
LATER = {"ecs_agent_instance_attributes": {"rack": "b7"}, "ecs_agent_instance_tags": {"owner": "platform"}}
OLD_ECS = "1.88.0-1"  # labctl.packages.ECS_OLDER_VERSION, published on the lab's mirror
SSM_DROP_IN = "/etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env"
DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/http-proxy.env"

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab():
    with two_hosts("inventory-onboard.yml") as running:
        yield running


def onboard(running_lab, *options, playbook=PLAYBOOK):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, playbook, "-e", "ecs_anywhere_cluster=" + CLUSTER]
    result = subprocess.run(command + list(options), env=env, capture_output=True, text=True, check=False, timeout=1800)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def secret_vars(tmp_path, values):
    path = tmp_path / "site-secrets.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    path.chmod(0o600)
    return "@" + str(path)


def onboard_keeping_the_code(running_lab, tmp_path, *options):
    """onboard.yml, then a no_log play that saves the run's activation code to a 0600 file for the secret check."""
    code_file = tmp_path / "code"
    wrapper = tmp_path / "onboard-and-keep-code.yml"
    wrapper.write_text(
        json.dumps(
            [
                {"ansible.builtin.import_playbook": PLAYBOOK},
                {
                    "name": "Keep the activation code where only the test reads it",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "ansible.builtin.copy": {
                                "content": "{{ onboard_activation_for.values() | map(attribute='activation_code')"
                                " | unique | join('\\n') }}",
                                "dest": str(code_file),
                                "mode": "0600",
                            },
                            "no_log": True,
                        }
                    ],
                },
            ]
        ),
        encoding="utf-8",
    )
    output = onboard(running_lab, *options, playbook=str(wrapper))
    return output, code_file.read_text(encoding="utf-8").split()


def test_onboard_check_then_join_then_nothing_to_do(running_lab, tmp_path):
    ecs, ssm = running_lab.aws("ecs"), running_lab.aws("ssm")

    checked = onboard(running_lab, "--check")
    assert all(count > 0 for count in changed(checked).values()), changed(checked)
    clusters = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
    assert [c for c in clusters if c["status"] == "ACTIVE"] == [], "check mode created the cluster"
    assert ssm.describe_activations()["ActivationList"] == [], "check mode created an activation"
    for host in running_lab.hosts:
        assert running_lab.ssh(host, "test -e /var/lib/amazon/ssm && echo yes || echo no").strip() == "no"

    # As a site keeps secrets: in a vars file (a vault in real life), not on the command line, which
    # ansible-playbook echoes at -vvvv.
    registry = secret_vars(tmp_path, REGISTRY)
    first, codes = onboard_keeping_the_code(running_lab, tmp_path, "-vvvv", "-e", registry)
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
    # ECS Exec's dependencies are in place, so the agent advertises the capability.
    assert all(
        any(a["name"] == "ecs.capability.execute-command" for a in i["attributes"]) for i in instances
    ), instances
    assert ssm.describe_activations()["ActivationList"] == [], "the run's activation was not deleted"

    # None of the secrets is in the output, in any form it travels in.
    password = running_lab.state["proxy_credentials"].split(":", 1)[1]
    # Two hosts, one activation: both were told the same one.
    assert len(codes) == 1 and len(codes[0]) >= 20, "expected one activation code"
    leaks = {"activation code": codes[0], "proxy password": password, "registry credentials": REGISTRY_TOKEN}
    for host in running_lab.hosts:
        vault = running_lab.ssh(host, "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey")
        private_key = json.loads(vault)["privateKey"]
        assert private_key.startswith("LABPRIVATEKEY")
        leaks["%s private key" % host] = private_key
        leaks["%s vault file (base64, as slurp sends it)" % host] = base64.b64encode(vault.encode()).decode()
        config = running_lab.ssh(host, "cat /etc/ecs/ecs.config")
        assert REGISTRY_TOKEN in config and password in config, "the settings did not reach the agent's config"
    found = [what for what, value in leaks.items() if value in first]
    assert found == [], "secrets in the -vvvv output: %s" % found

    for host, hostvars in running_lab.hosts.items():
        modes = running_lab.ssh(
            host,
            "stat -c '%a %U %n' /etc/ecs/ecs.config /var/lib/ecs/ecs.config /etc/systemd/system/*.service.d/http-proxy.*",
        )
        assert [line.split()[:2] for line in modes.splitlines()] == [["600", "root"]] * 8, modes
        # The daemon runs with the proxy (from the root-only file, not from the unit's visible Environment=).
        daemon = running_lab.ssh(
            host,
            "systemctl is-active docker; systemctl show docker -p Environment;"
            " tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value docker)/environ",
        )
        assert daemon.startswith("active\nEnvironment=\n"), daemon
        assert "HTTPS_PROXY=%s" % hostvars["ecs_anywhere_proxy_url"] in daemon
        exec_deps = running_lab.ssh(host, "cd /var/lib/ecs/deps/execute-command && stat -c '%a %n' certs/* bin/*/*")
        assert exec_deps.split() == [
            "400",
            "certs/tls-ca-bundle.pem",
            "755",
            "bin/3.3.4108.0/amazon-ssm-agent",
            "755",
            "bin/3.3.4108.0/ssm-agent-worker",
            "755",
            "bin/3.3.4108.0/ssm-session-worker",
        ], exec_deps

    calls = LabClient(running_lab.controller["aws_endpoint_url"])
    calls.clear_calls()
    again = onboard(running_lab, "-e", registry)
    # Read before this test's own calls (they are signed with the controller's key too).
    spent = controller_calls(calls.calls(), running_lab.controller["aws_access_key_id"])
    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)
    # The fast no-op path: each role found the hosts as it wants them and walked none of its tasks beyond that.
    assert full_paths_walked(again) == {}, full_paths_walked(again)
    assert len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) == 2
    # Issue 12's budget for a no-op re-run: the controller's calls (signed with its key; the agents sign with their own).
    assert len(spent) <= budget_noop(len(running_lab.hosts)), by_operation(spent)


def test_attributes_and_tags_changed_after_registration_reach_ecs(running_lab, tmp_path):
    ecs = running_lab.aws("ecs")
    settings = secret_vars(tmp_path, dict(REGISTRY, **LATER))

    onboard(running_lab, "-e", settings)

    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    instances = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns, include=["TAGS"])
    for instance in instances["containerInstances"]:
        assert {"name": "rack", "value": "b7"} in [
            {"name": a["name"], "value": a.get("value")} for a in instance["attributes"]
        ], instance["attributes"]
        assert {"key": "owner", "value": "platform"} in instance["tags"], instance["tags"]
    again = onboard(running_lab, "-e", settings)
    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)


def test_report_of_the_onboarded_hosts(running_lab, tmp_path):
    """report.yml over the lab's cluster: both hosts, by their names, ok; its numbers are the emulator's."""
    ssm = running_lab.aws("ssm")
    output = onboard(
        running_lab, "-e", "report_output_dir=%s" % tmp_path, playbook=os.path.join(REPO, "playbooks", "report.yml")
    )
    with open(tmp_path / "fleet-report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    online = [i for i in ssm.describe_instance_information()["InstanceInformationList"] if i["PingStatus"] == "Online"]
    in_cluster = {r["computer_name"]: r for r in report["instances"] if r["cluster"] == CLUSTER}
    assert sorted(in_cluster) == sorted(running_lab.hosts), report["instances"]
    assert {r["managed_instance_id"] for r in in_cluster.values()} <= {i["InstanceId"] for i in online}
    assert all(r["severity"] == "ok" and r["problems"] == [] for r in in_cluster.values()), in_cluster
    assert (tmp_path / "fleet-report.html").read_text(encoding="utf-8").count("<tr") >= 3
    assert "Report: %s/fleet-report.html" % tmp_path in output, output[-2000:]


def drift_state(running_lab, host):
    """What the drift below touches, read as root on the host."""
    script = (
        "systemctl is-active amazon-ssm-agent || true; stat -c %a /etc/ecs/ecs.config;"
        " dpkg-query -W -f '${Version}\\n' amazon-ecs-init;"
        " systemctl show -p ActiveEnterTimestampMonotonic --value amazon-ssm-agent;"
        " grep -c '^EXTRA=' " + DOCKER_DROP_IN + " || true"
    )
    active, mode, version, started, extra = running_lab.ssh(host, script).split()
    return {"ssm": active, "ecs_config_mode": mode, "ecs_init": version, "ssm_started": int(started), "extra": extra}


def test_drift_in_each_role_is_named_in_check_mode_and_repaired_by_the_next_run(running_lab, tmp_path):
    """The fast no-op path notices one thing per role that drifted on converged hosts: Docker's proxy file edited,
    the SSM agent stopped, the ECS agent's configuration made world-readable, a proxy file of the SSM agent written
    after the agent started (a restart an earlier run lost), the ECS agent's package at another version than the
    inventory pins. Check mode names each and changes nothing; the next run repairs each (read back on the hosts);
    a run after it with ecs_anywhere_full_run walks every task and changes nothing."""
    first, second = sorted(running_lab.hosts)
    settings = secret_vars(tmp_path, dict(REGISTRY, **LATER))
    # The second host's inventory pins the ECS agent's older package: what it has is no longer what is wanted.
    pinned = tmp_path / "pinned.yml"
    pinned.write_text(
        json.dumps({"ecs_anywhere_hosts": {"hosts": {second: {"ecs_anywhere_ecs_agent_version": OLD_ECS}}}}),
        encoding="utf-8",
    )
    options = ["-e", settings, "-i", str(pinned)]
    running_lab.ssh(
        first, "echo EXTRA=1 >> %s; systemctl stop amazon-ssm-agent; chmod 0644 /etc/ecs/ecs.config" % DOCKER_DROP_IN
    )
    # Same content, written after the agent started: what a run that failed before its restart handler leaves.
    running_lab.ssh(second, "sleep 1; touch %s" % SSM_DROP_IN)
    before = {host: drift_state(running_lab, host) for host in running_lab.hosts}
    assert before[first]["ssm"] == "inactive" and before[first]["ecs_config_mode"] == "644", before
    assert before[first]["extra"] == "1" and before[second]["ecs_init"] != OLD_ECS, before

    checked = onboard(running_lab, "--check", *options)

    assert changed(checked)[first] > 0 and changed(checked)[second] > 0, changed(checked)
    assert "%s: %s differs" % (first, DOCKER_DROP_IN) in checked
    assert "%s: amazon-ssm-agent.service is inactive" % first in checked
    assert "%s: /etc/ecs/ecs.config differs" % first in checked
    assert "%s: %s is newer than the running amazon-ssm-agent.service" % (second, SSM_DROP_IN) in checked
    assert "%s: amazon-ecs-init is %s, not %s" % (second, before[second]["ecs_init"], OLD_ECS) in checked
    assert {host: drift_state(running_lab, host) for host in running_lab.hosts} == before, "check mode changed a host"

    repaired = onboard(running_lab, *options)

    assert sorted(full_paths_walked(repaired)) == sorted(running_lab.hosts), full_paths_walked(repaired)
    after = {host: drift_state(running_lab, host) for host in running_lab.hosts}
    assert after[first]["ssm"] == "active" and after[first]["ecs_config_mode"] == "600", after
    assert after[first]["extra"] == "0", after
    daemon = running_lab.ssh(first, "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value docker)/environ")
    assert "HTTPS_PROXY=%s" % running_lab.hosts[first]["ecs_anywhere_proxy_url"] in daemon and "EXTRA=1" not in daemon
    # The agent whose proxy file was newer than it was restarted, and runs with the proxy.
    assert after[second]["ssm_started"] > before[second]["ssm_started"], (before[second], after[second])
    agent = running_lab.ssh(
        second, "tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value amazon-ssm-agent)/environ"
    )
    assert "https_proxy=%s" % running_lab.hosts[second]["ecs_anywhere_proxy_url"] in agent
    assert after[second]["ecs_init"] == OLD_ECS, after
    # Both hosts are still ACTIVE, connected container instances of the cluster, as ECS sees them.
    ecs = running_lab.aws("ecs")
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    instances = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
    assert len(instances) == 2 and all(i["status"] == "ACTIVE" and i["agentConnected"] for i in instances), instances

    again = onboard(running_lab, "-e", "ecs_anywhere_full_run=true", *options)

    assert changed(again) == {name: 0 for name in list(running_lab.hosts) + ["localhost"]}, changed(again)
    assert all(sorted(roles) == ["docker", "ecs_agent", "ssm_agent"] for roles in full_paths_walked(again).values())
    assert sorted(full_paths_walked(again)) == sorted(running_lab.hosts), full_paths_walked(again)


def test_an_agent_that_does_not_register_is_reported_with_its_log(running_lab, tmp_path):
    """Last in this module: it leaves the hosts pointed at a cluster that does not exist."""
    playbook = tmp_path / "ecs-agent.yml"
    play = {
        "hosts": "ecs_anywhere_hosts",
        "become": True,
        "gather_facts": False,
        "roles": [{"role": "ecs_anywhere.fleet.ecs_agent", "vars": {"ecs_agent_cluster": "no-such-cluster"}}],
    }
    playbook.write_text(json.dumps([play]), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, str(playbook), "-e", "ecs_agent_wait_timeout=15"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-4000:]
    for host in running_lab.hosts:
        assert "The ECS agent on %s did not register with cluster no-such-cluster within 15s" % host in output
    # The end of the agent's own log says why.
    assert "End of /var/log/ecs:" in output and "ClusterNotFoundException" in output, output[-4000:]
    assert running_lab.state["proxy_credentials"].split(":", 1)[1] not in output
