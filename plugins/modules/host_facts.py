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
  - It also reads, in the same round trip, what the host roles own (the state of their files and directories with
    the SHA-256 of each file, the states of the C(docker), C(ecs) and SSM agent units, the ECS Exec binaries, the ECS
    agent's introspection answer), so that a role on a converged host can tell from these facts alone that it has
    nothing to do (the roles' fast no-op path). The digests are of files that may hold a proxy password, so the roles
    run this module with C(no_log), so that no digest reaches the output as a guessing oracle.
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
          description:
            - The SSM agent's registration; C(state) is V(registered), V(absent) or V(unreadable).
            - C(interrupted) is V(true) when it is absent but the agent's vault holds a private key without an instance
              id, as the agent leaves it when stopped between C(RegisterManagedInstance) and saving the id (killed
              while registering, or refused by SSM); SSM may then hold a managed instance the host never kept.
          type: dict
          sample: {"state": "registered", "instance_id": "mi-0123456789abcdef0", "region": "eu-west-1", "detail": "",
                   "interrupted": false}
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
        files:
          description:
            - The files and directories the host roles write (proxy drop-ins of the three units, the agents'
              configuration files and directories, ECS Exec's certificate and binary directories), and the system CA
              bundle, by path.
            - C(mode) is octal, C(uid) the owner (V(-1) when absent), C(mtime) seconds since the epoch, C(sha256) the
              digest of a regular file (empty for directories, unreadable or large files).
          type: dict
          version_added: 0.2.0
          sample: {"/etc/ecs/ecs.config": {"exists": true, "type": "file", "mode": "0600", "uid": 0,
                   "mtime": 1764470000.5, "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}
        units:
          description:
            - C(docker.service), C(ecs.service) and the SSM agent's unit (deb or snap) as systemd sees them.
            - C(active) is C(ActiveState), C(enabled) C(UnitFileState), C(need_daemon_reload) whether a unit file or
              drop-in changed since systemd read it, C(started) when the unit last became active (seconds since the
              epoch, V(0) when not active).
          type: dict
          version_added: 0.2.0
          sample: {"ecs.service": {"active": "active", "enabled": "enabled", "need_daemon_reload": false,
                   "started": 1764470012.25}}
        commands:
          description: Where the C(docker) command is, empty when it is not installed.
          type: dict
          version_added: 0.2.0
          sample: {"docker": "/usr/bin/docker"}
        ecs_exec_binaries:
          description: Which of ECS Exec's three SSM binaries are in each version directory under
            C(/var/lib/ecs/deps/execute-command/bin).
          type: dict
          version_added: 0.2.0
          sample: {"3.3.4108.0": ["amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker"]}
        ecs_agent_metadata:
          description: The running ECS agent's introspection answer (C(http://localhost:51678/v1/metadata)); empty when
            the agent does not answer. C(container_instance_arn) is empty until the agent has registered.
          type: dict
          version_added: 0.2.0
          sample: {"cluster": "onprem", "version": "Amazon ECS Agent - v1.89.0",
                   "container_instance_arn": "arn:aws:ecs:eu-west-1:123456789012:container-instance/onprem/0123abcd"}
"""

import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url

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


def fetch_local(url):
    """GET a local endpoint, never through a proxy, briefly."""
    return open_url(url, use_proxy=False, timeout=3, follow_redirects="none").read()


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
        "credential_conflicts": _host.credential_conflicts(
            registration["state"], interrupted=registration["interrupted"]
        ),
        "gpu": _host.gpu(run),
        "ca_bundle": _host.ca_bundle(),
        "ip_compatibility": _host.ip_compatibility(),
    }
    # What the host roles own, for their fast no-op path (one look, no second round trip).
    units = [_host.DOCKER_UNIT, facts["ssm_agent"]["unit"], _host.ECS_UNIT]
    exec_binaries = _host.exec_binaries()
    paths = _host.owned_paths(facts["ssm_agent"]["unit"]) + ["%s/bin/%s" % (_host.EXEC_DIR, v) for v in exec_binaries]
    paths += [facts["ca_bundle"]] if facts["ca_bundle"] else []
    facts.update(
        files=dict((path, _host.path_state(path)) for path in paths),
        units=_host.unit_states(run, units),
        commands={"docker": module.get_bin_path("docker") or ""},
        ecs_exec_binaries=exec_binaries,
        ecs_agent_metadata=_host.ecs_agent_metadata(fetch_local) if facts["packages"]["amazon-ecs-init"] else {},
    )
    module.exit_json(changed=False, ansible_facts={"ecs_anywhere": facts})


if __name__ == "__main__":
    main()
