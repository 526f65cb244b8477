# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters: where AWS publishes the ECS Anywhere agents for a region."""

from ansible.errors import AnsibleFilterError

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import REGION


def artifact_base_url(region, ip_compatibility="ipv4"):
    """``https://s3.[dualstack.]<region>.<suffix>`` as AWS's ecs-anywhere-install.sh builds it.

    Suffix ``amazonaws.com``, ``amazonaws.com.cn`` for ``cn-*`` and ``amazonaws.eu`` for ``eusc-*``;
    ``dualstack.`` for IPv6-only hosts except in the EUSC partition, which has no dual-stack S3 yet.
    """
    if not isinstance(region, str) or not REGION.match(region):
        raise AnsibleFilterError("artifact_base_url: %r is not an AWS region name" % (region,))
    if ip_compatibility not in ("ipv4", "ipv6"):
        raise AnsibleFilterError(
            "artifact_base_url: ip_compatibility must be ipv4 or ipv6, not %r" % (ip_compatibility,)
        )
    suffix = "amazonaws.com"
    if region.startswith("cn-"):
        suffix = "amazonaws.com.cn"
    if region.startswith("eusc-"):
        suffix = "amazonaws.eu"
    dualstack = "dualstack." if ip_compatibility == "ipv6" and not region.startswith("eusc-") else ""
    return "https://s3.%s%s.%s" % (dualstack, region, suffix)


class FilterModule:
    def filters(self):
        return {"artifact_base_url": artifact_base_url}
