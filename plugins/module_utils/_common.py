# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: input validation and result helpers shared by its modules."""

import copy
import re
import unicodedata

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.iam import validate_iam_identifiers
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Every pattern is ASCII-only where AWS's is, and ends with \Z: "$" would also accept a trailing newline.
IAM_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}\Z", re.ASCII)
REGION = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d{1,2}\Z", re.ASCII)
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}\Z")
LOG_GROUP_NAME = re.compile(r"^[\w.#/-]{1,512}\Z", re.ASCII)
SSM_PARAMETER_NAME = re.compile(r"^/?[\w.-]+(/[\w.-]+)*\Z", re.ASCII)
ECR_REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\Z")
ACCOUNT_ID = re.compile(r"^\d{12}\Z", re.ASCII)
_ARN = re.compile(r"^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)\Z")

#: Region name prefix -> partition, as botocore's endpoints.json ("regionRegex" of each partition) defines
#: them; any other region is in "aws".  Longer prefixes first.  eusc-* is the AWS European Sovereign Cloud.
PARTITION_PREFIXES = (
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("cn-", "aws-cn"),
    ("eusc-", "aws-eusc"),
)
PARTITIONS = frozenset(["aws"] + [p for _prefix, p in PARTITION_PREFIXES])

#: ARNs that name one thing to join or attach, where a wildcard would silently widen the grant
#: (cluster/* is every cluster) or the API takes no pattern (AttachRolePolicy, permissions boundaries).
#: Elsewhere (log groups, repositories, parameters, secrets, keys) a wildcard in the resource is the user's
#: deliberate IAM pattern, for example AWS's documented secret:name-?????? form.
EXACT_ARNS = {("ecs", "cluster/"), ("iam", "policy/")}

#: Tags: IAM, ECS and SSM share the pattern [\p{L}\p{Z}\p{N}_.:/=+\-@] (botocore service models), 1-128
#: characters for keys and 0-256 for values, and reserve keys starting with aws: (any case).
TAG_SYMBOLS = frozenset("_.:/=+-@")
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_LIMIT = 50  # user tags per resource (IAM, ECS, most SSM resources)
TAG_RULE = "letters, digits, spaces and _ . : / = + - @"


#: Throttling codes from botocore's data/_retry.json ("throttling" policy) that amazon.aws's AWSRetry does not retry:
#: it knows the query protocol's "Throttling" (IAM, STS) but not the JSON protocol's "ThrottlingException" of SSM and
#: ECS, so a throttled SSM or ECS call only had botocore's own few attempts (seconds) before the module failed.
THROTTLING_CODES = ("ThrottlingException", "ThrottledException", "RequestThrottledException")


class FleetRetry(AWSRetry):
    """amazon.aws's AWSRetry (same backoff and arguments) that also retries SSM's and ECS's throttling errors."""

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        return response_code in THROTTLING_CODES or AWSRetry.found(response_code, catch_extra_error_codes)


def partition_of(region):
    """The partition of a region name (None when it is not a region name)."""
    if not isinstance(region, str) or not REGION.match(region):
        return None
    for prefix, partition in PARTITION_PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"


def aws_text(text):
    """Whether ``text`` fits AWS's tag and name pattern [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* (no control characters)."""
    return all(c in TAG_SYMBOLS or unicodedata.category(c)[0] in "LZN" for c in text)


def iam_description_text(text):
    """IAM's roleDescriptionType pattern: tab, newline, carriage return, printable ASCII and U+00A1-U+00FF."""
    return all(c in "\t\n\r" or " " <= c <= "~" or "\xa1" <= c <= "\xff" for c in text)


