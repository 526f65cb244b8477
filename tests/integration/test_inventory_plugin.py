# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ecs_anywhere.fleet.fleet inventory plugin against the emulator, through ansible-inventory as a user runs it:
groups and host variables from the emulator's state, duplicates, SSM connection variables, bad options, the cache
(a second listing makes no AWS call), and the cost over 5,000 instances (within the paging floor)."""

import json
import math
import os
import subprocess
import sys
import time
import uuid

import pytest
import yaml

ANSIBLE_INVENTORY = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
#: The fleet fixture's region: no other test seeds it, so listing every instance of the region stays small.
REGION = "eu-north-1"


def write_source(tmp_path, name="test.fleet.yml", **options):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict(dict(plugin="ecs_anywhere.fleet.fleet", regions=[REGION]), **options)))
    return str(path)


def inventory_env(env):
    # A source that fails to parse is an error, not a warning and an empty inventory.
    return dict(env, ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def plain(value):
    """ansible-inventory (ansible-core 2.19) marks strings from a plugin as {"__ansible_unsafe": ...}."""
    return value["__ansible_unsafe"] if list(value) == ["__ansible_unsafe"] else value


def list_inventory(env, source, *args, expect_rc=0):
    """``ansible-inventory -i source --list``: (parsed JSON, seconds, completed process)."""
    output = source + ".json"
    started = time.monotonic()
    completed = subprocess.run(
        [ANSIBLE_INVENTORY, "-i", source, "--list", "--output", output] + list(args),
        env=inventory_env(env),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    assert completed.returncode == expect_rc, completed.stdout[-3000:] + completed.stderr[-3000:]
    listing = None
    if completed.returncode == 0:
        with open(output, encoding="utf-8") as handle:
            listing = json.load(handle, object_hook=plain)
        os.remove(output)
    return listing, seconds, completed


def members(listing, group):
    return sorted(listing.get(group, {}).get("hosts", []))


def hostvars(listing):
    return listing["_meta"]["hostvars"]


@pytest.fixture
def cluster(aws_client):
    name = "inv-%s" % uuid.uuid4().hex[:8]
    for region in (REGION, "us-east-1"):
        aws_client("ecs", region_name=region).create_cluster(clusterName=name)
    return name


@pytest.fixture
def fleet(emulator, aws_client, cluster):
    """In ``cluster`` (SSM tag fleet-test=<cluster>): 3 healthy hosts, one whose SSM agent lost its connection, one
    whose ECS agent is disconnected and draining; one registered with SSM only; one left in ECS only (its managed
    instance deregistered)."""
    tag = {"fleet-test": cluster}
    healthy = emulator.seed(
        5, region=REGION, cluster=cluster, tags=tag, create_role=True, container_instance_tags={"rack": "r1"}
    )["instances"]
    ssm_only = emulator.seed(1, region=REGION, tags=tag, create_role=True, ssm_agent_version="3.2.0.0")["instances"]
    ecs_only = emulator.seed(1, region=REGION, cluster=cluster, tags=tag, create_role=True)["instances"]
    aws_client("ssm", region_name=REGION).deregister_managed_instance(InstanceId=ecs_only[0]["instance_id"])
    lost, drained = healthy[3], healthy[4]
    assert (
        emulator.set_ping([lost["instance_id"]], seconds_ago=3600, region=REGION)[lost["instance_id"]]
        == "ConnectionLost"
    )
    emulator.set_container_instances(
        [drained["container_instance_arn"]], cluster=cluster, agent_connected=False, region=REGION
    )
    aws_client("ecs", region_name=REGION).update_container_instances_state(
        cluster=cluster, containerInstances=[drained["container_instance_arn"]], status="DRAINING"
    )
    return dict(tag=tag, healthy=healthy[:3], lost=lost, drained=drained, ssm_only=ssm_only[0], ecs_only=ecs_only[0])


def test_groups_and_host_variables_follow_the_emulator(aws_env, aws_client, emulator, cluster, fleet, tmp_path):
    source = write_source(tmp_path, clusters=[cluster])
    listing, _seconds, _completed = list_inventory(aws_env, source)
    ssm = aws_client("ssm", region_name=REGION)
    ecs = aws_client("ecs", region_name=REGION)
    ours = set(i["instance_id"] for i in fleet["healthy"] + [fleet["lost"], fleet["drained"], fleet["ssm_only"]])
    infos = {
        i["InstanceId"]: i
        for i in ssm.describe_instance_information(Filters=[dict(Key="tag:fleet-test", Values=[cluster])])[
            "InstanceInformationList"
        ]
    }
    assert set(infos) == ours
    # Every SSM instance of the region is listed (no tag filter here); ours are named by computer name...
    by_id = {v["managed_instance_id"]: (name, v) for name, v in hostvars(listing).items()}
    for instance_id, info in infos.items():
        name, values = by_id[instance_id]
        assert values["computer_name"] == info["ComputerName"]
        assert values["ping_status"] == info["PingStatus"] and values["ip_address"] == info["IPAddress"]
        assert values["region"] == REGION
    # ... except the ECS-only one, which has no computer name: its mi- id.
    ecs_only_id = fleet["ecs_only"]["instance_id"]
    assert by_id[ecs_only_id][0] == ecs_only_id and by_id[ecs_only_id][1]["registered_in"] == "ecs"

    described = {
        c["ec2InstanceId"]: c
        for c in ecs.describe_container_instances(
            cluster=cluster, containerInstances=ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
        )["containerInstances"]
    }

    def names(ids):
        return sorted(by_id[i][0] for i in ids)

    cluster_group = "cluster_" + cluster.replace("-", "_")
    assert members(listing, cluster_group) == names(described)
    assert set(members(listing, "ping_ConnectionLost")) >= set(names([fleet["lost"]["instance_id"]]))
    lost_in_cluster = set(members(listing, cluster_group)) & set(members(listing, "ping_ConnectionLost"))
    assert lost_in_cluster == set(names([fleet["lost"]["instance_id"]]))
    assert members(listing, "ecs_status_DRAINING") == names(
        [i for i, c in described.items() if c["status"] == "DRAINING"]
    )
    assert members(listing, "ecs_agent_disconnected") == names(
        [i for i, c in described.items() if not c["agentConnected"]]
    )
    assert set(members(listing, "registered_in_ssm")) >= set(names([fleet["ssm_only"]["instance_id"]]))
    assert set(names([ecs_only_id])) <= set(members(listing, "registered_in_ecs"))
    agent = described[fleet["healthy"][0]["instance_id"]]["versionInfo"]["agentVersion"]
    assert set(names(described)) <= set(members(listing, "ecs_agent_" + agent.replace(".", "_")))
    assert set(members(listing, "ssm_agent_3_2_0_0")) >= set(names([fleet["ssm_only"]["instance_id"]]))
    assert set(members(listing, "tag_rack_r1")) == set(names(i["instance_id"] for i in fleet["healthy"])) | set(
        names([fleet["lost"]["instance_id"], fleet["drained"]["instance_id"]])
    )
    record = by_id[fleet["healthy"][0]["instance_id"]][1]
    container = described[fleet["healthy"][0]["instance_id"]]
    assert record["container_instance_arn"] == container["containerInstanceArn"]
    assert record["cluster"] == cluster and record["ecs_tags"] == {"rack": "r1"} and record["ecs_status"] == "ACTIVE"


def test_filters_constructed_features_and_ssm_connection(aws_env, emulator, cluster, fleet, tmp_path):
    source = write_source(
        tmp_path,
        clusters=[cluster],
        tags=fleet["tag"],
        ping_status=["Online"],
        hostnames=["managed_instance_id"],
        hostvars_prefix="fleet_",
        use_ssm_connection=True,
        ssm_bucket_name="example-transfer",
        compose={"ansible_host": "fleet_ip_address", "rack": "fleet_ecs_tags.rack | default('none')"},
        groups={"idle": "fleet_agent_connected and fleet_running_tasks_count == 0"},
        keyed_groups=[{"key": "fleet_ecs_tags.rack | default('none')", "prefix": "rack"}],
    )
    listing, _seconds, _completed = list_inventory(aws_env, source)
    online_ids = sorted(i["instance_id"] for i in fleet["healthy"] + [fleet["drained"], fleet["ssm_only"]])
    assert sorted(hostvars(listing)) == online_ids
    values = hostvars(listing)[fleet["healthy"][0]["instance_id"]]
    assert values["ansible_host"] == values["fleet_ip_address"] and values["rack"] == "r1"
    assert values["ansible_connection"] == "amazon.aws.aws_ssm"
    assert values["ansible_aws_ssm_instance_id"] == fleet["healthy"][0]["instance_id"]
    assert values["ansible_aws_ssm_region"] == REGION
    assert values["ansible_aws_ssm_bucket_name"] == "example-transfer"
    assert "managed_instance_id" not in values and values["fleet_managed_instance_id"]
    assert members(listing, "idle") == sorted(i["instance_id"] for i in fleet["healthy"])
    assert members(listing, "rack_r1") == sorted(i["instance_id"] for i in fleet["healthy"] + [fleet["drained"]])
    assert members(listing, "rack_none") == [fleet["ssm_only"]["instance_id"]]


def test_duplicate_computer_names(aws_env, aws_client, emulator, cluster, tmp_path):
    """A re-imaged host: the old registration lost its ping, the new one is Online, both say seed-00000."""
    tag = {"fleet-test": cluster}
    old = emulator.seed(1, region=REGION, cluster=cluster, tags=tag, create_role=True)["instances"][0]
    new = emulator.seed(1, region=REGION, cluster=cluster, tags=tag, create_role=True)["instances"][0]
    emulator.set_ping([old["instance_id"]], seconds_ago=3600, region=REGION)
    base = dict(clusters=[cluster], tags=tag)

    listing = list_inventory(aws_env, write_source(tmp_path, **base))[0]
    assert sorted(hostvars(listing)) == sorted(["seed-00000", old["instance_id"]])
    assert hostvars(listing)["seed-00000"]["managed_instance_id"] == new["instance_id"]
    assert members(listing, "duplicates") == sorted(["seed-00000", old["instance_id"]])
    # The stale one, to offboard: duplicates that are not Online.
    assert members(listing, "ping_ConnectionLost") == [old["instance_id"]]

    dropped, _s, completed = list_inventory(aws_env, write_source(tmp_path, duplicate_hostnames="drop", **base))
    assert list(hostvars(dropped)) == ["seed-00000"] and old["instance_id"] in completed.stderr

    _l, _s, failed = list_inventory(aws_env, write_source(tmp_path, duplicate_hostnames="error", **base), expect_rc=1)
    message = " ".join(failed.stderr.split())
    assert "duplicate_hostnames=error" in message and old["instance_id"] in message and new["instance_id"] in message


def test_cache_second_listing_makes_no_aws_call(aws_env, emulator, cluster, fleet, tmp_path):
    cache_dir = tmp_path / "cache"
    source = write_source(
        tmp_path,
        clusters=[cluster],
        tags=fleet["tag"],
        cache=True,
        cache_plugin="ansible.builtin.jsonfile",
        cache_connection=str(cache_dir),
        cache_timeout=600,
    )
    emulator.clear_calls()
    first = list_inventory(aws_env, source)[0]
    assert len(emulator.calls()) > 0 and os.listdir(str(cache_dir))
    emulator.clear_calls()
    # A new host after the first listing: the cache does not see it, a flushed listing does.
    late = emulator.seed(1, region=REGION, cluster=cluster, tags=fleet["tag"], create_role=True)["instances"][0]
    emulator.clear_calls()
    second = list_inventory(aws_env, source)[0]
    assert emulator.calls() == []
    assert hostvars(second) == hostvars(first)
    flushed = list_inventory(aws_env, source, "--flush-cache")[0]
    assert len(emulator.calls()) > 0
    assert late["instance_id"] in [v["managed_instance_id"] for v in hostvars(flushed).values()]


def test_credentials_endpoint_and_templating_the_amazon_aws_way(aws_env, emulator, cluster, fleet, tmp_path):
    """endpoint_url, credentials and the region templated from the environment in the file; no secret in the output."""
    secret = "secret-%s" % uuid.uuid4().hex
    env = {k: v for k, v in aws_env.items() if not k.startswith("AWS_")}
    env.update(FLEET_ENDPOINT=aws_env["AWS_ENDPOINT_URL"], FLEET_SECRET=secret)
    source = write_source(
        tmp_path,
        regions=[],
        region="{{ 'eu-north-' ~ 1 }}",
        endpoint_url="{{ lookup('env', 'FLEET_ENDPOINT') }}",
        access_key="testing",
        secret_key="{{ lookup('env', 'FLEET_SECRET') }}",
        clusters=[cluster],
        tags=fleet["tag"],
    )
    listing, _seconds, completed = list_inventory(env, source, "-vvv")
    assert len(hostvars(listing)) == 6
    assert secret not in completed.stdout + completed.stderr
    # amazon.aws's templating without ansible-core 2.19's deprecation warning for disable_lookups.
    assert "disable_lookups" not in completed.stderr


@pytest.mark.parametrize(
    "options, named",
    [
        (dict(clusters=["bad cluster"]), "clusters"),
        (dict(regions=["eu-west-1", "Europe"]), "regions"),
        (dict(ping_status=["Offline"]), "ping_status"),
        (dict(hostnames=["fqdn"]), "hostnames"),
        (dict(registered_in=["both", "nowhere"]), "registered_in"),
        (dict(duplicate_hostnames="newest"), "duplicate_hostnames"),
        (dict(tags={"team": ["a", "b"]}), "tags"),
        (dict(ssm_bucket_name="transfer"), "ssm_bucket_name"),
        (dict(clusterz=["onprem"]), "clusterz"),
    ],
)
def test_bad_options_fail_naming_the_option_before_any_call(aws_env, emulator, tmp_path, options, named):
    emulator.clear_calls()
    _l, _s, failed = list_inventory(aws_env, write_source(tmp_path, **options), expect_rc=1)
    message = " ".join(failed.stderr.split())
    assert named in message, message
    assert "Traceback" not in failed.stderr
    assert emulator.calls() == []


def test_scale_5000_instances_within_the_paging_floor(aws_env, emulator, cluster, tmp_path, request):
    count = 5000
    tag = {"fleet-scale": cluster}
    seeded = emulator.seed(count, cluster=cluster, tags=tag, create_role=True)
    emulator.clear_calls()

    listing, seconds, _completed = list_inventory(
        aws_env, write_source(tmp_path, regions=["us-east-1"], clusters=[cluster], tags=tag)
    )

    calls = emulator.calls()
    by_operation = {}
    for call in calls:
        by_operation[call["operation"]] = by_operation.get(call["operation"], 0) + 1
    # The floor: one SSM page per 50, one ECS list page and one describe batch per 100 -- nothing per instance.
    floor = math.ceil(count / 50) + 2 * math.ceil(count / 100)
    line = "fleet inventory over %d instances: %d AWS calls (floor %d: %s), ansible-inventory %.1fs, seeding %.1fs" % (
        count,
        len(calls),
        floor,
        by_operation,
        seconds,
        seeded["seconds"],
    )
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)
    print(line)
    assert len(hostvars(listing)) == count
    assert len(members(listing, "cluster_" + cluster.replace("-", "_"))) == count
    assert by_operation == {
        "DescribeInstanceInformation": math.ceil(count / 50),
        "ListContainerInstances": math.ceil(count / 100),
        "DescribeContainerInstances": math.ceil(count / 100),
    }
    assert len(calls) == floor
