# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: input validation and result helpers shared by its modules."""

import re

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.iam import validate_iam_identifiers

IAM_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
LOG_GROUP_NAME = re.compile(r"^[\w.#/-]{1,512}$")
SSM_PARAMETER_NAME = re.compile(r"^/?[\w.-]+(/[\w.-]+)*$")
ECR_REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


class Validator:
    """Collects every input problem before any AWS call, then fails once, naming the parameters.

    Usage: ``v = Validator(module); v.pattern(...); v.check()`` -- ``check`` calls ``fail_json``
    when anything was wrong, so no AWS call (and certainly no write) happens on bad input.
    """

    def __init__(self, module):
        self.module = module
        self.errors = []

    def error(self, param, message):
        self.errors.append("%s: %s" % (param, message))

    def pattern(self, param, value, regex, rule):
        if value is not None and not regex.match(value):
            self.error(param, "%r is not valid (%s)" % (value, rule))

    def each(self, param, values, regex, rule, arn_service=None, arn_prefix=None):
        """Each value matches ``regex``, or (when ``arn_service`` is given) is an ARN of that service/type."""
        for value in values or []:
            if arn_service and value.startswith("arn:"):
                self.arn(param, value, arn_service, arn_prefix)
            else:
                self.pattern(param, value, regex, rule)

    def arn(self, param, value, service=None, resource_prefix=None):
        parsed = parse_aws_arn(value) if isinstance(value, str) else None
        if not parsed:
            self.error(param, "%r is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)" % (value,))
            return
        if service and parsed["service"] != service:
            self.error(param, "%r is not a %s ARN" % (value, service))
        elif resource_prefix and not parsed["resource"].startswith(resource_prefix):
            self.error(param, "%r is not a %s ARN of type %s" % (value, service, resource_prefix.rstrip("/:")))

    def iam(self, resource_type, name_param, name, path_param=None, path=None):
        """IAM name and path rules, as amazon.aws checks them."""
        problem = validate_iam_identifiers(resource_type, name=name)
        if problem:
            self.error(name_param, "%r: %s" % (name, problem))
        if path_param:
            problem = validate_iam_identifiers(resource_type, path=path)
            if problem:
                self.error(path_param, "%r: %s" % (path, problem))

    def int_range(self, param, value, low, high):
        if value is not None and not low <= value <= high:
            self.error(param, "%s is out of range (%s-%s)" % (value, low, high))

    def check(self):
        if self.errors:
            if len(self.errors) == 1:
                msg = "Invalid parameter %s" % self.errors[0]
            else:
                msg = "Invalid parameters: %s" % "; ".join(self.errors)
            self.module.fail_json(msg=msg, invalid_parameters=[e.split(":", 1)[0] for e in self.errors])


def finish(module, before, after, **result):
    """exit_json with ``changed`` computed from real before/after state, and a diff when asked."""
    changed = before != after
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(changed=changed, **result)


def chunks(values, size):
    """``values`` sorted, in lists of at most ``size`` (one empty list when there are none)."""
    values = sorted(values)
    return [values[i : i + size] for i in range(0, len(values), size)] or [[]]


def pages(call, result_key, **params):
    """Every item of a NextToken-paged AWS list call, one (retried) call per page.

    ``call`` is a function taking the request parameters and returning one page; wrap it with
    AWSRetry so a throttled page is retried alone rather than restarting the whole listing.
    """
    items = []
    while True:
        page = call(**params)
        items.extend(page.get(result_key, []))
        token = page.get("NextToken") or page.get("nextToken")
        if not token:
            return items
        params["nextToken" if "nextToken" in page else "NextToken"] = token
