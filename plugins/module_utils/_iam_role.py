# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: reconcile an IAM service role with its trust, attachments, tags and one
generated customer-managed policy.  Shared by the instance_role and task_execution_role modules.

``ensure_present`` / ``ensure_absent`` return ``(before, after)`` summaries of real state (``after``
is predicted in check mode, where no write call is made).  ``changed`` is ``before != after``.

Ownership.  What this collection creates -- the role and the generated policy -- carries the tag
``OWNER_TAG_KEY=OWNER_TAG_VALUE`` from the create call on, so a role made by a concurrent run of the
collection is ours too.  A role or generated policy without it belongs to someone else: it is left
untouched and the module fails before any write, unless ``adopt`` (then it gets the tag).  IAM keeps no
record of who attached a policy, so the role's ``ATTACHED_TAG_KEY`` tag lists the names of the managed
policies this collection attached; ``purge_policies`` only ever detaches those (and the generated policy).

Concurrency.  AWX job slicing runs k copies of a play at once.  Every create tolerates losing the race
(``EntityAlreadyExists``: re-read, check ownership, converge), writes retry IAM's
``ConcurrentModification``, and a new policy version that hits the five-version limit because another
run added one meanwhile prunes and tries again.
"""

import json
from dataclasses import dataclass
from typing import Optional

from ansible.module_utils.six.moves.urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_role_attached_policies
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_role_policies
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import IAM_POLICY_NAME
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._policies import validate_role

#: On every role and generated policy this collection creates (the same key as on its SSM activations).
OWNER_TAG_KEY = "ecs_anywhere.fleet:managed"
OWNER_TAG_VALUE = "true"
#: On the role: names of the managed policies this collection attached, space-separated (continued in
#: ``<key>:2``, ``<key>:3`` ... past IAM's 256 characters per tag value).
ATTACHED_TAG_KEY = "ecs_anywhere.fleet:attached-policies"
#: Tag keys with this prefix are the collection's own: not settable through ``tags``, never purged by it.
RESERVED_TAG_PREFIX = "ecs_anywhere.fleet:"
TAG_VALUE_LIMIT = 256
#: IAM's answer when two requests change one entity at the same time: safe to retry.
CONCURRENT = ["ConcurrentModification"]
#: Tries at a new policy version when concurrent runs keep filling the five versions IAM allows.
VERSION_ATTEMPTS = 5

# Options of every role module (documented by the ecs_anywhere.fleet.iam_role doc fragment).
ARGUMENT_SPEC = dict(
    path=dict(type="str", default="/"),
    max_session_duration=dict(type="int"),
    permissions_boundary=dict(type="str"),
    managed_policies=dict(type="list", elements="str", default=[]),
    purge_policies=dict(type="bool", default=True),
    generated_policy_name=dict(type="str"),
    adopt=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=60),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)


def validate(validator, params):
    """Input rules for the options above and the role name (see _common.Validator)."""
    validator.iam("role", "name", params["name"], "path", params["path"])
    validator.pattern(
        "generated_policy_name", params["generated_policy_name"], IAM_POLICY_NAME, "1-128 of [A-Za-z0-9_+=,.@-]"
    )
    validator.int_range("max_session_duration", params["max_session_duration"], 3600, 43200)
    validator.int_range("wait_timeout", params["wait_timeout"], 0, 3600)
    if params["permissions_boundary"]:
        validator.arn("permissions_boundary", params["permissions_boundary"], "iam", "policy/")
    for arn in params["managed_policies"]:
        validator.arn("managed_policies", arn, "iam", "policy/")
    validate_role(validator, params)
    for key in params.get("tags") or {}:
        if is_reserved_tag(key):
            validator.error("tags", "%r: keys starting with %s are the collection's own" % (key, RESERVED_TAG_PREFIX))


@dataclass
class RoleSpec:
    """What the role should look like.  ``None`` for an optional field means "leave as it is"."""

    name: str
    path: str
    account: str
    partition: str
    trust_policy: dict
    managed_policy_arns: list
    generated_policy_name: str
    generated_policy: Optional[dict] = None  # the document, or None for "no generated policy"
    description: Optional[str] = None
    max_session_duration: Optional[int] = None
    permissions_boundary: Optional[str] = None  # "" removes it
    tags: Optional[dict] = None
    purge_tags: bool = True
    purge_policies: bool = True
    adopt: bool = False  # take over a role / generated policy that lacks the ownership tag

    @property
    def role_arn(self):
        return "arn:%s:iam::%s:role%s%s" % (self.partition, self.account, self.path, self.name)

    @property
    def generated_policy_arn(self):
        return "arn:%s:iam::%s:policy%s%s" % (self.partition, self.account, self.path, self.generated_policy_name)

    def wanted_attachments(self):
        wanted = set(self.managed_policy_arns)
        if self.generated_policy is not None:
            wanted.add(self.generated_policy_arn)
        return wanted


# ---------------------------------------------------------------- the collection's tags


def is_reserved_tag(key):
    return key.lower().startswith(RESERVED_TAG_PREFIX)


def policy_name(arn):
    return arn.rsplit("/", 1)[-1]


def encode_attached(names):
    """{tag key: value} recording policy names.  IAM tag values hold 256 of ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``:
    names are space-separated and a comma (allowed in policy names, not in tag values) is written ``:``
    (never part of a policy name); a list too long for one value continues in ``<key>:2``, ``<key>:3`` ..."""
    values = []
    for token in sorted(name.replace(",", ":") for name in names):
        if values and len(values[-1]) + 1 + len(token) <= TAG_VALUE_LIMIT:
            values[-1] = "%s %s" % (values[-1], token)
        else:
            values.append(token)
    return {ATTACHED_TAG_KEY if i == 0 else "%s:%d" % (ATTACHED_TAG_KEY, i + 1): v for i, v in enumerate(values)}


def decode_attached(tags):
    names = set()
    for key, value in tags.items():
        if key == ATTACHED_TAG_KEY or key.startswith(ATTACHED_TAG_KEY + ":"):
            names.update(token.replace(":", ",") for token in value.split())
    return names


def collection_tags(attached_arns):
    """The collection's tags for a role to which it attached ``attached_arns``."""
    tags = {OWNER_TAG_KEY: OWNER_TAG_VALUE}
    tags.update(encode_attached(policy_name(arn) for arn in attached_arns))
    return tags


