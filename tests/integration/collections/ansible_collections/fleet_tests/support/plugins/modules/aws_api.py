# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test support: read AWS (emulator) state with one plain boto3 call, independent of the code under test."""

DOCUMENTATION = r"""
---
module: aws_api
short_description: Call one AWS API operation with boto3 and return its response (tests only)
description:
  - Integration targets use this to read back real state after a change made by the module under test.
options:
  service:
    description: boto3 service name.
    type: str
    required: true
  operation:
    description: boto3 client method name, for example V(describe_clusters).
    type: str
    required: true
  params:
    description: Keyword arguments for the call.
    type: dict
    default: {}
  paginate:
    description: Use the operation's paginator and return the full result.
    type: bool
    default: false
  expect_error:
    description: Return the error code instead of failing when the call fails with an AWS error.
    type: bool
    default: false
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
"""

import json

from ansible.module_utils.basic import AnsibleModule

try:
    import boto3
    import botocore
except ImportError:  # pragma: no cover - the venv has boto3
    boto3 = None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", required=True),
            operation=dict(type="str", required=True),
            params=dict(type="dict", default={}),
            paginate=dict(type="bool", default=False),
            expect_error=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    client = boto3.client(module.params["service"])
    operation = module.params["operation"]
    try:
        if module.params["paginate"]:
            response = client.get_paginator(operation).paginate(**module.params["params"]).build_full_result()
        else:
            response = getattr(client, operation)(**module.params["params"])
    except botocore.exceptions.ClientError as e:
        if module.params["expect_error"]:
            module.exit_json(changed=False, error_code=e.response["Error"]["Code"], response={})
        module.fail_json(msg=str(e))
    response.pop("ResponseMetadata", None)
    module.exit_json(changed=False, error_code=None, response=json.loads(json.dumps(response, default=str)))


if __name__ == "__main__":
    main()
