#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: host_facts
version_added: 0.2.0
short_description: Read what ECS Anywhere onboarding needs to know about a host, without moving a secret
description:
  - Runs on the managed host and sets the fact C(ansible_facts.ecs_anywhere) in one round trip, for the roles'
    preflight checks and decisions.
  - The SSM registration is read on the host and only the managed instance id and region leave it; the agent's
    private key (C(/var/lib/amazon/ssm/Vault/Store/RegistrationKey)) never does. A registration that exists but cannot
    be read (no privilege, not JSON) is reported as V(unreadable), never as absent.
  - Local AWS credentials that would take precedence over the instance role's rotating ones are reported by name and
    place only, never by value.
  - Needs root to read the agents' state (use C(become)); run as another user it reports C(euid) and V(unreadable).
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options: {}
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes.host
  - ecs_anywhere.fleet.attributes.info_module
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
notes:
  - The snap-installed SSM agent is detected the way AWS's installer does it (the unit
    C(snap.amazon-ssm-agent.amazon-ssm-agent.service) is enabled).
"""

EXAMPLES = r"""
- name: Read the host's state for onboarding
  ecs_anywhere.fleet.host_facts:
  become: true

- name: Show the managed instance id
  ansible.builtin.debug:
    msg: "{{ ansible_facts.ecs_anywhere.ssm_registration.instance_id }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set by the module.
  returned: always
  type: dict
  contains:
    ecs_anywhere:
      description: The host as ECS Anywhere onboarding sees it.
      returned: always
      type: dict
      contains:
        euid:
          description: Effective user id the module ran as (C(0) with C(become)).
          type: int
          sample: 0
        os:
          description: From C(/etc/os-release) and the kernel.
          type: dict
          sample: {"id": "debian", "id_like": [], "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)",
                   "architecture": "x86_64", "systemd": true, "package_managers": ["apt"]}
        ssm_registration:
          description: The SSM agent's registration; C(state) is V(registered), V(absent) or V(unreadable).
          type: dict
          sample: {"state": "registered", "instance_id": "mi-0123456789abcdef0", "region": "eu-west-1", "detail": ""}
        ssm_agent:
          description: How the SSM agent is installed; C(snap) when Ubuntu's snap provides it, whose unit and binary
            are then used instead of the C(.deb).
          type: dict
          sample: {"snap": false, "unit": "amazon-ssm-agent.service", "binary": "amazon-ssm-agent"}
        packages:
          description: Installed version of each agent package, empty when not installed.
          type: dict
          sample: {"amazon-ssm-agent": "3.3.1957.0-1", "amazon-ecs-init": ""}
        ecs_cluster:
          description: C(ECS_CLUSTER) in C(/etc/ecs/ecs.config) (no other setting is read out), empty when unset.
          type: str
          sample: onprem
        credential_conflicts:
          description: Local AWS credentials the agents would use instead of the instance role's, by place and name.
          type: list
          elements: dict
          sample: [{"where": "/etc/environment", "what": "AWS_ACCESS_KEY_ID"}]
        gpu:
          description: Whether C(nvidia-smi -L) works and which C(/dev/nvidia*) devices exist.
          type: dict
          sample: {"nvidia_smi": false, "devices": []}
        ip_compatibility:
          description: V(ipv6) on an IPv6-only host (a default IPv6 route and no default IPv4 route, as AWS's installer
            decides), else V(ipv4); selects S3's dual-stack download endpoint.
          type: str
          sample: ipv4
        ca_bundle:
          description: The system CA bundle (first of the places AWS's installer searches), empty when none.
          type: str
          sample: /etc/ssl/certs/ca-certificates.crt
"""

import os
import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _host

AGENT_PACKAGES = ("amazon-ssm-agent", "amazon-ecs-init")


def packages(module):
    installed = dict.fromkeys(AGENT_PACKAGES, "")
    if not module.get_bin_path("dpkg-query"):
        return installed
    rc, out, _err = module.run_command(
        ["dpkg-query", "--show", "--showformat=${Package} ${db:Status-Status} ${Version}\n"] + list(AGENT_PACKAGES)
    )
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == "installed":
            installed[fields[0]] = fields[2]
    return installed


def ssm_agent(module):
    # ecs-anywhere-install.sh: `systemctl is-enabled snap.amazon-ssm-agent.amazon-ssm-agent.service`
    # selects the snap's unit and binary instead of installing the .deb.
    snap = False
    if module.get_bin_path("systemctl"):
        rc, _out, _err = module.run_command(["systemctl", "is-enabled", _host.SNAP_UNIT])
        snap = rc == 0
    if snap:
        return {"snap": True, "unit": _host.SNAP_UNIT, "binary": _host.SNAP_BINARY}
    return {"snap": False, "unit": _host.DEB_UNIT, "binary": "amazon-ssm-agent"}


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    registration = _host.ssm_registration()
    system = _host.os_release()
    system.update(
        architecture=platform.machine(),
        systemd=os.path.isdir("/run/systemd/system"),  # sd_booted(3), as the installer checks it
        package_managers=[name for name in ("dnf", "yum", "apt-get", "zypper") if module.get_bin_path(name)],
    )

    def run(argv):
        if not module.get_bin_path(argv[0]):
            return 127, "", ""
        return module.run_command(argv)

    facts = {
        "euid": os.geteuid(),
        "os": system,
        "ssm_registration": registration,
        "ssm_agent": ssm_agent(module),
        "packages": packages(module),
        "ecs_cluster": _host.env_file(_host.ECS_CONFIG).get("ECS_CLUSTER", ""),
        "credential_conflicts": _host.credential_conflicts(registration["state"]),
        "gpu": _host.gpu(run),
        "ca_bundle": _host.ca_bundle(),
        "ip_compatibility": _host.ip_compatibility(),
    }
    module.exit_json(changed=False, ansible_facts={"ecs_anywhere": facts})


if __name__ == "__main__":
    main()
