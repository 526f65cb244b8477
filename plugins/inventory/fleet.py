# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: fleet
version_added: 0.1.0
short_description: ECS Anywhere hosts (SSM managed instances joined with ECS container instances) as an inventory
description:
  - Lists the ECS Anywhere fleet of one or more regions as Ansible hosts, one per managed instance, with the joined
    SSM and ECS view of M(ecs_anywhere.fleet.fleet_info) as host variables, so a play can target, for example, every
    host of one cluster whose SSM agent lost its connection (C(cluster_onprem:&ping_ConnectionLost)).
  - "The cost grows with pages, not hosts: per region one C(DescribeInstanceInformation) call per 50 managed
    instances, one C(ListClusters) call per 100 clusters (only when O(clusters) is empty), and per cluster one
    C(ListContainerInstances) call per 100 external container instances and one C(DescribeContainerInstances) call
    per 100. No call is made per host; with O(cache) a listing from the cache makes no call at all."
  - The inventory file is a YAML configuration file whose name ends with C(fleet.yml) or C(fleet.yaml), for example
    C(onprem.fleet.yml), and which says O(plugin=ecs_anywhere.fleet.fleet).
  - "Host names: the first of O(hostnames) that has a value, else the C(mi-) id. Two managed instances with the same
    name (typically a re-imaged or reinstalled host that registered again while its old registration is still
    there) are resolved by O(duplicate_hostnames)."
  - "Groups (O(builtin_groups)), each name reduced to letters, digits and C(_): C(ecs_anywhere_fleet) (every host),
    C(region_<region>), C(cluster_<cluster>), C(ping_<ping status>) (C(ping_Online), C(ping_ConnectionLost),
    C(ping_Inactive)), C(ecs_status_<status>) (C(ecs_status_ACTIVE), C(ecs_status_DRAINING), ...),
    C(ecs_agent_disconnected), C(registered_in_both), C(registered_in_ssm) (no container instance: half-onboarded,
    or in a cluster not listed), C(registered_in_ecs) (SSM registration gone: stale), C(ssm_agent_<version>),
    C(ssm_agent_outdated) (SSM reports a newer agent), C(ecs_agent_<version>), C(tag_<key>_<value>) for the
    container instance's tags, and C(duplicates) (hosts whose name was wanted by another instance too)."
  - "Host variables: the fields of M(ecs_anywhere.fleet.fleet_info)'s C(instances) (C(managed_instance_id),
    C(registered_in), C(computer_name), C(ip_address), C(ping_status), C(ssm_agent_version), C(cluster),
    C(container_instance_arn), C(ecs_status), C(agent_connected), C(ecs_agent_version), C(ecs_tags), ...) and
    C(region); fleet_info's C(name) (the SSM instance name) is C(instance_name) here, since Ansible reserves
    C(name). They are named with O(hostvars_prefix) and O(hostvars_suffix). They hold no secret: no activation code, no
    credentials. O(compose), O(groups) and O(keyed_groups) see them under those names."
  - "To run plays over SSH, list this inventory together with the site's SSH inventory (C(-i onprem.fleet.yml -i
    hosts.yml)): a host of the same name in both is one host with the variables of both (the later source wins on
    a name both set), so the fleet's groups select and the SSH inventory connects. Or let this plugin set the
    variables of AWS's SSM connection plugin (O(use_ssm_connection))."
