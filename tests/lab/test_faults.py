# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault suite (issue 12): playbooks/onboard.yml on two lab hosts, as the ordinary user `ops` with sudo. The lab
is onboarded once (under throttling, the first fault); then each fault is injected (through the emulator's fault API, on a host, or in the inventory),
onboard.yml runs, the fault is removed and onboard.yml runs again. Every fault must end, on that second run, with

- every host ACTIVE in its cluster, with its own managed instance (the mi- id in its vault),
- exactly one managed instance per host (no duplicate registration),
- no live activation left (also after the first run),

and the first run's message must name the host and say what to do. Everything is read back from the emulator
(boto3) and the hosts (SSH as root), never from the playbook's variables.

Faults (in this order; each test starts from the healed state the previous one left):

- AWS throttles half of every SSM, ECS, IAM and STS call the controller makes during the first onboarding -> the run
  succeeds (retries). This test alone runs in `make lab`; the whole suite with LAB_FAULTS=all (`make faults`);
- an SSM outage right after an activation is created (the module cannot read it back) while a host needs one -> that
  host fails first thing, naming the reason and "re-run"; the other finishes; the activation is deleted at once;
- a restart of the SSM agent lost with a failed run (its proxy drop-in on disk, not loaded) -> the next run restarts
  it: the agent runs with the proxy settings;
- ``ecs_agent_version`` pinned to a version that is not published -> the host fails naming the version's URL;
- a host that hangs (a command on it never returns) -> it times out alone (onboard_task_timeout).

The stand-in agents do not retry throttled calls as the real ones do (aws-sdk-go's retryer), so the throttling is on
the controller's operations: the agents' own four are exempt (most specific fault wins in the emulator).
"""

import collections
import json
import os
import re
import subprocess
import time

import pytest
import yaml
from emulator.client import LabClient

from labctl.testing import needs_lab
from labctl.testing import recap
from labctl.testing import report
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# LAB_ANSIBLE_PLAYBOOK runs the suite with another ansible-core (the lowest meta/runtime.yml claims, in a venv of its
# own: README, "The fault suite").
ANSIBLE_PLAYBOOK = os.environ.get("LAB_ANSIBLE_PLAYBOOK") or os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-faults"
#: What the agents call themselves (standins/ssm_agent.py, standins/ecs_init.py): not the controller's calls.
AGENT_OPERATIONS = (
    "ssm:RegisterManagedInstance",
    "ssm:RequestManagedInstanceRoleToken",
    "ssm:UpdateInstanceInformation",
    "ecs:RegisterContainerInstance",
)

pytestmark = needs_lab


#: The whole suite, or (default) only its first test, the one `make lab` runs: the first onboarding under throttling.
FULL = os.environ.get("LAB_FAULTS") == "all"
full_suite_only = pytest.mark.skipif(not FULL, reason="the full fault suite runs with LAB_FAULTS=all (make faults)")


@pytest.fixture(scope="module")
def running_lab(request):
    """Two fresh hosts, not onboarded yet: the first test onboards them (under throttling)."""
    started = time.monotonic()
    with two_hosts("inventory-faults.yml") as running:
        running.first, running.second = sorted(running.hosts)
        running.emulator = LabClient(running.controller["aws_endpoint_url"])
        yield running
        running.emulator.clear_faults()
    report(request, "fault suite module took %.0f s" % (time.monotonic() - started))


@pytest.fixture(autouse=True)
def timed(request):
    started = time.monotonic()
    yield
    report(request, "%s: %.0f s" % (request.node.name, time.monotonic() - started))


def inventory(running_lab, name, host_vars=None):
    """The lab's inventory with the suite's cluster for the site and per-host overrides."""
    with open(running_lab.inventory_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["all"]["vars"]["ecs_anywhere_cluster"] = CLUSTER
    hosts = data["all"]["children"]["ecs_anywhere_hosts"]["hosts"]
    for host, values in (host_vars or {}).items():
        hosts[host] = dict(hosts.get(host) or {}, **values)
    path = os.path.join(os.path.dirname(running_lab.inventory_path), "inventory-faults-%s.yml" % name)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle)
    return path


def onboard(running_lab, inventory_path, *options):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", inventory_path, PLAYBOOK] + list(options)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)
    return result.stdout + result.stderr, result.returncode


def heal(running_lab):
    """The re-run with the fault gone: it succeeds and leaves the fleet healed."""
    output, code = onboard(running_lab, inventory(running_lab, "site"))
    assert code == 0, output[-6000:]
    assert_healed(running_lab)
    return output


def local_id(running_lab, host):
    vault = running_lab.ssh(host, "cat /var/lib/amazon/ssm/Vault/Store/RegistrationKey")
    return json.loads(vault)["instanceID"]


def live_activations(running_lab):
    return running_lab.aws("ssm").describe_activations()["ActivationList"]


def assert_healed(running_lab):
    """Every host ACTIVE in the cluster with its own managed instance, one per host, no live activation."""
    infos = running_lab.aws("ssm").describe_instance_information()["InstanceInformationList"]
    per_host = collections.Counter(i["ComputerName"] for i in infos)
    assert per_host == {host: 1 for host in running_lab.hosts}, infos
    names = {i["InstanceId"]: i["ComputerName"] for i in infos}
    for host in running_lab.hosts:
        assert names.get(local_id(running_lab, host)) == host
    ecs = running_lab.aws("ecs")
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
    assert sorted((names.get(i["ec2InstanceId"]), i["status"]) for i in described) == [
        (host, "ACTIVE") for host in sorted(running_lab.hosts)
    ], described
    assert live_activations(running_lab) == []


def deregister(running_lab, host):
    """The host's managed instance is gone from SSM: the next run must mint an activation for it."""
    running_lab.aws("ssm").deregister_managed_instance(InstanceId=local_id(running_lab, host))


def test_first_onboarding_with_half_of_every_controller_call_throttled_succeeds(running_lab):
    """A fresh account and fresh hosts: every kind of call (IAM role and policy, cluster, activation, look-ups,
    attributes, deletion) meets throttling, and the retries carry the run through."""
    for pattern in ("ssm:*", "ecs:*", "iam:*", "sts:*"):
        running_lab.emulator.set_fault(pattern, throttle_rate=0.5)
    for operation in AGENT_OPERATIONS:
        running_lab.emulator.set_fault(operation, throttle_rate=0.0)
    running_lab.emulator.clear_calls()
    try:
        output, code = onboard(running_lab, inventory(running_lab, "site"))
    finally:
        running_lab.emulator.clear_faults()

    assert code == 0, output[-6000:]
    throttled = collections.Counter(c["service"] for c in running_lab.emulator.calls() if c.get("throttled"))
    assert {"ssm", "ecs", "iam"} <= set(throttled), throttled
    assert_healed(running_lab)
    print("throttled calls retried: %s" % dict(throttled))


@full_suite_only
def test_ssm_failing_right_after_creating_the_activation_fails_that_host_alone_and_leaves_no_activation(running_lab):
    first, second = running_lab.first, running_lab.second
    deregister(running_lab, first)
    # The one read of the new activation is refused, with an error no retry helps (botocore retries 5xx answers,
    # and the modules throttling): a fault of one call, so the re-run meets none.
    running_lab.emulator.set_fault(
        "ssm:DescribeActivations", error="AccessDeniedException", error_message="lab outage", count=1
    )
    running_lab.emulator.clear_calls()
    try:
        output, code = onboard(running_lab, inventory(running_lab, "site"))
    finally:
        running_lab.emulator.clear_faults()

    assert code != 0, output[-6000:]
    assert "%s needs an activation" % first in output and "Re-run when SSM answers again" in output, output[-6000:]
    assert "lab outage" in output
    counts = recap(output)
    assert counts[first]["failed"] == 1 and counts[second]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % first in output
    assert "Finished: %s." % second in output
    created = [c for c in running_lab.emulator.calls(operation="CreateActivation") if c["status"] == 200]
    deleted = [c for c in running_lab.emulator.calls(operation="DeleteActivation") if c["status"] == 200]
    assert len(created) == 1 and len(deleted) == 1
    assert live_activations(running_lab) == []

    heal(running_lab)


SIMULATE_LOST_RESTART = """
unit=amazon-ssm-agent.service
dir=/etc/systemd/system/$unit.d
mkdir -p /root/faults && cp -a "$dir"/http-proxy.conf "$dir"/http-proxy.env /root/faults/
rm "$dir"/http-proxy.conf "$dir"/http-proxy.env
systemctl daemon-reload && systemctl restart "$unit"
cp -a /root/faults/http-proxy.conf /root/faults/http-proxy.env "$dir"/
"""

AGENT_STATE = """
unit=amazon-ssm-agent.service
pid=$(systemctl show "$unit" --property=MainPID --value)
echo "$(systemctl show "$unit" --property=NeedDaemonReload --value)" \
     "$(tr '\\0' '\\n' < /proc/$pid/environ | grep -ci '^https_proxy=' || true)"
"""


@full_suite_only
def test_a_restart_lost_with_a_failed_run_is_made_by_the_next_run(running_lab):
    """The state a failed run leaves when its handlers never ran: the proxy drop-in on disk, systemd not reloaded,
    the agent running without the proxy settings (and so, on a proxied site, never reaching SSM)."""
    second = running_lab.second
    running_lab.ssh(second, SIMULATE_LOST_RESTART)
    assert running_lab.ssh(second, AGENT_STATE).split() == ["yes", "0"]  # the fault is real

    heal(running_lab)

    assert running_lab.ssh(second, AGENT_STATE).split() == ["no", "1"]


@full_suite_only
def test_an_ecs_agent_version_that_is_not_published_fails_naming_the_host_and_the_url(running_lab):
    first, second = running_lab.first, running_lab.second
    pinned = inventory(running_lab, "unpublished", {second: {"ecs_agent_version": "9.9.9-1"}})

    output, code = onboard(running_lab, pinned)

    assert code != 0, output[-6000:]
    assert "%s: amazon-ecs-init 9.9.9-1 could not be installed from" % second in output, output[-6000:]
    assert "amazon-ecs-init-9.9.9-1.amd64.deb" in output
    assert "Check that this version is published at that location" in output
    counts = recap(output)
    assert counts[second]["failed"] == 1 and counts[first]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % second in output
    assert live_activations(running_lab) == []

    heal(running_lab)


HANG = """
mv /usr/bin/dpkg-query /usr/bin/dpkg-query.faults
printf '#!/bin/sh\\necho $$ >> /run/faults-hang.pids\\nexec sleep 3600\\n' > /usr/bin/dpkg-query
chmod 0755 /usr/bin/dpkg-query
"""
# The hung commands end by their process ids (recorded by the stand-in), never by name.
UNHANG = """
mv /usr/bin/dpkg-query.faults /usr/bin/dpkg-query
if [ -f /run/faults-hang.pids ]; then xargs -r kill < /run/faults-hang.pids 2>/dev/null || true; fi
rm -f /run/faults-hang.pids
"""


@full_suite_only
def test_a_hung_host_times_out_alone(running_lab):
    first, second = running_lab.first, running_lab.second
    running_lab.ssh(second, HANG)
    try:
        output, code = onboard(running_lab, inventory(running_lab, "site"), "-e", "onboard_task_timeout=30")
    finally:
        running_lab.ssh(second, UNHANG)

    assert code != 0, output[-6000:]
    # ansible-core 2.19: "Timed out after 30 second(s)."; 2.17: "The ... action failed to execute in the expected
    # time frame (30) and was terminated".
    assert re.search(r"timed out after 30 second|expected time frame \(30\)", output, re.I), output[-6000:]
    counts = recap(output)
    assert counts[second]["failed"] == 1 and counts[first]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % second in output
    assert "Finished: %s." % first in output

    heal(running_lab)


# ---------------------------------------------------------------- issue 12: duplicate managed instance (i12-dup)

# What a host that is re-imaged (or killed and restored from an old disk) keeps of its onboarding: nothing of its SSM
# registration, the credentials its agent shared and its ECS state. Its old managed instance stops pinging.
LOSE_REGISTRATION = """
systemctl stop ecs amazon-ssm-agent
rm -rf /var/lib/amazon/ssm/Vault /var/lib/amazon/ssm/registration /root/.aws /var/lib/ecs/data
"""

# What a run killed while `amazon-ssm-agent -register` ran leaves on the host: aws/amazon-ssm-agent
# core/agent_parser.go registerManagedInstance saves the new private key with an empty instance id
# (UpdateServerInfo("", "", privateKey, keyType)), calls RegisterManagedInstance, and only then saves the id SSM
# returned (UpdateServerInfo(managedInstanceID, region, ...)) and the registration file. Killed between the two:
# SSM has a managed instance whose id the host never kept, and the agent never ran with it (no ping).
INTERRUPTED_REGISTRATION = """
set -a; . /etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env; set +a  # the site's proxy, as the role's
amazon-ssm-agent -register -code {code} -id {activation_id} -region {region} -y >/dev/null
python3 - <<'PY'
import json
path = "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"
with open(path) as handle:
    vault = json.load(handle)
print(vault["instanceID"])
vault["instanceID"], vault["region"] = "", ""
with open(path, "w") as handle:
    json.dump(vault, handle)
PY
rm -f /var/lib/amazon/ssm/registration
"""


def interrupted_registration(running_lab, host):
    """The effect of a run killed mid-registration on `host`: a managed instance of the collection's instance role that
    the host does not know (returned), its activation deleted by the killed run's last play."""
    ssm = running_lab.aws("ssm")
    activation = ssm.create_activation(IamRole="ECSAnywhereRole", RegistrationLimit=1)
    script = INTERRUPTED_REGISTRATION.format(
        code=activation["ActivationCode"],
        activation_id=activation["ActivationId"],
        region=running_lab.controller["aws_region"],
    )
    orphan = running_lab.ssh(host, script).strip().splitlines()[-1]
    ssm.delete_activation(ActivationId=activation["ActivationId"])
    return orphan


def managed_instances(running_lab):
    return {
        i["InstanceId"]: i for i in running_lab.aws("ssm").describe_instance_information()["InstanceInformationList"]
    }


@full_suite_only
def test_a_host_that_lost_its_registration_ends_with_one_managed_instance(running_lab):
    """The second host is re-imaged (its old managed instance stops pinging), then the run that re-onboards it is
    killed while the agent registers (a second managed instance the host never kept). The next run registers it a
    third time and deregisters the two it left behind, saying which and why; the first host is left alone."""
    first, second = running_lab.first, running_lab.second
    kept = local_id(running_lab, first)
    old = local_id(running_lab, second)
    running_lab.ssh(second, LOSE_REGISTRATION)
    region = running_lab.controller["aws_region"]
    running_lab.emulator.set_ping([old], seconds_ago=3600, region=region)  # it stopped pinging an hour ago
    orphan = interrupted_registration(running_lab, second)
    # The fault is real: SSM holds three managed instances of the second host's, two it does not know.
    instances = managed_instances(running_lab)
    assert {old, orphan, kept} <= set(instances) and len(instances) == 3, instances
    assert instances[old]["PingStatus"] == "ConnectionLost" and instances[orphan]["PingStatus"] == "ConnectionLost"
    assert "ComputerName" not in instances[orphan] and instances[old]["ComputerName"] == second

    output, code = onboard(running_lab, inventory(running_lab, "site"))
    assert code == 0, "\n".join(line for line in output.splitlines() if re.search(r"fatal|FAILED|msg", line))
    assert_healed(running_lab)

    instances = managed_instances(running_lab)
    assert old not in instances and orphan not in instances, instances
    assert local_id(running_lab, first) == kept
    assert "%s: deregistered %s" % (second, old) in output, output[-6000:]
    assert "%s: deregistered %s" % (second, orphan) in output, output[-6000:]
    assert "same computer name" in output and "never connected" in output


# ---------------------------------------------------------------- issue 12: activation expiring mid-run (i12-dup)


def onboard_expiring_after_first_registration(running_lab, inventory_path, *options):
    """onboard.yml, whose activation "expires" as soon as one host has registered with it: from then on SSM answers
    RegisterManagedInstance with ActivationExpired (the emulator's fault API, in the shape the emulator's own expiry
    gives: tests/lab/emulator/ssm/models.py, the code aws/eks-hybrid's nodeadm matches and aws/amazon-ssm-agent#134
    shows). The call log is polled while the playbook runs; `-f 1` makes the hosts register one after the other."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", inventory_path, PLAYBOOK, "-f", "1"] + list(options)
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        expired = None
        deadline = time.monotonic() + 1800
        while expired is None and proc.poll() is None and time.monotonic() < deadline:
            registered = running_lab.emulator.calls(operation="RegisterManagedInstance")
            if any(call["status"] == 200 for call in registered):
                live = [a["ActivationId"] for a in live_activations(running_lab)]
                expired = live[0] if live else "?"
                running_lab.emulator.set_fault(
                    "ssm:RegisterManagedInstance",
                    error="ActivationExpired",
                    error_message="Activation %s has expired." % expired,
                )
            time.sleep(0.05)
        output = proc.communicate(timeout=max(1, deadline - time.monotonic()))[0]
    return output, proc.returncode, expired


@full_suite_only
def test_an_activation_expiring_mid_run_fails_the_host_it_did_not_register_and_the_next_run_heals(running_lab):
    """Both hosts need an activation (their managed instances were deregistered); it expires after the first has
    registered with it and before the second does. The second fails naming itself and the expiry, the run deletes the
    activation and says a re-run picks the host up; the re-run (no fault) registers it with a new activation."""
    deregister(running_lab, running_lab.first)
    deregister(running_lab, running_lab.second)
    running_lab.emulator.clear_calls()
    try:
        output, code, expired = onboard_expiring_after_first_registration(running_lab, inventory(running_lab, "site"))
    finally:
        running_lab.emulator.clear_faults()

    assert code != 0 and expired not in (None, "?"), output[-6000:]
    counts = recap(output)
    failed = sorted(host for host in running_lab.hosts if counts[host]["failed"])
    assert len(failed) == 1, counts
    late = failed[0]
    assert "amazon-ssm-agent -register failed on %s" % late in output, output[-6000:]
    assert "ActivationExpired: Activation %s has expired." % expired in output
    assert "Did not finish: %s (failed or unreachable: see their errors above; a re-run picks them up)" % late in output
    assert live_activations(running_lab) == []
    registrations = running_lab.emulator.calls(operation="RegisterManagedInstance")
    assert [c["status"] for c in registrations] == [200, 400], registrations

    output = heal(running_lab)

    assert ": deregistered mi-" not in output  # the refused registration left nothing behind in SSM
