# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``tests/lab/lab setup | up [--hosts N] [--release R,R] [--region R] | status | inventory [-o FILE] | down``,
``tests/lab/lab proxy stop|start`` (a site proxy outage), ``tests/lab/lab mirror tamper|repair FILE``."""

import argparse
import concurrent.futures
import fcntl
import os
import secrets
import shutil
import sys
import time
import urllib.parse

from labctl import hosts as hostlib
from labctl import image
from labctl import inventory
from labctl import packages
from labctl.common import ARTIFACTS_NAME
from labctl.common import AWS_NAME
from labctl.common import CACHE_DIR
from labctl.common import DEBIAN_MIRROR
from labctl.common import DEFAULT_REGION
from labctl.common import LAB_DIR
from labctl.common import PROXY_PORT
from labctl.common import STATE_DIR
from labctl.common import VENV_PYTHON
from labctl.common import LabError
from labctl.common import free_port
from labctl.common import is_ours
from labctl.common import load_state
from labctl.common import run
from labctl.common import save_state
from labctl.common import say
from labctl.common import spawn
from labctl.common import stop_pid
from labctl.common import wait_for_port

# Debian packages the lab needs on this machine (`lab setup`), and the commands that prove them.
DEBIAN_PACKAGES = [
    "debootstrap",
    "debian-archive-keyring",
    "systemd-container",
    "gnupg",
    "iproute2",
    "openssh-client",
    "util-linux",
    "ca-certificates",
    "nftables",
]
COMMANDS = ["debootstrap", "systemd-nspawn", "gpg", "gpgconf", "dpkg-deb", "ip", "nft", "ssh", "ssh-keygen", "nsenter"]


def _lock():
    os.makedirs(CACHE_DIR, exist_ok=True)
    handle = open(os.path.join(CACHE_DIR, "lab.lock"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


# --- setup ---------------------------------------------------------------------------------------------------


def cmd_setup(_args):
    # `make test` runs the lab and molecule stages at the same time, each starting with `lab setup`: one apt at a time.
    os.makedirs(CACHE_DIR, exist_ok=True)
    with open(os.path.join(CACHE_DIR, ".setup.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _setup()


def _setup():
    missing = []
    for package in DEBIAN_PACKAGES:
        status = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
        if status.returncode != 0 or "install ok installed" not in status.stdout:
            missing.append(package)
    if missing:
        say("installing %s", " ".join(missing))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-q"], env=env, timeout=600)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing, env=env, timeout=1200)
    absent = [command for command in COMMANDS if shutil.which(command) is None]
    if absent:
        raise LabError("commands still missing after setup: %s" % " ".join(absent))
    if not os.path.exists(VENV_PYTHON):
        say("note: %s is missing; run `make setup` (the AWS emulator runs from the project's virtualenv)", VENV_PYTHON)
    say("setup ok (%s)", "installed " + " ".join(missing) if missing else "nothing to install")
    return 0


# --- up --------------------------------------------------------------------------------------------------------


def _alive(state):
    if not state:
        return False
    services = [state.get(name) or {} for name in ("emulator", "mirror", "proxy")]
    if any(is_ours(service.get("pid"), service.get("marker", "\0")) for service in services):
        return True
    return any(hostlib.running(host) for host in state.get("hosts", []))


def _start_emulator(state):
    if not os.path.exists(VENV_PYTHON):
        raise LabError("%s is missing: run `make setup` first" % VENV_PYTHON)
    port = free_port()
    pidfile = os.path.join(STATE_DIR, "emulator.pid")
    log = os.path.join(STATE_DIR, "logs", "emulator.log")
    proc = spawn(
        # The hosts reach the emulator as aws.lab.internal, a name without a region; it stands for the
        # lab region's endpoints, so the agent's calls are checked against that region as AWS would.
        [
            VENV_PYTHON,
            "-m",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--pidfile",
            pidfile,
            "--quiet",
            "--endpoint-region",
            state["region"],
        ],
        log,
        cwd=LAB_DIR,
    )
    state["emulator"] = {"pid": proc.pid, "port": port, "marker": pidfile, "log": log}
    save_state(state)
    wait_for_port("127.0.0.1", port, 60, "the AWS emulator (%s)" % log, proc)


def _start_mirror(state):
    mirror = os.path.join(STATE_DIR, "mirror")
    info = packages.build_mirror(
        mirror, os.path.join(STATE_DIR, "build"), os.path.join(STATE_DIR, "gnupg"), state["region"]
    )
    shutil.rmtree(os.path.join(STATE_DIR, "build"), ignore_errors=True)
    port = free_port()
    log = os.path.join(STATE_DIR, "logs", "mirror.log")
    proc = spawn([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", mirror, str(port)], log)
    info.update({"pid": proc.pid, "port": port, "marker": mirror, "log": log, "root": mirror})
    state["mirror"] = info
    save_state(state)
    wait_for_port("127.0.0.1", port, 30, "the artifact mirror", proc)


def _start_proxy(state):
    log = os.path.join(STATE_DIR, "logs", "proxy.log")
    cmd = [sys.executable, "-m", "labctl.proxy", "--log", log, "--allow-client", state["subnet"]]
    for host in state["hosts"]:
        cmd += ["--listen", "%s:%d" % (host["gateway"], PROXY_PORT)]
    cmd += ["--route", "%s:80=127.0.0.1:%d" % (AWS_NAME, state["emulator"]["port"])]
    cmd += ["--route", "%s:80=127.0.0.1:%d" % (ARTIFACTS_NAME, state["mirror"]["port"])]
    cmd += ["--allow-host", urllib.parse.urlsplit(DEBIAN_MIRROR).hostname]
    # The site proxy wants a user and password, as many corporate proxies do: every client (apt, the
    # agents, Ansible's downloads) must carry them, and tests can look for the password in output.
    credentials_file = os.path.join(STATE_DIR, "proxy-credentials")
    with open(os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        handle.write(state["proxy_credentials"] + "\n")
    cmd += ["--credentials-file", credentials_file]
    env = dict(os.environ, PYTHONPATH=LAB_DIR)
    proc = spawn(cmd, os.path.join(STATE_DIR, "logs", "proxy.out"), env=env)
    state["proxy"] = {"pid": proc.pid, "port": PROXY_PORT, "marker": log, "log": log}
    save_state(state)
    for host in state["hosts"]:
        wait_for_port(host["gateway"], PROXY_PORT, 30, "the site proxy", proc)


def _ssh_key(state):
    key = os.path.join(STATE_DIR, "ssh", "id_ed25519")
    os.makedirs(os.path.dirname(key), mode=0o700, exist_ok=True)
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ecs-anywhere-lab", "-f", key])
    state["ssh_key"] = key
    with open(key + ".pub", encoding="utf-8") as handle:
        return handle.read()


def cmd_up(args):
    started = time.monotonic()
    releases = [r.strip() for r in args.release.split(",") if r.strip()]
    for release in releases:
        if release not in image.RELEASES:
            raise LabError("unsupported release %r (choose from %s)" % (release, ",".join(image.RELEASES)))
    lock = _lock()
    try:
        state = load_state()
        if _alive(state):
            raise LabError("the lab is already up (see `lab status`); run `lab down` first")
        if state:
            _down(state)
        subnet = hostlib.pick_subnet()
        state = {
            "region": args.region,
            "subnet": subnet,
            "hosts": hostlib.plan(args.hosts, releases, subnet),
            "started": time.time(),
            "timings": {},
            "proxy_credentials": "site-%s:%s" % (secrets.token_hex(3), secrets.token_urlsafe(18)),
        }
        os.makedirs(os.path.join(STATE_DIR, "logs"), exist_ok=True)
        save_state(state)
        try:
            _up(state, releases, started)
        except BaseException:
            say("lab up failed; cleaning up (logs were in %s)", os.path.join(STATE_DIR, "logs"))
            _down(state, keep_logs=True)
            raise
    finally:
        lock.close()
    print(inventory.render(state) if args.print_inventory else _summary(state))
    return 0


def _up(state, releases, started):
    timings = state["timings"]
    public_key = _ssh_key(state)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        t0 = time.monotonic()
        images = {release: pool.submit(image.build, release) for release in sorted(set(releases))}
        emulator = pool.submit(_start_emulator, state)
        mirror = pool.submit(_start_mirror, state)
        built = [release for release, future in images.items() if future.result()]
        timings["images"] = round(time.monotonic() - t0, 1)
        timings["images_built"] = built
        emulator.result()
        mirror.result()
    t0 = time.monotonic()
    hostlib.firewall_up()
    state["firewall"] = hostlib.FIREWALL_TABLE
    procs = [hostlib.start(host, STATE_DIR) for host in state["hosts"]]
    save_state(state)
    for host, proc in zip(state["hosts"], procs):
        hostlib.wait_network(host, proc)
    save_state(state)
    _start_proxy(state)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(state["hosts"]))) as pool:
        list(pool.map(lambda host: hostlib.wait_boot(host, state["proxy_credentials"]), state["hosts"]))
    for host in state["hosts"]:
        hostlib.install_key(host, public_key)
    timings["boot"] = round(time.monotonic() - t0, 1)
    timings["total"] = round(time.monotonic() - started, 1)
    save_state(state)
    with open(os.path.join(STATE_DIR, "inventory.yml"), "w", encoding="utf-8") as handle:
        handle.write(inventory.render(state))


def _summary(state):
    lines = [
        "lab up in %.1fs (images %.1fs%s, boot %.1fs); region %s, subnet %s"
        % (
            state["timings"]["total"],
            state["timings"]["images"],
            ", built " + ",".join(state["timings"]["images_built"]) if state["timings"]["images_built"] else ", cached",
            state["timings"]["boot"],
            state["region"],
            state["subnet"],
        )
    ]
    for host in state["hosts"]:
        lines.append(
            "  %-10s %-9s %-15s proxy http://%s:%d"
            % (host["name"], host["release"], host["address"], host["gateway"], PROXY_PORT)
        )
    lines.append("  emulator   http://127.0.0.1:%d (hosts: http://%s)" % (state["emulator"]["port"], AWS_NAME))
    lines.append("  mirror     http://127.0.0.1:%d (hosts: http://%s)" % (state["mirror"]["port"], ARTIFACTS_NAME))
    lines.append("  inventory  %s" % os.path.join(STATE_DIR, "inventory.yml"))
    return "\n".join(lines)


# --- status / inventory ------------------------------------------------------------------------------------------


def cmd_status(_args):
    state = load_state()
    if not state:
        print("lab: down (no state in %s)" % STATE_DIR)
        return 1
    healthy = True
    for name in ("emulator", "mirror", "proxy"):
        service = state.get(name) or {}
        alive = is_ours(service.get("pid"), service.get("marker", "\0"))
        healthy = healthy and alive
        print(
            "%-10s %-8s pid %-7s port %s"
            % (name, "running" if alive else "STOPPED", service.get("pid"), service.get("port"))
        )
    for host in state.get("hosts", []):
        status = hostlib.system_state(host)
        healthy = healthy and status in ("running", "degraded")
        print(
            "%-10s %-8s pid %-7s %s %s (%s)"
            % (host["name"], status, host.get("pid"), host["address"], host["link"], host["release"])
        )
    return 0 if healthy else 1


def cmd_inventory(args):
    state = load_state()
    if not state or not _alive(state):
        raise LabError("the lab is not up (run `lab up`)")
    text = inventory.render(state)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        say("inventory written to %s", args.output)
    else:
        sys.stdout.write(text)
    return 0


# --- faults: the site proxy down, a tampered file on the mirror ------------------------------------------------


def _running_state():
    state = load_state()
    if not state or not _alive(state):
        raise LabError("the lab is not up (run `lab up`)")
    return state


def cmd_proxy(args):
    """A site proxy outage and its end. Stands in for the site's forward proxy (squid and the like) going down: its
    process stops, so the hosts' connections to <gateway>:3128 are refused -- what every client behind it (apt, the
    agents' Go HTTP clients, Ansible's downloads) then meets. Stopped by the PID `lab up` recorded, after checking it is
    still the proxy (never by name); started again with the same addresses, routes and password."""
    lock = _lock()
    try:
        state = _running_state()
        proxy = state.get("proxy") or {}
        running = is_ours(proxy.get("pid"), proxy.get("marker", "\0"))
        if args.action == "stop":
            if running:
                stop_pid(proxy["pid"], proxy["marker"])
                say("site proxy stopped (pid %s): the hosts have no way out until `lab proxy start`", proxy["pid"])
            else:
                say("the site proxy is not running")
        elif running:
            say("the site proxy is running (pid %s)", proxy["pid"])
        else:
            _start_proxy(state)
            say("site proxy started (pid %s)", state["proxy"]["pid"])
    finally:
        lock.close()
    return 0


def cmd_mirror(args):
    """A tampered file on the artifact mirror, and the mirror repaired (labctl.packages.tamper / repair)."""
    lock = _lock()
    try:
        state = _running_state()
        if args.action == "tamper":
            packages.tamper(state, args.path)
            say("%s tampered with on the mirror (its signature no longer matches)", args.path)
        else:
            packages.repair(state, args.path)
            say("%s repaired on the mirror", args.path)
    finally:
        lock.close()
    return 0


# --- down ------------------------------------------------------------------------------------------------------


def _down(state, keep_logs=False):
    for host in state.get("hosts", []):
        if host.get("pid") or host.get("leader"):
            hostlib.stop(host)
        elif run(["ip", "link", "show", host["link"]], check=False).returncode == 0:
            run(["ip", "link", "delete", host["link"]], check=False)
    for name in ("proxy", "mirror", "emulator"):
        service = state.get(name) or {}
        if service.get("pid"):
            stop_pid(service["pid"], service.get("marker", "\0"))
    hostlib.firewall_down()
    packages.stop_gpg_agent(os.path.join(STATE_DIR, "gnupg"))
    for line in open("/proc/mounts", encoding="utf-8").read().splitlines():
        mountpoint = line.split()[1]
        if mountpoint.startswith(STATE_DIR + "/") or mountpoint.startswith(os.path.join(CACHE_DIR, "images") + "/"):
            run(["umount", "-l", mountpoint], check=False)
    if os.path.isdir(STATE_DIR):
        for entry in os.listdir(STATE_DIR):
            if keep_logs and entry == "logs":
                continue
            path = os.path.join(STATE_DIR, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)
        if not os.listdir(STATE_DIR):
            os.rmdir(STATE_DIR)


def cmd_down(_args):
    lock = _lock()
    try:
        state = load_state()
        if state is None and not os.path.isdir(STATE_DIR):
            say("nothing to do: the lab is down")
            return 0
        _down(state or {})
        say("lab down: processes stopped, links and %s removed", STATE_DIR)
    finally:
        lock.close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="lab", description="The ecs_anywhere.fleet offline lab (see tests/lab/README.md)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="install the Debian packages the lab needs (idempotent)").set_defaults(func=cmd_setup)
    up = sub.add_parser("up", help="build/reuse images, start emulator, mirror, proxy and hosts")
    up.add_argument("--hosts", type=int, default=2, help="number of hosts (default 2)")
    up.add_argument(
        "--release",
        default=",".join(image.RELEASES),
        help="Debian releases, assigned round-robin (default bookworm,trixie)",
    )
    up.add_argument("--region", default=DEFAULT_REGION, help="AWS region of the site (default %s)" % DEFAULT_REGION)
    up.add_argument("--print-inventory", action="store_true", help="print the inventory instead of the summary")
    up.set_defaults(func=cmd_up)
    sub.add_parser("status", help="show what runs").set_defaults(func=cmd_status)
    inv = sub.add_parser("inventory", help="write the Ansible inventory of the running lab")
    inv.add_argument("-o", "--output", help="file to write (default: standard output)")
    inv.set_defaults(func=cmd_inventory)
    sub.add_parser("down", help="stop and remove everything `up` started and made").set_defaults(func=cmd_down)
    proxy = sub.add_parser("proxy", help="stop the site proxy (an outage) or start it again")
    proxy.add_argument("action", choices=("stop", "start"))
    proxy.set_defaults(func=cmd_proxy)
    mirror = sub.add_parser("mirror", help="tamper with a file on the artifact mirror, or repair it")
    mirror.add_argument("action", choices=("tamper", "repair"))
    mirror.add_argument(
        "path", help="the file's path in the mirror, e.g. amazon-ecs-agent-eu-west-1/amazon-ecs-init-latest.amd64.deb"
    )
    mirror.set_defaults(func=cmd_mirror)
    args = parser.parse_args(argv)
    if os.geteuid() != 0 and args.command != "inventory":
        say("the lab needs root (debootstrap, systemd-nspawn, ip)")
        return 2
    try:
        return args.func(args)
    except LabError as exc:
        say("error: %s", exc)
        return 1
