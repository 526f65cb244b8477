# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM hybrid activations, managed instances and their backend (state per account and region)."""

import datetime
import json
import re
import threading
import urllib.parse

from moto.core.base_backend import BackendDict
from moto.core.base_backend import BaseBackend
from moto.core.common_models import BaseModel
from moto.iam.exceptions import NotFoundException as IAMNotFound
from moto.iam.models import iam_backends
from moto.moto_api._internal import mock_random
from moto.ssm.exceptions import InvalidFilterKey
from moto.ssm.exceptions import InvalidResourceId
from moto.ssm.exceptions import ValidationException
from moto.sts.models import sts_backends
from moto.utilities.paginator import paginate

from ..settings import lab
from .exceptions import AccessDeniedException
from .exceptions import ActivationExpired
from .exceptions import InvalidActivation
from .exceptions import InvalidActivationId
from .exceptions import InvalidFilter
from .exceptions import InvalidInstanceId
from .exceptions import InvalidInstanceInformationFilterValue
from .exceptions import check_length
from .exceptions import check_range
from .exceptions import constraint_error

ACTIVATION_CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
ACTIVATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INSTANCE_ID = re.compile(r"^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$")
MANAGED_INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")
SSM_PRINCIPAL = "ssm.amazonaws.com"
ROLE_TOKEN_SECONDS = 3600
DEFAULT_EXPIRATION = datetime.timedelta(hours=24)
MAX_EXPIRATION = datetime.timedelta(days=30)

#: DescribeInstanceInformation filter keys (``Filters``; ``tag:<key>`` is matched separately).
STRING_FILTER_KEYS = (
    "InstanceIds",
    "AgentVersion",
    "PingStatus",
    "PlatformTypes",
    "ActivationIds",
    "IamRole",
    "ResourceType",
    "AssociationStatus",
    "SourceIds",
    "SourceTypes",
    "tag-key",
)
#: The legacy ``InstanceInformationFilterList`` keys (botocore enum InstanceInformationFilterKey).
LEGACY_FILTER_KEYS = STRING_FILTER_KEYS[:8]
FILTER_VALUE_ENUMS = {
    "PingStatus": ("Online", "ConnectionLost", "Inactive"),
    "PlatformTypes": ("Windows", "Linux", "MacOS"),
    "ResourceType": ("ManagedInstance", "EC2Instance"),
}
ACTIVATION_FILTER_KEYS = ("ActivationIds", "DefaultInstanceName", "IamRole")

#: Page sizes when MaxResults is absent: AWS documents 10 for DescribeInstanceInformation and nothing for
#: DescribeActivations, which answers with up to its maximum (50) here.
PAGINATION_MODEL = {
    "describe_activations": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 50,
        "unique_attribute": "activation_id",
        "fail_on_invalid_token": True,
    },
    "describe_instance_information": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 10,  # "The default value is 10 items." (API reference)
        "unique_attribute": "instance_id",
        "fail_on_invalid_token": True,
    },
}


def version_tuple(version):
    return tuple(int(part) if part.isdigit() else 0 for part in (version or "").split("."))


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def trusts_principal(policy_document, principal_service):
    """Whether a role trust policy lets *principal_service* call sts:AssumeRole.

    Conditions (``aws:SourceAccount``/``aws:SourceArn`` confused-deputy guards) are not evaluated:
    they restrict who assumes the role later, not whether the service is trusted at all.
    """
    policy = policy_document
    for decode in (json.loads, lambda text: json.loads(urllib.parse.unquote(text))):
        if not isinstance(policy, str):
            break
        try:
            policy = decode(policy_document)
        except ValueError:
            continue
    if not isinstance(policy, dict):
        return False
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        actions = [action.lower() for action in _as_list(statement.get("Action"))]
        if not {"sts:assumerole", "sts:*", "*"} & set(actions):
            continue
        principal = statement.get("Principal")
        if principal != "*" and principal_service not in _as_list((principal or {}).get("Service")):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


class Activation(BaseModel):
    """A hybrid activation: a code/id pair that registers up to ``registration_limit`` machines."""

    def __init__(
        self,
        iam_role,
        registration_limit,
        expiration_date,
        default_instance_name=None,
        description=None,
        tags=None,
    ):
        self.activation_id = str(mock_random.uuid4())
        self.activation_code = "".join(mock_random.choice(ACTIVATION_CODE_ALPHABET) for _position in range(20))
        self.iam_role = iam_role
        self.registration_limit = registration_limit
        self.registrations_count = 0
        self.expiration_date = expiration_date
        self.default_instance_name = default_instance_name
        self.description = description
        self.tags = [{"Key": tag["Key"], "Value": tag.get("Value", "")} for tag in tags or []]
        self.created_date = lab.now()
        #: Fingerprints of machines registered with this activation and later deregistered: they need a
        #: different activation to register again (see ``register_managed_instance``).
        self.deregistered_fingerprints = set()

    @property
    def expired(self):
        return lab.now() >= self.expiration_date


