# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client for the emulator's ``/_lab/`` control endpoints (standard library only)."""

import http.client
import json
import urllib.parse


class LabError(RuntimeError):
    """A control call the emulator refused."""


class LabClient:
    """Talks to the controls of an emulator listening at *url* (``http://127.0.0.1:5010``)."""

    def __init__(self, url, timeout=120):
        self._url = url
        self.timeout = timeout

    @property
    def url(self):
        return self._url

    def _request(self, method, path, body=None, query=None):
        parsed = urllib.parse.urlsplit(self.url)
        if query:
            path += "?" + urllib.parse.urlencode(query)
        payload = json.dumps(body).encode("utf-8") if body is not None else None
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=payload, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            result = json.loads(response.read() or b"{}")
        finally:
            connection.close()
        if response.status != 200:
            raise LabError("%s %s: %s" % (method, path, result.get("error", response.reason)))
        return result

    def calls(self, service=None, operation=None):
        """The AWS calls recorded so far: dicts with service, operation, time, region, status, throttled,
        access_key (the SigV4 access key, None when unsigned), user_agent and seconds (the
        emulator's own time on the call; not for throttled calls)."""
        query = {key: value for key, value in (("service", service), ("operation", operation)) if value}
        return self._request("GET", "/_lab/calls", query=query)["calls"]

    def clear_calls(self):
        self._request("DELETE", "/_lab/calls")

    def faults(self):
        return self._request("GET", "/_lab/faults")["faults"]

    def set_fault(
        self, operation, throttle_rate=0.0, latency_ms=0, error=None, error_message=None, status=400, count=None
    ):
        """Throttle *throttle_rate* of ``service:Operation``'s calls and/or delay each by *latency_ms*; or answer
        them with the AWS error *error* (a code such as AccessDeniedException); *count*: only that many times."""
        body = {"operation": operation, "throttle_rate": throttle_rate, "latency_ms": latency_ms}
        body.update({"error": error, "error_message": error_message, "status": status, "count": count})
        return self._request("POST", "/_lab/faults", body)["faults"]

    def clear_faults(self, operation=None):
        self._request("DELETE", "/_lab/faults", query={"operation": operation} if operation else None)

    def seed(self, count, region="us-east-1", **options):
        """Create *count* managed instances (in *cluster*, if given, also container instances).

        Options: iam_role, create_role, registration_limit, default_instance_name, tags, online,
        ssm_agent_version, platform_name, platform_version, cluster, attributes, ecs_agent_version,
        docker_version, container_instance_tags, account_id.
        """
        return self._request("POST", "/_lab/seed", dict(options, count=count, region=region))

    def reset(self):
        """moto reset plus all extension state, the call log, faults and settings."""
        self._request("POST", "/_lab/reset")

    def settings(self, **changes):
        """Read or change: advance_seconds, connection_lost_after_seconds, latest_ssm_agent_version,
        endpoint_region ("" unsets it)."""
        if changes:
            return self._request("POST", "/_lab/settings", changes)
        return self._request("GET", "/_lab/settings")

    def advance_clock(self, seconds):
        return self.settings(advance_seconds=seconds)

    def set_ping(self, instance_ids, seconds_ago=0, region="us-east-1"):
        """Set managed instances' last ping to *seconds_ago*; returns their PingStatus."""
        body = {"instance_ids": list(instance_ids), "seconds_ago": seconds_ago, "region": region}
        return self._request("POST", "/_lab/ssm/ping", body)["instances"]

    def set_container_instances(
        self,
        container_instances,
        cluster="default",
        running_tasks_count=None,
        pending_tasks_count=None,
        agent_connected=None,
        region="us-east-1",
        runtime_health=None,
    ):
        """Give container instances (ARN, id or mi- id) tasks, (dis)connect their agents, or have their agents
        report the CONTAINER_RUNTIME health check (OK, IMPAIRED, INSUFFICIENT_DATA, INITIALIZING)."""
        body = {
            "cluster": cluster,
            "container_instances": list(container_instances),
            "running_tasks_count": running_tasks_count,
            "pending_tasks_count": pending_tasks_count,
            "agent_connected": agent_connected,
            "runtime_health": runtime_health,
            "region": region,
        }
        return self._request("POST", "/_lab/ecs/container-instances", body)["container_instances"]
