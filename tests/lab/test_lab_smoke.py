# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the offline lab: two hosts (bookworm, trixie) behind the site proxy, the stand-in
agents installed from the artifact mirror with GPG verification and registered by hand against the
AWS emulator, then ``lab down`` leaving nothing behind.

Runs as root only (systemd-nspawn, veths); ``make lab`` runs ``tests/lab/lab setup`` first.
"""

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from labctl.common import CACHE_DIR
from labctl.common import HOST_PREFIX
from labctl.common import STATE_DIR
from labctl.common import is_ours
from labctl.testing import Lab
from labctl.testing import lab
from labctl.testing import needs_lab
from labctl.testing import report

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE = os.path.join(REPO, ".venv", "bin", "ansible")
CLUSTER = "onprem-lab"
ROLE = "ECSAnywhereRole"

pytestmark = needs_lab

# --- shell run on the hosts (str.format templates) -------------------------------------------------------------

APT_THROUGH_PROXY = """\
grep -r Acquire::http::Proxy /etc/apt/apt.conf.d/
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gnupg >/dev/null
gpg --version | head -n 1
# HTTPS goes through the proxy's CONNECT tunnel. (Not verified: this machine's own way out may
# re-sign TLS with a CA the hosts do not have; what is tested here is the tunnel.)
https_proxy={proxy} python3 - <<'PY'
import ssl, urllib.request
print("https", urllib.request.urlopen("https://deb.debian.org/debian/", context=ssl._create_unverified_context()).status)
PY
"""

EGRESS_PROBE = """\
cat > /tmp/probe.py <<'PROBE'
import socket, sys
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        print("%s blocked: %s" % (target, exc))
    else:
        print("%s CONNECTED" % target)
PROBE
python3 /tmp/probe.py {targets}
ip route
getent hosts deb.debian.org || echo "no DNS"
# The proxy refuses what is not on its allowlist (and resolves nothing for it).
http_proxy={proxy} python3 -c "import urllib.request as u; u.urlopen('http://example.invalid/')" 2>&1 | tail -1
# The site proxy wants its user and password.
http_proxy={anonymous} python3 -c "import urllib.request as u; u.urlopen('http://deb.debian.org/debian/')" 2>&1 | tail -1
"""

FETCH_AND_INSTALL = """\
cd /tmp
fetch() {{
    http_proxy={proxy} python3 -c "import sys, urllib.request as u; u.urlretrieve(*sys.argv[1:])" "$1" "${{1##*/}}"
}}
for url in {ssm_deb} {ssm_deb}.sig {ssm_deb}.sha256 {ecs_deb} {ecs_deb}.asc {ssm_key} {ecs_key}; do fetch "$url"; done
sha256sum -c amazon-ssm-agent.deb.sha256
export GNUPGHOME=$(mktemp -d)
gpg --batch --quiet --import ssm-signing-key.asc ecs-signing-key.asc
gpg --batch --status-fd 1 --verify amazon-ssm-agent.deb.sig amazon-ssm-agent.deb
gpg --batch --status-fd 1 --verify amazon-ecs-init-latest.amd64.deb.asc amazon-ecs-init-latest.amd64.deb
gpgconf --kill all
dpkg -i amazon-ssm-agent.deb amazon-ecs-init-latest.amd64.deb >/dev/null
dpkg-query -W -f='${{Description}}\\n' amazon-ssm-agent amazon-ecs-init
test -x /usr/libexec/amazon-ecs-init && test -f /lib/systemd/system/ecs.service
systemctl stop amazon-ssm-agent
mkdir -p /etc/amazon/ssm
echo '{{"Ssm": {{"Endpoint": "{ssm_endpoint}"}}}}' > /etc/amazon/ssm/amazon-ssm-agent.json
"""

REGISTER = "http_proxy={proxy} amazon-ssm-agent -register -code {code} -id {id} -region {region}"

SHOW_REGISTRATION = """\
cat /var/lib/amazon/ssm/registration
echo
stat -c %a /var/lib/amazon/ssm/registration
"""

START_AGENTS = """\
mkdir -p /etc/systemd/system/amazon-ssm-agent.service.d
cat > /etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.conf <<CONF
[Service]
Environment=http_proxy={proxy}
Environment=https_proxy={proxy}
Environment=no_proxy=169.254.169.254
CONF
systemctl daemon-reload
systemctl enable --now amazon-ssm-agent
for i in $(seq 50); do [ -s /root/.aws/credentials ] && break; sleep 0.2; done
grep -q '^\\[default\\]' /root/.aws/credentials
grep -q aws_session_token /root/.aws/credentials
cat > /var/lib/ecs/ecs.config <<CONF
AWS_DEFAULT_REGION={region}
ECS_EXTERNAL=true
ECS_BACKEND_HOST={ecs_endpoint}
CONF
cat > /etc/ecs/ecs.config <<'CONF'
ECS_CLUSTER={cluster}
HTTP_PROXY={proxy_hostport}
NO_PROXY=169.254.169.254,169.254.170.2,/var/run/docker.sock
ECS_CONTAINER_INSTANCE_TAGS={{"site": "lab"}}
CONF
systemctl enable --now ecs
"""

WAIT_METADATA = """\
metadata() {
    python3 -c "import urllib.request as u; print(u.urlopen('http://localhost:51678/v1/metadata').read().decode())"
}
for i in $(seq 100); do
    m=$(metadata 2>/dev/null || true)
    case "$m" in *container-instance*) break;; esac
    sleep 0.2
