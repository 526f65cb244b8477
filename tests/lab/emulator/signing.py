# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a request says about its caller and its operation, read from the wire.

The emulator does not verify signatures (moto does not either); it only reads the SigV4
``Authorization`` header's credential scope, ``Credential=<key>/<date>/<region>/<service>/aws4_request``.
The SSM agent signs its instance calls with the same header shape, but the "access key" is the
managed instance id and the signature is made with the instance's RSA key.
"""

import collections
import re
import urllib.parse

Credential = collections.namedtuple("Credential", "access_key date region service")

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

#: X-Amz-Target prefixes of the JSON services the lab emulates, and their signing names.
TARGET_PREFIXES = {
    "AmazonSSM": "ssm",
    "AmazonEC2ContainerServiceV20141113": "ecs",
}


def parse_authorization(value):
    """The credential scope of a SigV4 ``Authorization`` header value, or None."""
    match = _CREDENTIAL.search(value or "")
    if not match:
        return None
    return Credential(*match.groups())


def identify(headers, body, query_string=""):
    """``(service, operation, region)`` of an AWS request; any part may be None.

    *headers* is a case-insensitive mapping, *body* the raw request body (bytes).  JSON services
    name the operation in ``X-Amz-Target``; query services (IAM, STS) in the ``Action`` field of the
    form body or the query string.
    """
    credential = parse_authorization(headers.get("Authorization"))
    service = credential.service if credential else None
    region = credential.region if credential else None
    target = headers.get("X-Amz-Target")
    if target and "." in target:
        prefix, operation = target.rsplit(".", 1)
        return service or TARGET_PREFIXES.get(prefix, prefix.lower()), operation, region
    fields = urllib.parse.parse_qs(query_string or "")
    if body and "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
        fields.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
    return service, fields.get("Action", [None])[0], region
