# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's AWS emulator: moto server with the ECS Anywhere extension and ``/_lab/`` controls.

One port serves everything.  In front of moto's own WSGI dispatcher sits :class:`EmulatorApp`,
which answers ``/_lab/`` itself, records every AWS call and applies injected faults.  moto builds
one Flask app per service; for SSM and ECS :func:`create_backend_app` swaps moto's response
classes for the extended ones (moto itself is not patched, so other moto users in the same
process are unaffected).
"""

import io
import os
import threading
import time

from moto.core.utils import convert_to_flask_response
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_server import werkzeug_app
from moto.ssm.responses import SimpleSystemManagerResponse
from werkzeug.datastructures import EnvironHeaders
from werkzeug.serving import make_server

from .client import LabClient
from .control import DEFAULT_REGION
from .control import CallLog
from .control import FaultInjector
from .control import LabControl
from .control import error_response
from .control import throttling_response
from .ecs.responses import ECSResponse
from .signing import identify
from .signing import parse_authorization
from .ssm.responses import SSMResponse

#: moto response class -> the extension's subclass that replaces it.
EXTENDED_RESPONSES = {
    "ssm": (SimpleSystemManagerResponse, SSMResponse),
    "ecs": (EC2ContainerServiceResponse, ECSResponse),
}


def create_backend_app(service):
    """moto's Flask app for *service*, dispatching to the extended responses where there are some."""
    app = werkzeug_app.create_backend_app(service)
    if service in EXTENDED_RESPONSES:
        base, extended = EXTENDED_RESPONSES[service]
        for endpoint, view in list(app.view_functions.items()):
            if getattr(view, "callback", None) == base.dispatch:
                app.view_functions[endpoint] = convert_to_flask_response(extended.dispatch)
    return app


class EmulatorDispatcher(werkzeug_app.DomainDispatcherApplication):
    """moto's dispatcher; anonymous ``AmazonSSM.*`` calls (the agent registering) go to SSM."""

    def infer_service_region_host(self, environ, path):
        if not environ.get("HTTP_AUTHORIZATION") and (environ.get("HTTP_X_AMZ_TARGET") or "").startswith("AmazonSSM."):
            return "ssm.%s.amazonaws.com" % DEFAULT_REGION
        return super().infer_service_region_host(environ, path)


class EmulatorApp:
    """WSGI application: lab controls, then call log and faults in front of moto."""

    def __init__(self):
        self.calls = CallLog()
        self.faults = FaultInjector()
        self.control = LabControl(self.calls, self.faults)
        self.aws = EmulatorDispatcher(create_backend_app)
        # Each AWS call is atomic, as in AWS: moto's check-then-insert (CreateRole, CreatePolicy ...) is not, and
        # concurrent clients (parallel plays) must see AWS's EntityAlreadyExists rather than two roles of one name.
        self.atomic = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_lab" or path.startswith("/_lab/"):
            return self.control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.aws(environ, start_response)
        return self._aws_call(environ, start_response)

    def _aws_call(self, environ, start_response):
        arrived = time.time()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
        else:  # chunked: werkzeug marks the input as terminated and de-chunks it
            body = environ["wsgi.input"].read() if environ.get("wsgi.input_terminated") else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        headers = EnvironHeaders(environ)
        service, operation, region = identify(headers, body, environ.get("QUERY_STRING", ""))
        # Who called: the SigV4 access key (the controller's own key, an agent's mi- id, the STS session key of an
        # agent's role credentials; none for the anonymous RegisterManagedInstance) and the User-Agent header.
        credential = parse_authorization(headers.get("Authorization"))
        call = {
            "service": service,
            "operation": operation,
            "time": arrived,
            "region": region,
            "throttled": False,
            "access_key": credential.access_key if credential else None,
            "user_agent": headers.get("User-Agent") or "",
        }
        throttled, latency, error = self.faults.decide_all(service, operation) if operation else (False, 0.0, None)
        if latency:
            time.sleep(latency)
        if error:
            is_json = "X-Amz-Target" in headers or "json" in (headers.get("Content-Type") or "")
            status, content_type, payload = error_response(is_json, *error)
            self.calls.record({**call, "status": error[2], "error": error[0]})
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
            return [payload]
        if throttled:
            is_json = "X-Amz-Target" in headers or "json" in (headers.get("Content-Type") or "")
            status, content_type, payload = throttling_response(is_json)
            self.calls.record({**call, "status": 400, "throttled": True})
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
            return [payload]

        served = {}

        def recording_start_response(status, response_headers, exc_info=None):
            # seconds: how long the emulator worked on the call (queueing for the lock not included)
            seconds = round(time.time() - served["from"], 6)
            self.calls.record({**call, "status": int(status.split()[0]), "seconds": seconds})
            return start_response(status, response_headers, exc_info)

        with self.atomic:
            served["from"] = time.time()
            return self.aws(environ, recording_start_response)


class EmulatorServer(LabClient):
    """The emulator on *host*:*port* (0 picks a free port), served from threads like ThreadedMotoServer.

    ``start()`` returns once the socket listens; ``url`` is then the endpoint for boto3
    (``endpoint_url``/``AWS_ENDPOINT_URL``).  The lab controls of :class:`LabClient` are methods
    of the server object.
    """

    def __init__(self, host="127.0.0.1", port=0, verbose=False):
        os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        super().__init__(None)
        self.host = host
        self.port = port
        self.verbose = verbose
        self.app = EmulatorApp()
        self._server = None
        self._thread = None

    @property
    def url(self):
        if self._server is None:
            raise RuntimeError("the emulator is not listening; call start() first")
        return "http://%s:%d" % (self.host, self.port)

    def bind(self):
        """Listen on the address (without serving yet)."""
        handler = werkzeug_app.MotoRequestHandler if self.verbose else QuietRequestHandler
        self._server = make_server(self.host, self.port, self.app, threaded=True, request_handler=handler)
        self.port = self._server.server_port
        return self

    def serve_forever(self):
        """Serve in the calling thread until interrupted (the CLI's foreground mode)."""
        if self._server is None:
            self.bind()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def start(self):
        """Serve from a background thread; returns once the socket is listening."""
        self.bind()
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class QuietRequestHandler(werkzeug_app.MotoRequestHandler):
    """moto's request handler without werkzeug's one-line-per-request log."""

    def log_request(self, code="-", size="-"):
        return None