def _is_owned(tags):
    return tags.get(OWNER_TAG_KEY) == OWNER_TAG_VALUE


# ---------------------------------------------------------------- AWS calls (retried, one error type)


def _document(value):
    """IAM returns policy documents URL-encoded (raw API) or already decoded (boto3); accept both."""
    if isinstance(value, dict):
        return value
    return json.loads(unquote(value))


def _policy_state(client, arn):
    policy = client.get_policy(PolicyArn=arn)["Policy"]
    version = client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    tags = boto3_tag_list_to_ansible_dict(policy.get("Tags", []))
    return dict(document=_document(version["Document"]), owned=_is_owned(tags))


@IAMErrorHandler.list_error_handler("get generated policy")
@AWSRetry.jittered_backoff()
def get_policy(client, arn):
    """``{"document": default version, "owned": carries the ownership tag}``, or None when there is none."""
    return _policy_state(client, arn)


@IAMErrorHandler.common_error_handler("read the generated policy a concurrent run created")
@AWSRetry.jittered_backoff(delay=1, max_delay=8, catch_extra_error_codes=["NoSuchEntity"])
def _get_policy_after_conflict(client, arn):
    # EntityAlreadyExists, yet IAM is eventually consistent: NoSuchEntity for a moment is retried.
    return _policy_state(client, arn)


@IAMErrorHandler.common_error_handler("read the role a concurrent run created")
@AWSRetry.jittered_backoff(delay=1, max_delay=8, catch_extra_error_codes=["NoSuchEntity"])
def _get_role_after_conflict(client, name):
    return client.get_role(RoleName=name)["Role"]


