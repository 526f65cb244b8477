# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's hosts: systemd-nspawn machines booted from the cached images, each in its own network
namespace on a /30 point-to-point link whose gateway end (in this machine's namespace) is the only
thing it can reach -- and there only the site proxy listens."""

import ipaddress
import json
import os
import shutil
import socket
import subprocess
import time

from labctl import image
from labctl.common import HOST_PREFIX
from labctl.common import LAB_INSTANCE
from labctl.common import PROXY_PORT
from labctl.common import SUBNET_CANDIDATES
from labctl.common import LabError
from labctl.common import is_ours
from labctl.common import run
from labctl.common import say
from labctl.common import spawn
from labctl.common import stop_pid

FIREWALL_TABLE = "ecs_anywhere_lab" + ("_" + LAB_INSTANCE if LAB_INSTANCE else "")
# The hosts may reach this machine only at the site proxy (and answer what it sends them); nothing is
# forwarded for them. One nftables table of the lab's own, deleted by `lab down`.
FIREWALL = """\
table inet {table} {{
    chain input {{
        type filter hook input priority filter; policy accept;
        iifname "{links}" ct state established,related accept
        iifname "{links}" tcp dport {port} accept
        iifname "{links}" counter drop
    }}
    chain forward {{
        type filter hook forward priority filter; policy accept;
        iifname "{links}" counter drop
        oifname "{links}" counter drop
    }}
}}
"""

APT_PROXY = """\
// The site's HTTP proxy (ecs_anywhere.fleet offline lab): this host has no other way out.
Acquire::http::Proxy "http://{credentials}@{gateway}:{port}/";
Acquire::https::Proxy "http://{credentials}@{gateway}:{port}/";
"""


def _used_networks():
    networks = []
    for cmd in (["ip", "-j", "-4", "addr"], ["ip", "-j", "-4", "route", "show", "table", "all"]):
        data = json.loads(run(cmd, capture=True) or "[]")
        for entry in data:
            for info in entry.get("addr_info", []):
                networks.append(ipaddress.ip_network("%s/%s" % (info["local"], info["prefixlen"]), strict=False))
            dst = entry.get("dst")
            if dst and dst != "default":
                try:
                    networks.append(ipaddress.ip_network(dst, strict=False))
                except ValueError:
                    pass
    for line in (
        open("/etc/resolv.conf", encoding="utf-8").read().splitlines() if os.path.exists("/etc/resolv.conf") else []
    ):
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                networks.append(ipaddress.ip_network(fields[1]))
            except ValueError:
                pass
    return networks


def pick_subnet():
    """The first candidate /24 that overlaps no address, route or name server of this machine."""
    used = _used_networks()
    wanted = os.environ.get("LAB_SUBNET")
    for candidate in [wanted] if wanted else SUBNET_CANDIDATES:
        net = ipaddress.ip_network(candidate)
        if not any(net.overlaps(other) for other in used if other.prefixlen > 0):
            return str(net)
    raise LabError(
        "every candidate subnet is in use on this machine (%s); set LAB_SUBNET" % ", ".join(SUBNET_CANDIDATES)
    )


def firewall_up():
    firewall_down()
    rules = FIREWALL.format(table=FIREWALL_TABLE, links="ve-%s*" % HOST_PREFIX, port=PROXY_PORT)
    run(["nft", "-f", "-"], stdin=rules)


def firewall_down():
    if shutil.which("nft") and run(["nft", "list", "table", "inet", FIREWALL_TABLE], check=False).returncode == 0:
        run(["nft", "delete", "table", "inet", FIREWALL_TABLE])


def plan(count, releases, subnet):
    net = ipaddress.ip_network(subnet)
    if count < 1 or count > net.num_addresses // 4:
        raise LabError("--hosts must be between 1 and %d" % (net.num_addresses // 4))
    hosts = []
    for index in range(count):
        base = net.network_address + 4 * index
        name = "%s%d" % (HOST_PREFIX, index + 1)
        hosts.append(
            {
                "name": name,
                "release": releases[index % len(releases)],
                "gateway": str(base + 1),
                "address": str(base + 2),
                "prefixlen": 30,
                "link": "ve-" + name,
            }
        )
    return hosts


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid), encoding="utf-8") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _is_leader(pid):
    """The container's PID 1 (systemd), seen from here: its NSpid ends with 1 and it runs systemd."""
    try:
        with open("/proc/%d/status" % pid, encoding="utf-8") as handle:
            nspid = [line.split()[1:] for line in handle if line.startswith("NSpid:")]
        return bool(nspid) and nspid[0][-1] == "1" and os.readlink("/proc/%d/exe" % pid).endswith("/systemd")
    except OSError:
        return False


def nsenter(leader, cmd, net_only=False, check=True, timeout=60):
    ns = ["--net"] if net_only else ["--mount", "--uts", "--ipc", "--net", "--pid"]
    return run(["nsenter", "--target", str(leader)] + ns + ["--"] + cmd, check=check, capture=False, timeout=timeout)


def start(host, state_dir):
    """Start systemd-nspawn for one host (returns at once; see wait_network / wait_boot)."""
    scratch = os.path.join(state_dir, "hosts", host["name"])
    os.makedirs(os.path.join(scratch, "docker"), exist_ok=True)
    host["scratch"] = scratch
    host["log"] = os.path.join(scratch, "console.log")
    cmd = [
        "systemd-nspawn",
        "--quiet",
        "--register=no",
        "--keep-unit",
        "--boot",
        "--directory=" + image.image_dir(host["release"]),
        "--volatile=overlay",
        "--machine=" + host["name"],
        "--hostname=" + host["name"],
        "--network-veth",
        "--capability=all",
        "--resolv-conf=off",
        "--link-journal=no",
        "--console=read-only",
        "--bind=%s:/var/lib/docker" % os.path.join(scratch, "docker"),
    ]
    proc = spawn(cmd, host["log"])
    host["pid"] = proc.pid
    host["marker"] = "--machine=" + host["name"]
    return proc


def wait_network(host, proc, timeout=60):
    """Find the container's PID 1, then address both ends of the veth link."""
    deadline = time.monotonic() + timeout
    leader = None
    while time.monotonic() < deadline and leader is None:
        if proc.poll() is not None:
            raise LabError("systemd-nspawn for %s exited (%s); see %s" % (host["name"], proc.returncode, host["log"]))
        for child in _children(host["pid"]):
            if _is_leader(child):
                leader = child
        if leader is None:
            time.sleep(0.1)
    if leader is None:
        raise LabError("%s: the container's init did not start within %ss" % (host["name"], timeout))
    host["leader"] = leader
    while time.monotonic() < deadline:
        if run(["ip", "link", "show", host["link"]], check=False).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise LabError("%s: link %s did not appear" % (host["name"], host["link"]))
    cidr = "/%d" % host["prefixlen"]
    run(["ip", "addr", "replace", host["gateway"] + cidr, "dev", host["link"]])
    run(["ip", "link", "set", host["link"], "up"])
    nsenter(leader, ["ip", "link", "set", "lo", "up"], net_only=True)
    nsenter(leader, ["ip", "addr", "replace", host["address"] + cidr, "dev", "host0"], net_only=True)
    nsenter(leader, ["ip", "link", "set", "host0", "up"], net_only=True)


def wait_boot(host, proxy_credentials, timeout=120):
    """Wait until systemd in the host is up (docker and sshd started), then install the site's settings."""
    leader = host["leader"]
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        proc = subprocess.run(
            [
                "nsenter",
                "--target",
                str(leader),
                "--mount",
                "--uts",
                "--ipc",
                "--net",
                "--pid",
                "--",
                "systemctl",
                "is-system-running",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        status = proc.stdout.strip()
        if status in ("running", "degraded"):
            break
        time.sleep(0.3)
    else:
        raise LabError(
            "%s did not finish booting within %ss (state %r); see %s" % (host["name"], timeout, status, host["log"])
        )
    if status == "degraded":
        failed = run(
            [
                "nsenter",
                "--target",
                str(leader),
                "--mount",
                "--pid",
                "--",
                "systemctl",
                "--failed",
                "--no-legend",
                "--plain",
            ],
            check=False,
        ).stdout
        say(
            "%s booted degraded: %s",
            host["name"],
            " ".join(line.split()[0] for line in failed.splitlines() if line.split()),
        )
    root = "/proc/%d/root" % leader
    apt_proxy = root + "/etc/apt/apt.conf.d/80site-proxy"
    with open(os.open(apt_proxy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(APT_PROXY.format(gateway=host["gateway"], port=PROXY_PORT, credentials=proxy_credentials))
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host["address"], 22), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH"):
                    return
        except OSError:
            time.sleep(0.2)
    raise LabError("%s: sshd does not answer on %s:22" % (host["name"], host["address"]))


def install_key(host, public_key):
    """The lab's SSH key for root (the tests' inspection) and the site user (what Ansible logs in as)."""
    root = "/proc/%d/root" % host["leader"]
    for home, owner in (("/root", 0), ("/home/" + image.SITE_USER, 1000)):
        path = root + home + "/.ssh/authorized_keys"
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.chown(os.path.dirname(path), owner, owner)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(public_key)
        os.chmod(path, 0o600)
        os.chown(path, owner, owner)


def running(host):
    return is_ours(host.get("pid"), host.get("marker", "systemd-nspawn"))


def system_state(host):
    if not running(host) or not host.get("leader"):
        return "stopped"
    proc = subprocess.run(
        ["nsenter", "--target", str(host["leader"]), "--mount", "--pid", "--", "systemctl", "is-system-running"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def stop(host, timeout=30):
    """Orderly shutdown (SIGTERM makes systemd-nspawn power the container off), then the link."""
    if host.get("pid") and running(host):
        stop_pid(host["pid"], host["marker"], timeout=timeout)
    leader = host.get("leader")
    if leader and _is_leader(leader):
        try:
            os.kill(leader, 9)  # only reached when nspawn died without taking its container with it
        except ProcessLookupError:
            pass
    if run(["ip", "link", "show", host["link"]], check=False).returncode == 0:
        run(["ip", "link", "delete", host["link"]], check=False)
