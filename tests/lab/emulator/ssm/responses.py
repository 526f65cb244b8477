# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM responses: moto's, plus hybrid activations, managed instances and the agent's private calls."""

import datetime
import functools
import json

from moto.core.exceptions import InvalidToken
from moto.core.responses import ActionResult
from moto.core.responses import EmptyResult
from moto.ssm.exceptions import SSMException
from moto.ssm.exceptions import ValidationException
from moto.ssm.responses import SimpleSystemManagerResponse

from ..signing import parse_authorization
from .exceptions import InvalidInstanceId
from .exceptions import InvalidNextToken
from .exceptions import check_range
from .models import MANAGED_INSTANCE_ID
from .models import find_backend
from .models import instance_for_access_key
from .models import managed_instance_backends

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


def to_datetime(member, value):
    """A request timestamp (epoch seconds from the JSON protocol, or ISO 8601) as naive UTC."""
    try:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo:
                    parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                return parsed
        return datetime.datetime.fromtimestamp(value, tz=datetime.timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise ValidationException("Invalid timestamp for %s: %r" % (member, value)) from error


def epoch(value):
    return (value - datetime.datetime(1970, 1, 1)).total_seconds()


def agent_operation(method):
    """Render the errors of an operation botocore does not model (moto's serializer looks errors up there)."""

    @functools.wraps(method)
    def respond(self):
        try:
            return method(self)
        except SSMException as error:
            body = {"__type": error.code, "message": error.message}
            return json.dumps(body), {"status": 400, "Content-Type": JSON_CONTENT_TYPE}

    return respond


class SSMResponse(SimpleSystemManagerResponse):
    """moto's SSM responses plus hybrid activations and managed instances."""

    @property
    def managed_instance_backend(self):
        return managed_instance_backends[self.current_account][self.region]

    def _json(self, payload):
        return json.dumps(payload), {"status": 200, "Content-Type": JSON_CONTENT_TYPE}

    def _paginated(self, method, result_key, **kwargs):
        try:
            items, next_token = method(**kwargs)
        except InvalidToken as error:
            raise InvalidNextToken() from error
        return ActionResult({result_key: items, "NextToken": next_token})

    # -- public API ------------------------------------------------------------------------

    def create_activation(self):
        expiration = self._get_param("ExpirationDate")
        activation = self.managed_instance_backend.create_activation(
            iam_role=self._get_param("IamRole"),
            registration_limit=self._get_int_param("RegistrationLimit"),
            expiration_date=to_datetime("ExpirationDate", expiration) if expiration is not None else None,
            default_instance_name=self._get_param("DefaultInstanceName"),
            description=self._get_param("Description"),
            tags=self._get_param("Tags"),
        )
        return ActionResult({"ActivationId": activation.activation_id, "ActivationCode": activation.activation_code})

    def describe_activations(self):
        max_results = self._get_int_param("MaxResults")
        check_range("maxResults", max_results, 1, 50)
        return self._paginated(
            self.managed_instance_backend.describe_activations,
            "ActivationList",
            filters=self._get_param("Filters"),
            max_results=max_results,
            next_token=self._get_param("NextToken"),
        )

    def delete_activation(self):
        self.managed_instance_backend.delete_activation(self._get_param("ActivationId"))
        return EmptyResult()

    def describe_instance_information(self):
        max_results = self._get_int_param("MaxResults")
        check_range("maxResults", max_results, 5, 50)
        return self._paginated(
            self.managed_instance_backend.describe_instance_information,
            "InstanceInformationList",
            filters=self._get_param("Filters"),
            legacy_filters=self._get_param("InstanceInformationFilterList"),
            max_results=max_results,
            next_token=self._get_param("NextToken"),
        )

    def deregister_managed_instance(self):
        self.managed_instance_backend.deregister_managed_instance(self._get_param("InstanceId"))
        return EmptyResult()

    def add_tags_to_resource(self):
        if self._get_param("ResourceType") != "ManagedInstance":
            return super().add_tags_to_resource()
        tags = {tag["Key"]: tag["Value"] for tag in self._get_param("Tags")}
        self.managed_instance_backend.add_tags(self._get_param("ResourceId"), tags)
        return EmptyResult()

    def remove_tags_from_resource(self):
        if self._get_param("ResourceType") != "ManagedInstance":
            return super().remove_tags_from_resource()
        self.managed_instance_backend.remove_tags(self._get_param("ResourceId"), self._get_param("TagKeys"))
        return EmptyResult()

    def list_tags_for_resource(self):
        if self._get_param("ResourceType") != "ManagedInstance":
            return super().list_tags_for_resource()
        tags = self.managed_instance_backend.list_tags(self._get_param("ResourceId"))
        return ActionResult({"TagList": [{"Key": key, "Value": value} for key, value in tags.items()]})

    # -- the SSM agent's private API (JSON 1.1, not in botocore's model) -------------------

    def _caller_instance_id(self):
        """The managed instance id an RSA-signed agent request carries as its access key."""
        credential = parse_authorization(self.headers.get("Authorization"))
        if credential is None or not MANAGED_INSTANCE_ID.match(credential.access_key):
            raise InvalidInstanceId("The request is not signed by a managed instance.")
        return credential.access_key

    @agent_operation
    def register_managed_instance(self):
        activation_id = self._get_param("ActivationId")
        if not activation_id or not self._get_param("ActivationCode"):
            raise ValidationException("ActivationId and ActivationCode are required.")
        # The agent calls anonymously, so the request names no region: find the activation.
        backend = find_backend(self.current_account, self.region, lambda b: activation_id in b.activations)
        instance = backend.register_managed_instance(
            activation_id=activation_id,
            activation_code=self._get_param("ActivationCode"),
            public_key=self._get_param("PublicKey"),
            public_key_type=self._get_param("PublicKeyType"),
            fingerprint=self._get_param("Fingerprint"),
        )
        return self._json({"InstanceId": instance.instance_id})

    @agent_operation
    def request_managed_instance_role_token(self):
        instance_id = self._caller_instance_id()
        backend = find_backend(self.current_account, self.region, lambda b: instance_id in b.instances)
        session, expiration = backend.request_managed_instance_role_token(
            instance_id, fingerprint=self._get_param("Fingerprint")
        )
        return self._json(
            {
                "AccessKeyId": session.access_key_id,
                "SecretAccessKey": session.secret_access_key,
                "SessionToken": session.session_token,
                "TokenExpirationDate": epoch(expiration),
                "UpdateKeyPair": False,
            }
        )

    @agent_operation
    def update_instance_information(self):
        instance_id = self._get_param("InstanceId")
        if not instance_id:
            # Recent agents omit InstanceId and rely on the role session they sign with.
            credential = parse_authorization(self.headers.get("Authorization"))
            instance = credential and instance_for_access_key(self.current_account, self.region, credential.access_key)
            if not instance:
                raise InvalidInstanceId("The caller is not a registered managed instance.")
            instance_id = instance.instance_id
        backend = find_backend(self.current_account, self.region, lambda b: instance_id in b.instances)
        backend.update_instance_information(
            instance_id,
            agent_name=self._get_param("AgentName"),
            agent_version=self._get_param("AgentVersion"),
            platform_type=self._get_param("PlatformType"),
            platform_name=self._get_param("PlatformName"),
            platform_version=self._get_param("PlatformVersion"),
            ip_address=self._get_param("IPAddress"),
            computer_name=self._get_param("ComputerName"),
        )
        return self._json({})
