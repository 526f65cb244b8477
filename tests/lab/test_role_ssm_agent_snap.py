# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An Ubuntu-style host whose SSM agent is a snap: the ssm_agent role uses that agent as it is (its unit, its
binary, a proxy drop-in for its unit) and installs no second agent from the .deb beside it."""

import json
import os
import subprocess

import pytest

from labctl.testing import SSM_AGENT_PLAY
from labctl.testing import activation_play
from labctl.testing import lab_hosts
from labctl.testing import needs_lab
from labctl.testing import snap_layout

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
SNAP_UNIT = "snap.amazon-ssm-agent.amazon-ssm-agent.service"

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-snap.yml") as running:
        yield running


def test_the_snap_agent_is_used_as_it_is(running_lab, tmp_path):
    for host in running_lab.hosts:
        snap_layout(running_lab, host)
    plays = [activation_play("LabSnapRole", len(running_lab.hosts)), SSM_AGENT_PLAY]
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", running_lab.inventory_path, str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

    registered = {}
    for host in running_lab.hosts:
        out = running_lab.ssh(
            host,
            "dpkg-query -W -f='${Status}' amazon-ssm-agent 2>/dev/null || echo no-deb;"
            " systemctl is-active %s; systemctl is-enabled %s;"
            " ls /etc/systemd/system/%s.d/; ls /etc/systemd/system/amazon-ssm-agent.service.d 2>/dev/null | wc -l;"
            ' python3 -c \'import json; print(json.load(open("/var/lib/amazon/ssm/Vault/Store/RegistrationKey"))["instanceID"])\''
            % (SNAP_UNIT, SNAP_UNIT, SNAP_UNIT),
        )
        lines = out.split()
        assert lines[:6] == ["no-deb", "active", "enabled", "http-proxy.conf", "http-proxy.env", "0"], out
        registered[lines[6]] = host
    managed = running_lab.aws("ssm").describe_instance_information()["InstanceInformationList"]
    assert {i["InstanceId"]: i["ComputerName"] for i in managed} == registered
