#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: activation
version_added: 0.1.0
short_description: Manage AWS Systems Manager hybrid activations for ECS Anywhere hosts
description:
  - Creates an SSM hybrid activation (an id and a secret code) with which on-prem hosts register their SSM agent
    and so join ECS Anywhere with the instance role.
  - Deletes an activation by id, and cleans up spent activations that this collection created.
  - Every activation this module creates carries the tag C(ecs_anywhere.fleet:managed=true). SSM copies an
    activation's tags to the managed instances that register with it, so they carry the tag too.
  - "The activation code is a secret and is only ever returned when the activation is created. Put C(no_log: true)
    on every task that creates an activation or handles its code (see the examples)."
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  state:
    description:
      - V(present) creates a new activation on every run and returns its id and code (activations have no name,
        and an existing activation's code cannot be read back, so there is nothing to reuse).
      - V(absent) deletes the activation O(activation_id). An activation that does not exist is no change.
      - V(cleaned) deletes every activation carrying this collection's tag that is spent, that is expired or with
        all of its registrations used (C(RegistrationsCount >= RegistrationLimit)). With O(iam_role), only that
        role's activations are considered. Activations without the tag are never touched.
    type: str
    choices: [present, absent, cleaned]
    default: present
  iam_role:
    description:
      - Name (not ARN) of the instance role the registered hosts assume, for example the role made by
        M(ecs_anywhere.fleet.instance_role). It must trust C(ssm.amazonaws.com).
      - Required with O(state=present). With O(state=cleaned), limits the cleanup to this role's activations.
    type: str
  activation_id:
    description:
      - The id of the activation to delete. Required with O(state=absent), not used otherwise.
    type: str
  registration_limit:
    description:
      - How many hosts may register with the activation, from 1 to 1000.
      - Registering one more host than this fails (the SSM agent gets C(InvalidActivation)).
    type: int
    default: 1
  expiration_hours:
    description:
      - Hours from now until the activation expires, from 1 to 720 (30 days, the most SSM allows).
      - Hosts cannot register with an expired activation (the SSM agent gets C(ActivationExpired)); hosts that
        registered before keep working.
      - Keep it short, the code is a credential until it expires or is used up.
    type: int
    default: 1
  default_instance_name:
    description:
      - "The name SSM gives the managed instances registered with this activation. Up to 256 letters (of any script),
        digits, spaces and C(_ . : / = + - @), the characters SSM accepts; no newlines, tabs or other control
        characters."
    type: str
  description:
    description:
      - A description of the activation. Up to 256 characters (SSM sets no other rule for it).
    type: str
    default: Created by ecs_anywhere.fleet
  tags:
    description:
      - Tags for the activation, which SSM copies to the managed instances registered with it.
      - The tag C(ecs_anywhere.fleet:managed=true) is always added; it may not be set to another value.
      - "Keys of 1 to 128 and values of up to 256 letters (of any script), digits, spaces and C(_ . : / = + - @), no
        newlines or other control characters. Keys starting with C(aws:), in any case, are reserved for AWS. At most
        50 tags, the collection's included."
    type: dict
    aliases: [resource_tags]
  wait_timeout:
    description:
      - A role created moments ago may not be visible to SSM yet (IAM is eventually consistent), and SSM then
        answers that the role does not exist or does not trust it. The module retries the creation for up to this
        many seconds before failing; V(0) does not retry.
      - This is also how long a task waits before failing when the role really does not exist.
    type: int
    default: 60
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - With O(state=present), nothing is created and no id or code is returned.
  diff_mode:
    support: full
    details:
      - The diff shows the activation created or deleted, or the activations O(state=cleaned) deletes.
  idempotent:
    support: partial
    details:
      - O(state=absent) and O(state=cleaned) are idempotent.
      - O(state=present) creates a new activation (and a new code) each time it runs.
notes:
  - Use O(state=present) to mint a short-lived activation per onboarding run, O(state=absent) to delete it
    when the hosts have registered, and O(state=cleaned) to remove leftovers of runs that stopped half-way.
  - "Which SSM calls the module makes: V(present) C(ssm:CreateActivation) and C(ssm:DescribeActivations) (and
    C(iam:PassRole) on the role); V(absent) and V(cleaned) C(ssm:DescribeActivations) and C(ssm:DeleteActivation)."
"""

EXAMPLES = r"""
- name: Create an activation for three hosts, valid for two hours
  ecs_anywhere.fleet.activation:
    iam_role: ECSAnywhereRole
    registration_limit: 3
    expiration_hours: 2
    default_instance_name: onprem
    tags:
      team: platform
  register: activation
  no_log: true  # the result holds the activation code

- name: Register the SSM agent (the code never shows in the output)
  ansible.builtin.command:
    cmd: >-
      amazon-ssm-agent -register -y
      -id {{ activation.activation_id }} -code {{ activation.activation_code }} -region eu-west-1
  no_log: true
  changed_when: true

- name: Delete the activation once the hosts have registered
  ecs_anywhere.fleet.activation:
    state: absent
    activation_id: "{{ activation.activation_id }}"

