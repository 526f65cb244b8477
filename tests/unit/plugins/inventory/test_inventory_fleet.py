# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet inventory plugin: naming, duplicates, groups, host variables, Constructable, the cache, bad options.

The plugin runs its real parse() on a real inventory file; its AWS clients are botocore Stubbers, which check each
request and canned response against the service model and fail on any call not expected.
"""

import datetime
import importlib

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.utils.plugin_docs import add_fragments

from ansible_collections.ecs_anywhere.fleet.plugins.inventory import fleet as plugin_module
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs

NOW = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)
SSM_FILTERS = [dict(Key="ResourceType", Values=["ManagedInstance"])]


class Fragments:
    """The doc fragments the plugin extends (what the plugin loader resolves), imported directly."""

    def get(self, name):
        parts = name.split(".")
        if len(parts) == 1:
            module = "ansible.plugins.doc_fragments." + name
        elif len(parts) == 3:
            module = "ansible_collections.%s.%s.plugins.doc_fragments.%s" % tuple(parts)
        else:
            return None
        try:
            fragment = importlib.import_module(module).ModuleDocFragment
        except ImportError:
            return None
        return type("Fragment", (fragment,), dict(ansible_name=name))()


def new_plugin():
    """The plugin with its documented options registered, as ansible's plugin loader does."""
    doc = yaml.safe_load(plugin_module.DOCUMENTATION)
    add_fragments(doc, plugin_module.__file__, fragment_loader=Fragments())
    C.config.initialize_plugin_configuration_definitions(
        "inventory", plugin_module.InventoryModule.NAME, doc["options"]
    )
    plugin = plugin_module.InventoryModule()
    plugin._load_name = plugin_module.InventoryModule.NAME
    plugin._redirected_names = [plugin_module.InventoryModule.NAME]
    return plugin


def mi(n):
    return "mi-%017x" % n


def ci_arn(n, cluster="onprem"):
    return "arn:aws:ecs:eu-west-1:123456789012:container-instance/%s/%032x" % (cluster, n)


def info(n, **extra):
    values = dict(
        InstanceId=mi(n),
        PingStatus="Online",
        LastPingDateTime=NOW,
        AgentVersion="3.3.1957.0",
        IsLatestVersion=True,
        ResourceType="ManagedInstance",
        ComputerName="host-%d" % n,
        IPAddress="10.0.0.%d" % n,
        Name="onprem",
        ActivationId="3c5c2d5e-1a2b-4c3d-8e9f-0123456789ab",
        RegistrationDate=NOW,
    )
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


def container(n, cluster="onprem", **extra):
    values = dict(
        containerInstanceArn=ci_arn(n, cluster),
        ec2InstanceId=mi(n),
        status="ACTIVE",
        agentConnected=True,
        versionInfo=dict(agentVersion="1.89.0", dockerVersion="DockerVersion: 25.0.5"),
        runningTasksCount=0,
        pendingTasksCount=0,
        registeredAt=NOW,
        tags=[dict(key="rack", value="r1")],
    )
    values.update(extra)
    return values


class Fleet:
    """Stubbed SSM and ECS clients per region, and the calls the plugin is expected to make."""

    def __init__(self, stubbed):
        self.stubbed = stubbed
        self.clients = {}

    def client(self, service, region):
        if (service, region) not in self.clients:
            self.clients[(service, region)] = self.stubbed(service, region)
        return self.clients[(service, region)]

    def ssm(self, infos, region="eu-west-1", filters=None):
        _client, stubber = self.client("ssm", region)
        stubber.add_response(
            "describe_instance_information",
            dict(InstanceInformationList=infos),
            dict(Filters=filters or SSM_FILTERS, MaxResults=50),
        )

    def ecs(self, cluster, containers, region="eu-west-1", list_clusters=False):
        _client, stubber = self.client("ecs", region)
        if list_clusters:
            stubber.add_response(
                "list_clusters", dict(clusterArns=["arn:aws:ecs:%s:123456789012:cluster/%s" % (region, cluster)]), {}
            )
        arns = [c["containerInstanceArn"] for c in containers]
        stubber.add_response(
            "list_container_instances",
            dict(containerInstanceArns=arns),
            dict(cluster=cluster, filter=ecs.EXTERNAL, maxResults=100),
        )
        if arns:
            stubber.add_response(
                "describe_container_instances",
                dict(containerInstances=containers, failures=[]),
                dict(cluster=cluster, containerInstances=arns, include=["TAGS"]),
            )

    def parse(self, tmp_path, options, cache=True, plugin=None, name="test.fleet.yml"):
        """Run the plugin's parse() on a file with ``options``; returns (inventory, plugin)."""
        source = tmp_path / name
        source.write_text(yaml.safe_dump(dict(dict(plugin="ecs_anywhere.fleet.fleet"), **options)))
        plugin = plugin or new_plugin()
        plugin.client = lambda service, region=None, **kw: self.client(service, region)[0]
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(source), cache=cache)
        if hasattr(plugin, "_cache"):
            plugin.update_cache_if_changed()  # what ansible's InventoryManager does after parse()
        return inventory, plugin


