# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ssm_agent role on real lab hosts behind the site proxy: check mode changes nothing, the first run
installs the (stand-in) agent from the mirror after verifying its signature and registers each host once,
a second run changes nothing and uses up no registration, and the activation code never reaches the output.
"""

import json
import os
import subprocess

import pytest

from labctl.testing import SSM_AGENT_PLAY
from labctl.testing import activation_play
from labctl.testing import needs_lab
from labctl.testing import two_hosts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
ROLE = "LabSsmAgentRole"

pytestmark = needs_lab

CONTROLLER_PLAY = activation_play(
    ROLE,
    "{{ groups['ecs_anywhere_hosts'] | length }}",
    {
        "name": "Keep the code where only the test reads it",
        "ansible.builtin.copy": {
            "content": "{{ activation.activation_code }}",
            "dest": "{{ code_file }}",
            "mode": "0600",
        },
        "no_log": True,
    },
)
HOST_PLAY = SSM_AGENT_PLAY


@pytest.fixture(scope="module")
def running_lab():
    with two_hosts("inventory-role.yml") as running:
        yield running


def play(running_lab, tmp_path, plays, *options, expect_rc=0):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, str(playbook)] + list(options)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == expect_rc, result.stdout[-6000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def recap(output, host):
    line = [l for l in output.splitlines() if l.startswith(host + " ") and "changed=" in l][-1]
    return dict(part.split("=") for part in line.split()[2:])


def installed(running_lab, host, package="amazon-ssm-agent"):
    return running_lab.ssh(host, "dpkg-query -W -f='${Status}' %s 2>/dev/null || echo absent" % package).strip()


def test_without_become_one_clear_error_and_nothing_changed(running_lab, tmp_path):
    plain = dict(HOST_PLAY, become=False)

    output = play(running_lab, tmp_path, [plain], expect_rc=2)

    assert "the role needs root: set become: true on the play" in output
    for host in running_lab.hosts:
        assert installed(running_lab, host) == "absent"
        assert running_lab.ssh(host, "ls /var/cache/ecs-anywhere 2>/dev/null || echo none").strip() == "none"


@pytest.mark.parametrize(
    "pins",
    [
        ["0123456789ABCDEF0123456789ABCDEF01234567"],
        "ecs",  # the other vendor's key: valid, trusted by the lab, but not the SSM agent's signer
    ],
)
def test_a_package_signed_by_another_key_is_refused(running_lab, tmp_path, pins):
    if pins == "ecs":
        pins = running_lab.group_vars["ecs_anywhere_ecs_agent_gpg_fingerprints"]
        # Both public keys are offered; only the pinned list decides.
        key = running_lab.state["mirror"]["public_keys"]
        keyring = tmp_path / "both.asc"
        keyring.write_text(open(key["ssm"]).read() + open(key["ecs"]).read(), encoding="utf-8")
        extra = {
            "ssm_agent_gpg_fingerprints": pins,
            "ssm_agent_gpg_key_url": "",
            "ssm_agent_gpg_key_file": str(keyring),
        }
    else:
        extra = {"ssm_agent_gpg_fingerprints": pins}

    output = play(running_lab, tmp_path, [HOST_PLAY], "-e", json.dumps(extra), expect_rc=2)

    assert "which is not a pinned fingerprint" in output and "nothing was installed" in output
    for host in running_lab.hosts:
        assert installed(running_lab, host) == "absent"
        # Nothing of the refused download stays behind to be reused.
        assert running_lab.ssh(host, "find /var/cache/ecs-anywhere -type f | wc -l").strip() == "0"


def test_check_run_install_and_repeat(running_lab, tmp_path):
    hosts = sorted(running_lab.hosts)
    ssm = running_lab.aws("ssm")

    checked = play(running_lab, tmp_path, [HOST_PLAY], "--check")
    for host in hosts:
        assert int(recap(checked, host)["changed"]) > 0
        assert installed(running_lab, host) == "absent"

    code_file = tmp_path / "code"
    first = play(running_lab, tmp_path, [CONTROLLER_PLAY, HOST_PLAY], "-vvv", "-e", "code_file=%s" % code_file)
    code = code_file.read_text(encoding="utf-8")
    assert len(code) >= 20 and code not in first, "the activation code reached the output"
    password = running_lab.state["proxy_credentials"].split(":", 1)[1]
    assert password not in first, "the proxy password reached the output"
    activation = ssm.describe_activations(Filters=[dict(FilterKey="IamRole", FilterValues=[ROLE])])["ActivationList"][0]
    assert activation["RegistrationsCount"] == 2
    managed = ssm.describe_instance_information(
        Filters=[dict(Key="ActivationIds", Values=[activation["ActivationId"]])]
    )["InstanceInformationList"]
    assert sorted(i["ComputerName"] for i in managed) == hosts
    for host in hosts:
        out = running_lab.ssh(
            host,
            "systemctl is-active amazon-ssm-agent; systemctl is-enabled amazon-ssm-agent;"
            " stat -c %a /etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env;"
            " cat /etc/systemd/system/amazon-ssm-agent.service.d/http-proxy.env;"
            ' python3 -c \'import json; print(json.load(open("/var/lib/amazon/ssm/registration"))["ManagedInstanceID"])\'',
        )
        assert out.startswith("active\nenabled\n600\n")
        assert "https_proxy=%s" % running_lab.hosts[host]["ecs_anywhere_proxy_url"] in out
        assert out.strip().splitlines()[-1] in {i["InstanceId"] for i in managed}

    again = play(running_lab, tmp_path, [HOST_PLAY])
    for host in hosts:
        assert recap(again, host)["changed"] == "0"
    activation = ssm.describe_activations(Filters=[dict(FilterKey="IamRole", FilterValues=[ROLE])])["ActivationList"][0]
    assert activation["RegistrationsCount"] == 2, "a re-run must not register again"