- name: Remove this collection's expired or used-up activations
  ecs_anywhere.fleet.activation:
    state: cleaned
  register: cleanup
"""

RETURN = r"""
activation_id:
  description: Id of the activation created (O(state=present)) or deleted (O(state=absent)).
  returned: when O(state=present) outside check mode, and when O(state=absent)
  type: str
  sample: 6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31
activation_code:
  description:
    - The secret activation code. SSM returns it only when it creates the activation.
    - It is a credential; put C(no_log) on the task (see the examples).
  returned: when O(state=present) outside check mode
  type: str
  sample: Xy12AbCdEfGhIjKlMnOp
expiration_date:
  description: When the activation expires (ISO 8601, UTC).
  returned: when O(state=present)
  type: str
  sample: "2026-11-29T10:00:00+00:00"
activation:
  description: The activation as SSM describes it after the change (empty when O(state=absent) or O(state=cleaned)).
  returned: always
  type: dict
  contains:
    activation_id:
      description: Id of the activation (V(null) in check mode).
      type: str
      sample: 6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31
    iam_role:
      description: Name of the role registered hosts assume.
      type: str
      sample: ECSAnywhereRole
    registration_limit:
      description: How many hosts may register with it.
      type: int
      sample: 3
    registrations_count:
      description: How many hosts have registered with it.
      type: int
      sample: 0
    expiration_date:
      description: When it expires (ISO 8601, UTC).
      type: str
      sample: "2026-11-29T10:00:00+00:00"
    expired:
      description: Whether it has expired.
      type: bool
      sample: false
    default_instance_name:
      description: The name given to the managed instances registered with it.
      type: str
      sample: onprem
    description:
      description: Its description.
      type: str
      sample: Created by ecs_anywhere.fleet
    created_date:
      description: When it was created (ISO 8601, UTC; V(null) in check mode).
      type: str
      sample: "2026-11-29T08:00:00+00:00"
    tags:
      description: Its tags, including C(ecs_anywhere.fleet:managed).
      type: dict
      sample: {"team": "platform", "ecs_anywhere.fleet:managed": "true"}
deleted_activation_ids:
  description: Ids of the activations deleted (or, in check mode, that would be).
  returned: when O(state=absent) or O(state=cleaned)
  type: list
  elements: str
  sample: ["6b7d1a6e-4a8e-4f15-9f7b-0d1c5f8a2e31"]
"""

import datetime

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _ssm as ssm
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import TAG_LIMIT
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import TAG_RULE
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import Validator
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import aws_text
from ansible_collections.ecs_anywhere.fleet.plugins.module_utils._common import finish

MAX_EXPIRATION_HOURS = 30 * 24
MAX_WAIT_TIMEOUT = 3600


def argument_spec():
    return dict(
        state=dict(type="str", default="present", choices=["present", "absent", "cleaned"]),
        iam_role=dict(type="str"),
        activation_id=dict(type="str"),
        registration_limit=dict(type="int", default=1),
        expiration_hours=dict(type="int", default=1),
        default_instance_name=dict(type="str"),
        description=dict(type="str", default="Created by ecs_anywhere.fleet"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        wait_timeout=dict(type="int", default=60),
    )


def validate(module):
    p = module.params
    v = Validator(module)
    state = p["state"]
    v.region()
    if p["iam_role"] is not None:
        if p["iam_role"].startswith("arn:"):
            v.error("iam_role", "%r is an ARN; give the role's name" % (p["iam_role"],))
        else:
            v.iam("role", "iam_role", p["iam_role"])
    elif state == "present":
        v.error("iam_role", "required with state=present")
    if state == "absent":
        if not p["activation_id"]:
            v.error("activation_id", "required with state=absent")
        else:
            v.pattern(
                "activation_id", p["activation_id"], ssm.ACTIVATION_ID, "an activation id such as 6b7d1a6e-4a8e-..."
            )
    elif p["activation_id"] is not None:
        v.error("activation_id", "only used with state=absent")
    v.int_range("registration_limit", p["registration_limit"], 1, 1000)
    v.int_range("expiration_hours", p["expiration_hours"], 1, MAX_EXPIRATION_HOURS)
    v.int_range("wait_timeout", p["wait_timeout"], 0, MAX_WAIT_TIMEOUT)
    v.text("default_instance_name", p["default_instance_name"], ssm.DEFAULT_INSTANCE_NAME_MAX, aws_text, TAG_RULE)
    v.text("description", p["description"], ssm.DESCRIPTION_MAX)
    tags = p["tags"] or {}
    # The collection's tag is added to the user's: together at most TAG_LIMIT.
    v.tags("tags", tags, TAG_LIMIT - (ssm.MANAGED_TAG_KEY not in tags))
    if to_native(tags.get(ssm.MANAGED_TAG_KEY, ssm.MANAGED_TAG_VALUE)) != ssm.MANAGED_TAG_VALUE:
        v.error("tags", "%s is reserved for this collection (always %r)" % (ssm.MANAGED_TAG_KEY, ssm.MANAGED_TAG_VALUE))
    v.check()


def isoformat(value):
    """A timestamp from boto3 (aware datetime) or the module (aware datetime) as ISO 8601 UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).isoformat()


