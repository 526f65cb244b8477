# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault suite (issue 12): playbooks/onboard.yml on two lab hosts, as the ordinary user `ops` with sudo. The lab
is onboarded once (under throttling, the first fault); then each fault is injected on one host (through the emulator's
fault API, the site proxy, the mirror, on the host, or in the inventory), onboard.yml runs, the fault is removed and
onboard.yml runs again. Every fault must end, on that second run, with

- every host ACTIVE in its cluster, with its own managed instance (the mi- id in its vault),
- exactly one managed instance per host (no duplicate registration),
- no live activation left (also after the first run),

and the first run's message must name the host and say what to do. Everything is read back from the emulator
(boto3) and the hosts (SSH as root), never from the playbook's variables.

Faults (in this order; each test starts from the healed state the previous one left):

- AWS throttles half of every SSM, ECS, IAM and STS call the controller makes during the first onboarding -> the run
  succeeds (retries);
- an SSM outage right after an activation is created (the module cannot read it back) while a host needs one -> that
  host fails first thing, naming the reason and "re-run"; the other finishes; the activation is deleted at once;
- the site proxy goes down right after a host registered with SSM (its ECS agent then reaches nothing) -> that host
  fails naming the agent that could not register; the activation is deleted; with the proxy back the next run passes;
- restarts lost with a failed run (the SSM agent's, Docker's and the ECS agent's: settings on disk the running
  service never read) -> the next run makes them;
- in one run, a tampered package on the mirror while one host needs it -> refused, naming the host and the URL,
  nothing installed and no download left; and ``ecs_agent_version`` pinned to a version that is not published on the
  other host -> it fails naming the version's URL; with the mirror repaired and the pin gone the next run installs the
  good package;
- a host that hangs (a command on it never returns) -> it times out alone (onboard_task_timeout).