@pytest.fixture
def aws(stubbed):
    return Fleet(stubbed)


def groups_of(inventory, host):
    return sorted(g.name for g in inventory.get_host(host).get_groups() if g.name != "all")


def host_vars(inventory, host):
    return inventory.get_host(host).get_vars()


BASE = dict(regions=["eu-west-1"], clusters=["onprem"])


def test_hosts_named_by_computer_name_grouped_and_with_the_joined_record(aws, tmp_path):
    aws.ssm([info(1), info(2, PingStatus="ConnectionLost", IsLatestVersion=False, AgentVersion="3.2.0.0"), info(3)])
    aws.ecs(
        "onprem",
        [container(1), container(2, status="DRAINING", agentConnected=False, tags=[]), container(4)],
    )
    inventory, _plugin = aws.parse(tmp_path, BASE)

    assert sorted(inventory.hosts) == ["host-1", "host-2", "host-3", mi(4)]
    assert groups_of(inventory, "host-1") == [
        "cluster_onprem",
        "ecs_agent_1_89_0",
        "ecs_anywhere_fleet",
        "ecs_status_ACTIVE",
        "ping_Online",
        "region_eu_west_1",
        "registered_in_both",
        "ssm_agent_3_3_1957_0",
        "tag_rack_r1",
    ]
    assert groups_of(inventory, "host-2") == [
        "cluster_onprem",
        "ecs_agent_1_89_0",
        "ecs_agent_disconnected",
        "ecs_anywhere_fleet",
        "ecs_status_DRAINING",
        "ping_ConnectionLost",
        "region_eu_west_1",
        "registered_in_both",
        "ssm_agent_3_2_0_0",
        "ssm_agent_outdated",
    ]
    assert groups_of(inventory, "host-3") == [
        "ecs_anywhere_fleet",
        "ping_Online",
        "region_eu_west_1",
        "registered_in_ssm",
        "ssm_agent_3_3_1957_0",
    ]
    # Known to ECS only (its SSM registration is gone): named by its mi- id.
    assert "registered_in_ecs" in groups_of(inventory, mi(4)) and "cluster_onprem" in groups_of(inventory, mi(4))

    values = host_vars(inventory, "host-2")
    assert values["managed_instance_id"] == mi(2) and values["computer_name"] == "host-2"
    assert values["container_instance_arn"] == ci_arn(2) and values["ecs_status"] == "DRAINING"
    assert values["agent_connected"] is False and values["ping_status"] == "ConnectionLost"
    assert values["region"] == "eu-west-1" and values["cluster"] == "onprem"
    assert values["last_ping"] == NOW.isoformat() and values["instance_name"] == "onprem"
    # "name" is a reserved variable name in Ansible; no connection variable unless asked.
    assert "name" not in values and not [k for k in values if k.startswith("ansible_")]


def test_ecs_only_instance_has_no_ssm_values(aws, tmp_path):
    aws.ssm([])
    aws.ecs("onprem", [container(4)])
    inventory, _plugin = aws.parse(tmp_path, BASE)
    values = host_vars(inventory, mi(4))
    assert values["registered_in"] == "ecs" and values["ping_status"] is None and values["computer_name"] is None


