# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight role on a lab host: each thing that would make onboarding fail or do harm is named in one message,
before anything is changed; a host that is fine passes. Each case puts the host in that state (as root, the tests'
own view), runs the role through the ordinary user, and puts the host back."""

import json
import os
import subprocess

import pytest

from labctl.testing import lab_hosts
from labctl.testing import needs_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")

pytestmark = needs_lab

# (case, how to break the host, how to repair it, extra vars, the message expected)
CASES = [
    (
        "rpm",
        'rm /etc/os-release; printf \'ID=rocky\\nID_LIKE="rhel centos fedora"\\nVERSION_ID=9.4\\nPRETTY_NAME="Rocky Linux 9.4"\\n\' > /etc/os-release',
        "rm /etc/os-release; ln -s ../usr/lib/os-release /etc/os-release",
        {},
        "[os] Rocky Linux 9.4 is RPM-based",
    ),
    (
        "old-debian",
        "rm /etc/os-release; printf 'ID=debian\\nVERSION_ID=10\\nPRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\\n' > /etc/os-release",
        "rm /etc/os-release; ln -s ../usr/lib/os-release /etc/os-release",
        {},
        "[os] Debian GNU/Linux 10 (buster) is not supported",
    ),
    (
        "credentials",
        "cp /etc/environment /root/environment.saved; echo 'AWS_ACCESS_KEY_ID=AKIALOCALKEY0000' >> /etc/environment; "
        "mkdir -p /root/.aws; printf '[default]\\naws_access_key_id = AKIALOCALKEY0000\\n' > /root/.aws/credentials",
        "mv /root/environment.saved /etc/environment; rm -rf /root/.aws",
        {},
        "[credentials] Local AWS credentials would be used by the agents instead of the instance role's "
        "(amazon-ecs-agent #3604, #3812): AWS_ACCESS_KEY_ID in /etc/environment, profile default in /root/.aws/credentials.",
    ),
    (
        "unreadable-registration",
        "mkdir -p /var/lib/amazon/ssm/Vault/Store; echo '{not json' > /var/lib/amazon/ssm/Vault/Store/RegistrationKey",
        "rm -rf /var/lib/amazon",
        {},
        "[registration] The SSM registration exists but could not be read",
    ),
    ("gpu", "true", "true", {"ecs_anywhere_enable_gpu": True}, "[gpu] GPU support is on but nvidia-smi does not work"),
]


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-preflight.yml") as running:
        yield running


def preflight(running_lab, tmp_path, extra, become=True):
    playbook = tmp_path / "preflight.yml"
    play = {"hosts": "ecs_anywhere_hosts", "gather_facts": False, "become": become}
    play["roles"] = ["ecs_anywhere.fleet.preflight"]
    playbook.write_text(json.dumps([play]), encoding="utf-8")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, str(playbook), "-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)


def snapshot(running_lab, host):
    """What onboarding would change: packages, the agents' state and config, units."""
    return running_lab.ssh(
        host,
        "dpkg-query -W -f='${Package} ${Version}\\n' | sha256sum;"
        " ls -a /var/lib/amazon /etc/ecs /var/lib/ecs /var/cache/ecs-anywhere /etc/systemd/system 2>&1 | sha256sum",
    )


def test_a_sound_host_passes(running_lab, tmp_path):
    result = preflight(running_lab, tmp_path, {})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "changed=0" in result.stdout and "failed=0" in result.stdout


@pytest.mark.parametrize("case, breaks, repairs, extra, message", CASES, ids=[case[0] for case in CASES])
def test_each_problem_has_its_message_and_nothing_changes(running_lab, tmp_path, case, breaks, repairs, extra, message):
    hosts = sorted(running_lab.hosts)
    for host in hosts:
        running_lab.ssh(host, breaks)
    try:
        before = [snapshot(running_lab, host) for host in hosts]
        result = preflight(running_lab, tmp_path, extra)
        after = [snapshot(running_lab, host) for host in hosts]
    finally:
        for host in hosts:
            running_lab.ssh(host, repairs)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-3000:]
    for host in hosts:
        assert "%s cannot be onboarded; nothing was changed on it." % host in output, output[-3000:]
    assert output.count(message) >= len(hosts), output[-3000:]
    assert before == after
    assert "AKIALOCALKEY0000" not in output, "a credential's value reached the output"


def test_without_become(running_lab, tmp_path):
    result = preflight(running_lab, tmp_path, {}, become=False)
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "[root] The collection's host roles need root (this ran as uid 1000)" in output, output[-3000:]
