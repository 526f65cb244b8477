# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's control plane: call log, fault injection and the ``/_lab/`` HTTP endpoints.

Endpoints (JSON in, JSON out; errors are ``{"error": message}`` with status 400/404):

=========================================  =====================================================
``GET /_lab/calls``                        every AWS request so far (``?service=&operation=`` narrow it):
                                           ``{service, operation, region, time, status, throttled,
                                           access_key, user_agent, seconds}`` (access_key: SigV4's or None;
                                           seconds: the emulator's own time on it)
``DELETE /_lab/calls``                     forget them
``GET|POST|DELETE /_lab/faults``           list / set ``{operation, throttle_rate, latency_ms, error,
                                           error_message, status, count}`` / clear (all, or
                                           ``?operation=ssm:DescribeActivations``)
``POST /_lab/seed``                        bulk-create managed (and container) instances
``POST /_lab/reset``                       moto reset + extension state, calls, faults, settings
``GET|POST /_lab/settings``                clock and thresholds: ``{advance_seconds,
                                           connection_lost_after_seconds, latest_ssm_agent_version,
                                           endpoint_region}`` (``""`` unsets endpoint_region)
``POST /_lab/ssm/ping``                    ``{instance_ids, seconds_ago}``: set last pings
``POST /_lab/ecs/container-instances``     ``{cluster, container_instances, running_tasks_count,
                                           pending_tasks_count, agent_connected, runtime_health}``
=========================================  =====================================================

Account and region default to moto's default account and ``us-east-1``; every body may name
``account_id`` and ``region``.
"""

import datetime
import fractions
import html
import json
import math
import threading
import time
import urllib.parse

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.base_backend import BackendDict
from moto.core.base_backend import BaseBackend
from moto.core.base_backend import backend_lock
from moto.core.exceptions import ServiceException
from moto.core.model_instances import reset_model_data
from werkzeug.exceptions import HTTPException

from .ecs.models import container_instance_backends
from .seed import seed
from .settings import lab
from .ssm.models import managed_instance_backends

DEFAULT_REGION = "us-east-1"
#: Protocol-correct throttling errors: JSON services answer ThrottlingException, query services Throttling.
THROTTLING_JSON = {"__type": "ThrottlingException", "message": "Rate exceeded"}
THROTTLING_XML = (
    "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
    "<RequestId>%s</RequestId></ErrorResponse>"
)


class CallLog:
    """Every AWS request the emulator answered, in the order answered; ``time`` is when it arrived."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls = []

    def record(self, call):
        with self._lock:
            self._calls.append(call)

    def list(self):
        with self._lock:
            return list(self._calls)

    def clear(self):
        with self._lock:
            self._calls = []


class Fault:
    """Throttle a fraction of an operation's calls, evenly spread, and/or delay every call; or answer every call
    with an AWS error (``error``: its code, such as AccessDeniedException, in the protocol's real shape).

    The spread is deterministic (call *n* is throttled when ``ceil((n + 1) * rate)`` grows), so a
    test knows which calls fail: rate 0.5 throttles the 1st, 3rd, 5th ... call, rate 1 every call.
    ``count`` ends the fault after that many throttled or failed calls (a transient outage); None: never.
    """

    def __init__(self, throttle_rate=0.0, latency_ms=0, error=None, error_message=None, status=400, count=None):
        if not 0 <= throttle_rate <= 1:
            raise ValueError("throttle_rate must be between 0 and 1")
        if latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if error is not None and not (isinstance(error, str) and error.isalnum()):
            raise ValueError("error must be an AWS error code such as AccessDeniedException")
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        self.throttle_rate = fractions.Fraction(throttle_rate).limit_denominator(10000)
        self.latency_ms = latency_ms
        self.error = error
        self.error_message = error_message or "injected by the lab"
        self.status = status
        self.count = count
        self.calls = 0
        self.throttled = 0
        self.failed = 0

    def spent(self):
        return self.count is not None and self.throttled + self.failed >= self.count

    def next_call_throttled(self):
        number = self.calls
        self.calls += 1
        if self.spent():
            return False
        throttled = math.ceil((number + 1) * self.throttle_rate) > math.ceil(number * self.throttle_rate)
        self.throttled += int(throttled)
        return throttled

    def next_call_error(self):
        """The error to answer this call with, as ``(code, message, status)``, or None."""
        if self.error is None or self.spent():
            return None
        self.failed += 1
        return self.error, self.error_message, self.status

    def describe(self):
        described = {
            "throttle_rate": float(self.throttle_rate),
            "latency_ms": self.latency_ms,
            "calls": self.calls,
            "throttled": self.throttled,
        }
        if self.error is not None or self.count is not None:
            described.update(error=self.error, status=self.status, count=self.count, failed=self.failed)
        return described


class FaultInjector:
    """Faults by operation: ``service:Operation``, ``service:*`` or ``*`` (most specific wins)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = {}

    def set(self, operation, throttle_rate=0.0, latency_ms=0, **error):
        if operation != "*" and ":" not in operation:
            raise ValueError("operation must look like 'ssm:DescribeInstanceInformation', 'ssm:*' or '*'")
        with self._lock:
            self._faults[operation] = Fault(throttle_rate, latency_ms, **error)

    def clear(self, operation=None):
        with self._lock:
            if operation is None:
                self._faults = {}
            else:
                self._faults.pop(operation, None)

    def describe(self):
        with self._lock:
            return {operation: fault.describe() for operation, fault in self._faults.items()}

    def decide(self, service, operation):
        """``(throttled, latency_seconds)`` for one incoming call."""
        throttled, latency, _error = self.decide_all(service, operation)
        return throttled, latency

    def decide_all(self, service, operation):
        """``(throttled, latency_seconds, error)`` for one incoming call; error is ``(code, message, status)``."""
        with self._lock:
            for key in ("%s:%s" % (service, operation), "%s:*" % service, "*"):
                fault = self._faults.get(key)
                if fault is not None:
                    error = fault.next_call_error()
                    if error is not None:
                        fault.calls += 1
                        return False, fault.latency_ms / 1000.0, error
                    return fault.next_call_throttled(), fault.latency_ms / 1000.0, None
        return False, 0.0, None


class ControlError(Exception):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


class LabControl:
    """The ``/_lab/`` endpoints, as a tiny WSGI application."""

    def __init__(self, calls, faults):
        self.calls = calls
        self.faults = faults
        self.routes = {
            ("GET", "/_lab/calls"): self.get_calls,
            ("DELETE", "/_lab/calls"): self.delete_calls,
            ("GET", "/_lab/faults"): self.get_faults,
            ("POST", "/_lab/faults"): self.post_faults,
            ("DELETE", "/_lab/faults"): self.delete_faults,
            ("POST", "/_lab/seed"): self.post_seed,
            ("POST", "/_lab/reset"): self.post_reset,
            ("GET", "/_lab/settings"): self.get_settings,
            ("POST", "/_lab/settings"): self.post_settings,
            ("POST", "/_lab/ssm/ping"): self.post_ssm_ping,
            ("POST", "/_lab/ecs/container-instances"): self.post_container_instances,
        }

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/")
        handler = self.routes.get((environ.get("REQUEST_METHOD", "GET"), path))
        try:
            if handler is None:
                raise ControlError("no lab endpoint %s %s" % (environ.get("REQUEST_METHOD"), path), 404)
            query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
            status, payload = 200, handler(self._body(environ), query)
        except ControlError as error:
            status, payload = error.status, {"error": str(error)}
        except (ValueError, TypeError, KeyError) as error:
            status, payload = 400, {"error": "%s: %s" % (type(error).__name__, error)}
        except ServiceException as error:
            status, payload = 400, {"error": "%s: %s" % (error.code, error.message)}
        except HTTPException as error:  # moto's older RESTError family (IAM, STS)
            status, payload = 400, {"error": "%s: %s" % (type(error).__name__, error.description)}
        body = json.dumps(payload, default=str).encode("utf-8")
        start_response(
            "%d %s" % (status, {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]),
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    @staticmethod
    def _body(environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            return {}
        body = json.loads(raw)
        if not isinstance(body, dict):
            raise ControlError("the request body must be a JSON object")
        return body

    @staticmethod
    def _where(body):
        return body.pop("account_id", DEFAULT_ACCOUNT_ID), body.pop("region", DEFAULT_REGION)

    def get_calls(self, _body, query):
        calls = self.calls.list()
        for field in ("service", "operation"):
            if field in query:
                calls = [call for call in calls if call[field] == query[field]]
        return {"calls": calls}

    def delete_calls(self, _body, _query):
        self.calls.clear()
        return {}

    def get_faults(self, _body, _query):
        return {"faults": self.faults.describe()}

    def post_faults(self, body, _query):
        self.faults.set(
            body["operation"],
            float(body.get("throttle_rate", 0.0)),
            float(body.get("latency_ms", 0)),
            error=body.get("error"),
            error_message=body.get("error_message"),
            status=int(body.get("status", 400)),
            count=None if body.get("count") is None else int(body["count"]),
        )
        return {"faults": self.faults.describe()}

    def delete_faults(self, body, query):
        self.faults.clear(body.get("operation") or query.get("operation"))
        return {"faults": self.faults.describe()}

    def post_seed(self, body, _query):
        account_id, region = self._where(body)
        return seed(account_id, region, **body)

    def post_reset(self, _body, _query):
        reset(self.calls, self.faults)
        return {}

    def get_settings(self, _body, _query):
        return lab.describe()

    def post_settings(self, body, _query):
        if "advance_seconds" in body:
            lab.advance(float(body.pop("advance_seconds")))
        lab.update(**body)
        return lab.describe()

    def post_ssm_ping(self, body, _query):
        account_id, region = self._where(body)
        backend = managed_instance_backends[account_id][region]
        at = lab.now() - datetime.timedelta(seconds=float(body.get("seconds_ago", 0)))
        for instance_id in body["instance_ids"]:
            backend.get_instance(instance_id).last_ping_date_time = at
        return {"instances": {i: backend.get_instance(i).ping_status for i in body["instance_ids"]}}

    def post_container_instances(self, body, _query):
        account_id, region = self._where(body)
        changed = container_instance_backends[account_id][region].set_state(
            body.get("cluster", "default"),
            body["container_instances"],
            running_tasks_count=body.get("running_tasks_count"),
            pending_tasks_count=body.get("pending_tasks_count"),
            agent_connected=body.get("agent_connected"),
            runtime_health=body.get("runtime_health"),
        )
        return {
            "container_instances": [
                {
                    "container_instance_arn": instance.container_instance_arn,
                    "ec2_instance_id": instance.ec2_instance_id,
                    "running_tasks_count": instance.running_tasks_count,
                    "pending_tasks_count": instance.pending_tasks_count,
                    "agent_connected": instance.agent_connected,
                    "health_status": (getattr(instance, "health_status", None) or {}).get("overallStatus"),
                }
                for instance in changed
            ]
        }


def reset_backends():
    """What ``/moto-api/reset`` does, minus its waste; the extension's backends are BackendDicts too.

    moto re-initialises every backend and then drops them all.  Re-initialising IAM with AWS
    managed policies costs ~0.15 s for each of six partitions, on every reset; here backends are
    only dropped (and re-created lazily, as moto does), except those whose own reset() releases
    resources (S3's temporary files, Batch's threads).
    """
    with backend_lock:
        for backend_dict in BackendDict._instances:
            for account_backends in backend_dict.values():
                for backend in account_backends.values():
                    if type(backend).reset is not BaseBackend.reset:
                        backend.reset()
            backend_dict.clear()
        BackendDict._instances.clear()
    reset_model_data()


def reset(calls, faults):
    """Everything back to a fresh emulator: moto's backends, the extension's, and the lab's."""
    reset_backends()
    lab.reset()
    faults.clear()
    calls.clear()


def error_response(protocol_json, code, message, status):
    """``(status, headers, body)`` of any AWS error in the request's protocol: the JSON protocol's ``__type`` and
    ``message`` (SSM, ECS), the query protocol's ``ErrorResponse`` (IAM, STS), as botocore's parsers read them."""
    reason = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}
    line = "%d %s" % (status, reason.get(status, "Error"))
    if protocol_json:
        return line, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}).encode()
    kind = "Sender" if status < 500 else "Receiver"
    body = "<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%x</RequestId>"
    body += "</ErrorResponse>"
    return line, "text/xml", (body % (kind, code, html.escape(message), int(time.time() * 1e6))).encode()


def throttling_response(protocol_json):
    """``(status, headers, body)`` of a throttling error in the request's protocol."""
    if protocol_json:
        return "400 Bad Request", "application/x-amz-json-1.1", json.dumps(THROTTLING_JSON).encode()
    request_id = "%x" % int(time.time() * 1e6)
    return "400 Bad Request", "text/xml", (THROTTLING_XML % request_id).encode()