@pytest.mark.parametrize(
    "hostnames, expected",
    [
        (["computer_name"], ["host-1", "host-2", mi(3)]),
        (["managed_instance_id"], [mi(1), mi(2), mi(3)]),
        (["ip_address", "computer_name"], ["10.0.0.1", "10.0.0.2", mi(3)]),
        # No instance name on 2: the next source; none on 3 (ECS only): its mi- id.
        (["instance_name", "computer_name"], ["host-2", "onprem", mi(3)]),
    ],
)
def test_hostnames_in_order_of_preference_then_the_mi_id(aws, tmp_path, hostnames, expected):
    aws.ssm([info(1), info(2, Name=None)])
    aws.ecs("onprem", [container(1), container(3)])
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, hostnames=hostnames))
    assert sorted(inventory.hosts) == sorted(expected)


# A re-imaged host registered again: the same computer name twice.
OLD = info(
    1, ComputerName="rack1-node07", PingStatus="ConnectionLost", LastPingDateTime=NOW - datetime.timedelta(days=3)
)
NEW = info(2, ComputerName="rack1-node07")


def test_duplicate_names_rename_the_stale_instance_to_its_mi_id(aws, tmp_path):
    aws.ssm([OLD, NEW])
    aws.ecs("onprem", [container(1), container(2)])
    inventory, _plugin = aws.parse(tmp_path, BASE)
    assert sorted(inventory.hosts) == sorted(["rack1-node07", mi(1)])
    assert host_vars(inventory, "rack1-node07")["managed_instance_id"] == mi(2)
    assert sorted(inventory.groups["duplicates"].get_hosts(), key=str) == sorted(
        [inventory.get_host("rack1-node07"), inventory.get_host(mi(1))], key=str
    )


def test_duplicate_names_drop_warns_naming_the_instance_left_out(aws, tmp_path, monkeypatch):
    warnings = []
    aws.ssm([NEW, OLD])
    aws.ecs("onprem", [container(1), container(2)])
    plugin = new_plugin()
    monkeypatch.setattr(plugin, "warn", warnings.append)
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, duplicate_hostnames="drop"), plugin=plugin)
    assert list(inventory.hosts) == ["rack1-node07"]
    assert host_vars(inventory, "rack1-node07")["managed_instance_id"] == mi(2)
    assert len(warnings) == 1 and mi(1) in warnings[0] and "rack1-node07" in warnings[0]


def test_duplicate_names_error_names_the_host_and_both_ids(aws, tmp_path):
    aws.ssm([OLD, NEW])
    aws.ecs("onprem", [container(1), container(2)])
    with pytest.raises(AnsibleError) as failed:
        aws.parse(tmp_path, dict(BASE, duplicate_hostnames="error"))
    message = str(failed.value)
    assert "duplicate_hostnames" in message and "rack1-node07" in message and mi(1) in message and mi(2) in message


@pytest.mark.parametrize(
    "first, second, winner",
    [
        # Online beats a later ping that is not Online.
        (dict(PingStatus="Online", LastPingDateTime=NOW), dict(PingStatus="Inactive", LastPingDateTime=NOW), 1),
        # Both Online: the newer ping.
        (dict(LastPingDateTime=NOW), dict(LastPingDateTime=NOW + datetime.timedelta(seconds=1)), 2),
        # Same ping: the later SSM registration.
        (dict(RegistrationDate=NOW + datetime.timedelta(hours=1)), dict(RegistrationDate=NOW), 1),
        # Same ping: known to both SSM and ECS beats SSM only, even with an older ping.
        (dict(LastPingDateTime=NOW - datetime.timedelta(hours=1), both=True), dict(LastPingDateTime=NOW), 1),
        # A registration date beats none.
        (dict(RegistrationDate=None), dict(), 2),
        # Everything equal: the higher mi- id, so the choice never depends on the order AWS lists them in.
        (dict(), dict(), 2),
    ],
)
def test_duplicate_rank(first, second, winner):
    records = []
    for n, extra in ((1, first), (2, second)):
        extra = dict(extra)
        registered_in = "both" if extra.pop("both", False) else "ssm"
        record = dict(plugin_module.fleet.ssm_record(info(n, ComputerName="h", **extra)), registered_in=registered_in)
        records.append(plugin_module.host_record(record, "eu-west-1"))
    for order in (records, records[::-1]):
        named, _dropped = plugin_module.name_hosts(order, ["computer_name"])
        assert dict((name, r["managed_instance_id"]) for name, r, _dup in named)["h"] == mi(winner)


