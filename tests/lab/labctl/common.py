# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths, settings, the state file and process helpers shared by the lab's commands."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/lab
REPO = os.path.dirname(os.path.dirname(LAB_DIR))
STATE_DIR = os.environ.get("LAB_STATE_DIR") or os.path.join(REPO, ".lab")
CACHE_DIR = os.environ.get("LAB_CACHE_DIR") or "/var/cache/ecs-anywhere-lab"
STATE_FILE = os.path.join(STATE_DIR, "state.json")
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")

DEBIAN_MIRROR = os.environ.get("LAB_DEBIAN_MIRROR") or "http://deb.debian.org/debian"
DEFAULT_REGION = "eu-west-1"
# Candidate /24s for the hosts' point-to-point /30 links; the first one unused on this machine wins.
SUBNET_CANDIDATES = ["172.29.77.0/24", "172.29.78.0/24", "10.213.77.0/24", "10.213.78.0/24"]
PROXY_PORT = 3128
# LAB_INSTANCE (one lower-case letter or digit) lets a second lab run beside the first on the same machine, from
# another checkout (its own .lab/) and with its own LAB_SUBNET: its hosts, veth links and firewall table get
# their own names. Unset: the usual names.
LAB_INSTANCE = os.environ.get("LAB_INSTANCE", "")
if not re.match(r"^[a-z0-9]?$", LAB_INSTANCE):
    raise SystemExit("LAB_INSTANCE must be one lower-case letter or digit (got %r)" % LAB_INSTANCE)
HOST_PREFIX = "op%s-" % LAB_INSTANCE if LAB_INSTANCE else "onprem-"
# Names the hosts use for the lab's services; only the site proxy knows where they are.
AWS_NAME = "aws.lab.internal"
ARTIFACTS_NAME = "artifacts.lab.internal"
# Credentials the controller uses with the emulator (it accepts any; these are the moto convention).
CONTROLLER_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class LabError(Exception):
    """A failure to report to the user without a traceback."""


def say(message, *args):
    sys.stderr.write("lab: " + (message % args if args else message) + "\n")
    sys.stderr.flush()


def run(cmd, check=True, capture=False, timeout=None, env=None, cwd=None, stdin=None):
    """Run a command; raise LabError with its output when it fails and ``check`` is set."""
    proc = subprocess.run(
        cmd,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        input=stdin,
    )
    if check and proc.returncode != 0:
        raise LabError(
            "%s failed (%d): %s" % (" ".join(cmd), proc.returncode, (proc.stderr or proc.stdout).strip()[-2000:])
        )
    return proc.stdout if capture else proc


def load_state():
    try:
        with open(STATE_FILE, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def save_state(state):
    os.makedirs(STATE_DIR, exist_ok=True)
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    os.replace(tmp, STATE_FILE)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().split(b"\0")
    except OSError:
        return []


def is_ours(pid, marker):
    """True when ``pid`` is alive and its command line still contains ``marker`` (guards against PID reuse)."""
    if not pid:
        return False
    return any(marker.encode() in part for part in cmdline(int(pid)))


def stop_pid(pid, marker, timeout=10.0, sig=signal.SIGTERM):
    """Stop one process we started, by its PID, after checking it is still ours; SIGKILL after ``timeout``."""
    if not is_ours(pid, marker):
        return False
    try:
        os.kill(int(pid), sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(pid, marker):
            return True
        time.sleep(0.1)
    try:
        os.kill(int(pid), signal.SIGKILL)
    except ProcessLookupError:
        pass
    for _attempt in range(50):
        if not is_ours(pid, marker):
            break
        time.sleep(0.1)
    return True


def reap(pid):
    try:
        os.waitpid(int(pid), os.WNOHANG)
    except ChildProcessError:
        pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, timeout, what, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LabError("%s exited with %s before listening on %s:%s" % (what, proc.returncode, host, port))
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise LabError("%s did not listen on %s:%s within %ss" % (what, host, port, timeout))


def spawn(cmd, log_path, cwd=None, env=None):
    """Start a long-running process in its own session, output to ``log_path``; returns the Popen."""
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # pylint: disable=consider-using-with
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