notes:
  - SSM tags are not returned by C(DescribeInstanceInformation) (they would cost a call per host), so C(tag_) groups
    and C(ecs_tags) come from the container instances' tags; O(tags) filters on SSM tags on the SSM side.
  - Options listed in the inventory file are cached with the result under a key made of the file's path; after
    changing the file, list once with C(--flush-cache).
  - "Running plays over SSM on hybrid (C(mi-)) instances needs the advanced-instances tier of SSM and, for file
    transfers, an S3 bucket the hosts and the controller can reach (O(ssm_bucket_name))."
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: The name of this plugin; it must be V(ecs_anywhere.fleet.fleet) for this plugin to read the file.
    required: true
    type: str
    choices: [ecs_anywhere.fleet.fleet]
  regions:
    description:
      - The regions whose fleet to list.
      - Empty means the region of O(region) (or C(AWS_REGION), or the profile's); when none is set, every region
        amazon.aws's inventory plugins find (C(DescribeRegions)), at two calls per region.
    type: list
    elements: str
    default: []
  clusters:
    description:
      - Clusters whose container instances to join (names or ARNs). Empty means every cluster of each region.
      - Instances registered with SSM whose container instance is in another cluster are listed with
        C(registered_in=ssm).
    type: list
    elements: str
    default: []
  ping_status:
    description: Only managed instances with these SSM ping statuses (filtered by SSM).
    type: list
    elements: str
    choices: [Online, ConnectionLost, Inactive]
    default: []
  tags:
    description:
      - Only managed instances carrying all these SSM tags (as copied from the activation; filtered by SSM).
      - Instances known only to ECS are then left out, since they have no SSM tags to match.
    type: dict
    default: {}
  registered_in:
    description: Only instances known to these sides (V(both), V(ssm) only, V(ecs) only). Empty means all.
    type: list
    elements: str
    choices: [both, ssm, ecs]
    default: []
  hostnames:
    description:
      - Host name sources in order of preference; the first with a value names the host.
      - V(computer_name) is the host name the SSM agent reports (what C(hostname) says on the host, usually also
        its name in an SSH inventory), V(instance_name) the SSM instance name (the activation's default instance
        name),
        V(ip_address) the address the agent reports, V(managed_instance_id) the C(mi-) id.
      - When none has a value (an instance known only to ECS has no computer name), the C(mi-) id.
    type: list
    elements: str
    choices: [computer_name, instance_name, ip_address, managed_instance_id]
    default: [computer_name, managed_instance_id]
  duplicate_hostnames:
    description:
      - What to do when several instances get the same host name.
      - The instance that keeps the name is the one whose SSM ping status is C(Online), then the one known to both
        SSM and ECS, then the one with the latest ping, SSM registration and ECS registration, then the highest
        C(mi-) id.
      - V(rename) names each other instance by its C(mi-) id. All of them are in the C(duplicates) group, so the
        stale registrations can be found and offboarded (C(--limit duplicates:!ping_Online)).
      - V(drop) leaves the other instances out, with a warning naming them.
      - V(error) fails the listing with a message naming the host name and the C(mi-) ids.
    type: str
    choices: [rename, drop, error]
    default: rename
  builtin_groups:
    description: Create the groups listed in the description. With V(false), only O(keyed_groups) and O(groups).
    type: bool
    default: true
  hostvars_prefix:
    description: Prefix of every host variable name this plugin sets from the fleet record (not of C(ansible_) ones).
    type: str
    default: ""
  hostvars_suffix:
    description: Suffix of every host variable name this plugin sets from the fleet record (not of C(ansible_) ones).
    type: str
    default: ""
  use_ssm_connection:
    description:
      - Set C(ansible_connection) to O(ssm_connection_plugin) and its C(ansible_aws_ssm_instance_id) and
        C(ansible_aws_ssm_region) for every host registered with SSM, so plays reach the hosts through SSM
        Session Manager instead of SSH.
      - Hosts known only to ECS get none of these (there is no SSM registration to connect through).
    type: bool
    default: false
  ssm_connection_plugin:
    description:
      - The connection plugin O(use_ssm_connection) sets. C(community.aws.aws_ssm) moved to amazon.aws 10 as
        C(amazon.aws.aws_ssm); community.aws 10 redirects the old name there.
    type: str
    default: amazon.aws.aws_ssm
  ssm_bucket_name:
    description:
      - The S3 bucket the SSM connection plugin transfers files through (C(ansible_aws_ssm_bucket_name)).
      - Only with O(use_ssm_connection=true).
    type: str
"""

EXAMPLES = r"""
# onprem.fleet.yml -- every ECS Anywhere host of eu-west-1, named by host name, grouped by cluster, ping status, ...
plugin: ecs_anywhere.fleet.fleet
regions: [eu-west-1]

# Then, for example:
#   ansible-inventory -i onprem.fleet.yml --graph
#   ansible -i onprem.fleet.yml 'cluster_onprem:&ping_ConnectionLost' --list-hosts

---
# The fleet's groups with the site's SSH inventory: ansible-playbook -i onprem.fleet.yml -i hosts.yml site.yml
# (hosts.yml names the hosts as their computer names and holds ansible_host, ansible_user, ...).
plugin: ecs_anywhere.fleet.fleet
regions: [eu-west-1]
clusters: [onprem]
keyed_groups:
  # rack_1, rack_2, ... from a container instance tag
  - key: ecs_tags.rack | default('none')
    prefix: rack
groups:
  # hosts whose ECS agent is connected but that run nothing: safe to patch first
  idle: agent_connected and running_tasks_count == 0
compose:
  ansible_host: ip_address

---
# Over SSM Session Manager instead of SSH, the credentials from a profile, cached for an hour.
plugin: ecs_anywhere.fleet.fleet
profile: fleet-readonly
regions: [eu-west-1, eu-central-1]
ping_status: [Online]
use_ssm_connection: true
ssm_bucket_name: example-ssm-transfer
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-fleet
cache_timeout: 3600

---
# Hosts by mi- id, variables under a prefix, only the stale ones (SSM registration gone, container instance left).
plugin: ecs_anywhere.fleet.fleet
region: eu-west-1
hostnames: [managed_instance_id]
hostvars_prefix: fleet_
registered_in: [ecs]
"""

import re

try:
    import botocore
except ImportError:
    pass  # AWSInventoryBase.require_aws_sdk reports the missing SDK

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _fleet as fleet
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm_api
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import REGION
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import tag_problem

CLUSTER_ARN = re.compile(r"^arn:[\w-]+:ecs:[\w-]+:\d{12}:cluster/([A-Za-z0-9_-]{1,255})\Z")
GROUP_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
DUPLICATES_GROUP = "duplicates"
HOSTNAME_SOURCES = ("computer_name", "instance_name", "ip_address", "managed_instance_id")


def group_name(*parts):
    """A group name of letters, digits and ``_`` (what Ansible accepts without warnings)."""
    return GROUP_UNSAFE.sub("_", "_".join(str(p) for p in parts))


def builtin_groups(record):
    """The built-in groups of a fleet record, their names already safe."""
    groups = ["ecs_anywhere_fleet", group_name("registered_in", record["registered_in"])]
    if record.get("region"):
        groups.append(group_name("region", record["region"]))
    if record.get("cluster"):
        groups.append(group_name("cluster", record["cluster"]))
    if record.get("ping_status"):
        groups.append(group_name("ping", record["ping_status"]))
    if record.get("ecs_status"):
        groups.append(group_name("ecs_status", record["ecs_status"]))
    if record.get("agent_connected") is False:
        groups.append("ecs_agent_disconnected")
    if record.get("ssm_agent_version"):
        groups.append(group_name("ssm_agent", record["ssm_agent_version"]))
    if record.get("ssm_agent_is_latest") is False:
        groups.append("ssm_agent_outdated")
    if record.get("ecs_agent_version"):
        groups.append(group_name("ecs_agent", record["ecs_agent_version"]))
    for key, value in sorted((record.get("ecs_tags") or {}).items()):
        groups.append(group_name("tag", key, value) if value else group_name("tag", key))
    return groups


def preferred_name(record, hostnames):
    for source in hostnames:
        if record.get(source):
            return str(record[source])
    return record["managed_instance_id"]


def rank(record):
    """Sort key of the instance that keeps a contested host name: the highest wins."""
    return (
        record.get("ping_status") == "Online",
        record.get("registered_in") == "both",
        record.get("last_ping") or "",
        record.get("registration_date") or "",
        record.get("registered_at") or "",
        record["managed_instance_id"] or "",
        record.get("region") or "",
    )


def name_hosts(records, hostnames, duplicates="rename"):
    """[(host name, record, duplicated)] with every name unique, following the ``duplicates`` rule.

    Raises ValueError for ``duplicates="error"``; returns the dropped records' descriptions as a second value.
    """
    wanted = {}
    for record in records:
        wanted.setdefault(preferred_name(record, hostnames), []).append(record)
    named, dropped, taken = [], [], set()
    contested = {name: sorted(group, key=rank, reverse=True) for name, group in wanted.items() if len(group) > 1}
    if contested and duplicates == "error":
        raise ValueError(
            "; ".join(
                "%s is the host name of %s" % (name, ", ".join(r["managed_instance_id"] for r in group))
                for name, group in sorted(contested.items())
            )
        )
    for name in sorted(wanted):
        group = contested.get(name, wanted[name])
        named.append((name, group[0], len(group) > 1))
        taken.add(name)
        for other in group[1:]:
            if duplicates == "drop":
                dropped.append(
                    "%s (%s, kept %s)" % (name, other["managed_instance_id"], group[0]["managed_instance_id"])
                )
            else:
                named.append((None, other, True))
    result = []
    for name, record, duplicated in named:
        if name is None:
            # Renamed by its mi- id; the same id in two regions is told apart by the region.
            name = record["managed_instance_id"]
            if name in taken:
                name = "%s_%s" % (name, record.get("region"))
            taken.add(name)
        result.append((name, record, duplicated))
    return result, dropped


def host_record(record, region):
    """A fleet_info record as host variables: ``name`` is reserved by Ansible (a play keyword)."""
    record = dict(record, region=region)
    record["instance_name"] = record.pop("name")
    return record


def keep(record, options):
    """Client-side filters: registered_in, and SSM-side criteria that an ECS-only instance cannot match."""
    if options["registered_in"] and record["registered_in"] not in options["registered_in"]:
        return False
    ssm_criteria = options["ping_status"] or options["tags"]
    return not (ssm_criteria and record["registered_in"] == "ecs")


class InventoryModule(AWSInventoryBase):
    NAME = "ecs_anywhere.fleet.fleet"
    INVENTORY_FILE_SUFFIXES = ("fleet.yml", "fleet.yaml")

    class TemplatedOptions(AWSInventoryBase.TemplatedOptions):
        """amazon.aws's templating of credentials, endpoint_url, region and regions, without passing
        ``disable_lookups`` (deprecated and without effect since ansible-core 2.19, which warns on every listing)
        and templating only the list elements that are templates."""

        def _template(self, value):
            if not isinstance(value, str) or not self.templar.is_template(value):
                return value
            return self.templar.template(value)

        def get(self, *args):
            value = self.original_options.get(*args)
            if not value or not self.templar or args[0] not in self.TEMPLATABLE_OPTIONS:
                return value
            if isinstance(value, dict):
                return {k: self._template(v) for k, v in value.items()}
            if isinstance(value, list):
                return [self._template(v) for v in value]
            return self._template(value)

    def _do_fail(self, message):
        raise AnsibleError(message)

    # ------------------------------------------------------------ options

    def _validate(self, path, config):
        """One clear error naming the first bad option, before any AWS call."""
        known = {"plugin"}
        for name, definition in self.option_definitions.items():
            known.add(name)
            known.update(definition.get("aliases") or [])
        unknown = sorted(str(k) for k in config if k not in known)
        if unknown:
            self.fail_aws(
                "%s: unknown option %s for %s (see ansible-doc -t inventory %s)"
                % (path, ", ".join(unknown), self.NAME, self.NAME)
            )
        region = self.get_option("region")
        if region and (not isinstance(region, str) or not REGION.match(region)):
            self.fail_aws("%s: region: %r is not a region name (for example eu-west-1)" % (path, region))
        for region in self.get_option("regions"):
            if not isinstance(region, str) or not REGION.match(region):
                self.fail_aws("%s: regions: %r is not a region name (for example eu-west-1)" % (path, region))
        for cluster in self.get_option("clusters"):
            if not isinstance(cluster, str) or not (CLUSTER_NAME.match(cluster) or CLUSTER_ARN.match(cluster)):
                self.fail_aws(
                    "%s: clusters: %r is not a cluster name (1-255 letters, digits, - and _) or cluster ARN"
                    % (path, cluster)
                )
        for name, choices in (
            ("ping_status", ("Online", "ConnectionLost", "Inactive")),
            ("registered_in", ("both", "ssm", "ecs")),
            ("hostnames", HOSTNAME_SOURCES),
        ):
            for value in self.get_option(name):
                if value not in choices:
                    self.fail_aws("%s: %s: %r is not one of %s" % (path, name, value, ", ".join(choices)))
        for key, value in self.get_option("tags").items():
            problem = tag_problem(str(key), "" if value is None else str(value))
            if problem or value is None or isinstance(value, (list, dict)):
                self.fail_aws("%s: tags: %r: %s" % (path, key, problem or "the value must be a string"))
        if self.get_option("ssm_bucket_name") and not self.get_option("use_ssm_connection"):
            self.fail_aws("%s: ssm_bucket_name is set but use_ssm_connection is false" % path)
        if not self.get_option("ssm_connection_plugin"):
            self.fail_aws("%s: ssm_connection_plugin must name a connection plugin" % path)

    def _regions(self):
        regions = self.get_option("regions")
        if regions:
            return regions
        if self.region:
            return [self.region]
        return self._boto3_regions(service="ssm")

    # ------------------------------------------------------------ AWS

    def _query(self, regions):
        """Every fleet record of ``regions`` (joined, filtered), each with its ``region``: what the cache holds."""
        options = dict(
            ping_status=self.get_option("ping_status"),
            tags=self.get_option("tags"),
            registered_in=self.get_option("registered_in"),
        )
        records = []
        for region in regions:
            ssm_client = self.client("ssm", region=region)
            ecs_client = self.client("ecs", region=region)
            try:
                managed = ssm_api.describe_managed_instances(ssm_client, None, options["ping_status"], options["tags"])
                clusters = self.get_option("clusters") or ecs.list_clusters(ecs_client)
                container = fleet.container_instances_by_id(ecs_client, clusters)
            except AnsibleAWSError as e:
                self.fail_aws("Failed to list the fleet of %s: %s" % (region, to_native(e)))
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                self.fail_aws("Failed to list the fleet of %s" % region, exception=e)
            for record in fleet.join(managed, container):
                if keep(record, options):
                    records.append(host_record(record, region))
        return records

    # ------------------------------------------------------------ the inventory

    def _host_vars(self, record, options):
        prefix, suffix = options["hostvars_prefix"], options["hostvars_suffix"]
        host_vars = {"%s%s%s" % (prefix, k, suffix): v for k, v in record.items()}
        if options["use_ssm_connection"] and record["registered_in"] != "ecs":
            host_vars.update(
                ansible_connection=options["ssm_connection_plugin"],
                ansible_aws_ssm_instance_id=record["managed_instance_id"],
                ansible_aws_ssm_region=record["region"],
            )
            if options["ssm_bucket_name"]:
                host_vars["ansible_aws_ssm_bucket_name"] = options["ssm_bucket_name"]
        return host_vars

    def _populate(self, records):
        options = {
            name: self.get_option(name)
            for name in (
                "hostnames",
                "duplicate_hostnames",
                "builtin_groups",
                "hostvars_prefix",
                "hostvars_suffix",
                "use_ssm_connection",
                "ssm_connection_plugin",
                "ssm_bucket_name",
                "compose",
                "groups",
                "keyed_groups",
                "strict",
            )
        }
        try:
            named, dropped = name_hosts(records, options["hostnames"], options["duplicate_hostnames"])
        except ValueError as e:
            self.fail_aws(
                "Several managed instances have the same host name (duplicate_hostnames=error): %s. Offboard the "
                "stale ones, or choose duplicate_hostnames=rename or drop, or hostnames=[managed_instance_id]" % e
            )
        for description in dropped:
            self.warn("%s: left out an instance with the same host name: %s" % (self.NAME, description))
        strict = options["strict"]
        for name, record, duplicated in named:
            self.inventory.add_host(name)
            if options["builtin_groups"]:
                for group in builtin_groups(record) + ([DUPLICATES_GROUP] if duplicated else []):
                    self.inventory.add_group(group)
                    self.inventory.add_host(name, group=group)
            host_vars = self._host_vars(record, options)
            for key, value in host_vars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(options["compose"], host_vars, name, strict=strict)
            self._add_host_to_composed_groups(options["groups"], host_vars, name, strict=strict)
            self._add_host_to_keyed_groups(options["keyed_groups"], host_vars, name, strict=strict)

    def _read_config_data(self, path):
        # AWSInventoryBase.parse reads the file, then may assume a role: validate in between, before any AWS call.
        config = super()._read_config_data(path)
        self._validate(path, config)
        return config

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)

        cached, records = self.get_cached_result(path, cache)
        if not cached:
            records = self._query(self._regions())
        self._populate(records)
        self.update_cached_result(path, cache, records)
