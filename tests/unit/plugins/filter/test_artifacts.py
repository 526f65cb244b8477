# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""artifact_base_url builds the S3 base URL as AWS's ecs-anywhere-install.sh does (S3_URL)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.ecs_anywhere.fleet.plugins.filter.artifacts import artifact_base_url


@pytest.mark.parametrize(
    "region, ip, url",
    [
        ("eu-west-1", "ipv4", "https://s3.eu-west-1.amazonaws.com"),
        ("eu-west-1", "ipv6", "https://s3.dualstack.eu-west-1.amazonaws.com"),
        ("cn-north-1", "ipv4", "https://s3.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "ipv6", "https://s3.dualstack.cn-northwest-1.amazonaws.com.cn"),
        ("eusc-de-east-1", "ipv4", "https://s3.eusc-de-east-1.amazonaws.eu"),
        # "Dualstack URLs in EUSC regions are currently not yet fully supported."
        ("eusc-de-east-1", "ipv6", "https://s3.eusc-de-east-1.amazonaws.eu"),
        ("us-gov-west-1", "ipv4", "https://s3.us-gov-west-1.amazonaws.com"),
    ],
)
def test_urls(region, ip, url):
    assert artifact_base_url(region, ip) == url


@pytest.mark.parametrize(
    "region, ip", [("", "ipv4"), ("eu-west-1/x", "ipv4"), ("EU-WEST-1", "ipv4"), ("eu-west-1", "v6")]
)
def test_bad_input(region, ip):
    with pytest.raises(AnsibleFilterError):
        artifact_base_url(region, ip)


def test_a_trailing_newline_is_not_a_region():
    with pytest.raises(AnsibleFilterError):
        artifact_base_url("eu-west-1\n")
