#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) 2026 ecs_anywhere.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: verified_download
version_added: 0.2.0
short_description: Download a file on the host and keep it only if its signature or checksum verifies
description:
  - Downloads O(url) afresh on every run into a temporary file next to O(dest), verifies it, and only then moves it
    to O(dest). A file that fails verification is deleted; nothing stale is ever reused.
  - Signatures are checked with C(gpgv) (part of every Debian and Ubuntu system) against O(keyring), and accepted
    only when made by a key whose fingerprint is in O(fingerprints) (the signing subkey's or its primary key's).
  - O(sha256) pins the file's digest, for files the vendor publishes no signature for.
  - The proxy is an option, not environment, so its credentials can be kept out of logs (C(no_log)); Ansible prints a
    task's C(environment) in clear at C(-vvv).
author:
  - ecs_anywhere.fleet maintainers (@ecs-anywhere)
options:
  url:
    description: What to download (C(http://) or C(https://)).
    type: str
    required: true
  dest:
    description: Absolute path of the verified file on the host. Its directory must exist.
    type: path
    required: true
  signature_url:
    description: URL of the detached OpenPGP signature (binary C(.sig) or armoured C(.asc)).
    type: str
  keyring:
    description: Path on the host of the public key(s) to verify with, ASCII-armoured or binary. Required with
      O(signature_url).
    type: path
  fingerprints:
    description: Fingerprints (40 hex digits; spaces ignored) of the keys allowed to sign. Required with
      O(signature_url).
    type: list
    elements: str
    default: []
  sha256:
    description: Expected SHA-256 digest of the file (64 hex digits).
    type: str
  allow_unverified:
    description: Accept the file with neither O(signature_url) nor O(sha256). Off by default; the module refuses
      otherwise.
    type: bool
    default: false
  proxy_url:
    description:
      - HTTP proxy for the downloads (C(http://[user:password@]host:port)); empty for none.
      - Never logged. Proxy environment variables of the module's own process are ignored.
    type: str
    default: ""
  mode:
    description: Permissions of O(dest).
    type: str
    default: "0600"
  timeout:
    description: Timeout of each request, in seconds.
    type: int
    default: 60
extends_documentation_fragment:
  - ecs_anywhere.fleet.attributes.host
attributes:
  check_mode:
    support: full
    details:
      - Downloads nothing and reports a change when O(dest) is missing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The file is downloaded and verified on every run; C(changed) is true only when O(dest) had other contents.
notes:
  - Needs C(gpgv) on the host when O(signature_url) is set.
"""

EXAMPLES = r"""
- name: Download the SSM agent package, verified against AWS's signing key
  ecs_anywhere.fleet.verified_download:
    url: https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_amd64/amazon-ssm-agent.deb
    signature_url: https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_amd64/amazon-ssm-agent.deb.sig
    keyring: /var/cache/ecs-anywhere/amazon-ssm-agent.gpg
    fingerprints: [1C5B395CBE5E74E2F1CA21592784DBF388D19D46]
    dest: /var/cache/ecs-anywhere/amazon-ssm-agent.deb
    proxy_url: "{{ site_proxy_url }}"
  become: true

- name: A file with no published signature, pinned by digest
  ecs_anywhere.fleet.verified_download:
    url: https://example.com/tool.tar.gz
    sha256: 3b7b0c3c0e7d0f3a8e4b6b5c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6
    dest: /var/cache/ecs-anywhere/tool.tar.gz
  become: true
"""

RETURN = r"""
dest:
  description: Path of the verified file.
  returned: success
  type: str
  sample: /var/cache/ecs-anywhere/amazon-ssm-agent.deb
sha256:
  description: SHA-256 digest of the verified file (not returned in check mode).
  returned: success and not check mode
  type: str
  sample: 3b7b0c3c0e7d0f3a8e4b6b5c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6
signers:
  description: Pinned fingerprints that made the good signature (empty without O(signature_url)).
  returned: success and not check mode
  type: list
  elements: str
  sample: [1C5B395CBE5E74E2F1CA21592784DBF388D19D46]
"""

import hashlib
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import open_url

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _gpg

SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
PROXY = re.compile(r"^https?://([^@/\s]+@)?[^@/\s:]+(:\d{1,5})?/?$")


def validate(module):
    params = module.params
    errors = []
    for name in ("url", "signature_url"):
        value = params[name]
        if value is not None and not re.match(r"^https?://[^\s]+$", value):
            errors.append("%s: %r is not an http(s) URL" % (name, value))
    if params["signature_url"]:
        if not params["keyring"]:
            errors.append("keyring: required with signature_url")
        if not params["fingerprints"]:
            errors.append("fingerprints: at least one is required with signature_url")
    for value in params["fingerprints"]:
        if not _gpg.FINGERPRINT.match(_gpg.normalize_fingerprint(value)):
            errors.append("fingerprints: %r is not a 40-hex-digit fingerprint" % value)
    if params["sha256"] and not SHA256.match(params["sha256"]):
        errors.append("sha256: %r is not 64 hex digits" % params["sha256"])
    if not (params["signature_url"] or params["sha256"] or params["allow_unverified"]):
        errors.append("signature_url or sha256: one is required to verify %s (or set allow_unverified)" % params["url"])
    if params["proxy_url"] and not PROXY.match(params["proxy_url"]):
        errors.append("proxy_url: not of the form http://[user:password@]host:port")
    if not re.match(r"^0?[0-7]{3,4}$", params["mode"] or ""):
        errors.append("mode: %r is not an octal mode such as 0600" % params["mode"])
    if not os.path.isabs(params["dest"]) or not os.path.isdir(os.path.dirname(params["dest"])):
        errors.append("dest: %s must be an absolute path in an existing directory" % params["dest"])
    if errors:
        module.fail_json(msg="Invalid input: " + "; ".join(errors))


def fetch(module, url, path):
    """Stream ``url`` to ``path`` through the configured proxy; return its SHA-256."""
    digest = hashlib.sha256()
    try:
        response = open_url(
            url,
            timeout=module.params["timeout"],
            use_proxy=bool(module.params["proxy_url"]),
            http_agent="ecs_anywhere.fleet",
        )
        with open(path, "wb") as handle:
            for block in iter(lambda: response.read(1 << 20), b""):
                digest.update(block)
                handle.write(block)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # urllib's messages can carry the proxy URL; never show it.
        message = to_native(exc)
        if module.params["proxy_url"]:
            message = message.replace(module.params["proxy_url"], "<proxy>")
        module.fail_json(msg="Downloading %s failed: %s. Nothing was changed." % (url, message), url=url)
    return digest.hexdigest()


def file_sha256(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            dest=dict(type="path", required=True),
            signature_url=dict(type="str"),
            keyring=dict(type="path", no_log=False),
            fingerprints=dict(type="list", elements="str", default=[]),
            sha256=dict(type="str"),
            allow_unverified=dict(type="bool", default=False),
            proxy_url=dict(type="str", default="", no_log=True),
            mode=dict(type="str", default="0600"),
            timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    validate(module)
    params = module.params
    dest = params["dest"]
    if module.check_mode:
        module.exit_json(changed=not os.path.exists(dest), dest=dest)

    # Only the proxy given here: none of the process's own proxy variables.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    if params["proxy_url"]:
        os.environ["http_proxy"] = os.environ["https_proxy"] = params["proxy_url"]

    work = tempfile.mkdtemp(prefix=".verified-download-", dir=os.path.dirname(dest))
    try:
        data = os.path.join(work, "data")
        digest = fetch(module, params["url"], data)
        if params["sha256"] and digest != params["sha256"].lower():
            module.fail_json(
                msg="%s has SHA-256 %s, not the pinned %s. It was deleted; nothing was installed."
                % (params["url"], digest, params["sha256"].lower()),
                url=params["url"],
            )
        accepted = []
        if params["signature_url"]:
            signature = os.path.join(work, "signature")
            fetch(module, params["signature_url"], signature)
            keyring = os.path.join(work, "keyring.gpg")
            try:
                with open(params["keyring"], "rb") as handle:
                    keys = _gpg.dearmor(handle.read())
            except (OSError, ValueError) as exc:
                module.fail_json(msg="keyring: cannot read %s: %s" % (params["keyring"], to_native(exc)))
            with open(keyring, "wb") as handle:
                handle.write(keys)
            if not module.get_bin_path("gpgv"):
                module.fail_json(msg="gpgv is not installed on the host (Debian/Ubuntu package gpgv); cannot verify.")
            try:
                accepted = _gpg.check(module.run_command, keyring, signature, data, params["fingerprints"])
            except _gpg.SignatureError as exc:
                module.fail_json(
                    msg="%s: %s. The download was deleted and nothing was installed. If the file was altered (on the "
                    "mirror or on its way), put the vendor's file back there and re-run; if the vendor rotated its key, "
                    "check the new fingerprint and add it to the pinned list." % (params["url"], exc),
                    url=params["url"],
                )
        mode = int(params["mode"], 8)
        changed = file_sha256(dest) != digest or (os.stat(dest).st_mode & 0o7777) != mode
        os.chmod(data, mode)
        os.replace(data, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    module.exit_json(changed=changed, dest=dest, sha256=digest, signers=accepted)


if __name__ == "__main__":
    main()
