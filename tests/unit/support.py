# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit-test support: a stand-in for AnsibleAWSModule and Stubber-backed boto3 clients.

The Stubber validates each expected request and canned response against the service model, so
a wrong parameter name or response shape fails the test.
"""

import boto3
from botocore.stub import Stubber


class ModuleFailed(Exception):
    def __init__(self, kwargs):
        super().__init__(kwargs.get("msg"))
        self.kwargs = kwargs


class FakeModule:
    """The parts of AnsibleAWSModule that this collection's helpers use."""

    def __init__(self, params, check_mode=False, diff=False, region="eu-west-1"):
        self.params = params
        self.region = region  # AnsibleAWSModule.region: the option or the environment's (None when unset)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def fail_json(self, **kwargs):
        raise ModuleFailed(kwargs)

    def warn(self, msg):
        self.warnings.append(msg)


def stubbed_client(service, region="eu-west-1"):
    client = boto3.client(service, region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def managed_instance_params(**overrides):
    """Every option of ecs_anywhere.fleet.managed_instance at its default, as AnsibleAWSModule hands them over."""
    params = dict(
        instances=[],
        clusters=[],
        state="present",
        wait=False,
        wait_timeout=300,
        force=False,
        keep_managed_instance=False,
        tags=None,
        purge_tags=True,
        ecs_attributes=None,
        ecs_attributes_by_instance=None,
        purge_ecs_attributes=False,
        ecs_tags=None,
        ecs_tags_by_instance=None,
        purge_ecs_tags=False,
    )
    params.update(overrides)
    return params