@IAMErrorHandler.common_error_handler("create role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _create_role(client, spec, tags):
    """The new role, or None when a role of that name exists (a concurrent run, or someone else, made it)."""
    params = dict(
        RoleName=spec.name,
        Path=spec.path,
        AssumeRolePolicyDocument=json.dumps(spec.trust_policy),
        Description=spec.description or "",
        Tags=ansible_dict_to_boto3_tag_list(tags),
    )
    if spec.max_session_duration:
        params["MaxSessionDuration"] = spec.max_session_duration
    if spec.permissions_boundary:
        params["PermissionsBoundary"] = spec.permissions_boundary
    try:
        return client.create_role(**params)["Role"]
    except is_boto3_error_code("EntityAlreadyExists"):
        return None


@IAMErrorHandler.common_error_handler("update role trust policy")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _update_trust(client, name, document):
    client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))


@IAMErrorHandler.common_error_handler("update role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _update_role(client, name, **params):
    client.update_role(RoleName=name, **params)


@IAMErrorHandler.common_error_handler("set permissions boundary")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _set_boundary(client, name, arn):
    if arn:
        client.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=arn)
    else:
        client.delete_role_permissions_boundary(RoleName=name)


@IAMErrorHandler.common_error_handler("tag role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _tag_role(client, name, to_set, to_unset):
    if to_unset:
        client.untag_role(RoleName=name, TagKeys=sorted(to_unset))
    if to_set:
        client.tag_role(RoleName=name, Tags=ansible_dict_to_boto3_tag_list(dict(sorted(to_set.items()))))


@IAMErrorHandler.common_error_handler("tag generated policy")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _tag_policy(client, arn, tags):
    client.tag_policy(PolicyArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@IAMErrorHandler.common_error_handler("attach policy to role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["NoSuchEntity"] + CONCURRENT)
def _attach(client, name, arn):
    # NoSuchEntity right after creating the role or policy is IAM's eventual consistency: retried.
    # Attaching an attached policy succeeds, so concurrent runs attaching the same one both succeed.
    client.attach_role_policy(RoleName=name, PolicyArn=arn)


@IAMErrorHandler.deletion_error_handler("detach policy from role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _detach(client, name, arn):
    client.detach_role_policy(RoleName=name, PolicyArn=arn)


@IAMErrorHandler.common_error_handler("create generated policy")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _create_policy(client, spec):
    """True when created; False when a policy of that name exists (a concurrent run, or someone else, made it)."""
    tags = dict(spec.tags or {})
    tags[OWNER_TAG_KEY] = OWNER_TAG_VALUE
    try:
        client.create_policy(
            PolicyName=spec.generated_policy_name,
            Path=spec.path,
            PolicyDocument=json.dumps(spec.generated_policy),
            Description="Generated by ecs_anywhere.fleet for role %s" % spec.name,
            Tags=ansible_dict_to_boto3_tag_list(tags),
        )
    except is_boto3_error_code("EntityAlreadyExists"):
        return False
    return True


@AWSRetry.jittered_backoff()
def _list_versions(client, arn):
    return client.list_policy_versions(PolicyArn=arn)["Versions"]


@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _delete_version(client, arn, version_id):
    try:
        client.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    except is_boto3_error_code(["NoSuchEntity", "DeleteConflict"]):
        pass  # a concurrent run deleted it already, or made it the default meanwhile: keep it


def _prune_versions(client, arn):
    for version in _list_versions(client, arn):
        if not version["IsDefaultVersion"]:
            _delete_version(client, arn, version["VersionId"])


@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _create_version(client, arn, document):
    """True when the new default version is made; False when IAM's five versions are all taken."""
    try:
        client.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    except is_boto3_error_code("LimitExceeded"):
        return False
    return True


@IAMErrorHandler.common_error_handler("update generated policy")
def _update_policy(client, arn, document):
    """New default version; the one it replaces stays for rollback, older ones are pruned (IAM allows 5).

    Concurrent runs adding versions between our pruning and our create fill the five: then we re-read (another
    run may have made our document the default already, which is convergence) or prune and try again.
    """
    for _attempt in range(VERSION_ATTEMPTS):
        _prune_versions(client, arn)
        if _create_version(client, arn, document):
            return
        current = get_policy(client, arn)
        if current is not None and not compare_policies(current["document"], document):
            return
    raise AnsibleIAMError(
        message="Failed to update generated policy %s: IAM's five versions stayed full after %d tries "
        "(other runs keep adding versions)" % (arn, VERSION_ATTEMPTS)
    )


@IAMErrorHandler.deletion_error_handler("delete generated policy")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _delete_policy(client, arn):
    _prune_versions(client, arn)
    client.delete_policy(PolicyArn=arn)
    return True


@IAMErrorHandler.deletion_error_handler("delete role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=CONCURRENT)
def _delete_role(client, name):
    for inline_name in list_iam_role_policies(client, name):
        client.delete_role_policy(RoleName=name, PolicyName=inline_name)
    profiles = client.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]
    for profile in profiles:
        client.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    client.delete_role(RoleName=name)
    return True


@IAMErrorHandler.common_error_handler("wait for the role to exist")
def _wait_for_role(client, name, timeout):
    delay = 2
    client.get_waiter("role_exists").wait(
        RoleName=name, WaiterConfig=dict(Delay=delay, MaxAttempts=max(1, timeout // delay))
    )


# ---------------------------------------------------------------- state


@dataclass
class Current:
    """What IAM holds: the role summary (None: no role), the generated policy and the collection's role tags."""

    role: Optional[dict]
    policy: Optional[dict]  # {"document", "owned"} or None
    own_tags: dict


def read(client, spec, after_conflict=False):
    """Real state.  ``after_conflict``: a create just answered EntityAlreadyExists, so the role must exist."""
    role = _get_role_after_conflict(client, spec.name) if after_conflict else get_iam_role(client, spec.name)
    policy = get_policy(client, spec.generated_policy_arn)
    if role is None:
        return Current(None, policy, {})
    attached = sorted(p["PolicyArn"] for p in list_iam_role_attached_policies(client, spec.name))
    tags = boto3_tag_list_to_ansible_dict(role.get("Tags", []))
    own_tags = {k: v for k, v in tags.items() if is_reserved_tag(k)}
    recorded = decode_attached(own_tags)
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
    summary = dict(
        arn=role["Arn"],
        name=role["RoleName"],
        role_id=role["RoleId"],
        path=role["Path"],
        description=role.get("Description", ""),
        max_session_duration=role.get("MaxSessionDuration", 3600),
        permissions_boundary=boundary or "",
        trust_policy=_document(role["AssumeRolePolicyDocument"]),
        attached_policies=attached,
        tags={k: v for k, v in tags.items() if not is_reserved_tag(k)},
        owned=_is_owned(own_tags),
        attached_by_collection=[arn for arn in attached if policy_name(arn) in recorded],
        generated_policy=policy["document"] if policy else None,
    )
    return Current(summary, policy, own_tags)


def diffable(summary):
    """The summary minus identifiers AWS assigns (what a diff should show)."""
    if not summary:
        return {}
    return {k: v for k, v in summary.items() if k not in ("arn", "role_id")}


def _not_owned(spec, current, policy_matters):
    """What exists without the ownership tag and would be touched (empty when all is ours or absent)."""
    found = []
    if current.role is not None and not current.role["owned"]:
        found.append("IAM role %s" % spec.name)
    if policy_matters and current.policy is not None and not current.policy["owned"]:
        found.append("IAM policy %s" % spec.generated_policy_arn)
    return found


def refusal(spec, found, deleting):
    subject = " and ".join(found)
    verb = "exist" if len(found) > 1 else "exists"
    if deleting:
        consequence = "so nothing was deleted. Set adopt: true to delete %s anyway." % (
            "them" if len(found) > 1 else "it"
        )
    else:
        consequence = (
            "so nothing was changed. Set adopt: true to take %s over: %s then get%s the tag, and purge_policies "
            "only ever detaches policies this collection attached itself."
            % ("them" if len(found) > 1 else "it", "they" if len(found) > 1 else "it", "" if len(found) > 1 else "s")
        )
    return "%s %s but ecs_anywhere.fleet did not create %s (no %s=%s tag), %s" % (
        subject,
        verb,
        "them" if len(found) > 1 else "it",
        OWNER_TAG_KEY,
        OWNER_TAG_VALUE,
        consequence,
    )


def _check_owned(module, spec, current):
    found = _not_owned(spec, current, policy_matters=spec.generated_policy is not None)
    if found and not spec.adopt:
        module.fail_json(msg=refusal(spec, found, deleting=False), not_owned=found)


def _predict_new(spec):
    wanted = sorted(spec.wanted_attachments())
    return dict(
        arn=spec.role_arn,
        name=spec.name,
        role_id=None,
        path=spec.path,
        description=spec.description or "",
        max_session_duration=spec.max_session_duration or 3600,
        permissions_boundary=spec.permissions_boundary or "",
        trust_policy=spec.trust_policy,
        attached_policies=wanted,
        tags=dict(spec.tags or {}),
        owned=True,
        attached_by_collection=wanted,
        generated_policy=spec.generated_policy,
    )


def _plan_settings(module, spec, before, after):
    """The setting changes an existing role needs (trust, description, session duration, boundary), as calls
    to make; ``after`` is updated with their outcome.  Fails before any write if the path differs."""
    if before["path"] != spec.path:
        module.fail_json(
            msg="Role %s exists with path %s; IAM cannot change a role's path. Use path=%s or delete the role "
            "first. Nothing was changed." % (spec.name, before["path"], before["path"])
        )
    calls = []
    if compare_policies(before["trust_policy"], spec.trust_policy):
        after["trust_policy"] = spec.trust_policy
        calls.append((_update_trust, (spec.name, spec.trust_policy), {}))
    updates = {}
    if spec.description is not None and spec.description != before["description"]:
        updates["Description"] = after["description"] = spec.description
    if spec.max_session_duration and spec.max_session_duration != before["max_session_duration"]:
        updates["MaxSessionDuration"] = after["max_session_duration"] = spec.max_session_duration
    if updates:
        calls.append((_update_role, (spec.name,), updates))
    if spec.permissions_boundary is not None and spec.permissions_boundary != before["permissions_boundary"]:
        after["permissions_boundary"] = spec.permissions_boundary
        calls.append((_set_boundary, (spec.name, spec.permissions_boundary), {}))
    return calls


def _ensure_policy(module, client, spec, policy):
    """Create or update the generated policy (tagging it when it is adopted), tolerating a concurrent create."""
    if policy is None:
        if _create_policy(client, spec):
            return
        policy = _get_policy_after_conflict(client, spec.generated_policy_arn)
        if not policy["owned"] and not spec.adopt:
            found = ["IAM policy %s" % spec.generated_policy_arn]
            module.fail_json(msg=refusal(spec, found, deleting=False), not_owned=found)
    if not policy["owned"]:
        _tag_policy(client, spec.generated_policy_arn, {OWNER_TAG_KEY: OWNER_TAG_VALUE})
    if compare_policies(policy["document"], spec.generated_policy):
        _update_policy(client, spec.generated_policy_arn, spec.generated_policy)


def ensure_present(module, client, spec, wait_timeout=0):
    current = read(client, spec)
    _check_owned(module, spec, current)
    created = False
    if current.role is None and not module.check_mode:
        created = _create_role(client, spec, dict(spec.tags or {}, **collection_tags(spec.wanted_attachments())))
        if not created:
            # A concurrent run of this play (AWX job slices) created it since we read: converge what it made.
            current = read(client, spec, after_conflict=True)
            _check_owned(module, spec, current)
    before = current.role
    policy = current.policy
    policy_ours = policy is not None and (policy["owned"] or spec.adopt)
    wanted = spec.wanted_attachments()

    settings = []
    if before is None:
        after = _predict_new(spec)
        attached = set()
        ours = set()
    else:
        after = dict(before)
        attached = set(before["attached_policies"])
        ours = set(before["attached_by_collection"])
        if policy_ours and spec.generated_policy_arn in attached:
            ours.add(spec.generated_policy_arn)
        settings = _plan_settings(module, spec, before, after)

    # Attachments: only what this collection attached is ever detached.
    to_attach = wanted - attached
    to_detach = (attached - wanted) & ours if spec.purge_policies else set()
    if spec.generated_policy is None and policy_ours and spec.generated_policy_arn in attached:
        to_detach.add(spec.generated_policy_arn)  # ours, no longer wanted: always detach it
    ours = (ours - to_detach) | to_attach
    after["attached_policies"] = sorted((attached - to_detach) | wanted)
    after["attached_by_collection"] = sorted(ours)
    after["owned"] = True

    # Tags: the user's (purge_tags spares the collection's), then the collection's own (ownership, attachments).
    to_set, to_unset = {}, []
    if before is not None:
        if spec.tags is not None:
            to_set, to_unset = compare_aws_tags(before["tags"], spec.tags, spec.purge_tags)
            after["tags"] = {k: v for k, v in before["tags"].items() if k not in to_unset}
            after["tags"].update(to_set)
        own_set, own_unset = compare_aws_tags(current.own_tags, collection_tags(ours), True)
        to_set = dict(to_set, **own_set)
        to_unset = list(to_unset) + list(own_unset)

    # The generated policy: create, update or adopt it before attaching it; delete it when no longer wanted.
    if spec.generated_policy is not None:
        if policy is None or compare_policies(policy["document"], spec.generated_policy):
            after["generated_policy"] = spec.generated_policy
    elif policy_ours:
        after["generated_policy"] = None
    unwanted_policy = spec.generated_policy is None and policy_ours

    foreign = sorted((attached - wanted) - ours - to_detach) if spec.purge_policies else []
    if foreign:
        module.warn(
            "Role %s has managed policies that ecs_anywhere.fleet did not attach; they are left attached: %s"
            % (spec.name, ", ".join(foreign))
        )

    if not module.check_mode:
        if to_set or to_unset:
            _tag_role(client, spec.name, to_set, to_unset)  # first: ownership and the attachments about to be made
        for call, args, kwargs in settings:
            call(client, *args, **kwargs)
        if spec.generated_policy is not None:
            _ensure_policy(module, client, spec, policy)
        for arn in sorted(to_attach):
            _attach(client, spec.name, arn)
        for arn in sorted(to_detach):
            _detach(client, spec.name, arn)
        if unwanted_policy:
            _delete_policy(client, spec.generated_policy_arn)
        if created and wait_timeout:
            _wait_for_role(client, spec.name, wait_timeout)
        if after != before:
            after = read(client, spec).role
    return before, after


def ensure_absent(module, client, spec, leave_unowned=False):
    """Delete the role and the generated policy, only when they are the collection's (or ``adopt``).

    Something not ours fails the module, or with ``leave_unowned`` is left as it is with a warning.
    """
    current = read(client, spec)
    before = current.role
    found = _not_owned(spec, current, policy_matters=True)
    if found and not spec.adopt:
        message = refusal(spec, found, deleting=True)
        if leave_unowned:
            module.warn(message)
            return before, before
        module.fail_json(msg=message, not_owned=found)
    if not module.check_mode:
        if before is not None:
            for arn in before["attached_policies"]:
                _detach(client, spec.name, arn)
            _delete_role(client, spec.name)
        if current.policy is not None:
            _delete_policy(client, spec.generated_policy_arn)
    if before is None and current.policy is not None:
        # Only the generated policy was left (for example after a failed run): report removing it.
        before = dict(generated_policy=current.policy["document"])
    return before, None
