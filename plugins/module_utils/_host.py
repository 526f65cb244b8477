# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: what an ECS Anywhere host looks like from the inside, read without
moving a secret off it (modules host_facts and verified_download run this on the host).

Paths and rules follow AWS's installer (``scripts/ecs-anywhere-install.sh`` in aws/amazon-ecs-agent)
and the agents' own sources; each reader names what it imitates.
"""

import glob
import hashlib
import json
import os
import re
import stat
import time

SSM_STATE = "/var/lib/amazon/ssm"
# amazon-ssm-agent agent/managedInstances/registration: the vault's RegistrationKey holds
# {"instanceID", "region", "privateKey", ...}; the private key is the host's identity secret.
REGISTRATION_KEY = SSM_STATE + "/Vault/Store/RegistrationKey"
SNAP_UNIT = "snap.amazon-ssm-agent.amazon-ssm-agent.service"
SNAP_BINARY = "/snap/amazon-ssm-agent/current/amazon-ssm-agent"
DEB_UNIT = "amazon-ssm-agent.service"
ECS_CONFIG = "/etc/ecs/ecs.config"
ECS_ANYWHERE_CONFIG = "/var/lib/ecs/ecs.config"
MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")
# Variables the AWS SDKs read before the shared credentials file (amazon-ecs-agent #3604, #3812).
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
# Where ecs-anywhere-install.sh looks for the CA bundle it copies for ECS Exec (find-copy-certs-exec).
CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


def _read(path, root=""):
    with open(root + path, encoding="utf-8") as handle:
        return handle.read()


def ssm_registration(root=""):
    """The host's SSM registration: ``{"state", "instance_id", "region", "detail"}``, never the key.

    state is ``registered``, ``absent`` (no file, or emptied by ``amazon-ssm-agent -register -clear``)
    or ``unreadable`` (permission denied or not JSON): a registration that could not be read must
    never be overwritten by ``-register -y``.

    ``interrupted``: absent, but the vault holds a private key without an instance id -- what
    aws/amazon-ssm-agent core/agent_parser.go registerManagedInstance leaves when it stops after saving
    the new key (UpdateServerInfo("", "", privateKey, keyType)) and before saving the id SSM returned:
    killed while registering (SSM may hold a managed instance the host never kept), or a registration
    SSM refused. ``-register -clear`` empties the key too (clearRegistration: UpdateServerInfo("", "", "", "")).
    """
    result = {"state": "absent", "instance_id": "", "region": "", "detail": "", "interrupted": False}
    try:
        text = _read(REGISTRATION_KEY, root)
    except FileNotFoundError:
        return result
    except OSError as exc:
        result.update(state="unreadable", detail="%s: %s" % (REGISTRATION_KEY, exc.strerror or exc))
        return result
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        result.update(state="unreadable", detail="%s is not JSON" % REGISTRATION_KEY)
        return result
    if not isinstance(data, dict):
        result.update(state="unreadable", detail="%s is not a JSON object" % REGISTRATION_KEY)
        return result
    instance_id = data.get("instanceID") or ""
    if not instance_id:
        result["interrupted"] = bool(data.get("privateKey"))
        return result
    if not MANAGED_INSTANCE_ID.match(instance_id):
        result.update(state="unreadable", detail="%s names no managed instance id" % REGISTRATION_KEY)
        return result
    result.update(state="registered", instance_id=instance_id, region=data.get("region") or "")
    return result


def env_file(path, root=""):
    """KEY=VALUE lines of an EnvironmentFile-style file; {} when missing or unreadable."""
    values = {}
    try:
        text = _read(path, root)
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def credential_profiles(path, root=""):
    """Section names of an AWS shared credentials file (values are never read out)."""
    try:
        text = _read(path, root)
    except OSError:
        return []
    return [m.group(1).strip() for m in re.finditer(r"(?m)^\s*\[([^\]]+)\]\s*$", text)]


def credential_conflicts(registration_state, root="", interrupted=False):
    """Local AWS credentials that the agents would take instead of the instance role's.

    Each finding is ``{"where", "what"}``, names only (never a value). The SSM agent shares the role's
    rotating credentials as profile ``default`` of root's ``~/.aws/credentials``; before registration
    a ``default`` profile there is somebody else's and would be overwritten, then used by both agents.
    After an ``interrupted`` registration (see ``ssm_registration``) it is the agent's own, from the
    identity the host had before (a re-registration cleared with ``-register -clear`` that did not
    complete): this check let the host register then, and the next registration overwrites it.
    """
    findings = []
    environment = env_file("/etc/environment", root)
    for name in CREDENTIAL_VARIABLES:
        if environment.get(name):
            findings.append({"where": "/etc/environment", "what": name})
    for path in (ECS_ANYWHERE_CONFIG, ECS_CONFIG):
        config = env_file(path, root)
        for name in CREDENTIAL_VARIABLES[:3]:
            if config.get(name):
                findings.append({"where": path, "what": name})
    if registration_state == "absent" and not interrupted:
        for path in ("/root/.aws/credentials",):
            if "default" in credential_profiles(path, root):
                findings.append({"where": path, "what": "profile default"})
    return findings


def os_release(root=""):
    values = env_file("/etc/os-release", root)
    return {
        "id": values.get("ID", ""),
        "id_like": values.get("ID_LIKE", "").split(),
        "version_id": values.get("VERSION_ID", ""),
        "pretty_name": values.get("PRETTY_NAME", ""),
    }


def gpu(run_command, root=""):
    """What ecs-anywhere-install.sh (--enable-gpu: ``nvidia-smi`` must work) and ecs-init (``/dev/nvidia*``) need."""
    devices = sorted(glob.glob(root + "/dev/nvidia[0-9]*"))
    rc, _out, _err = run_command(["nvidia-smi", "-L"]) if run_command else (1, "", "")
    return {"nvidia_smi": rc == 0, "devices": [d[len(root) :] for d in devices]}


def ip_compatibility(root=""):
    """``ipv6`` on an IPv6-only host, else ``ipv4``: ecs-anywhere-install.sh (is-ipv6) calls a host IPv6-only when
    it has a default IPv6 route and no default IPv4 route, and assumes IPv4 when it has neither."""
    try:
        routes = _read("/proc/net/route", root).splitlines()[1:]
    except OSError:
        routes = []
    if any(len(f) > 7 and f[1] == "00000000" and f[7] == "00000000" for f in (line.split() for line in routes)):
        return "ipv4"
    try:
        routes6 = _read("/proc/net/ipv6_route", root).splitlines()
    except OSError:
        routes6 = []
    if any(len(f) > 1 and f[0] == "0" * 32 and f[1] == "00" for f in (line.split() for line in routes6)):
        return "ipv6"
    return "ipv4"


def ca_bundle(root=""):
    for path in CA_BUNDLES:
        if os.path.isfile(root + path):
            return path
    return ""


# ---------------------------------------------------------------------------------------------------------------
# What the host roles own, as one look (the fast no-op path): a role compares this with what it would write and
# walks its tasks only when something differs. Paths are the roles' (roles/*/tasks); the SSM agent's drop-ins are
# read for the unit in use (deb or snap).
DOCKER_UNIT = "docker.service"
ECS_UNIT = "ecs.service"
ECS_METADATA_URL = "http://localhost:51678/v1/metadata"  # amazon-ecs-agent introspection (agent/handlers)
EXEC_DIR = "/var/lib/ecs/deps/execute-command"
EXEC_BINARIES = ("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")


def drop_in_paths(unit):
    """The proxy drop-in directory of ``unit`` and its two files, as the roles write them."""
    directory = "/etc/systemd/system/%s.d" % unit
    return [directory, directory + "/http-proxy.env", directory + "/http-proxy.conf"]


def owned_paths(ssm_unit):
    """Every configuration file and directory the docker, ssm_agent and ecs_agent roles write."""
    return (
        drop_in_paths(DOCKER_UNIT)
        + drop_in_paths(ssm_unit)
        + ["/etc/amazon/ssm/amazon-ssm-agent.json"]
        + ["/etc/ecs", "/var/lib/ecs", ECS_CONFIG, ECS_ANYWHERE_CONFIG]
        + drop_in_paths(ECS_UNIT)
        + [EXEC_DIR + "/certs", EXEC_DIR + "/certs/tls-ca-bundle.pem", EXEC_DIR + "/bin"]
    )


def exec_binaries(root=""):
    """``{version: [binary, ...]}``: which of ECS Exec's three SSM binaries are in each version directory (the agent
    advertises ecs.capability.execute-command only when all three of its version are there)."""
    found = {}
    for directory in sorted(glob.glob(root + EXEC_DIR + "/bin/*/")):
        version = os.path.basename(directory.rstrip("/"))
        found[version] = [name for name in EXEC_BINARIES if os.path.isfile(os.path.join(directory, name))]
    return found


def path_state(path, root="", digest_limit=1 << 20):
    """``{"exists", "type", "mode", "uid", "mtime", "sha256"}`` of one path, symlinks followed as the file modules
    follow them. The digest is of regular files up to ``digest_limit`` bytes ('' otherwise): the roles compare it
    with what they would write. A file that cannot be read has an empty digest, which matches nothing."""
    try:
        info = os.stat(root + path)
    except OSError:
        return {"exists": False, "type": "", "mode": "", "uid": -1, "mtime": 0.0, "sha256": ""}
    if stat.S_ISREG(info.st_mode):
        kind = "file"
    elif stat.S_ISDIR(info.st_mode):
        kind = "directory"
    else:
        kind = "other"
    digest = ""
    if kind == "file" and info.st_size <= digest_limit:
        try:
            with open(root + path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError:
            digest = ""
    return {
        "exists": True,
        "type": kind,
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "uid": info.st_uid,
        "mtime": info.st_mtime,
        "sha256": digest,
    }


def unit_states(run_command, units):
    """``{unit: {"active", "enabled", "need_daemon_reload", "started"}}`` from one ``systemctl show`` of all units.

    ``started`` is when the unit last became active, in seconds since the epoch (0 when it is not active): a setting
    written after it means a restart was lost (an earlier run failed between writing a file and its handler).
    """
    found = dict((unit, {"active": "", "enabled": "", "need_daemon_reload": False, "started": 0.0}) for unit in units)
    if not units:
        return found
    properties = "Id,ActiveState,UnitFileState,NeedDaemonReload,ActiveEnterTimestampMonotonic"
    rc, out, _err = run_command(["systemctl", "show", "--property=" + properties] + list(units))
    if rc != 0:
        return found
    # CLOCK_MONOTONIC is the clock systemd stamps *Monotonic with; the same on the host and in its containers.
    boot = time.time() - time.monotonic()
    # systemctl show prints one block per unit, in the order asked, separated by blank lines.
    blocks = out.strip("\n").split("\n\n")
    for unit, block in zip(units, blocks):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        monotonic = int(values.get("ActiveEnterTimestampMonotonic") or 0)
        active = values.get("ActiveState", "")
        found[unit] = {
            "active": active,
            "enabled": values.get("UnitFileState", ""),
            "need_daemon_reload": values.get("NeedDaemonReload", "no") == "yes",
            "started": round(boot + monotonic / 1e6, 3) if monotonic and active == "active" else 0.0,
        }
    return found


def ecs_agent_metadata(fetch):
    """The ECS agent's introspection answer (``{"cluster", "container_instance_arn", "version"}``), or ``{}`` when it
    does not answer. ``fetch(url)`` returns the body; ``ContainerInstanceArn`` is null until the agent registers."""
    try:
        data = json.loads(fetch(ECS_METADATA_URL))
    except (OSError, ValueError):  # not running, not listening, not JSON: no answer
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        "cluster": data.get("Cluster") or "",
        "container_instance_arn": data.get("ContainerInstanceArn") or "",
        "version": data.get("Version") or "",
    }
