# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_host reads a host's state from its files: registration without the key, credentials by name only."""

import hashlib
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
    # So it is after a re-registration that cleared the vault and was interrupted (its key saved, no id yet); the
    # variables set elsewhere are still somebody else's.
    found = _host.credential_conflicts("absent", str(tmp_path), interrupted=True)
    assert {"where": "/root/.aws/credentials", "what": "profile default"} not in found
    assert {"where": "/etc/environment", "what": "AWS_ACCESS_KEY_ID"} in found


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


def test_path_state_digests_files_and_reads_modes(tmp_path):
    write(tmp_path, "/etc/ecs/ecs.config", "ECS_CLUSTER=onprem\n", mode=0o600)
    found = _host.path_state("/etc/ecs/ecs.config", str(tmp_path))
    assert found["exists"] and found["type"] == "file" and found["mode"] == "0600"

    assert found["sha256"] == hashlib.sha256(b"ECS_CLUSTER=onprem\n").hexdigest()
    directory = _host.path_state("/etc/ecs", str(tmp_path))
    assert (directory["type"], directory["sha256"]) == ("directory", "")
    missing = _host.path_state("/etc/ecs/nothing", str(tmp_path))
    assert missing == {"exists": False, "type": "", "mode": "", "uid": -1, "mtime": 0.0, "sha256": ""}


def test_path_state_leaves_large_files_undigested(tmp_path):
    write(tmp_path, "/big", "x" * 100)
    assert _host.path_state("/big", str(tmp_path), digest_limit=10)["sha256"] == ""


def test_owned_paths_follow_the_ssm_agent_unit():
    deb = _host.owned_paths(_host.DEB_UNIT)
    snap = _host.owned_paths(_host.SNAP_UNIT)
    assert "/etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env" in deb
    assert "/etc/systemd/system/%s.d/http-proxy.env" % _host.SNAP_UNIT in snap
    assert "/etc/systemd/system/docker.service.d/http-proxy.conf" in deb and _host.ECS_CONFIG in deb


def test_unit_states_from_one_systemctl_show():
    calls = []
    out = (
        "Id=docker.service\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n"
        "ActiveEnterTimestampMonotonic=5000000\n\n"
        "Id=ecs.service\nActiveState=inactive\nUnitFileState=disabled\nNeedDaemonReload=yes\n"
        "ActiveEnterTimestampMonotonic=0\n"
    )

    def run(argv):
        calls.append(argv)
        return 0, out, ""

    found = _host.unit_states(run, ["docker.service", "ecs.service"])
    assert (
        len(calls) == 1 and calls[0][:2] == ["systemctl", "show"] and calls[0][-2:] == ["docker.service", "ecs.service"]
    )
    assert found["docker.service"]["active"] == "active" and found["docker.service"]["enabled"] == "enabled"
    assert found["docker.service"]["started"] > 0 and not found["docker.service"]["need_daemon_reload"]
    assert found["ecs.service"] == {
        "active": "inactive",
        "enabled": "disabled",
        "need_daemon_reload": True,
        "started": 0.0,
    }


def test_unit_states_when_systemctl_fails():
    found = _host.unit_states(lambda argv: (1, "", "boom"), ["ecs.service"])
    assert found == {"ecs.service": {"active": "", "enabled": "", "need_daemon_reload": False, "started": 0.0}}


def test_exec_binaries_by_version(tmp_path):
    for name in _host.EXEC_BINARIES:
        write(tmp_path, _host.EXEC_DIR + "/bin/3.3.4108.0/" + name, "", mode=0o755)
    write(tmp_path, _host.EXEC_DIR + "/bin/3.3.1.0/amazon-ssm-agent", "", mode=0o755)
    assert _host.exec_binaries(str(tmp_path)) == {
        "3.3.1.0": ["amazon-ssm-agent"],
        "3.3.4108.0": list(_host.EXEC_BINARIES),
    }


@pytest.mark.parametrize(
    "answer, expected",
    [
        (
            '{"Cluster": "onprem", "ContainerInstanceArn": "arn:aws:ecs:eu-west-1:1:container-instance/onprem/1",'
            ' "Version": "Amazon ECS Agent - v1.89.0"}',
            {
                "cluster": "onprem",
                "container_instance_arn": "arn:aws:ecs:eu-west-1:1:container-instance/onprem/1",
                "version": "Amazon ECS Agent - v1.89.0",
            },
        ),
        # Before it registers the agent answers null for the ARN.
        (
            '{"Cluster": "onprem", "ContainerInstanceArn": null}',
            {"cluster": "onprem", "container_instance_arn": "", "version": ""},
        ),
        ("not json", {}),
        ("[]", {}),
        (OSError("connection refused"), {}),
    ],
)
def test_ecs_agent_metadata(answer, expected):
    def fetch(url):
        assert url == _host.ECS_METADATA_URL
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _host.ecs_agent_metadata(fetch) == expected


@pytest.mark.parametrize(
    "vault, interrupted",
    [
        # core/agent_parser.go registerManagedInstance, before RegisterManagedInstance: the key, no id yet.
        ({"instanceID": "", "region": "", "privateKey": KEY}, True),
        # clearRegistration: UpdateServerInfo("", "", "", "") -- nothing pending.
        ({"instanceID": "", "region": "", "privateKey": ""}, False),
        ({"instanceID": "mi-0123456789abcdef0", "region": "eu-west-1", "privateKey": KEY}, False),
    ],
)
def test_an_interrupted_registration_is_told_apart_from_a_cleared_one(tmp_path, vault, interrupted):
    write(tmp_path, _host.REGISTRATION_KEY, json.dumps(vault))
    found = _host.ssm_registration(str(tmp_path))
    assert found["interrupted"] is interrupted
    assert KEY not in json.dumps(found)
