# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_host reads a host's state from its files: registration without the key, credentials by name only."""

import json
import os

import pytest

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _host

KEY = "LABPRIVATEKEY-do-not-leak"


def write(root, path, text, mode=0o600):
    full = os.path.join(str(root), path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(full, mode)


@pytest.mark.parametrize(
    "content, state, instance_id",
    [
        (None, "absent", ""),
        (
            json.dumps({"instanceID": "mi-0123456789abcdef0", "region": "eu-west-1", "privateKey": KEY}),
            "registered",
            "mi-0123456789abcdef0",
        ),
        # amazon-ssm-agent -register -clear leaves the file with empty fields.
        (json.dumps({"instanceID": "", "region": "", "privateKey": ""}), "absent", ""),
        ("", "absent", ""),
        ("{not json", "unreadable", ""),
        ("[]", "unreadable", ""),
        (json.dumps({"instanceID": "i-0123", "privateKey": KEY}), "unreadable", ""),
    ],
)
def test_registration_states(tmp_path, content, state, instance_id):
    if content is not None:
        write(tmp_path, _host.REGISTRATION_KEY, content)
    found = _host.ssm_registration(str(tmp_path))
    assert (found["state"], found["instance_id"]) == (state, instance_id)
    assert KEY not in json.dumps(found)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_registration_that_cannot_be_read_is_not_absent(tmp_path):
    write(tmp_path, _host.REGISTRATION_KEY, json.dumps({"instanceID": "mi-0123456789abcdef0"}), mode=0o000)
    found = _host.ssm_registration(str(tmp_path))
    assert found["state"] == "unreadable" and "Permission denied" in found["detail"]


def test_credential_conflicts_name_places_never_values(tmp_path):
    write(tmp_path, "/etc/environment", 'PATH="/usr/bin"\nAWS_ACCESS_KEY_ID="AKIASECRETVALUE"\nexport AWS_PROFILE=x\n')
    write(tmp_path, _host.ECS_CONFIG, "ECS_CLUSTER=a\nAWS_SECRET_ACCESS_KEY=verysecret\n")
    write(tmp_path, "/root/.aws/credentials", "[default]\naws_access_key_id = AKIAOTHER\n")
    found = _host.credential_conflicts("absent", str(tmp_path))
    assert found == [
        {"where": "/etc/environment", "what": "AWS_ACCESS_KEY_ID"},
        {"where": "/etc/environment", "what": "AWS_PROFILE"},
        {"where": _host.ECS_CONFIG, "what": "AWS_SECRET_ACCESS_KEY"},
        {"where": "/root/.aws/credentials", "what": "profile default"},
    ]
    assert "AKIA" not in json.dumps(found) and "verysecret" not in json.dumps(found)
    # Once registered, the default profile is the SSM agent's own (rotating credentials).
    assert {"where": "/root/.aws/credentials", "what": "profile default"} not in _host.credential_conflicts(
        "registered", str(tmp_path)
    )


def test_os_release_and_ca_bundle(tmp_path):
    write(
        tmp_path,
        "/etc/os-release",
        'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
        0o644,
    )
    assert _host.os_release(str(tmp_path)) == {
        "id": "ubuntu",
        "id_like": ["debian"],
        "version_id": "24.04",
        "pretty_name": "Ubuntu 24.04 LTS",
    }
    assert _host.ca_bundle(str(tmp_path)) == ""
    write(tmp_path, "/etc/pki/tls/certs/ca-bundle.crt", "x", 0o644)
    assert _host.ca_bundle(str(tmp_path)) == "/etc/pki/tls/certs/ca-bundle.crt"


def test_gpu_needs_a_working_nvidia_smi(tmp_path):
    write(tmp_path, "/dev/nvidia0", "", 0o644)
    assert _host.gpu(lambda argv: (0, "GPU 0: T4", ""), str(tmp_path)) == {
        "nvidia_smi": True,
        "devices": ["/dev/nvidia0"],
    }
    assert _host.gpu(lambda argv: (127, "", "not found"), str(tmp_path))["nvidia_smi"] is False


def test_a_registration_that_cannot_be_opened_is_not_absent(tmp_path):
    # Runs as root too (CI): a directory where the file should be cannot be read either.
    os.makedirs(os.path.join(str(tmp_path), _host.REGISTRATION_KEY.lstrip("/")))
    found = _host.ssm_registration(str(tmp_path))
    assert found["state"] == "unreadable" and _host.REGISTRATION_KEY in found["detail"]


ROUTE_HEADER = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
DEFAULT4 = "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
LINK4 = "eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
DEFAULT6 = (
    "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 "
    "00000400 00000001 00000000 00000003 eth0\n"
)


@pytest.mark.parametrize(
    "ipv4, ipv6, expected",
    [
        (DEFAULT4, DEFAULT6, "ipv4"),  # dual-stack: IPv4 wins, as in the installer
        (LINK4, DEFAULT6, "ipv6"),  # IPv6-only
        (LINK4, "", "ipv4"),  # no default route at all (the lab's hosts): assume IPv4
        (DEFAULT4, "", "ipv4"),
    ],
)
def test_ip_compatibility_as_the_installer_decides(tmp_path, ipv4, ipv6, expected):
    write(tmp_path, "/proc/net/route", ROUTE_HEADER + ipv4, 0o644)
    write(tmp_path, "/proc/net/ipv6_route", ipv6, 0o644)
    assert _host.ip_compatibility(str(tmp_path)) == expected
