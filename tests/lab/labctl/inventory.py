# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible inventory of a running lab: hosts plus the variables a real site would set.

Variable names are the collection's generic ones (documented in tests/lab/README.md); only their
values are the lab's. Written as YAML with the standard library (values are JSON-quoted, which YAML
reads as plain strings).
"""

import json

from labctl.common import ARTIFACTS_NAME
from labctl.common import AWS_NAME
from labctl.common import CONTROLLER_CREDENTIALS
from labctl.common import PROXY_PORT


def variables(state):
    """(controller vars for ``all``, vars for the hosts' group, {host: host vars})."""
    region = state["region"]
    controller = {
        "aws_endpoint_url": "http://127.0.0.1:%d" % state["emulator"]["port"],
        "aws_access_key_id": CONTROLLER_CREDENTIALS["aws_access_key_id"],
        "aws_secret_access_key": CONTROLLER_CREDENTIALS["aws_secret_access_key"],
        "aws_region": region,
        # Site-wide: the region of the activations and of the agents.
        "ecs_anywhere_region": region,
    }
    base = "http://%s" % ARTIFACTS_NAME
    group = {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": state["ssh_key"],
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ecs_anywhere_artifact_base_url": base,
        "ecs_anywhere_gpg_fingerprints": [state["mirror"]["fingerprint"]],
        "ecs_anywhere_gpg_keyring": state["mirror"]["public_key"],
        "ecs_anywhere_gpg_key_url": base + "/keys/lab-signing-key.asc",
        "ecs_anywhere_ssm_endpoint": "http://%s" % AWS_NAME,
        "ecs_anywhere_ecs_endpoint": "http://%s" % AWS_NAME,
    }
    hosts = {}
    for host in state["hosts"]:
        hosts[host["name"]] = {
            "ansible_host": host["address"],
            "ecs_anywhere_proxy_url": "http://%s:%d" % (host["gateway"], PROXY_PORT),
        }
    return controller, group, hosts


def _yaml(value):
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


def render(state):
    controller, group, hosts = variables(state)
    out = [
        "---",
        "# Ansible inventory of the running offline lab (tests/lab/lab inventory). Regenerated on every `lab up`.",
        "all:",
        "  vars:",
        "    # Controller side (module_defaults / amazon.aws option aliases): the AWS emulator on loopback.",
    ]
    out += ["    %s: %s" % (key, _yaml(value)) for key, value in controller.items()]
    out += ["  children:", "    ecs_anywhere_hosts:", "      vars:"]
    out += ["        %s: %s" % (key, _yaml(value)) for key, value in group.items()]
    out += ["      hosts:"]
    for name, values in hosts.items():
        out.append("        %s:" % name)
        out += ["          %s: %s" % (key, _yaml(value)) for key, value in values.items()]
    releases = sorted(set(host["release"] for host in state["hosts"]))
    for release in releases:
        out += ["    debian_%s:" % release, "      hosts:"]
        out += ["        %s: {}" % host["name"] for host in state["hosts"] if host["release"] == release]
    return "\n".join(out) + "\n"