done
echo "$m"
"""


def timed_up(what):
    start = time.monotonic()
    proc = lab("up", "--hosts", "2", "--release", "bookworm,trixie")
    assert proc.returncode == 0, "%s `lab up` failed:\n%s%s" % (what, proc.stderr, proc.stdout)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def running_lab(request):
    lab("down")
    images = [os.path.join(CACHE_DIR, "images", release, ".lab-recipe") for release in ("bookworm", "trixie")]
    cached = all(os.path.exists(path) for path in images)
    first = timed_up("first")
    if cached:
        report(request, "`lab up --hosts 2` with cached images: %.1fs" % first)
    else:
        report(request, "cold `lab up --hosts 2` (debootstrap of both images): %.1fs (target: under 240 s)" % first)
    assert lab("down").returncode == 0
    warm = timed_up("warm")
    report(request, "warm `lab up --hosts 2` after `lab down`: %.1fs (target: under 60 s)" % warm)
    inventory = os.path.join(STATE_DIR, "inventory-test.yml")
    written = lab("inventory", "-o", inventory)
    assert written.returncode == 0, written.stderr
    yield Lab(inventory)
    lab("down")


def test_status_and_inventory(running_lab):
    status = lab("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert sorted(running_lab.hosts) == [HOST_PREFIX + "1", HOST_PREFIX + "2"]
    assert running_lab.releases == {"bookworm": [HOST_PREFIX + "1"], "trixie": [HOST_PREFIX + "2"]}
    for key in ("aws_endpoint_url", "aws_access_key_id", "aws_secret_access_key", "aws_region", "ecs_anywhere_region"):
        assert running_lab.controller[key]
    for key in (
        "ecs_anywhere_artifact_base_url",
        "ecs_anywhere_ssm_agent_gpg_fingerprints",
        "ecs_anywhere_ssm_agent_gpg_key_url",
        "ecs_anywhere_ecs_agent_gpg_fingerprints",
        "ecs_anywhere_ecs_agent_gpg_key_file",
        "ecs_anywhere_ecs_exec_binaries_sha256",
        "ecs_anywhere_ssm_endpoint",
        "ecs_anywhere_ecs_endpoint",
    ):
        assert running_lab.group_vars[key], key
    assert all(values["ecs_anywhere_proxy_url"].startswith("http://") for values in running_lab.hosts.values())
    assert os.path.exists(running_lab.group_vars["ecs_anywhere_ecs_agent_gpg_key_file"])
    # Two vendors, two keys: neither list accepts the other package's signer.
    assert set(running_lab.group_vars["ecs_anywhere_ssm_agent_gpg_fingerprints"]).isdisjoint(
        running_lab.group_vars["ecs_anywhere_ecs_agent_gpg_fingerprints"]
    )
    # Ansible logs in as an ordinary user and gets root only through sudo.
    assert running_lab.group_vars["ansible_user"] != "root"
    for host in running_lab.hosts:
        out = running_lab.ssh(host, "id -u ops; su - ops -c 'id -u; sudo -n id -u'")
        assert out.split() == ["1000", "1000", "0"], out


def test_ansible_setup_over_ssh(running_lab):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"))
    cmd = [ANSIBLE, "-i", running_lab.inventory_path, "ecs_anywhere_hosts", "-m", "ansible.builtin.setup"]
    cmd += ["-a", "filter=ansible_distribution*"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == 2
    assert '"ansible_distribution_release": "bookworm"' in proc.stdout
    assert '"ansible_distribution_release": "trixie"' in proc.stdout


def test_apt_works_through_the_proxy(running_lab):
    for host, values in running_lab.hosts.items():
        out = running_lab.ssh(host, APT_THROUGH_PROXY.format(proxy=values["ecs_anywhere_proxy_url"]))
        assert values["ecs_anywhere_proxy_url"] in out
        assert "gpg (GnuPG)" in out
        assert "https 200" in out
    with open(running_lab.state["proxy"]["log"], encoding="utf-8") as handle:
        log = handle.read()
    for values in running_lab.hosts.values():
        assert "%s GET http://deb.debian.org/" % values["ansible_host"] in log
        assert "%s CONNECT deb.debian.org:443" % values["ansible_host"] in log


def test_docker_is_active(running_lab):
    for host in running_lab.hosts:
        out = running_lab.ssh(host, "systemctl is-active docker\ndocker version --format '{{.Server.Version}}'\n")
        assert out.splitlines()[0] == "active"
        assert out.splitlines()[1][:1].isdigit()


def test_no_direct_egress(running_lab):
    """No route out, no DNS; on the gateway (this machine) only the proxy port answers."""
    mirror_ip = socket.getaddrinfo("deb.debian.org", 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    with socket.socket() as listener:  # a service of ours on all of this machine's addresses
        listener.bind(("0.0.0.0", 0))
        listener.listen()
        port = listener.getsockname()[1]
        for host, values in running_lab.hosts.items():
            gateway = urllib.parse.urlsplit(values["ecs_anywhere_proxy_url"]).hostname
            targets = "%s:80 %s:%d %s:3128" % (mirror_ip, gateway, port, gateway)
            out = running_lab.ssh(
                host,
                EGRESS_PROBE.format(
                    targets=targets, proxy=values["ecs_anywhere_proxy_url"], anonymous="http://%s:3128" % gateway
                ),
            )
            assert "%s:80 blocked" % mirror_ip in out, out
            assert "%s:%d blocked" % (gateway, port) in out, out
            assert "%s:3128 CONNECTED" % gateway in out, out
            assert "default" not in out, out
            assert "no DNS" in out, out
            assert "403" in out, out
            assert "407" in out, out


PROXY_PROBE = """\
http_proxy={proxy} python3 -c "import urllib.request as u; print(u.urlopen('http://artifacts.lab.internal/SHA256SUMS').status)" 2>&1 | tail -1
"""


def test_proxy_outage_and_a_tampered_mirror_file(running_lab):
    """`lab proxy stop|start` (a site proxy outage: the hosts' connections are refused) and `lab mirror tamper|repair`
    (the file served differs from its published digest, then is the published file again)."""
    host, values = sorted(running_lab.hosts.items())[0]
    probe = PROXY_PROBE.format(proxy=values["ecs_anywhere_proxy_url"])
    old_pid = running_lab.state["proxy"]["pid"]
    assert lab("proxy", "stop").returncode == 0
    try:
        assert not is_ours(old_pid, running_lab.state["proxy"]["marker"])
        assert "proxy      STOPPED" in lab("status").stdout
        assert "Connection refused" in running_lab.ssh(host, probe)
    finally:
        started = lab("proxy", "start")
    assert started.returncode == 0, started.stderr
    assert lab("status").returncode == 0
    assert running_lab.ssh(host, probe).strip() == "200"

    path = running_lab.state["mirror"]["ecs_deb_path"]
    url = "http://127.0.0.1:%d/%s" % (running_lab.state["mirror"]["port"], path)
    with urllib.request.urlopen(url + ".sha256") as answer:
        published = answer.read().decode().split()[0]

    def served():
        with urllib.request.urlopen(url) as answer:
            return hashlib.sha256(answer.read()).hexdigest()

    assert served() == published
    assert lab("mirror", "tamper", path).returncode == 0
    try:
        assert served() != published
    finally:
        repaired = lab("mirror", "repair", path)
    assert repaired.returncode == 0, repaired.stderr
    assert served() == published
    assert lab("mirror", "repair", path).returncode == 1  # nothing to repair: said so, nothing changed


def test_agents_install_register_and_join(running_lab, request):
    started = time.monotonic()
    region = running_lab.controller["aws_region"]
    iam, ssm, ecs = running_lab.aws("iam"), running_lab.aws("ssm"), running_lab.aws("ecs")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    ecs.create_cluster(clusterName=CLUSTER)
    activation = ssm.create_activation(IamRole=ROLE, RegistrationLimit=2, DefaultInstanceName="lab")
    ssm_fingerprint = running_lab.group_vars["ecs_anywhere_ssm_agent_gpg_fingerprints"][0]
    ecs_fingerprint = running_lab.group_vars["ecs_anywhere_ecs_agent_gpg_fingerprints"][0]
    base = running_lab.group_vars["ecs_anywhere_artifact_base_url"]
    instance_ids = {}
    for host, values in running_lab.hosts.items():
        proxy = values["ecs_anywhere_proxy_url"]
        out = running_lab.ssh(
            host,
            FETCH_AND_INSTALL.format(
                proxy=proxy,
                ssm_deb="%s/amazon-ssm-%s/latest/debian_amd64/amazon-ssm-agent.deb" % (base, region),
                ecs_deb="%s/amazon-ecs-agent-%s/amazon-ecs-init-latest.amd64.deb" % (base, region),
                ssm_key=values["ecs_anywhere_ssm_agent_gpg_key_url"],
                ecs_key=base + "/keys/ecs-signing-key.asc",
                ssm_endpoint=values["ecs_anywhere_ssm_endpoint"],
            ),
        )
        assert out.count("[GNUPG:] VALIDSIG %s" % ssm_fingerprint) == 1, out
        assert out.count("[GNUPG:] VALIDSIG %s" % ecs_fingerprint) == 1, out
        assert out.count("LAB STAND-IN for AWS's") == 2, out

        register = dict(proxy=proxy, id=activation["ActivationId"], region=region)
        out = running_lab.ssh(host, REGISTER.format(code="WRONGCODE", **register) + " 2>&1 || echo exit=$?\n")
        assert "InvalidActivation" in out and "exit=1" in out, out
        good = REGISTER.format(code=activation["ActivationCode"], **register)
        out = running_lab.ssh(host, good + "\n" + SHOW_REGISTRATION)
        assert "Successfully registered the instance with AWS SSM using Managed instance-id: mi-" in out, out
        registration = json.loads(out.splitlines()[-2])
        assert registration["Region"] == region
        assert out.splitlines()[-1] == "600"
        instance_ids[host] = registration["ManagedInstanceID"]
        # Already registered: the agent asks, and "no" cancels.
        out = running_lab.ssh(host, "echo no | " + good + " || echo exit=$?\n")
        assert "Instance already registered" in out and "exit=1" in out, out

        running_lab.ssh(
            host,
            START_AGENTS.format(
                proxy=proxy,
                proxy_hostport=proxy.replace("http://", ""),
                region=region,
                ecs_endpoint=values["ecs_anywhere_ecs_endpoint"],
                cluster=CLUSTER,
            ),
        )
    for host in running_lab.hosts:
        metadata = json.loads(running_lab.ssh(host, WAIT_METADATA).strip().splitlines()[-1])
        assert metadata["Cluster"] == CLUSTER
        assert metadata["ContainerInstanceArn"].startswith("arn:aws:ecs:%s:" % region)

    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns, include=["TAGS"])
    described = described["containerInstances"]
    assert sorted(ci["ec2InstanceId"] for ci in described) == sorted(instance_ids.values())
    for ci in described:
        assert any(attribute["name"] == "ecs.capability.external" for attribute in ci["attributes"])
        docker_version = ci["versionInfo"]["dockerVersion"]
        assert docker_version.startswith("DockerVersion: ") and "unknown" not in docker_version
        assert {"key": "site", "value": "lab"} in ci["tags"]
    info = ssm.describe_instance_information(Filters=[{"Key": "ActivationIds", "Values": [activation["ActivationId"]]}])
    pings = {item["InstanceId"]: item for item in info["InstanceInformationList"]}
    assert sorted(pings) == sorted(instance_ids.values())
    assert all(item["PingStatus"] == "Online" for item in pings.values())
    assert sorted(item["ComputerName"] for item in pings.values()) == [HOST_PREFIX + "1", HOST_PREFIX + "2"]
    addresses = sorted(values["ansible_host"] for values in running_lab.hosts.values())
    assert sorted(item["IPAddress"] for item in pings.values()) == addresses
    # A third registration exceeds the activation's limit of 2: exit 1 and the service's message.
    third = REGISTER.format(
        proxy=running_lab.hosts[HOST_PREFIX + "1"]["ecs_anywhere_proxy_url"],
        code=activation["ActivationCode"],
        id=activation["ActivationId"],
        region=region,
    )
    exhausted = running_lab.ssh(HOST_PREFIX + "1", third + " -y 2>&1 || echo exit=$?\n")
    assert "registration limit" in exhausted and "exit=1" in exhausted, exhausted
    report(
        request, "agents installed, verified, registered and joined on 2 hosts in %.1fs" % (time.monotonic() - started)
    )


def test_down_leaves_nothing(running_lab):
    state = running_lab.state
    processes = [(host["pid"], host["marker"]) for host in state["hosts"]]
    processes += [(state[name]["pid"], state[name]["marker"]) for name in ("emulator", "mirror", "proxy")]
    first = lab("down")
    assert first.returncode == 0, first.stderr
    second = lab("down")
    assert second.returncode == 0, second.stderr
    assert not [pid for pid, marker in processes if is_ours(pid, marker)]
    assert not [host["leader"] for host in state["hosts"] if os.path.exists("/proc/%d" % host["leader"])]
    # This lab's links only: other labs (molecule's, the other xdist worker's) may run beside it.
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines()]
    assert not [host["link"] for host in state["hosts"] if host["link"] in names]
    with open("/proc/mounts", encoding="utf-8") as handle:
        mounts = handle.read()
    assert STATE_DIR not in mounts and os.path.join(CACHE_DIR, "images") not in mounts
    assert not os.path.exists(STATE_DIR)