class ManagedInstance(BaseModel):
    """A machine registered through an activation (``mi-`` id), as DescribeInstanceInformation shows it."""

    resource_type = "ManagedInstance"
    source_type = "AWS::SSM::ManagedInstance"

    def __init__(self, instance_id, activation, public_key=None, public_key_type=None, fingerprint=None):
        self.instance_id = instance_id
        self.activation_id = activation.activation_id
        self.iam_role = activation.iam_role
        self.name = activation.default_instance_name
        self.tags = {tag["Key"]: tag["Value"] for tag in activation.tags}
        self.registration_date = lab.now()
        self.public_key = public_key
        self.public_key_type = public_key_type
        self.fingerprint = fingerprint
        #: Every fingerprint the agent has presented for this instance (at registration and with its role
        #: token requests, which carry the current one): what identifies the machine behind it.
        self.fingerprints = {fingerprint} if fingerprint else set()
        self.last_ping_date_time = None
        self.agent_name = None
        self.agent_version = None
        self.platform_type = None
        self.platform_name = None
        self.platform_version = None
        self.ip_address = None
        self.computer_name = None

    @property
    def source_id(self):
        return self.instance_id

    @property
    def ping_status(self):
        if self.last_ping_date_time is None:
            return "ConnectionLost"
        if lab.now() - self.last_ping_date_time > lab.connection_lost_after:
            return "ConnectionLost"
        return "Online"

    @property
    def is_latest_version(self):
        if self.agent_version is None:
            return None
        return version_tuple(self.agent_version) >= version_tuple(lab.latest_ssm_agent_version)

    def filter_value(self, key):
        """The value(s) the DescribeInstanceInformation filter *key* compares."""
        return {
            "InstanceIds": self.instance_id,
            "AgentVersion": self.agent_version,
            "PingStatus": self.ping_status,
            "PlatformTypes": self.platform_type,
            "ActivationIds": self.activation_id,
            "IamRole": self.iam_role,
            "ResourceType": self.resource_type,
            "AssociationStatus": None,
            "SourceIds": self.source_id,
            "SourceTypes": self.source_type,
        }[key]

    def matches(self, key, values):
        if key == "tag-key":
            return any(value in self.tags for value in values)
        if key.startswith("tag:"):
            return self.tags.get(key[4:]) in values
        return self.filter_value(key) in values


