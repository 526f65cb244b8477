# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""onboard.yml as AWX runs the "ECS Anywhere: onboard" job template with its 2 job slices: two ansible-runner jobs at
once, each on a private data dir built as AWX builds it (ansible/awx awx/main/tasks/jobs.py):
- env/extravars: the launch's survey answers and defaults, every key and string value tagged ``!unsafe``
  (build_extra_vars_file -> awx/main/utils/safe_yaml.py safe_dump: nothing outside the template's own extra vars is
  trusted), built from the template's real survey (extensions/awx/controller/vars/ecs_anywhere.yml) the way
  _update_unified_job_kwargs applies defaults;
- env/envvars: the "Amazon Web Services" credential's injection, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
  AWS_SECURITY_TOKEN when set; awx/main/models/credential/injectors.py aws()) and no region; the inventory's own
  AWS keys removed, so the playbook can only use these;
- inventory/hosts: an executable script printing the inventory as JSON (build_inventory / get_script_data), slice i
  of k holding the hosts sorted by name [i-1::k] (awx/main/models/inventory.py get_sliced_hosts);
- project/: the project checkout (here: this tree; the collection from the venv stands in for project sync).
Both slices succeed with no failed host, both hosts join the cluster (the emulator's ECS and SSM), exactly two
activations were created and both deleted.
"""

import concurrent.futures
import json
import os
import subprocess
import sys

import pytest
import yaml
from emulator.client import LabClient

from labctl.testing import lab_hosts
from labctl.testing import needs_lab

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(REPO, ".venv", "bin")
SLICES = 2
CLUSTER = "onprem-awx"
TEMPLATE = "ECS Anywhere: onboard"

pytestmark = needs_lab


def awx_rules():
    sys.path.insert(0, os.path.join(REPO, "tests", "unit", "extensions"))
    try:
        import awx_rules as module  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.pop(0)
    return module


class UnsafeDumper(yaml.SafeDumper):
    """Every string as !unsafe, as AWX's SafeStringDumper writes untrusted extra vars."""

    def represent_data(self, data):
        if isinstance(data, str):
            return self.represent_scalar("!unsafe", data)
        return super().represent_data(data)


@pytest.fixture(scope="module")
def running_lab():
    with lab_hosts("inventory-awx.yml", count=SLICES) as running:
        yield running


def script_inventory(running_lab, index, count):
    """AWX's inventory script data for slice ``index`` of ``count`` (hostvars in _meta)."""
    listed = subprocess.run(
        [os.path.join(VENV_BIN, "ansible-inventory"), "-i", running_lab.inventory_path, "--list", "--export"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data = json.loads(listed.stdout)
    hostvars = data["_meta"]["hostvars"]
    names = {host for name, group in data.items() if name != "_meta" for host in group.get("hosts", [])}
    chosen = sorted(names)[index - 1 :: count]
    # The site's AWS keys and region are not inventory data in AWX: the credential and the survey bring them.
    for values in list(hostvars.values()) + [group.get("vars", {}) for name, group in data.items() if name != "_meta"]:
        for key in ("aws_access_key_id", "aws_secret_access_key", "aws_region", "ecs_anywhere_region"):
            values.pop(key, None)
    for name, group in data.items():
        if name != "_meta" and "hosts" in group:
            group["hosts"] = [h for h in group["hosts"] if h in chosen]
    data["_meta"]["hostvars"] = {h: hostvars.get(h, {}) for h in chosen}
    return data


def private_data_dir(running_lab, tmp_path, index, count, extra_vars):
    pdd = tmp_path / ("job-slice-%d" % index)
    for sub in ("env", "inventory"):
        (pdd / sub).mkdir(parents=True)
    (pdd / "project").symlink_to(REPO)
    script = pdd / "inventory" / "hosts"
    script.write_text(
        "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n"
        % json.dumps(script_inventory(running_lab, index, count)),
        encoding="utf-8",
    )
    script.chmod(0o700)
    (pdd / "env" / "extravars").write_text(
        yaml.dump(extra_vars, Dumper=UnsafeDumper, default_flow_style=False), encoding="utf-8"
    )
    envvars = {
        "AWS_ACCESS_KEY_ID": running_lab.controller["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": running_lab.controller["aws_secret_access_key"],
        # The collection as project sync would have installed it (AWX points ANSIBLE_COLLECTIONS_PATHS there).
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"),
        "ANSIBLE_NOCOLOR": "1",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars), encoding="utf-8")
    for sub in ("env/extravars", "env/envvars"):
        (pdd / sub).chmod(0o600)
    return pdd


def run_job(pdd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_"))}
    env["PATH"] = VENV_BIN + os.pathsep + env["PATH"]
    command = [
        os.path.join(VENV_BIN, "ansible-runner"),
        "run",
        str(pdd),
        "-p",
        "playbooks/onboard.yml",
        "--ident",
        "job",
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=1800)


def stats(pdd):
    events = (pdd / "artifacts" / "job" / "job_events").glob("*.json")
    for path in events:
        event = json.loads(path.read_text(encoding="utf-8"))
        if event.get("event") == "playbook_on_stats":
            return event["event_data"]
    raise AssertionError("no playbook_on_stats event in %s" % pdd)


def test_two_sliced_runner_jobs_as_awx_runs_them(running_lab, tmp_path):
    rules = awx_rules()
    (template,) = [t for t in rules.controller_vars()["controller_templates"] if t["name"] == TEMPLATE]
    assert template["job_slice_count"] == SLICES
    answers = {"ecs_anywhere_region": running_lab.controller["aws_region"], "ecs_anywhere_cluster": CLUSTER}
    extra_vars = rules.launch_extra_vars(template["survey_spec"], answers)
    for item in template["survey_spec"]["spec"]:  # AWX refuses a launch whose vars fail a question
        assert rules.answer_errors(item, extra_vars) == [], item["variable"]
    assert "!unsafe" in yaml.dump(extra_vars, Dumper=UnsafeDumper)

    lab = LabClient(running_lab.controller["aws_endpoint_url"])
    lab.clear_calls()
    jobs = [private_data_dir(running_lab, tmp_path, i, SLICES, extra_vars) for i in range(1, SLICES + 1)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=SLICES) as pool:
        results = list(pool.map(run_job, jobs))
    failed = [r.stdout[-6000:] + r.stderr[-2000:] for r in results if r.returncode != 0]
    assert failed == [], failed[0] if failed else ""

    for pdd in jobs:
        assert (pdd / "artifacts" / "job" / "status").read_text(encoding="utf-8").strip() == "successful"
        summary = stats(pdd)
        assert summary["failures"] == {} and summary["dark"] == {}, summary
        assert len([h for h in summary["ok"] if h != "localhost"]) == 1, summary["ok"]

    ecs, ssm = running_lab.aws("ecs"), running_lab.aws("ssm")
    created = [c for c in lab.calls(service="ssm", operation="CreateActivation") if c["status"] == 200]
    assert len(created) == SLICES
    assert ssm.describe_activations()["ActivationList"] == [], "an activation was left behind"
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    assert len(arns) == SLICES
    online = [i for i in ssm.describe_instance_information()["InstanceInformationList"] if i["PingStatus"] == "Online"]
    assert len(online) == SLICES
