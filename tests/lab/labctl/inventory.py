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
from labctl import packages
from labctl.image import SITE_USER


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
        # The releases the lab's mirror publishes (labctl.packages), for tests that pin one (molecule scenarios).
        "lab_ssm_agent_older_version": packages.SSM_OLDER_VERSION,
        "lab_ssm_agent_latest_version": packages.SSM_VERSION,
        "lab_ecs_agent_older_version": packages.ECS_OLDER_VERSION,
        # What ecs_agent_version pins: the amazon-ecs-init package's version, with its Debian revision.
        "lab_ecs_init_older_version": packages.ECS_OLDER_VERSION + "-1",
        "lab_ecs_agent_latest_version": packages.ECS_VERSION,
    }
    base = "http://%s" % ARTIFACTS_NAME
    mirror = state["mirror"]
    group = {
        # An ordinary user with sudo, as real sites log in: the playbooks bring their own `become`.
        "ansible_user": SITE_USER,
        "ansible_ssh_private_key_file": state["ssh_key"],
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ecs_anywhere_artifact_base_url": base,
        # The lab's own signing keys replace AWS's only through the overrides a mirror site uses:
        # the SSM agent's key published on the mirror (a URL the hosts fetch), the ECS agent's
        # as a file on the controller (as an air-gapped site ships it).
        "ecs_anywhere_ssm_agent_gpg_fingerprints": [mirror["fingerprints"]["ssm"]],
        "ecs_anywhere_ssm_agent_gpg_key_url": base + "/keys/ssm-signing-key.asc",
        "ecs_anywhere_ecs_agent_gpg_fingerprints": [mirror["fingerprints"]["ecs"]],
        "ecs_anywhere_ecs_agent_gpg_key_file": mirror["public_keys"]["ecs"],
        # AWS publishes no signature for the ECS Exec binaries; a site pins their digest.
        "ecs_anywhere_ecs_exec_binaries_sha256": mirror["exec_binaries_sha256"],
        "ecs_anywhere_ssm_endpoint": "http://%s" % AWS_NAME,
        "ecs_anywhere_ecs_endpoint": "http://%s" % AWS_NAME,
    }
    hosts = {}
    for host in state["hosts"]:
        hosts[host["name"]] = {
            "ansible_host": host["address"],
            "ecs_anywhere_proxy_url": "http://%s@%s:%d" % (state["proxy_credentials"], host["gateway"], PROXY_PORT),
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
