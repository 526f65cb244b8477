# -*- coding: utf-8 -*-
# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to this collection: reconcile an IAM service role with its trust, attachments, tags and one
generated customer-managed policy.  Shared by the instance_role and task_execution_role modules.

``ensure_present`` / ``ensure_absent`` return ``(before, after)`` summaries of real state (``after``
is predicted in check mode, where no write call is made).  ``changed`` is ``before != after``.
"""

import json
from dataclasses import dataclass
from typing import Optional

from ansible.module_utils.six.moves.urllib.parse import unquote

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

# Options of every role module (documented by the ecs_anywhere.fleet.iam_role doc fragment).
ARGUMENT_SPEC = dict(
    path=dict(type="str", default="/"),
    max_session_duration=dict(type="int"),
    permissions_boundary=dict(type="str"),
    managed_policies=dict(type="list", elements="str", default=[]),
    purge_policies=dict(type="bool", default=True),
    generated_policy_name=dict(type="str"),
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


# ---------------------------------------------------------------- AWS calls (retried, one error type)


def _document(value):
    """IAM returns policy documents URL-encoded (raw API) or already decoded (boto3); accept both."""
    if isinstance(value, dict):
        return value
    return json.loads(unquote(value))


@IAMErrorHandler.list_error_handler("get generated policy")
@AWSRetry.jittered_backoff()
def get_policy_document(client, arn):
    policy = client.get_policy(PolicyArn=arn)["Policy"]
    version = client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    return _document(version["Document"])


@IAMErrorHandler.common_error_handler("create role")
@AWSRetry.jittered_backoff()
def _create_role(client, spec):
    params = dict(
        RoleName=spec.name,
        Path=spec.path,
        AssumeRolePolicyDocument=json.dumps(spec.trust_policy),
        Description=spec.description or "",
    )
    if spec.max_session_duration:
        params["MaxSessionDuration"] = spec.max_session_duration
    if spec.permissions_boundary:
        params["PermissionsBoundary"] = spec.permissions_boundary
    if spec.tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(spec.tags)
    return client.create_role(**params)["Role"]


@IAMErrorHandler.common_error_handler("update role trust policy")
@AWSRetry.jittered_backoff()
def _update_trust(client, name, document):
    client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(document))


@IAMErrorHandler.common_error_handler("update role")
@AWSRetry.jittered_backoff()
def _update_role(client, name, **params):
    client.update_role(RoleName=name, **params)


@IAMErrorHandler.common_error_handler("set permissions boundary")
@AWSRetry.jittered_backoff()
def _set_boundary(client, name, arn):
    if arn:
        client.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=arn)
    else:
        client.delete_role_permissions_boundary(RoleName=name)


@IAMErrorHandler.common_error_handler("tag role")
@AWSRetry.jittered_backoff()
def _tag_role(client, name, to_set, to_unset):
    if to_unset:
        client.untag_role(RoleName=name, TagKeys=list(to_unset))
    if to_set:
        client.tag_role(RoleName=name, Tags=ansible_dict_to_boto3_tag_list(to_set))


@IAMErrorHandler.common_error_handler("attach policy to role")
@AWSRetry.jittered_backoff(catch_extra_error_codes=["NoSuchEntity"])
def _attach(client, name, arn):
    # NoSuchEntity right after creating the role or policy is IAM's eventual consistency: retried.
    client.attach_role_policy(RoleName=name, PolicyArn=arn)


@IAMErrorHandler.deletion_error_handler("detach policy from role")
@AWSRetry.jittered_backoff()
def _detach(client, name, arn):
    client.detach_role_policy(RoleName=name, PolicyArn=arn)


@IAMErrorHandler.common_error_handler("create generated policy")
@AWSRetry.jittered_backoff()
def _create_policy(client, spec):
    params = dict(
        PolicyName=spec.generated_policy_name,
        Path=spec.path,
        PolicyDocument=json.dumps(spec.generated_policy),
        Description="Generated by ecs_anywhere.fleet for role %s" % spec.name,
    )
    if spec.tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(spec.tags)
    client.create_policy(**params)


@IAMErrorHandler.common_error_handler("update generated policy")
@AWSRetry.jittered_backoff()
def _update_policy(client, arn, document):
    """New default version; the one it replaces stays for rollback, older ones are pruned (IAM allows 5)."""
    for version in client.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            client.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    client.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)


@IAMErrorHandler.deletion_error_handler("delete generated policy")
@AWSRetry.jittered_backoff()
def _delete_policy(client, arn):
    for version in client.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            client.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    client.delete_policy(PolicyArn=arn)
    return True


@IAMErrorHandler.deletion_error_handler("delete role")
@AWSRetry.jittered_backoff()
def _delete_role(client, name):
    for policy_name in list_iam_role_policies(client, name):
        client.delete_role_policy(RoleName=name, PolicyName=policy_name)
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


def read(client, spec):
    """Real state as a summary dict (None when the role does not exist)."""
    role = get_iam_role(client, spec.name)
    generated = get_policy_document(client, spec.generated_policy_arn)
    if role is None:
        return None, generated
    attached = list_iam_role_attached_policies(client, spec.name)
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
        attached_policies=sorted(p["PolicyArn"] for p in attached),
        tags=boto3_tag_list_to_ansible_dict(role.get("Tags", [])),
        generated_policy=generated,
    )
    return summary, generated


def diffable(summary):
    """The summary minus identifiers AWS assigns (what a diff should show)."""
    if not summary:
        return {}
    return {k: v for k, v in summary.items() if k not in ("arn", "role_id")}


def _predict_new(spec):
    return dict(
        arn=spec.role_arn,
        name=spec.name,
        role_id=None,
        path=spec.path,
        description=spec.description or "",
        max_session_duration=spec.max_session_duration or 3600,
        permissions_boundary=spec.permissions_boundary or "",
        trust_policy=spec.trust_policy,
        attached_policies=sorted(spec.wanted_attachments()),
        tags=dict(spec.tags or {}),
        generated_policy=spec.generated_policy,
    )


def ensure_present(module, client, spec, wait_timeout=0):
    before, generated = read(client, spec)
    check = module.check_mode

    if before is None:
        after = _predict_new(spec)
        if not check:
            _create_role(client, spec)
    else:
        if before["path"] != spec.path:
            module.fail_json(
                msg="Role %s exists with path %s; IAM cannot change a role's path. Use path=%s or delete the role "
                "first. Nothing was changed." % (spec.name, before["path"], before["path"])
            )
        after = dict(before)
        if compare_policies(before["trust_policy"], spec.trust_policy):
            after["trust_policy"] = spec.trust_policy
            if not check:
                _update_trust(client, spec.name, spec.trust_policy)
        updates = {}
        if spec.description is not None and spec.description != before["description"]:
            updates["Description"] = after["description"] = spec.description
        if spec.max_session_duration and spec.max_session_duration != before["max_session_duration"]:
            updates["MaxSessionDuration"] = after["max_session_duration"] = spec.max_session_duration
        if updates and not check:
            _update_role(client, spec.name, **updates)
        if spec.permissions_boundary is not None and spec.permissions_boundary != before["permissions_boundary"]:
            after["permissions_boundary"] = spec.permissions_boundary
            if not check:
                _set_boundary(client, spec.name, spec.permissions_boundary)
        if spec.tags is not None:
            to_set, to_unset = compare_aws_tags(before["tags"], spec.tags, spec.purge_tags)
            after["tags"] = {k: v for k, v in before["tags"].items() if k not in to_unset}
            after["tags"].update(to_set)
            if (to_set or to_unset) and not check:
                _tag_role(client, spec.name, to_set, to_unset)

    # The generated policy: create or update before attaching it.
    if generated is None or spec.generated_policy is None or compare_policies(generated, spec.generated_policy):
        after["generated_policy"] = spec.generated_policy
    if spec.generated_policy is not None and not check:
        if generated is None:
            _create_policy(client, spec)
        elif compare_policies(generated, spec.generated_policy):
            _update_policy(client, spec.generated_policy_arn, spec.generated_policy)

    current = set(before["attached_policies"]) if before else set()
    wanted = spec.wanted_attachments()
    to_detach = current - wanted if spec.purge_policies else set()
    if spec.generated_policy is None and spec.generated_policy_arn in current:
        to_detach.add(spec.generated_policy_arn)  # ours, no longer wanted: always detach it
    after["attached_policies"] = sorted((current - to_detach) | wanted)
    if not check:
        for arn in sorted(wanted - current):
            _attach(client, spec.name, arn)
        for arn in sorted(to_detach):
            _detach(client, spec.name, arn)
        if spec.generated_policy is None and generated is not None:
            _delete_policy(client, spec.generated_policy_arn)
        if before is None and wait_timeout:
            _wait_for_role(client, spec.name, wait_timeout)
        if after != before:
            after, _generated = read(client, spec)
    return before, after


def ensure_absent(module, client, spec):
    before, generated = read(client, spec)
    if not module.check_mode:
        if before is not None:
            for arn in before["attached_policies"]:
                _detach(client, spec.name, arn)
            _delete_role(client, spec.name)
        if generated is not None:
            _delete_policy(client, spec.generated_policy_arn)
    if before is None and generated is not None:
        # Only the generated policy was left (for example after a failed run): report removing it.
        before = dict(generated_policy=generated)
    return before, None