def test_same_mi_id_in_two_regions_stays_two_hosts():
    records = [
        dict(managed_instance_id=mi(1), computer_name="h", region=region, registered_in="ssm")
        for region in ("eu-west-1", "us-east-1")
    ]
    named, _dropped = plugin_module.name_hosts(records, ["managed_instance_id"])
    assert dict((name, r["region"]) for name, r, _dup in named) == {
        mi(1): "us-east-1",
        mi(1) + "_eu-west-1": "eu-west-1",
    }


def test_compose_groups_keyed_groups_and_prefix(aws, tmp_path):
    aws.ssm([info(1), info(2)])
    aws.ecs("onprem", [container(1, runningTasksCount=3), container(2)])
    options = dict(
        BASE,
        hostvars_prefix="fleet_",
        compose=dict(ansible_host="fleet_ip_address", rack="fleet_ecs_tags.rack"),
        groups=dict(idle="fleet_running_tasks_count == 0"),
        keyed_groups=[dict(key="fleet_ecs_tags.rack", prefix="rack"), dict(key="fleet_ping_status", prefix="ssm")],
        builtin_groups=False,
    )
    inventory, _plugin = aws.parse(tmp_path, options)
    assert host_vars(inventory, "host-1")["ansible_host"] == "10.0.0.1"
    assert host_vars(inventory, "host-1")["rack"] == "r1"
    assert "managed_instance_id" not in host_vars(inventory, "host-1")
    assert groups_of(inventory, "host-1") == ["rack_r1", "ssm_Online"]
    assert groups_of(inventory, "host-2") == ["idle", "rack_r1", "ssm_Online"]


def test_strict_fails_on_an_undefined_variable_and_lax_skips_it(aws, tmp_path):
    options = dict(BASE, compose=dict(ansible_host="no_such_variable"))
    aws.ssm([info(1)])
    aws.ecs("onprem", [container(1)])
    inventory, _plugin = aws.parse(tmp_path, options)
    assert "ansible_host" not in host_vars(inventory, "host-1")
    aws.ssm([info(1)])
    aws.ecs("onprem", [container(1)])
    with pytest.raises(AnsibleError):
        aws.parse(tmp_path, dict(options, strict=True))


def test_ssm_connection_variables_for_hosts_registered_with_ssm(aws, tmp_path):
    aws.ssm([info(1)])
    aws.ecs("onprem", [container(1), container(4)])
    options = dict(BASE, use_ssm_connection=True, ssm_bucket_name="example-transfer")
    inventory, _plugin = aws.parse(tmp_path, options)
    values = host_vars(inventory, "host-1")
    assert values["ansible_connection"] == "amazon.aws.aws_ssm"
    assert values["ansible_aws_ssm_instance_id"] == mi(1)
    assert values["ansible_aws_ssm_region"] == "eu-west-1"
    assert values["ansible_aws_ssm_bucket_name"] == "example-transfer"
    # Nothing to connect through for an instance known only to ECS.
    assert not [k for k in host_vars(inventory, mi(4)) if k.startswith("ansible_")]


def test_filters_go_to_ssm_and_drop_ecs_only_instances(aws, tmp_path):
    aws.ssm(
        [info(1, PingStatus="ConnectionLost")],
        filters=SSM_FILTERS + [dict(Key="PingStatus", Values=["ConnectionLost"])],
    )
    aws.ecs("onprem", [container(1), container(2)])
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, ping_status=["ConnectionLost"]))
    # container 2's instance is Online in SSM (not returned), so it must not appear as an ECS-only host.
    assert list(inventory.hosts) == ["host-1"]


def test_registered_in_filter(aws, tmp_path):
    aws.ssm([info(1), info(3)])
    aws.ecs("onprem", [container(1), container(4)])
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, registered_in=["ssm", "ecs"]))
    assert sorted(inventory.hosts) == sorted(["host-3", mi(4)])


