# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A wire-level stand-in for one host's SSM agent and ECS agent, for tests without hosts.

It sends what the real agents send (aws/amazon-ssm-agent, aws/amazon-ecs-agent):

* ``RegisterManagedInstance`` anonymously (``amazon-ssm-agent -register``), with a fresh public key and
  the machine's fingerprint (the real agent keeps one fingerprint per machine in its vault), to the
  region's endpoint ``ssm.<region>.amazonaws.com`` -- the ``Host`` the agent names when no ``Ssm.Endpoint``
  overrides it (``ssm_host`` sets another, e.g. a region-less lab name);
* ``RequestManagedInstanceRoleToken`` signed with the instance id as access key -- the real agent
  signs with its RSA private key (ssm/rsaauth); the emulator reads only the credential scope, so
  SigV4 with a dummy secret is the same on the wire for it;
* ``UpdateInstanceInformation`` (the heartbeat) with the role credentials;
* ECS ``RegisterContainerInstance`` with the role credentials and ``ecs.capability.external``.
"""

import json
import uuid

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

SSM_TARGET = "AmazonSSM.%s"
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


class AgentCallError(Exception):
    """An error response to an agent call: ``code``, ``message``, HTTP ``status``."""

    def __init__(self, code, message, status):
        super().__init__("%s: %s (HTTP %d)" % (code, message, status))
        self.code = code
        self.message = message
        self.status = status


class FakeAgent:
    """One host: its managed instance id and role credentials once registered."""

    def __init__(self, endpoint, region="us-east-1", public_key=None, fingerprint=None, ssm_host=None):
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.public_key = public_key
        #: One per machine, as the real agent keeps it (a UUID in Vault/Store/InstanceFingerprint).
        self.fingerprint = fingerprint or str(uuid.uuid4())
        self.ssm_host = ssm_host or "ssm.%s.amazonaws.com" % region
        self.instance_id = None
        self.credentials = None
        self._http = URLLib3Session()

    def call(self, operation, body, credentials=None):
        """POST one SSM JSON call; unsigned when *credentials* is None.  Returns the parsed body."""
        request = AWSRequest(
            method="POST",
            url=self.endpoint + "/",
            data=json.dumps(body).encode("utf-8"),
            headers={"X-Amz-Target": SSM_TARGET % operation, "Content-Type": JSON_CONTENT_TYPE, "Host": self.ssm_host},
        )
        if credentials is not None:
            SigV4Auth(credentials, "ssm", self.region).add_auth(request)
        response = self._http.send(request.prepare())
        payload = json.loads(response.content or b"{}")
        if response.status_code != 200:
            code = payload.get("__type", "Unknown").split("#")[-1]
            raise AgentCallError(code, payload.get("message") or payload.get("Message", ""), response.status_code)
        return payload

    def register(self, activation_id, activation_code):
        """``amazon-ssm-agent -register -id ... -code ...``: returns the new ``mi-`` id."""
        result = self.call(
            "RegisterManagedInstance",
            {
                "ActivationCode": activation_code,
                "ActivationId": activation_id,
                # The real agent generates a new key pair for every registration (core/agent_parser.go).
                "PublicKey": self.public_key or "lab-public-key-%s" % uuid.uuid4().hex,
                "PublicKeyType": "Rsa",
                "Fingerprint": self.fingerprint,
            },
        )
        self.instance_id = result["InstanceId"]
        return self.instance_id

    def refresh_credentials(self):
        """RequestManagedInstanceRoleToken; keeps and returns the raw response."""
        result = self.call(
            "RequestManagedInstanceRoleToken",
            {"Fingerprint": self.fingerprint},
            credentials=Credentials(self.instance_id, "rsa-signed-by-the-real-agent"),
        )
        self.credentials = Credentials(result["AccessKeyId"], result["SecretAccessKey"], result["SessionToken"])
        return result

    def ping(self, send_instance_id=True, **reported):
        """UpdateInstanceInformation with the role credentials (recent agents omit InstanceId)."""
        body = {
            "AgentName": "amazon-ssm-agent",
            "AgentVersion": "3.3.1957.0",
            "AgentStatus": "Active",
            "PlatformType": "Linux",
            "PlatformName": "Ubuntu",
            "PlatformVersion": "22.04",
            "IPAddress": "192.0.2.10",
            "ComputerName": "lab-host",
        }
        body.update(reported)
        if send_instance_id:
            body["InstanceId"] = self.instance_id
        return self.call("UpdateInstanceInformation", body, credentials=self.credentials)

    def client(self, service, **kwargs):
        """A boto3 client with the instance's role credentials (what the ECS agent uses)."""
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            aws_session_token=self.credentials.token,
            **kwargs,
        )

    def register_container_instance(self, cluster, attributes=None, tags=None, version_info=None, arn=None):
        """The ECS agent with ``ECS_EXTERNAL=true`` joining *cluster*: returns the containerInstance."""
        request = {
            "cluster": cluster,
            "attributes": [{"name": "ecs.capability.external"}, {"name": "ecs.os-type", "value": "linux"}]
            + list(attributes or []),
            "versionInfo": version_info
            or {"agentVersion": "1.89.0", "agentHash": "lab", "dockerVersion": "DockerVersion: 25.0.5"},
        }
        if tags:
            request["tags"] = tags
        if arn:
            request["containerInstanceArn"] = arn
        return self.client("ecs").register_container_instance(**request)["containerInstance"]
