# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site module against the emulator, read back with boto3.

* check mode creates nothing and bad input (a bad ``instance_role.name``) fails naming it and creates nothing, not
  even the clusters that were fine -- neither writes to AWS at all;
* a real run creates both clusters and the instance role with its generated policy scoped to them; a second run
  changes nothing;
* ``clean_activations`` deletes the role's spent activations (one expired by moving the emulator's clock, one used
  up by a registered host) and keeps the live one and one the collection did not make;
* ``instance_ids``: an unknown id has no record, a host registered in SSM (only) a record with registered_in ssm.
"""

import datetime
import uuid

import pytest
from emulator.agent import FakeAgent

from ansible_collections.ecs_anywhere.fleet.tests.integration.support import run_tasks

SITE = "ecs_anywhere.fleet.site"
MANAGED_TAG = {"Key": "ecs_anywhere.fleet:managed", "Value": "true"}
UNKNOWN_INSTANCE = "mi-0badc0ffee0000000"
#: What changes AWS (every other operation of these services here is a Describe/Get/List read).
WRITES = ("Create", "Update", "Put", "Tag", "Untag", "Attach", "Detach", "Delete", "Deregister", "Register")


def writes(emulator):
    return [c["operation"] for c in emulator.calls() if c["operation"].startswith(WRITES)]


def active_clusters(ecs, names):
    found = ecs.describe_clusters(clusters=names, include=["SETTINGS", "TAGS"])["clusters"]
    return {c["clusterName"]: c for c in found if c["status"] == "ACTIVE"}


def role_exists(iam, name):
    try:
        iam.get_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        return False
    return True


def role_activations(ssm, role):
    pages = ssm.get_paginator("describe_activations").paginate(
        Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}]
    )
    return {a["ActivationId"]: a for page in pages for a in page["ActivationList"]}


def delete_role(iam, name):
    """The role, its attachments and its generated policy (whatever a run left), with boto3."""
    if not role_exists(iam, name):
        return
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        if policy["PolicyArn"].startswith("arn:aws:iam::aws:"):
            continue
        for version in iam.list_policy_versions(PolicyArn=policy["PolicyArn"])["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)


@pytest.fixture
def site(aws_client):
    """Unique names for two clusters and a role; afterwards the hosts, activations, clusters and role are removed."""
    suffix = uuid.uuid4().hex[:8]
    names = dict(clusters=["site-%s-a" % suffix, "site-%s-b" % suffix], role="site-%s" % suffix)
    yield names
    ssm, ecs = aws_client("ssm"), aws_client("ecs")
    instances = ssm.describe_instance_information(Filters=[{"Key": "IamRole", "Values": [names["role"]]}])
    for instance in instances["InstanceInformationList"]:
        ssm.deregister_managed_instance(InstanceId=instance["InstanceId"])
    for activation_id in role_activations(ssm, names["role"]):
        ssm.delete_activation(ActivationId=activation_id)
    for name in active_clusters(ecs, names["clusters"]):
        ecs.delete_cluster(cluster=name)
    delete_role(aws_client("iam"), names["role"])


@pytest.fixture
def lab_clock(emulator):
    """Move the emulator's clock forward; it is moved back by the same amount afterwards."""
    moved = []

    def advance(seconds):
        emulator.settings(advance_seconds=seconds)
        moved.append(seconds)

    yield advance
    emulator.settings(advance_seconds=-sum(moved))


def site_task(names, **args):
    options = dict(
        clusters=names["clusters"],
        container_insights="enabled",
        tags={"site-test": names["role"]},
        instance_role=dict(name=names["role"], clusters=names["clusters"]),
    )
    options.update(args)
    return {SITE: options}


