# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""onboard.yml as AWX job slicing runs it: k = 4 jobs at once on a fresh account, slice i holding the hosts
sorted[i-1::k] (AWX's slicing) and every slice running the controller plays. All four succeed; AWS ends with one
role and one cluster, exactly four activations were created and all of them deleted; an empty slice is a clean
no-op."""

import concurrent.futures
import os
import subprocess

import pytest
import yaml
from emulator.client import LabClient

from labctl.testing import lab_hosts
from labctl.testing import needs_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
CLUSTER = "onprem-sliced"
SLICES = 4

pytestmark = needs_lab


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-slices.yml", count=SLICES) as running:
        yield running


def slice_inventory(running_lab, tmp_path, index, count):
    """The lab inventory with only the hosts of slice ``index`` (1-based) of ``count``, as AWX builds it."""
    with open(running_lab.inventory_path, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    group = inventory["all"]["children"]["ecs_anywhere_hosts"]
    chosen = sorted(group["hosts"])[index - 1 :: count]
    group["hosts"] = {name: group["hosts"][name] for name in chosen}
    for name, child in inventory["all"]["children"].items():
        if name != "ecs_anywhere_hosts":
            child["hosts"] = {host: value for host, value in (child.get("hosts") or {}).items() if host in chosen}
    path = tmp_path / ("slice-%d-of-%d.yml" % (index, count))
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def run(inventory):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    command = [ANSIBLE_PLAYBOOK, "-i", inventory, PLAYBOOK, "-e", "ecs_anywhere_cluster=" + CLUSTER]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)


def test_four_concurrent_slices_on_a_fresh_account(running_lab, tmp_path):
    lab = LabClient(running_lab.controller["aws_endpoint_url"])
    lab.clear_calls()
    inventories = [slice_inventory(running_lab, tmp_path, index, SLICES) for index in range(1, SLICES + 1)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=SLICES) as pool:
        results = list(pool.map(run, inventories))
    failed = [r.stdout[-5000:] + r.stderr[-2000:] for r in results if r.returncode != 0]
    assert failed == [], failed[0] if failed else ""

    iam, ecs, ssm = running_lab.aws("iam"), running_lab.aws("ecs"), running_lab.aws("ssm")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"] == "ECSAnywhereRole"]
    assert roles == ["ECSAnywhereRole"]
    assert [arn for arn in ecs.list_clusters()["clusterArns"] if arn.endswith("/" + CLUSTER)] != []
    created = [c for c in lab.calls(service="ssm", operation="CreateActivation") if c["status"] == 200]
    assert len(created) == SLICES
    assert ssm.describe_activations()["ActivationList"] == [], "an activation was left behind"
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    assert len(arns) == SLICES


def test_an_empty_slice_is_a_clean_no_op(running_lab, tmp_path):
    lab = LabClient(running_lab.controller["aws_endpoint_url"])
    lab.clear_calls()
    # Five slices of four hosts: the fifth is empty, as AWX makes it when there are more slices than hosts.
    result = run(slice_inventory(running_lab, tmp_path, SLICES + 1, SLICES + 1))
    assert result.returncode == 0, result.stdout[-4000:]
    assert [c for c in lab.calls() if c["operation"] in ("CreateActivation", "CreateRole", "CreateCluster")] == []
