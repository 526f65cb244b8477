# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM responses: moto's, plus hybrid activations, managed instances and the agent's private calls."""

import datetime
import functools
import json
import re

from moto.core.exceptions import InvalidToken
from moto.core.responses import ActionResult
from moto.core.responses import EmptyResult
from moto.ssm.exceptions import SSMException
from moto.ssm.exceptions import ValidationException
from moto.ssm.responses import SimpleSystemManagerResponse

from ..settings import lab
from ..signing import parse_authorization
from .exceptions import InvalidInstanceId
from .exceptions import InvalidNextToken
from .exceptions import check_range
from .models import MANAGED_INSTANCE_ID
from .models import find_backend
from .models import instance_for_access_key
from .models import managed_instance_backends

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

#: SSM's regional host names.  The agent builds its endpoint as ``service + "." + region + "." +
#: serviceDomain`` (aws/amazon-ssm-agent common/identity/endpoint/endpoint.go, GetServiceEndpoint);
#: FIPS endpoints are ``ssm-fips.<region>...`` and interface VPC endpoints ``<id>.ssm.<region>.vpce.<domain>``.
REGIONAL_SSM_HOST = re.compile(
    r"(?:^|\.)ssm(?:-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)\.(?:vpce\.)?"
    r"(?:amazonaws\.com(?:\.cn)?|amazonaws\.eu|api\.aws)\.?(?::\d+)?$"
)


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

    def _endpoint_region(self):
        """The region of the SSM endpoint a request was sent to, or None when the emulator cannot tell.

        SSM is regional: a request reaches the service of one region, through that region's endpoint.  A
        signed request names that region in its credential scope (SigV4 signs for the endpoint's region).
        The agent's registration is anonymous -- aws/amazon-ssm-agent agent/ssm/anonauth/anonauth_client.go
        sets ``credentials.AnonymousCredentials``, so the SDK does not sign it -- and names its region only in
        the host it is sent to: ``ssm.<region>.amazonaws.com`` unless ``Ssm.Endpoint`` overrides it.  The
        emulator answers for every region on one address; when the host names no region (loopback,
        ``aws.lab.internal``) it uses the ``endpoint_region`` lab setting, else it cannot tell (None).
        """
        credential = parse_authorization(self.headers.get("Authorization"))
        if credential is not None:
            return credential.region
        match = REGIONAL_SSM_HOST.search((self.headers.get("Host") or "").lower())
        if match:
            return match.group("region")
        return lab.endpoint_region

    def _agent_backend(self, predicate):
        """The backend of the endpoint's region; if the region is unknown, the one for which *predicate* holds."""
        region = self._endpoint_region()
        if region is None:
            return find_backend(self.current_account, self.region, predicate)
        return managed_instance_backends[self.current_account][region]

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
        # Activations are regional: the region's SSM knows only its own, and answers InvalidActivation for any
        # other -- AWS's own nodeadm reads that code as "Please use a valid activation code, activation id and
        # region" (aws/eks-hybrid internal/ssm/daemon.go).  Only an endpoint of unknown region (see
        # _endpoint_region) is matched in whichever region holds the activation.
        backend = self._agent_backend(lambda b: activation_id in b.activations)
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
        # Signed: the credential scope names the region; an instance exists only in its activation's region,
        # and any other region's SSM answers as for an unknown one (InvalidInstanceId, aws/amazon-ssm-agent#381).
        backend = self._agent_backend(lambda b: instance_id in b.instances)
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
            region = credential.region if credential else self.region
            instance = credential and instance_for_access_key(self.current_account, region, credential.access_key)
            if not instance:
                raise InvalidInstanceId("The caller is not a registered managed instance.")
            instance_id = instance.instance_id
        backend = self._agent_backend(lambda b: instance_id in b.instances)
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
