# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: an ECS cluster brought to its wanted settings and tags (the cluster and site modules)."""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ecs as ecs
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import CLUSTER_NAME


def validate(validator, param, names, tags):
    """Input rules: cluster names (``param`` names them in the message) and ECS's tag rules."""
    validator.each(param, names, CLUSTER_NAME, "1-255 letters, digits, hyphens, underscores")
    validator.tags("tags", tags, ecs.MAX_TAGS)


def summarize(cluster):
    """The cluster as the modules report and diff it (None when it does not exist)."""
    if not cluster:
        return None
    settings = {s["name"]: s["value"] for s in cluster.get("settings", [])}
    return dict(
        cluster_arn=cluster["clusterArn"],
        cluster_name=cluster["clusterName"],
        status=cluster["status"],
        container_insights=settings.get("containerInsights"),
        registered_container_instances_count=cluster.get("registeredContainerInstancesCount", 0),
        running_tasks_count=cluster.get("runningTasksCount", 0),
        pending_tasks_count=cluster.get("pendingTasksCount", 0),
        active_services_count=cluster.get("activeServicesCount", 0),
        tags=ecs.ansible_tags(cluster.get("tags")),
    )


def diffable(summary):
    if not summary:
        return {}
    return dict(name=summary["cluster_name"], container_insights=summary["container_insights"], tags=summary["tags"])


def ensure_present(client, name, insights, tags, purge_tags, check_mode, current):
    """The cluster ``name`` (``current``: as DescribeClusters answered, or None) with the wanted Container Insights
    setting (None: as it is) and tags (None: as they are). Returns (before, after) summaries."""
    before = summarize(current)
    if before is not None:
        return before, converge(client, name, insights, tags, purge_tags, check_mode, before)

    after = dict(
        cluster_arn=None,
        cluster_name=name,
        status="ACTIVE",
        container_insights=insights,
        registered_container_instances_count=0,
        running_tasks_count=0,
        pending_tasks_count=0,
        active_services_count=0,
        tags=tags or {},
    )
    if not check_mode:
        settings = [dict(name="containerInsights", value=insights)] if insights else []
        created = ecs.create_cluster(client, name, settings, tags)
        # A concurrent run (AWX job slices) may have created the cluster first: then CreateCluster answers with
        # that cluster as it is, so read it back and converge its settings and tags like an existing cluster's.
        after = converge(
            client,
            name,
            insights,
            tags,
            purge_tags,
            check_mode,
            summarize(ecs.describe_cluster(client, name) or created),
        )
    return before, after


def converge(client, name, insights, tags, purge_tags, check_mode, before):
    """Container Insights and tags of an existing cluster; returns the cluster after the change."""
    after = dict(before)
    if insights and insights != before["container_insights"]:
        after["container_insights"] = insights
        if not check_mode:
            ecs.update_cluster_settings(client, name, [dict(name="containerInsights", value=insights)])
    if tags is not None:
        to_set, to_unset = compare_aws_tags(before["tags"], tags, purge_tags)
        new_tags = {k: v for k, v in before["tags"].items() if k not in to_unset}
        new_tags.update(to_set)
        after["tags"] = new_tags
        if not check_mode:
            if to_unset:
                ecs.untag_resource(client, before["cluster_arn"], to_unset)
            if to_set:
                ecs.tag_resource(client, before["cluster_arn"], to_set)
    if after != before and not check_mode:
        after = summarize(ecs.describe_cluster(client, name))
    return after