class ManagedInstanceBackend(BaseBackend):
    """Hybrid activations, managed instances and the role sessions issued to them."""

    def __init__(self, region_name, account_id):
        super().__init__(region_name, account_id)
        self.activations = {}
        self.instances = {}
        self.access_keys = {}
        self._lock = threading.Lock()

    # -- activations -------------------------------------------------------------------------

    def _role_arn(self, iam_role):
        return "arn:%s:iam::%s:role/%s" % (self.partition, self.account_id, iam_role)

    def get_role(self, iam_role):
        """The IAM role an activation names (``name`` or ``path/name``), or None."""
        path, _slash, name = iam_role.rpartition("/")
        try:
            role = iam_backends[self.account_id][self.partition].get_role(name)
        except IAMNotFound:
            return None
        if path and role.path.strip("/") != path:
            return None
        return role

    def _check_role(self, iam_role):
        role = self.get_role(iam_role)
        if role is None:
            raise ValidationException("Not existing role: %s" % self._role_arn(iam_role))
        if role.path.startswith("/aws-service-role/"):
            raise ValidationException("Service-linked role not allowed: %s" % self._role_arn(iam_role))
        if not trusts_principal(role.assume_role_policy_document, SSM_PRINCIPAL):
            raise ValidationException(
                "Not existing role: %s (its trust policy does not allow %s to assume it)"
                % (self._role_arn(iam_role), SSM_PRINCIPAL)
            )

    def create_activation(
        self,
        iam_role,
        registration_limit=None,
        expiration_date=None,
        default_instance_name=None,
        description=None,
        tags=None,
    ):
        now = lab.now()
        if not iam_role:
            raise constraint_error("iamRole", None, "Member must not be null")
        registration_limit = 1 if registration_limit is None else registration_limit
        check_range("registrationLimit", registration_limit, 1, 1000)
        check_length("iamRole", iam_role, 64)
        check_length("defaultInstanceName", default_instance_name, 256)
        check_length("description", description, 256)
        if expiration_date is None:
            expiration_date = now + DEFAULT_EXPIRATION
        elif expiration_date <= now:
            raise ValidationException("ExpirationDate must be in the future.")
        elif expiration_date > now + MAX_EXPIRATION:
            raise ValidationException("ExpirationDate cannot be more than 30 days in the future.")
        self._check_role(iam_role)
        activation = Activation(iam_role, registration_limit, expiration_date, default_instance_name, description, tags)
        self.activations[activation.activation_id] = activation
        return activation

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_activations(self, filters=None):
        selected = list(self.activations.values())
        for entry in filters or []:
            key, values = entry.get("FilterKey"), entry.get("FilterValues") or []
            if key not in ACTIVATION_FILTER_KEYS:
                raise InvalidFilter("The filter name %s isn't valid." % key)
            attribute = {"ActivationIds": "activation_id", "DefaultInstanceName": "default_instance_name"}.get(
                key, "iam_role"
            )
            selected = [activation for activation in selected if getattr(activation, attribute) in values]
        return selected

    def delete_activation(self, activation_id):
        if not ACTIVATION_ID.match(activation_id or ""):
            raise InvalidActivationId("Activation ID %s isn't valid." % activation_id)
        if self.activations.pop(activation_id, None) is None:
            raise InvalidActivation("Activation %s does not exist." % activation_id)

    # -- the agent's calls -----------------------------------------------------------------

    def _new_instance_id(self):
        while True:
            instance_id = "mi-" + mock_random.get_random_hex(17)
            if instance_id not in self.instances:
                return instance_id

    def register_managed_instance(
        self, activation_id, activation_code, public_key=None, public_key_type=None, fingerprint=None
    ):
        with self._lock:
            activation = self.activations.get(activation_id)
            if activation is None or activation.activation_code != activation_code:
                raise InvalidActivation(
                    "The activation isn't valid. The activation might have been deleted, "
                    "or the ActivationId and the ActivationCode don't match."
                )
            if activation.expired:
                raise ActivationExpired("Activation %s has expired." % activation_id)
            # "If you want to reregister an on-premises server, edge device, or VM, you must use a different
            # Activation Code and Activation ID than used to register the machine previously." (botocore
            # model, DeregisterManagedInstance; SSM User Guide, "Deregistering managed nodes in a hybrid and
            # multicloud environment").  SSM knows a machine only by what the agent sends: a fresh key pair
            # on every registration (aws/amazon-ssm-agent core/agent_parser.go registerManagedInstance calls
            # registration.GenerateKeyPair), and the fingerprint kept in the vault across registrations and
            # only regenerated when the hardware changes or `-register -clear` wipes it
            # (agent/managedInstances/fingerprint/fingerprint.go: "this is done to protect customers from
            # launching two instances with the same instance identifier").  So the fingerprint is the host.
            # The error code is not documented for this case; InvalidActivation is the model's code for an
            # activation that cannot be used, and the wording here is the emulator's.
            if fingerprint and fingerprint in activation.deregistered_fingerprints:
                raise InvalidActivation(
                    "The activation isn't valid for this machine: it registered with activation %s before and "
                    "was deregistered. Register it with a different activation." % activation_id
                )
            if activation.registrations_count >= activation.registration_limit:
                raise InvalidActivation(
                    "Activation %s has reached its registration limit of %d."
                    % (activation_id, activation.registration_limit)
                )
            activation.registrations_count += 1
            instance = ManagedInstance(self._new_instance_id(), activation, public_key, public_key_type, fingerprint)
            self.instances[instance.instance_id] = instance
            return instance

    def get_instance(self, instance_id):
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InvalidInstanceId("Not existing InstanceId %s" % instance_id)
        return instance

    def update_instance_information(self, instance_id, **reported):
        """The agent's heartbeat: marks the instance Online now and records what it reports."""
        instance = self.get_instance(instance_id)
        for field in (
            "agent_name",
            "agent_version",
            "platform_type",
            "platform_name",
            "platform_version",
            "ip_address",
            "computer_name",
        ):
            if reported.get(field) is not None:
                setattr(instance, field, reported[field])
        instance.last_ping_date_time = lab.now()
        return instance

    def request_managed_instance_role_token(self, instance_id, fingerprint=None):
        """Temporary credentials of the activation's role, as an STS session named after the instance."""
        instance = self.get_instance(instance_id)
        if fingerprint:
            instance.fingerprint = fingerprint
            instance.fingerprints.add(fingerprint)
        role = self.get_role(instance.iam_role)
        if role is None:
            raise AccessDeniedException(
                "Systems Manager's instance management role is not configured for account: %s" % self.account_id
            )
        session = sts_backends[self.account_id][self.partition].assume_role(
            region_name=self.region_name,
            role_session_name=instance_id,
            role_arn=role.arn,
            policy=None,
            duration=ROLE_TOKEN_SECONDS,
            external_id=None,
        )
        self.access_keys[session.access_key_id] = instance_id
        return session, lab.now() + datetime.timedelta(seconds=ROLE_TOKEN_SECONDS)

    # -- managed instances -----------------------------------------------------------------

    @paginate(pagination_model=PAGINATION_MODEL)
    def describe_instance_information(self, filters=None, legacy_filters=None):
        if filters is not None and legacy_filters is not None:
            # "Attempting to use InstanceInformationFilterList and Filters leads to an exception error."
            # (botocore model, DescribeInstanceInformationRequest.InstanceInformationFilterList).  AWS names
            # neither code nor message; ValidationException is the code SSM answers for the other documented
            # filter-combination rule ("Cannot mix tag or inventory filter ...", danmx/sigil#61), and the
            # wording is the emulator's.
            raise ValidationException("InstanceInformationFilterList and Filters cannot be used together.")
        conditions = []
        for entry in legacy_filters or []:
            key, values = entry.get("key"), entry.get("valueSet") or []
            if key not in LEGACY_FILTER_KEYS:
                raise InvalidFilterKey("The specified key isn't valid: %s" % key)
            conditions.append((key, values))
        for entry in filters or []:
            key, values = entry.get("Key"), entry.get("Values") or []
            if key not in STRING_FILTER_KEYS and not (key or "").startswith("tag:"):
                raise InvalidFilterKey("The specified key isn't valid: %s" % key)
            conditions.append((key, values))
        tag_filters = [key for key, _values in conditions if key == "tag-key" or key.startswith("tag:")]
        if tag_filters and len(tag_filters) != len(conditions):
            raise ValidationException("Cannot mix tag or inventory filter with any other filter.")
        for key, values in conditions:
            self._check_filter_values(key, values)
        return [
            instance
            for instance in self.instances.values()
            if all(instance.matches(key, values) for key, values in conditions)
        ]

    @staticmethod
    def _check_filter_values(key, values):
        if not 1 <= len(values) <= 100:
            raise constraint_error(
                "filters.member.values", values, "Member must have length between 1 and 100, inclusive"
            )
        if key == "InstanceIds":
            for value in values:
                if not INSTANCE_ID.match(value):
                    raise InvalidInstanceId("Instance Id %s is not valid." % value)
        if key == "ResourceType":
            # SSM's answers, quoted in boto/boto3#3027 (two values) and aws/aws-sdk#130 (an unknown value).
            if len(values) > 1:
                raise InvalidInstanceInformationFilterValue("ResourceType filter may contain only one value.")
            if values[0] not in FILTER_VALUE_ENUMS[key]:
                raise InvalidInstanceInformationFilterValue(
                    "ResourceType filter is invalid, valid values are EC2Instance, ManagedInstance"
                )
        for value in values:
            if key in FILTER_VALUE_ENUMS and value not in FILTER_VALUE_ENUMS[key]:
                raise InvalidInstanceInformationFilterValue(
                    "The filter value %s is not valid for %s. Valid values: %s"
                    % (value, key, ", ".join(FILTER_VALUE_ENUMS[key]))
                )

    def deregister_managed_instance(self, instance_id):
        instance = self.instances.pop(instance_id, None)
        if instance is None:
            raise InvalidInstanceId("Instance Id %s is not valid or not registered." % instance_id)
        activation = self.activations.get(instance.activation_id)
        if activation is not None:
            activation.deregistered_fingerprints.update(instance.fingerprints)
        for access_key in [key for key, owner in self.access_keys.items() if owner == instance_id]:
            del self.access_keys[access_key]

    def _tagged_instance(self, instance_id):
        instance = self.instances.get(instance_id)
        if instance is None:
            raise InvalidResourceId()
        return instance

    def add_tags(self, instance_id, tags):
        self._tagged_instance(instance_id).tags.update(tags)

    def remove_tags(self, instance_id, keys):
        instance = self._tagged_instance(instance_id)
        for key in keys:
            instance.tags.pop(key, None)

    def list_tags(self, instance_id):
        return dict(self._tagged_instance(instance_id).tags)


managed_instance_backends = BackendDict(ManagedInstanceBackend, "ssm")


def find_backend(account_id, region_name, predicate):
    """The account's backend (this region first, then any other in use) for which *predicate* holds."""
    backends = managed_instance_backends[account_id]
    candidates = [backends[region_name]] + [
        backend for region, backend in list(backends.items()) if region != region_name
    ]
    for backend in candidates:
        if predicate(backend):
            return backend
    return candidates[0]


def instance_for_access_key(account_id, region_name, access_key):
    """The managed instance whose role session owns *access_key*, or None."""
    backend = find_backend(account_id, region_name, lambda b: access_key in b.access_keys)
    instance_id = backend.access_keys.get(access_key)
    return backend.instances.get(instance_id) if instance_id else None