def test_check_mode_and_bad_input_create_nothing_then_a_run_creates_and_a_second_changes_nothing(
    aws_env, aws_client, emulator, site, tmp_path
):
    ecs, iam = aws_client("ecs"), aws_client("iam")
    bad_role = dict(name="bad name!", clusters=site["clusters"])
    emulator.clear_calls()

    play = run_tasks(
        aws_env,
        tmp_path,
        [dict(site_task(site), check_mode=True, diff=True), site_task(site, instance_role=bad_role)],
    )

    predicted, bad = play[0], play[1]
    assert writes(emulator) == [], "check mode and bad input write nothing"
    assert active_clusters(ecs, site["clusters"]) == {}
    assert not role_exists(iam, site["role"])
    assert predicted["changed"] is True and not predicted.get("failed"), predicted
    assert [(c["cluster_name"], c["cluster_arn"]) for c in predicted["clusters"]] == [
        (name, None) for name in site["clusters"]
    ]
    assert predicted["diff"]["before"]["instance_role"] == {}
    assert bad["failed"] is True
    assert "instance_role.name" in bad["invalid_parameters"], bad["msg"]
    assert "instance_role.name: 'bad name!'" in bad["msg"]

    play = run_tasks(aws_env, tmp_path, [site_task(site), site_task(site)])

    created, again = play[0], play[1]
    assert created["changed"] is True and not created.get("failed"), created
    clusters = active_clusters(ecs, site["clusters"])
    assert sorted(clusters) == sorted(site["clusters"])
    for name, cluster in clusters.items():
        assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]
        assert {"key": "site-test", "value": site["role"]} in cluster["tags"]
    assert [c["cluster_arn"] for c in created["clusters"]] == [clusters[n]["clusterArn"] for n in site["clusters"]]

    role = iam.get_role(RoleName=site["role"])["Role"]
    assert created["role"]["arn"] == role["Arn"]
    assert [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]] == [{"Service": "ssm.amazonaws.com"}]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=site["role"])["AttachedPolicies"]]
    assert created["generated_policy_arn"] in attached
    assert "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" in attached
    policy = iam.get_policy(PolicyArn=created["generated_policy_arn"])["Policy"]
    document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"][
        "Document"
    ]
    assert document == created["policy_document"]  # boto3 decodes the document
    (register,) = [s for s in document["Statement"] if s.get("Sid") == "RegisterAndReportToClusters"]
    assert register["Resource"] == sorted(c["clusterArn"] for c in clusters.values()), "scoped to the two clusters"

    assert again["changed"] is False, again
    assert again["role"] == created["role"]
    assert again["clusters"] == created["clusters"]


def test_clean_activations_and_the_hosts_look_up(aws_env, aws_client, emulator, lab_clock, site, tmp_path):
    ssm = aws_client("ssm")
    one = dict(site, clusters=site["clusters"][:1])
    made = run_tasks(aws_env, tmp_path, [site_task(one)])[0]  # the cluster and the role the activations need
    assert made["changed"] is True and not made.get("failed"), made

    def activation(hours, limit, tags=(MANAGED_TAG,)):
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
        return ssm.create_activation(
            IamRole=site["role"], RegistrationLimit=limit, ExpirationDate=expires, Tags=list(tags)
        )

    live = activation(5, 5)["ActivationId"]
    expiring = activation(1, 5)["ActivationId"]
    foreign = activation(1, 5, tags=())["ActivationId"]  # not the collection's: never cleaned by it
    used = activation(5, 1)
    host = FakeAgent(emulator.url).register(used["ActivationId"], used["ActivationCode"])  # now used up
    lab_clock(2 * 3600)
    described = role_activations(ssm, site["role"])
    assert [described[a]["Expired"] for a in (live, expiring, foreign)] == [False, True, True]

    play = run_tasks(
        aws_env,
        tmp_path,
        [
            dict(
                site_task(
                    one,
                    clean_activations=True,
                    instance_ids=[UNKNOWN_INSTANCE, host],
                    instance_clusters=one["clusters"],
                ),
                check_mode=True,
                diff=True,
            ),
            site_task(one, clean_activations=True, instance_ids=[UNKNOWN_INSTANCE, host], instance_clusters=[]),
            site_task(one, clean_activations=True),
        ],
    )

    check, real, again = play[0], play[1], play[2]
    spent = sorted([expiring, used["ActivationId"]])
    assert check["changed"] is True and sorted(check["deleted_activation_ids"]) == spent, check
    assert sorted(check["diff"]["before"]["activations"]) == spent and check["diff"]["after"]["activations"] == []
    assert real["changed"] is True and sorted(real["deleted_activation_ids"]) == spent, real
    assert again["changed"] is False and again["deleted_activation_ids"] == [], again
    assert set(role_activations(ssm, site["role"])) == {live, foreign}

    for result in (check, real):  # check mode looks up as well; in one cluster, then (empty) in every cluster
        assert [(r["managed_instance_id"], r["registered_in"]) for r in result["instances"]] == [(host, "ssm")]
        assert result["instances"][0]["activation_id"] == used["ActivationId"]
        assert result["instances"][0]["iam_role"] == site["role"]