def tag_problem(key, value):
    """What is wrong with one tag (None when nothing)."""
    key, value = to_native(key), to_native(value)
    if not 1 <= len(key) <= TAG_KEY_MAX or not aws_text(key):
        return "key %r is not valid (1-%d %s)" % (key, TAG_KEY_MAX, TAG_RULE)
    if key.lower().startswith("aws:"):
        return "key %r: the aws: prefix (any case) is reserved for AWS" % key
    if len(value) > TAG_VALUE_MAX or not aws_text(value):
        return "value of %r is not valid (up to %d %s)" % (key, TAG_VALUE_MAX, TAG_RULE)
    return None


def parse_arn(value):
    """``(partition, service, region, account, resource)`` of an ARN in printable ASCII, else None."""
    if not isinstance(value, str) or not all("!" <= c <= "~" for c in value):
        return None
    match = _ARN.match(value)
    return match.groups() if match else None


class Validator:
    """Collects every input problem before any AWS call, then fails once, naming the parameters.

    Usage: ``v = Validator(module); v.pattern(...); v.check()`` -- ``check`` calls ``fail_json``
    when anything was wrong, so no AWS call (and certainly no write) happens on bad input.
    """

    def __init__(self, module):
        self.module = module
        self.errors = []
        self._region = None
        self._region_read = False
        self._prefix = ""
        self._top_level = ()

    def scoped(self, option, top_level=()):
        """The same checks for the suboptions of ``option``: their problems are named ``option.name`` (but those of
        the module's own ``top_level`` options, such as its region, keep their names), and are this validator's (one
        ``check`` fails for all)."""
        scoped = copy.copy(self)  # shares the list of errors
        scoped._prefix = "%s%s." % (self._prefix, option)
        scoped._top_level = tuple(top_level)
        return scoped

    @property
    def module_region(self):
        """The module's region (option or environment), None when it has none; read once."""
        if not self._region_read:
            self._region = getattr(self.module, "region", None)
            self._region_read = True
        return self._region

    @property
    def partition(self):
        """The partition of the module's region (None when the region is unknown)."""
        return partition_of(self.module_region)

    def error(self, param, message):
        entry = "%s%s: %s" % ("" if param in self._top_level else self._prefix, param, message)
        if entry not in self.errors:
            self.errors.append(entry)

    def pattern(self, param, value, regex, rule):
        if value is not None and not regex.fullmatch(value):
            self.error(param, "%r is not valid (%s)" % (value, rule))

    def each(self, param, values, regex, rule, arn_service=None, arn_prefix=None):
        """Each value matches ``regex``, or (when ``arn_service`` is given) is an ARN of that service/type."""
        for value in values or []:
            if arn_service and value.startswith("arn:"):
                self.arn(param, value, arn_service, arn_prefix)
            else:
                self.pattern(param, value, regex, rule)

    def region(self, required=False, why="it is needed"):
        """The module's own region (option ``region`` or the environment) is a region name; ``eusc-*`` included."""
        region = self.module_region
        if region is None:
            if required:
                self.error("region", "required (%s)" % why)
        elif partition_of(region) is None:
            self.error("region", "%r is not an AWS region name such as eu-west-1" % (region,))

    def arn(self, param, value, service=None, resource_prefix=None):
        """An ARN of ``service`` (and resource type) in the partition of the module's region.

        Returns its parts as a dict, or None after recording the problem.  Wildcards are refused in the
        partition, service, region and account, and in the resource of the ARNs listed in EXACT_ARNS.
        """
        parts = parse_arn(value)
        if not parts:
            if isinstance(value, str) and value.startswith("arn:") and not all("!" <= c <= "~" for c in value):
                self.error(param, "%r: an ARN has no spaces, control or non-ASCII characters" % (value,))
            else:
                self.error(
                    param, "%r is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)" % (value,)
                )
            return None
        partition, arn_service, region, account, resource = parts
        what = (resource_prefix or "resource").rstrip("/:")
        name = resource[len(resource_prefix or "") :]
        problem = None
        if any(c in "*?" for c in ":".join(parts[:4])):
            problem = "wildcards are not allowed in the partition, service, region or account"
        elif partition not in PARTITIONS:
            problem = "%s is not an AWS partition" % partition
        elif service and arn_service != service:
            problem = "not a %s ARN" % service
        elif resource_prefix and not resource.startswith(resource_prefix):
            problem = "not a %s ARN of type %s" % (service, what)
        elif arn_service == "iam" and region:
            problem = "IAM ARNs have no region"
        elif arn_service != "iam" and partition_of(region) != partition:
            problem = "%r is not a region of partition %s" % (region, partition)
        elif not (ACCOUNT_ID.match(account) or (arn_service == "iam" and account == "aws")):
            problem = "%r is not a 12-digit account id" % account
        elif self.partition and partition != self.partition:
            problem = "partition %s, but region %s is in partition %s" % (partition, self.module_region, self.partition)
        elif (service, resource_prefix) in EXACT_ARNS and ("*" in name or "?" in name):
            problem = "wildcards are not allowed here (they would match more than one %s)" % what
        elif (service, resource_prefix) == ("ecs", "cluster/") and not CLUSTER_NAME.match(name):
            problem = "cluster name %r is not valid (1-255 letters, digits, hyphens, underscores)" % name
        if problem:
            self.error(param, "%r: %s" % (value, problem))
            return None
        return dict(partition=partition, service=arn_service, region=region, account=account, resource=resource)

    def arn_regions(self, param, values, regions, where):
        """The ARNs among ``values`` are in one of ``regions`` (names, and ARNs without a region name, are left to
        the other checks, and so are ARNs of another partition); ``where`` says why those regions."""
        for value in values or []:
            parts = parse_arn(value) if value.startswith("arn:") else None
            if parts and partition_of(parts[2]) == self.partition and parts[2] not in regions:
                self.error(param, "%r is in region %s, not in %s (%s)" % (value, parts[2], ", ".join(regions), where))

    def iam(self, resource_type, name_param, name, path_param=None, path=None):
        """IAM name and path rules, as amazon.aws checks them, and ASCII only (IAM's patterns are ASCII)."""
        problem = validate_iam_identifiers(resource_type, name=name)
        if not problem and name is not None and not name.isascii():
            problem = "%s name must be ASCII: letters, digits and +=,.@_-" % resource_type
        if problem:
            self.error(name_param, "%r: %s" % (name, problem))
        if path_param:
            problem = validate_iam_identifiers(resource_type, path=path)
            if not problem and path is not None and not path.isascii():
                problem = "%s path must be ASCII" % resource_type
            if problem:
                self.error(path_param, "%r: %s" % (path, problem))

    def text(self, param, value, max_length, allowed=None, rule=None):
        """A free text (description, name) of at most ``max_length`` characters, each ``allowed``."""
        if value is None:
            return
        if len(value) > max_length:
            self.error(param, "is %d characters long (at most %d)" % (len(value), max_length))
        elif allowed and not allowed(value):
            self.error(param, "%r has characters AWS does not accept here (%s)" % (value, rule))

    def tags(self, param, tags, limit=TAG_LIMIT):
        """Tags as IAM, ECS and SSM accept them: pattern, lengths, no aws: keys, at most ``limit``."""
        for key, value in (tags or {}).items():
            problem = tag_problem(key, value)
            if problem:
                self.error(param, problem)
        if tags and len(tags) > limit:
            self.error(param, "%d tags, at most %d are allowed" % (len(tags), limit))

    def int_range(self, param, value, low, high):
        if value is not None and not low <= value <= high:
            self.error(param, "%s is out of range (%s-%s)" % (value, low, high))

    def check(self):
        if self.errors:
            if len(self.errors) == 1:
                msg = "Invalid parameter %s" % self.errors[0]
            else:
                msg = "Invalid parameters: %s" % "; ".join(self.errors)
            parameters = []
            for entry in self.errors:
                parameter = entry.split(":", 1)[0]
                if parameter not in parameters:
                    parameters.append(parameter)
            self.module.fail_json(msg=msg, invalid_parameters=parameters)


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