def test_every_cluster_of_every_region_asked(aws, tmp_path):
    aws.ssm([info(1)], region="eu-west-1")
    aws.ecs("onprem", [container(1)], region="eu-west-1", list_clusters=True)
    aws.ssm([info(2, ComputerName="host-1")], region="us-east-1")
    aws.ecs("edge", [container(2, cluster="edge")], region="us-east-1", list_clusters=True)
    inventory, _plugin = aws.parse(tmp_path, dict(regions=["eu-west-1", "us-east-1"]))
    # Same computer name in two regions: both Online with the same ping, so the higher mi- id keeps the name.
    assert sorted(inventory.hosts) == sorted(["host-1", mi(1)])
    assert host_vars(inventory, "host-1")["region"] == "us-east-1"
    assert "cluster_edge" in groups_of(inventory, "host-1") and "region_eu_west_1" in groups_of(inventory, mi(1))


def test_region_option_when_regions_is_empty(aws, tmp_path):
    aws.ssm([info(1)], region="ap-southeast-2")
    aws.ecs("onprem", [container(1)], region="ap-southeast-2")
    inventory, _plugin = aws.parse(tmp_path, dict(region="ap-southeast-2", clusters=["onprem"]))
    assert host_vars(inventory, "host-1")["region"] == "ap-southeast-2"


def test_amazon_aws_option_aliases_are_options(aws, tmp_path):
    aws.ssm([info(1)], region="ap-southeast-2")
    aws.ecs("onprem", [container(1)], region="ap-southeast-2")
    options = dict(aws_region="ap-southeast-2", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    inventory, plugin = aws.parse(tmp_path, dict(options, clusters=["onprem"]))
    assert host_vars(inventory, "host-1")["region"] == "ap-southeast-2"
    assert plugin.get_option("access_key") == "AKIDEXAMPLE"


def test_regions_win_over_region(aws, tmp_path):
    aws.ssm([info(1)], region="eu-west-1")
    aws.ecs("onprem", [container(1)], region="eu-west-1")
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, region="ap-southeast-2"))
    assert host_vars(inventory, "host-1")["region"] == "eu-west-1"


