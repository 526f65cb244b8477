# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""onboard.yml's controller side over many emulated hosts, for its AWS call count (issue 12).

What runs for real: the two localhost plays of playbooks/onboard.yml, read from the playbook itself (so a change to
them is measured) -- IAM and clusters (aws_setup), the batched registration check, the activations, their deletion
and the clean-up, the look-up of the hosts that joined, attributes and tags, the verification -- against the lab's
AWS emulator, as ansible-playbook runs them.

What is emulated, and how:
- the hosts: inventory entries only (nothing connects to them). What the two host plays hand to the controller is
  injected as the variables those plays set: on localhost ``onboard_targets`` and ``onboard_local`` (each host's
  registration id and ECS_CLUSTER as preflight reads them), on each host ``onboard_instance`` and
  ``onboard_finished`` (set at the end of the host play) and ``ecs_agent_container_instance_arn`` (the ECS agent's
  introspection answer, read by the ecs_agent role);
- what the hosts' agents do in AWS: the emulator's seed (lab control ``/_lab/seed``) registers the managed and
  container instances through the backends' own code paths, before the run (the controller does not look at them
  before the host play in a first run: no host has a registration id yet). Its activations are deleted before the
  count starts, so the run's clean-up sees only what a real site's would.
- the account is set up before the count by the same plays with no host (an earlier onboarding): the budgets are for
  onboarding hosts, not for creating the cluster and the instance role (a first run in an empty account adds those
  calls; ``make bench`` shows that run on the lab).

Not run: the host plays themselves, and their two controller-side tasks (drain and deregister a container instance a
host leaves), which only run for a host that moves cluster or was found stale -- neither happens in these scenarios.

Controller calls are those signed with the controller's access key (the emulator logs each call's SigV4 access key;
the agents sign with their managed instance id or their role's STS session keys, and RegisterManagedInstance is
unsigned).
"""

import json
import os
import subprocess
import sys
import time

import boto3
import yaml
from labctl.calls import by_operation
from labctl.calls import controller_calls

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(REPO, "playbooks", "onboard.yml")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
REGION = "us-east-1"
ACCESS_KEY = "testing"


def controller_plays():
    """onboard.yml's localhost plays (the 2nd and the 4th), include paths made absolute."""
    with open(PLAYBOOK, encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    chosen = [play for play in plays if play.get("hosts") == "localhost"]
    assert len(chosen) == 2, "onboard.yml no longer has two localhost plays: update %s" % __file__
    for play in chosen:
        for task in play.get("tasks", []):
            include = task.get("ansible.builtin.include_tasks")
            if isinstance(include, str) and not os.path.isabs(include):
                task["ansible.builtin.include_tasks"] = os.path.join(os.path.dirname(PLAYBOOK), include)
    return chosen


def _inventory(endpoint, cluster, role, hosts, local):
    """Inventory: the site's settings, localhost with the first host play's hand-over, the hosts with the second's."""
    localhost = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "onboard_targets": sorted(hosts),
        "onboard_local": local,
    }
    return {
        "all": {
            "vars": {
                "aws_endpoint_url": endpoint,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": ACCESS_KEY,
                "ecs_anywhere_region": REGION,
                "ecs_anywhere_cluster": cluster,
                "ecs_anywhere_instance_role": role,
            },
            "hosts": {"localhost": localhost},
            "children": {"ecs_anywhere_hosts": {"hosts": hosts}},
        }
    }


def _run(workdir, inventory, env):
    path = os.path.join(
        str(workdir), "inventory-%d.json" % len(inventory["all"]["children"]["ecs_anywhere_hosts"]["hosts"])
    )
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(inventory, handle)
    playbook = os.path.join(str(workdir), "onboard-controller.json")
    with open(playbook, "w", encoding="utf-8") as handle:
        json.dump(controller_plays(), handle)
    env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    started = time.monotonic()
    done = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", path, playbook], env=env, capture_output=True, text=True, check=False, timeout=1800
    )
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return seconds, done.stdout


def emulated_onboard(emulator, workdir, count, cluster, role, env):
    """Set the account up, seed ``count`` hosts' registrations, then count the controller's calls for their first
    onboarding and for a no-op re-run. Returns {"fresh": {...}, "noop": {...}}, each with calls, by_operation,
    seconds."""
    # An earlier onboarding (no host) set the account up: cluster, instance role.
    _run(workdir, _inventory(emulator.url, cluster, role, {}, {}), env)
    seeded = emulator.seed(count, region=REGION, iam_role=role, cluster=cluster)["instances"]
    ssm = boto3.client(
        "ssm", endpoint_url=emulator.url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key="x"
    )
    for activation_id in sorted({entry["activation_id"] for entry in seeded}):
        ssm.delete_activation(ActivationId=activation_id)
    names = ["emulated-%05d" % number for number in range(count)]
    hosts = {
        name: {
            "onboard_finished": True,
            "onboard_instance": {"id": entry["instance_id"], "cluster": cluster, "attributes": {}, "tags": {}},
            "ecs_agent_container_instance_arn": entry["container_instance_arn"],
        }
        for name, entry in zip(names, seeded)
    }
    results = {}
    for scenario in ("fresh", "noop"):
        registered = scenario == "noop"
        local = {
            name: {
                "instance_id": entry["instance_id"] if registered else "",
                "cluster_now": cluster if registered else "",
                "cluster": cluster,
            }
            for name, entry in zip(names, seeded)
        }
        emulator.clear_calls()
        seconds, output = _run(workdir, _inventory(emulator.url, cluster, role, hosts, local), env)
        calls = controller_calls(emulator.calls(), ACCESS_KEY)
        results[scenario] = dict(calls=len(calls), by_operation=by_operation(calls), seconds=seconds, output=output)
    return results