def summarize(activation):
    """The activation as this module reports and diffs it."""
    return dict(
        activation_id=activation.get("ActivationId"),
        iam_role=activation.get("IamRole"),
        registration_limit=activation.get("RegistrationLimit"),
        registrations_count=activation.get("RegistrationsCount", 0),
        expiration_date=isoformat(activation.get("ExpirationDate")),
        expired=bool(activation.get("Expired", False)),
        default_instance_name=activation.get("DefaultInstanceName"),
        description=activation.get("Description"),
        created_date=isoformat(activation.get("CreatedDate")),
        tags=ssm.ansible_tags(activation.get("Tags")),
    )


def build_request(module, now):
    p = module.params
    tags = dict((k, str(v)) for k, v in (p["tags"] or {}).items())
    tags[ssm.MANAGED_TAG_KEY] = ssm.MANAGED_TAG_VALUE
    request = dict(
        IamRole=p["iam_role"],
        RegistrationLimit=p["registration_limit"],
        ExpirationDate=now + datetime.timedelta(hours=p["expiration_hours"]),
        Tags=ssm.ssm_tags(tags),
    )
    if p["default_instance_name"]:
        request["DefaultInstanceName"] = p["default_instance_name"]
    if p["description"]:
        request["Description"] = p["description"]
    return request


def ensure_present(module, client, now=None):
    """Create a new activation. Returns (after summary, code); in check mode the code is None."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    request = build_request(module, now)
    predicted = dict(request, RegistrationsCount=0, Expired=False)
    if module.check_mode:
        return summarize(predicted), None
    created = ssm.create_activation(client, request, module.params["wait_timeout"])
    try:
        described = ssm.describe_activation(client, created["ActivationId"])
    except AnsibleAWSError as e:
        # The caller never gets this activation's id: leave nothing live that no later run could find.
        raise ssm.AnsibleSSMError(
            message="Created activation %s but could not read it back (%s); %s. Nothing has registered with it; "
            "re-run when SSM answers again." % (created["ActivationId"], e.message, withdraw(client, created)),
            exception=e.exception,
        ) from e
    if described is None:  # not listed yet (eventual consistency): report what was asked for
        described = dict(predicted, ActivationId=created["ActivationId"])
    return summarize(described), created["ActivationCode"]


def withdraw(client, created):
    """Delete an activation this module has just created; says how that went (for the failure message)."""
    try:
        ssm.delete_activation(client, created["ActivationId"])
    except AnsibleAWSError as e:
        return "deleting it failed too (%s): delete it with state=absent, else it stays usable until it expires" % (
            e.message
        )
    return "it is deleted again"


def ensure_absent(module, client):
    """Delete the activation by id. Returns (before summary or None, deleted ids)."""
    activation_id = module.params["activation_id"]
    try:
        current = ssm.describe_activation(client, activation_id)
    except AnsibleAWSError:
        # Reading it failed (for example throttled for longer than the retries last): deleting needs no reading, and
        # an activation left live is a credential. Deleting one that is gone is no change.
        if module.check_mode:
            raise
        if not ssm.delete_activation(client, activation_id):
            return None, []
        return dict(activation_id=activation_id), [activation_id]
    if current is None:
        return None, []
    if not module.check_mode:
        ssm.delete_activation(client, activation_id)
    return summarize(current), [activation_id]


def ensure_cleaned(module, client):
    """Delete the spent activations. Returns (summaries of those deleted, their ids)."""
    spent = ssm.spent_activations(client, module.params["iam_role"])
    if not module.check_mode:
        for activation in spent:
            ssm.delete_activation(client, activation["ActivationId"])
    return [summarize(a) for a in spent], [a["ActivationId"] for a in spent]


def diffable(summary):
    """Diff view of one activation: what it is, not what changes on its own (counts, expiry flag)."""
    if not summary:
        return {}
    keys = (
        "activation_id",
        "iam_role",
        "registration_limit",
        "expiration_date",
        "default_instance_name",
        "description",
        "tags",
    )
    return {k: summary.get(k) for k in keys}


def main():
    module = AnsibleAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    validate(module)

    state = module.params["state"]
    client = module.client("ssm")
    try:
        if state == "present":
            after, code = ensure_present(module, client)
            result = dict(activation=after, expiration_date=after["expiration_date"])
            if not module.check_mode:
                result.update(activation_id=after["activation_id"], activation_code=code)
            finish(module, {}, diffable(after), **result)
        elif state == "absent":
            before, deleted = ensure_absent(module, client)
            finish(
                module,
                diffable(before),
                {},
                activation={},
                activation_id=module.params["activation_id"],
                deleted_activation_ids=deleted,
            )
        else:
            deleted_summaries, deleted = ensure_cleaned(module, client)
            finish(
                module,
                dict(activations=[diffable(s) for s in deleted_summaries]),
                dict(activations=[]),
                activation={},
                deleted_activation_ids=deleted,
            )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
