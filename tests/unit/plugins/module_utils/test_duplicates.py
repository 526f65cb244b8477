# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which managed instances a host that registered anew left behind (_duplicates.find): only ones a host of the run
can be told to own, never one a host holds, never an Online one."""

import datetime

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _duplicates

NEW = "mi-00000000000000001"
OTHER_NEW = "mi-00000000000000002"
OLD = "mi-0000000000000000a"
ORPHAN = "mi-0000000000000000b"
HELD = "mi-0000000000000000c"
PINGED = datetime.datetime(2026, 11, 29, 6, 0, tzinfo=datetime.timezone.utc)


def info(instance_id, computer_name=None, ping="ConnectionLost", pinged=True, activation="act-old", address=None):
    record = {"InstanceId": instance_id, "PingStatus": ping, "ActivationId": activation, "RegistrationDate": PINGED}
    if computer_name:
        record["ComputerName"] = computer_name
    if address:
        record["IPAddress"] = address
    if pinged:
        record["LastPingDateTime"] = PINGED
    return record


def host(name, instance_id=NEW, computer_name="", interrupted=False, address=""):
    return {
        "name": name,
        "instance_id": instance_id,
        "computer_name": computer_name,
        "ip_address": address,
        "interrupted": interrupted,
    }


def test_an_instance_that_pinged_with_the_host_s_computer_name_is_its_duplicate():
    found, kept = _duplicates.find(
        [info(OLD, "node1.example.com")], [host("node1", computer_name="NODE1.example.com")], []
    )
    assert [(d["host"], d["instance_id"]) for d in found] == [("node1", OLD)] and kept == []
    assert "same computer name node1.example.com" in found[0]["reason"]
    assert found[0]["last_ping"] == "2026-11-29T06:00:00+00:00"


def test_held_online_or_other_named_instances_are_never_reported():
    candidates = [
        info(HELD, "node1"),  # a host of the run holds it
        info(OLD, "node1", ping="Online"),  # a live machine
        info(ORPHAN, "node2"),  # another host's name
    ]
    found, kept = _duplicates.find(candidates, [host("node1", computer_name="node1")], [HELD])
    assert found == [] and kept == []


def test_a_computer_name_two_hosts_report_is_left_alone_and_said_so():
    hosts = [host("a", NEW, "node"), host("b", OTHER_NEW, "node")]
    found, kept = _duplicates.find([info(OLD, "node")], hosts, [])
    assert found == [] and [(k["host"], k["instance_id"]) for k in kept] == [("a, b", OLD)]


def test_a_never_connected_instance_is_a_duplicate_only_of_an_interrupted_registration_whose_activation_is_gone():
    candidates = [info(ORPHAN, pinged=False, activation="act-gone")]
    assert _duplicates.find(candidates, [host("node1", computer_name="node1")], [], set()) == ([], [])
    assert _duplicates.unconnected_activations(candidates, [host("node1")], []) == []

    interrupted = [host("node1", computer_name="node1", interrupted=True)]
    assert _duplicates.unconnected_activations(candidates, interrupted, []) == ["act-gone"]
    found, kept = _duplicates.find(candidates, interrupted, [], set())
    assert [(d["host"], d["instance_id"]) for d in found] == [("node1", ORPHAN)] and kept == []
    assert "never connected" in found[0]["reason"]

    found, kept = _duplicates.find(candidates, interrupted, [], {"act-gone"})
    assert found == [] and "still live" in kept[0]["reason"]


def test_a_same_named_instance_that_reported_another_address_is_left_alone_and_said_so():
    """Cloned machines often keep a default host name: the name alone does not make an offline machine this host's."""
    node = host("node1", computer_name="localhost.localdomain", address="192.0.2.10")
    found, kept = _duplicates.find([info(OLD, "localhost.localdomain", address="192.0.2.77")], [node], [])
    assert found == [] and [(k["host"], k["instance_id"]) for k in kept] == [("node1", OLD)]
    assert "192.0.2.77" in kept[0]["reason"] and "192.0.2.10" in kept[0]["reason"]
    found, kept = _duplicates.find([info(OLD, "localhost.localdomain", address="192.0.2.10")], [node], [])
    assert [(d["host"], d["instance_id"]) for d in found] == [("node1", OLD)] and kept == []
