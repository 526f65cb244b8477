# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: what an ECS Anywhere host looks like from the inside, read without
moving a secret off it (modules host_facts and verified_download run this on the host).

Paths and rules follow AWS's installer (``scripts/ecs-anywhere-install.sh`` in aws/amazon-ecs-agent)
and the agents' own sources; each reader names what it imitates.
"""

import glob
import json
import os
import re

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
    """
    result = {"state": "absent", "instance_id": "", "region": "", "detail": ""}
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


def credential_conflicts(registration_state, root=""):
    """Local AWS credentials that the agents would take instead of the instance role's.

    Each finding is ``{"where", "what"}``, names only (never a value). The SSM agent shares the role's
    rotating credentials as profile ``default`` of root's ``~/.aws/credentials``; before registration
    a ``default`` profile there is somebody else's and would be overwritten, then used by both agents.
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
    if registration_state == "absent":
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