def test_every_region_when_none_is_configured(aws, tmp_path, monkeypatch):
    """No regions, no region anywhere: amazon.aws's way, the regions EC2's DescribeRegions lists."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    _ec2, stubber = aws.client("ec2", "us-east-1")
    stubber.add_response("describe_regions", dict(Regions=[dict(RegionName="eu-west-1"), dict(RegionName="sa-east-1")]))
    aws.ssm([info(1)], region="eu-west-1")
    aws.ecs("onprem", [container(1)], region="eu-west-1")
    aws.ssm([info(2)], region="sa-east-1")
    aws.ecs("onprem", [], region="sa-east-1")
    warnings = []
    plugin = new_plugin()
    monkeypatch.setattr(plugin, "warn", warnings.append)
    inventory, _plugin = aws.parse(tmp_path, dict(clusters=["onprem"]), plugin=plugin)
    assert {h: host_vars(inventory, h)["region"] for h in inventory.hosts} == {
        "host-1": "eu-west-1",
        "host-2": "sa-east-1",
    }
    assert warnings == []


def test_tags_filter_goes_to_ssm_and_drops_ecs_only_instances(aws, tmp_path):
    aws.ssm([info(1)], filters=[dict(Key="tag:team", Values=["ops"])])
    aws.ecs("onprem", [container(1), container(4)])
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, tags=dict(team="ops")))
    assert list(inventory.hosts) == ["host-1"]


def test_cache_second_parse_makes_no_call_and_flush_asks_again(aws, tmp_path):
    options = dict(BASE, cache=True, cache_plugin="jsonfile", cache_connection=str(tmp_path / "cache"))
    aws.ssm([info(1)])
    aws.ecs("onprem", [container(1)])
    first, _plugin = aws.parse(tmp_path, options)
    # No response queued: any AWS call now fails the Stubber.
    second, _plugin = aws.parse(tmp_path, options)
    assert sorted(second.hosts) == sorted(first.hosts) == ["host-1"]
    assert host_vars(second, "host-1") == host_vars(first, "host-1")
    assert groups_of(second, "host-1") == groups_of(first, "host-1")
    # --flush-cache (cache=False): asked again, and the new answer is cached.
    aws.ssm([info(1), info(2)])
    aws.ecs("onprem", [container(1), container(2)])
    flushed, _plugin = aws.parse(tmp_path, options, cache=False)
    assert sorted(flushed.hosts) == ["host-1", "host-2"]
    again, _plugin = aws.parse(tmp_path, options)
    assert sorted(again.hosts) == ["host-1", "host-2"]


def test_no_cache_without_the_cache_option(aws, tmp_path):
    for _round in range(2):
        aws.ssm([info(1)])
        aws.ecs("onprem", [container(1)])
        aws.parse(tmp_path, BASE)


def test_no_secret_in_host_variables(aws, tmp_path):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    aws.ssm([info(1)])
    aws.ecs("onprem", [container(1)])
    inventory, _plugin = aws.parse(tmp_path, dict(BASE, access_key="AKIDEXAMPLE", secret_key=secret))
    values = host_vars(inventory, "host-1")
    assert secret not in repr(values) and "AKIDEXAMPLE" not in repr(values)
    assert not [k for k in values if any(word in k for word in ("code", "secret", "password", "token", "key"))]


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(clusters=["bad cluster"]), "clusters: 'bad cluster' is not a cluster name"),
        (dict(clusters=["arn:aws:ecs:eu-west-1:123456789012:service/x"]), "clusters:"),
        (dict(regions=["Europe"]), "regions: 'Europe' is not a region name"),
        (dict(region="Europe"), "region: 'Europe' is not a region name"),
        (dict(aws_region="Europe"), "region: 'Europe' is not a region name"),
        (dict(tags={"team": ["a"]}), "tags: 'team'"),
        (dict(tags={"aws:x": "y"}), "tags: 'aws:x'"),
        (dict(tags={"team": None}), "tags: 'team': the value must be a string"),
        (
            dict(use_ssm_connection=True, ssm_connection_plugin=""),
            "ssm_connection_plugin must name a connection plugin",
        ),
        (dict(ssm_bucket_name="b"), "ssm_bucket_name is set but use_ssm_connection is false"),
        (dict(clusterz=["onprem"]), "unknown option clusterz"),
        # Choices: ansible-core's own check names the option and the plugin (and prints the file as the origin).
        (dict(ping_status=["Offline"]), "Invalid value ['Offline'] for config 'ping_status'"),
        (dict(hostnames=["fqdn"]), "Invalid value ['fqdn'] for config 'hostnames'"),
        (dict(duplicate_hostnames="newest"), "Invalid value 'newest' for config 'duplicate_hostnames'"),
    ],
)
def test_bad_options_fail_naming_the_option_before_any_call(aws, tmp_path, options, message):
    # No response queued: the Stubber fails any AWS call.
    with pytest.raises(AnsibleError) as failed:
        aws.parse(tmp_path, dict(dict(regions=["eu-west-1"]), **options))
    assert message in str(failed.value)
    if not message.startswith("Invalid value"):
        assert str(tmp_path / "test.fleet.yml") in str(failed.value)


def test_an_aws_error_names_the_region_and_the_call(aws, tmp_path):
    _client, stubber = aws.client("ssm", "eu-west-1")
    stubber.add_client_error(
        "describe_instance_information", "AccessDeniedException", "not authorized to perform ssm:Describe..."
    )
    with pytest.raises(AnsibleError) as failed:
        aws.parse(tmp_path, BASE)
    message = str(failed.value)
    assert "Failed to list the fleet of eu-west-1" in message and "describe managed instances" in message
    assert "AccessDeniedException" in message or "not authorized" in message


def test_verify_file_wants_the_fleet_suffix(tmp_path):
    plugin = new_plugin()
    for name, ok in (("onprem.fleet.yml", True), ("fleet.yaml", True), ("onprem.aws_ec2.yml", False), ("x.yml", False)):
        path = tmp_path / name
        path.write_text("plugin: ecs_anywhere.fleet.fleet\n")
        assert plugin.verify_file(str(path)) is ok, name


def test_builtin_group_names_are_safe():
    record = dict(
        registered_in="both",
        region="eu-west-1",
        cluster="on-prem.v2",
        ping_status="ConnectionLost",
        ecs_status="ACTIVE",
        agent_connected=True,
        ssm_agent_version="3.3.1957.0",
        ssm_agent_is_latest=None,
        ecs_agent_version="1.89.0",
        ecs_tags={"team/name": "ops team", "flag": ""},
    )
    groups = plugin_module.builtin_groups(record)
    assert "cluster_on_prem_v2" in groups and "tag_team_name_ops_team" in groups and "tag_flag" in groups
    assert all(plugin_module.GROUP_UNSAFE.search(g) is None for g in groups)
