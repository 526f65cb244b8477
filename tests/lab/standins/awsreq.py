# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LAB STAND-IN support code shared by the lab's fake ``amazon-ssm-agent`` and ``amazon-ecs-init``.

Runs on the lab hosts, which have nothing but Python 3's standard library: AWS JSON-protocol calls
signed with Signature Version 4 by hand, HTTP proxies chosen from the environment the way Go's
``http.ProxyFromEnvironment`` (which both real agents use) chooses them, and a small file logger in
the agents' ``YYYY-MM-DD hh:mm:ss LEVEL message`` format.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import sys
import urllib.parse


class AWSError(Exception):
    """An error answer from the service (``code`` is the AWS error code) or a transport failure."""

    def __init__(self, code, message, status=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def _sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(method, url, body, region, service, credentials, headers, now=None):
    """Return ``headers`` plus ``X-Amz-Date``, ``Authorization`` (and the session token) for SigV4.

    ``credentials`` is a dict with ``access_key``, ``secret_key`` and optionally ``token``.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = now.strftime("%Y%m%d")
    parts = urllib.parse.urlsplit(url)
    signed = dict((k.lower(), " ".join(str(v).split())) for k, v in headers.items())
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    if credentials.get("token"):
        signed["x-amz-security-token"] = credentials["token"]
    payload_hash = hashlib.sha256(body).hexdigest()
    signed["x-amz-content-sha256"] = payload_hash
    names = sorted(signed)
    query = "&".join(
        "%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join("%s:%s\n" % (n, signed[n]) for n in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _sign(("AWS4" + credentials["secret_key"]).encode("utf-8"), date)
    for part in (region, service, "aws4_request"):
        key = _sign(key, part)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    result = dict(headers)
    result["X-Amz-Date"] = amz_date
    result["X-Amz-Content-Sha256"] = payload_hash
    if credentials.get("token"):
        result["X-Amz-Security-Token"] = credentials["token"]
    result["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        credentials["access_key"],
        scope,
        ";".join(names),
        signature,
    )
    return result


def _env(environ, name):
    """Go's order: the upper-case name first, then the lower-case one."""
    return environ.get(name.upper()) or environ.get(name.lower()) or ""


def _no_proxy_match(host, no_proxy):
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.split(":", 1)[0] if entry.count(":") == 1 else entry
        if host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
            return True
    return False


def proxy_for(url, environ=None):
    """The proxy URL to use for ``url`` (or None), as Go's ``http.ProxyFromEnvironment`` decides."""
    environ = os.environ if environ is None else environ
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    if _no_proxy_match(host, _env(environ, "no_proxy")):
        return None
    proxy = _env(environ, "https_proxy" if parts.scheme == "https" else "http_proxy")
    if not proxy:
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    return proxy


def http_request(method, url, body=b"", headers=None, timeout=30, environ=None):
    """One HTTP(S) request, through the proxy the environment names. Returns (status, headers, body)."""
    headers = dict(headers or {})
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    proxy = proxy_for(url, environ)
    if proxy:
        proxy_parts = urllib.parse.urlsplit(proxy)
        proxy_host, proxy_port = proxy_parts.hostname, proxy_parts.port or 80
        # Go's net/http Transport (connectMethod.proxyAuth) sends the proxy URL's user:password as
        # Basic Proxy-Authorization, on CONNECT and on plain requests alike.
        proxy_auth = {}
        if proxy_parts.username is not None:
            userinfo = "%s:%s" % (
                urllib.parse.unquote(proxy_parts.username),
                urllib.parse.unquote(proxy_parts.password or ""),
            )
            proxy_auth["Proxy-Authorization"] = "Basic " + base64.b64encode(userinfo.encode()).decode()
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=timeout)
            conn.set_tunnel(parts.hostname, port, headers=proxy_auth)
        else:
            conn = http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
            target = url
            headers.update(proxy_auth)
    elif parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    headers.setdefault("Host", parts.netloc)
    try:
        conn.request(method, target, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def json_call(endpoint, target, payload, region, service, credentials=None, timeout=30, environ=None):
    """Call an AWS JSON-1.1 protocol operation (``X-Amz-Target``); unsigned when no credentials."""
    body = json.dumps(payload).encode("utf-8")
    url = endpoint.rstrip("/") + "/"
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    if credentials:
        headers = sigv4_headers("POST", url, body, region, service, credentials, headers)
    try:
        status, _headers, data = http_request("POST", url, body, headers, timeout=timeout, environ=environ)
    except (OSError, http.client.HTTPException) as exc:
        raise AWSError("RequestError", "send request failed: %s (%s)" % (exc, url)) from exc
    try:
        answer = json.loads(data.decode("utf-8") or "{}")
    except ValueError:
        answer = {"message": data.decode("utf-8", "replace")[:300]}
    if status >= 400 or not isinstance(answer, dict):
        answer = answer if isinstance(answer, dict) else {}
        code = str(answer.get("__type") or answer.get("code") or "HTTP%d" % status).rsplit("#", 1)[-1]
        raise AWSError(code, answer.get("message") or answer.get("Message") or "status code %d" % status, status)
    return answer


def endpoint_url(value):
    """An endpoint given as host or URL, as the agents accept it, as a URL (https when no scheme)."""
    value = (value or "").strip()
    if value and "://" not in value:
        value = "https://" + value
    return value.rstrip("/")


class Logger:
    """Append ``YYYY-MM-DD hh:mm:ss LEVEL message`` lines to a file and to stdout/stderr."""

    def __init__(self, path, echo=True):
        self.path = path
        self.echo = echo

    def log(self, level, message, *args):
        text = message % args if args else message
        line = "%s %s %s\n" % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"), level, text)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError:
            pass
        if self.echo:
            stream = sys.stderr if level in ("ERROR", "WARN") else sys.stdout
            stream.write(line)
            stream.flush()

    def info(self, message, *args):
        self.log("INFO", message, *args)

    def warn(self, message, *args):
        self.log("WARN", message, *args)

    def error(self, message, *args):
        self.log("ERROR", message, *args)


def write_private(path, text, mode=0o600):
    """Write a file atomically with ``mode`` (the agents keep their secrets 0600)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