`make lab` runs the whole suite (`make faults` alone, `make faults-217` with ansible-core 2.17). The
stand-in agents do not retry throttled calls as the real ones do (aws-sdk-go's retryer), so the throttling is on the
controller's operations: the agents' own four are exempt (most specific fault wins in the emulator).
"""

import collections
import os
import re
import subprocess
import threading
import time

import pytest
from emulator.client import LabClient

from labctl.testing import ANSIBLE_PLAYBOOK
from labctl.testing import ONBOARD as PLAYBOOK
from labctl.testing import lab
from labctl.testing import local_id
from labctl.testing import needs_lab
from labctl.testing import recap
from labctl.testing import report
from labctl.testing import run_onboard
from labctl.testing import site_inventory
from labctl.testing import two_hosts

CLUSTER = "onprem-faults"
#: What the agents call themselves (standins/ssm_agent.py, standins/ecs_init.py): not the controller's calls.
AGENT_OPERATIONS = (
    "ssm:RegisterManagedInstance",
    "ssm:RequestManagedInstanceRoleToken",
    "ssm:UpdateInstanceInformation",
    "ecs:RegisterContainerInstance",
)

pytestmark = needs_lab


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
    return site_inventory(running_lab, "faults", CLUSTER, name, host_vars)


def onboard(_running_lab, inventory_path, *options):
    return run_onboard(inventory_path, *options)


def heal(running_lab):
    """The re-run with the fault gone: it succeeds and leaves the fleet healed."""
    output, code = onboard(running_lab, inventory(running_lab, "site"))
    assert code == 0, output[-6000:]
    assert_healed(running_lab)
    return output


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


def test_ssm_failing_right_after_creating_the_activation_fails_that_host_alone_and_leaves_no_activation(running_lab):
    first, second = running_lab.first, running_lab.second
    deregister(running_lab, first)
    # SSM refuses, with an error no retry helps (botocore retries 5xx answers, and the modules throttling), the run's
    # first two DescribeActivations: the site module's clean-up of spent activations at the start (best effort: a
    # warning, the run goes on) and the one read of the new activation. A fault of two calls, so the re-run meets none.
    running_lab.emulator.set_fault(
        "ssm:DescribeActivations", error="AccessDeniedException", error_message="lab outage", count=2
    )
    running_lab.emulator.clear_calls()
    try:
        output, code = onboard(running_lab, inventory(running_lab, "site"))
    finally:
        running_lab.emulator.clear_faults()

    assert code != 0, output[-6000:]
    assert "%s needs an activation" % first in output and "Re-run when SSM answers again" in output, output[-6000:]
    assert "lab outage" in output
    assert "spent activations of ECSAnywhereRole were not all deleted" in " ".join(output.split()), output[-6000:]
    refused = [c for c in running_lab.emulator.calls(operation="DescribeActivations") if c["status"] != 200]
    assert len(refused) == 2, refused  # the clean-up's and the read-back's, nothing retried them
    counts = recap(output)
    assert counts[first]["failed"] == 1 and counts[second]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % first in output
    assert "Finished: %s." % second in output
    created = [c for c in running_lab.emulator.calls(operation="CreateActivation") if c["status"] == 200]
    deleted = [c for c in running_lab.emulator.calls(operation="DeleteActivation") if c["status"] == 200]
    assert len(created) == 1 and len(deleted) == 1
    assert live_activations(running_lab) == []

    heal(running_lab)


@pytest.fixture
def proxy_down_after_registration(running_lab):
    """Stops the site proxy (`lab proxy stop`) as soon as a host registered anew has its SSM agent running with the new
    registration: the emulator's call log shows RequestManagedInstanceRoleToken answered for a managed instance that
    was not there before (signed with its mi- id, standins/ssm_agent.py). Watched, not guessed with a sleep; the proxy
    is always started again afterwards. Yields the stop's record.

    (Stopping it at RegisterManagedInstance itself is another fault: the answer can be lost on its way back, and SSM
    then holds a managed instance the host never kept -- the duplicate registration case.)"""
    known = {local_id(running_lab, host) for host in running_lab.hosts}
    stopped, done = {}, threading.Event()

    def registered_anew():
        calls = running_lab.emulator.calls(operation="RequestManagedInstanceRoleToken")
        return any(c["status"] == 200 and c.get("access_key") not in known for c in calls)

    def watch():
        while not done.is_set():
            if registered_anew():
                stopped["result"] = lab("proxy", "stop")
                return
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield stopped
    finally:
        done.set()
        watcher.join(30)
        started = lab("proxy", "start")
        assert started.returncode == 0, started.stderr


def test_a_proxy_outage_right_after_registration_fails_that_host_and_the_next_run_passes(
    running_lab, proxy_down_after_registration
):
    """The first host needs a new registration; the site proxy goes down the moment its SSM agent runs with it, so its
    ECS agent reaches nothing. That host fails (bounded wait) naming the agent and what to check; the other host
    finishes; the run's activation is deleted. The proxy comes back while the next run is under way, and that run
    passes with one container instance per host (the agent's own registration kept, none added)."""
    first, second = running_lab.first, running_lab.second
    deregister(running_lab, first)
    running_lab.emulator.clear_calls()
    failing = inventory(running_lab, "proxy", {first: {"ecs_agent_wait_timeout": 30}})

    output, code = onboard(running_lab, failing)

    assert proxy_down_after_registration.get("result") is not None, "the proxy was never stopped"
    assert proxy_down_after_registration["result"].returncode == 0, proxy_down_after_registration["result"].stderr
    assert code != 0, output[-6000:]
    assert "The ECS agent on %s did not register with cluster %s within 30s" % (first, CLUSTER) in output, output[
        -6000:
    ]
    assert "re-run" in output.split("The ECS agent on %s did not register" % first, 1)[1][:1500]
    counts = recap(output)
    assert counts[first]["failed"] == 1 and counts[second]["failed"] == 0, counts
    assert "Did not finish: %s (failed or unreachable" % first in output and "Finished: %s." % second in output
    assert live_activations(running_lab) == []
    # The next run begins with the proxy still down; it comes back the moment the run has checked the hosts against
    # SSM and ECS, and the first host's ECS agent registers right then (its own retry, made at once by a restart):
    # after the check, which found no container instance of the host's and so has the ecs_agent role reset the
    # agent's registration. The role keeps the one the agent made instead of registering a second.
    running_lab.emulator.clear_calls()
    with BackAfterTheCheck(running_lab, first) as back:
        output, code = onboard(running_lab, inventory(running_lab, "site"))

    assert back.get("proxy") is not None and back["proxy"].returncode == 0, back
    assert code == 0, output[-6000:]
    assert "%s: no container instance in cluster %s" % (first, CLUSTER) in output, output[-6000:]
    assert re.search(
        r"%s: the ECS agent registered \S+ in cluster %s since the run began; keeping it" % (first, CLUSTER), output
    ), output[-6000:]
    assert_healed(running_lab)


class BackAfterTheCheck:
    """Starts the site proxy (`lab proxy start`) and restarts the host's ECS agent as soon as the emulator's call log
    shows the run's check of the hosts (the controller's DescribeInstanceInformation and ListContainerInstances)."""

    def __init__(self, running_lab, host):
        self.running_lab, self.host = running_lab, host
        self.record, self.done = {}, threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def checked(self):
        key = self.running_lab.controller["aws_access_key_id"]
        seen = {
            c["operation"]
            for c in self.running_lab.emulator.calls()
            if c.get("access_key") == key and c.get("status") == 200
        }
        return {"DescribeInstanceInformation", "ListContainerInstances"} <= seen

    def watch(self):
        while not self.done.is_set():
            if self.checked():
                self.record["proxy"] = lab("proxy", "start")
                self.record["restart"] = self.running_lab.ssh(self.host, "systemctl restart ecs", check=False)
                return
            self.done.wait(0.2)

    def __enter__(self):
        self.thread.start()
        return self.record

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(60)
        lab("proxy", "start")


# What a failed run leaves when its handlers never ran: the service's settings rewritten on disk (a new mtime) while
# the service still runs with the old ones. Made for real: the setting taken away, the service restarted without it,
# the file put back (cp, not cp -a: written now, as the failed run wrote it).
LOSE_RESTART = """
mkdir -p /root/faults
for file in {files}; do cp -a "$file" /root/faults/; done
{take_away}
systemctl daemon-reload && systemctl restart {unit}
for file in {files}; do cp --preserve=mode,ownership /root/faults/"$(basename "$file")" "$file"; done
"""

SSM_DROPIN = "/etc/systemd/system/amazon-ssm-agent.service.d"
DOCKER_DROPIN = "/etc/systemd/system/docker.service.d"
LOST_RESTARTS = {
    # The proxy drop-in written, systemd not reloaded: the agent runs with no proxy settings (on a proxied site it
    # never reaches SSM again).
    "ssm": LOSE_RESTART.format(
        files="%s/http-proxy.conf %s/http-proxy.env" % (SSM_DROPIN, SSM_DROPIN),
        take_away="rm %s/http-proxy.conf %s/http-proxy.env" % (SSM_DROPIN, SSM_DROPIN),
        unit="amazon-ssm-agent.service",
    ),
    # The same for Docker (image pulls through the proxy).
    "docker": LOSE_RESTART.format(
        files="%s/http-proxy.conf %s/http-proxy.env" % (DOCKER_DROPIN, DOCKER_DROPIN),
        take_away="rm %s/http-proxy.conf %s/http-proxy.env" % (DOCKER_DROPIN, DOCKER_DROPIN),
        unit="docker.service",
    ),
    # /etc/ecs/ecs.config rewritten with the proxy, the agent (ecs-init reads the file at start) running without it.
    "ecs": LOSE_RESTART.format(
        files="/etc/ecs/ecs.config",
        take_away="sed -i '/^HTTP_PROXY=/d; /^NO_PROXY=/d' /etc/ecs/ecs.config",
        unit="ecs.service",
    ),
}

# "<NeedDaemonReload> <1 if the main process's environment has a proxy variable> <1 if the unit became active after
# FILE was written>" for UNIT; the times compared as host_facts compares them (plugins/module_utils/_host.py).
SERVICE_STATE = """
python3 - <<'PY'
import os, subprocess, time
unit, path = "{unit}", "{file}"
out = subprocess.run(["systemctl", "show", "--property=NeedDaemonReload,MainPID,ActiveEnterTimestampMonotonic", unit],
                     capture_output=True, text=True, check=True).stdout
values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
started = time.time() - time.monotonic() + int(values["ActiveEnterTimestampMonotonic"]) / 1e6
with open("/proc/%s/environ" % values["MainPID"], "rb") as handle:
    names = [item.split(b"=", 1)[0].lower() for item in handle.read().split(b"\\0")]
print(values["NeedDaemonReload"], int(b"https_proxy" in names or b"http_proxy" in names),
      int(started > os.stat(path).st_mtime))
PY
"""


def service_state(running_lab, host, unit, file):
    return running_lab.ssh(host, SERVICE_STATE.format(unit=unit, file=file)).split()


def test_restarts_lost_with_a_failed_run_are_made_by_the_next_run(running_lab):
    """The state a failed run leaves when its handlers never ran, on each host service the roles restart: the SSM
    agent's and the ECS agent's on the second host, Docker's on the first (ecs.service requires docker.service, as
    amazon-ecs-init's unit does, so a Docker restart restarts the ECS agent too: on one host Docker's would hide the
    agent's). The next run finds each setting newer than its running service (or a unit systemd has not re-read) and
    restarts it."""
    first, second = running_lab.first, running_lab.second
    running_lab.ssh(second, LOST_RESTARTS["ssm"])
    running_lab.ssh(first, LOST_RESTARTS["docker"])
    running_lab.ssh(second, LOST_RESTARTS["ecs"])
    # The faults are real: units not re-read, services running without the proxy, settings newer than the services.
    ssm_file, docker_file = SSM_DROPIN + "/http-proxy.env", DOCKER_DROPIN + "/http-proxy.env"
    # (NeedDaemonReload is not asserted here: on the trixie host's systemd it did not always report the drop-in put
    # back; the file written after the service started, and the service without the proxy, are the fault.)
    assert service_state(running_lab, second, "amazon-ssm-agent.service", ssm_file)[1:] == ["0", "0"]
    assert service_state(running_lab, first, "docker.service", docker_file)[1:] == ["0", "0"]
    assert service_state(running_lab, second, "ecs.service", "/etc/ecs/ecs.config")[2] == "0"

    output = heal(running_lab)

    assert "%s is newer than the running docker.service" % docker_file in output or (
        "docker.service changed on disk" in output
    ), output[-6000:]
    assert re.search(r"%s: .*/etc/ecs/ecs.config is newer than the running ecs.service" % second, output), output[
        -6000:
    ]
    assert service_state(running_lab, second, "amazon-ssm-agent.service", ssm_file) == ["no", "1", "1"]
    assert service_state(running_lab, first, "docker.service", docker_file) == ["no", "1", "1"]
    assert service_state(running_lab, second, "ecs.service", "/etc/ecs/ecs.config")[::2] == ["no", "1"]


def test_packages_that_cannot_be_installed_fail_their_hosts_and_once_repaired_the_next_run_installs_them(running_lab):
    """Two faults of the package download in one run, one per host. The second host has no ECS agent package
    (removed) while the mirror serves a tampered one (its signature no longer matches): refused, naming the host and
    the URL, nothing installed, no download kept on the host. The first host has ``ecs_agent_version`` pinned to a
    version that is not published: it fails naming the host and the version's URL. With the mirror repaired and the
    pin gone, the very next run installs the good package: nothing of the bad download is reused."""
    first, second = running_lab.first, running_lab.second
    path = running_lab.state["mirror"]["ecs_deb_path"]
    running_lab.ssh(second, "dpkg --remove amazon-ecs-init >/dev/null")
    tampered = lab("mirror", "tamper", path)
    assert tampered.returncode == 0, tampered.stderr
    pinned = inventory(running_lab, "unpublished", {first: {"ecs_agent_version": "9.9.9-1"}})
    try:
        output, code = onboard(running_lab, pinned)
    finally:
        repaired = lab("mirror", "repair", path)
    assert repaired.returncode == 0, repaired.stderr

    assert code != 0, output[-6000:]
    assert "%s: amazon-ecs-init latest could not be installed from" % second in output, output[-6000:]
    assert path.rsplit("/", 1)[1] in output and "Nothing was installed" in output
    assert re.search(r"BAD signature|signature.*(does not|did not|not) (match|verify)", output, re.I), output[-6000:]
    assert "%s: amazon-ecs-init 9.9.9-1 could not be installed from" % first in output, output[-6000:]
    assert "amazon-ecs-init-9.9.9-1.amd64.deb" in output
    assert "Check that this version is published at that location" in output
    counts = recap(output)
    assert counts[second]["failed"] == 1 and counts[first]["failed"] == 1, counts
    assert "Did not finish: %s, %s (failed or unreachable" % (first, second) in output
    # Nothing installed on the second host, nothing downloaded kept on either.
    assert running_lab.ssh(second, "dpkg-query -W -f='${db:Status-Status}' amazon-ecs-init || true").strip() != (
        "installed"
    )
    for host in (first, second):
        assert running_lab.ssh(host, "ls -A /var/cache/ecs-anywhere/packages").strip() == ""
    assert live_activations(running_lab) == []

    heal(running_lab)

    assert running_lab.ssh(second, "dpkg-query -W -f='${db:Status-Status}' amazon-ecs-init").strip() == "installed"


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


def test_a_hung_host_times_out_alone(running_lab):
    first, second = running_lab.first, running_lab.second
    running_lab.ssh(second, HANG)
    try:
        output, code = onboard(running_lab, inventory(running_lab, "site"), "-e", "onboard_task_timeout=20")
    finally:
        running_lab.ssh(second, UNHANG)

    assert code != 0, output[-6000:]
    # ansible-core 2.19: "Timed out after 20 second(s)."; 2.17: "The ... action failed to execute in the expected
    # time frame (20) and was terminated".
    assert re.search(r"timed out after 20 second|expected time frame \(20\)", output, re.I), output[-6000:]
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
