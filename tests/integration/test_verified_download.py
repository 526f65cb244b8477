# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verified_download on this machine against a loopback mirror behind an authenticating proxy (the lab's site
proxy): a pinned signature is accepted, anything else leaves no file behind, a stale file is replaced, and the
proxy password never shows, even at -vvvv."""

import base64
import functools
import hashlib
import http.server
import os
import secrets
import subprocess
import threading

import pytest
from labctl import proxy as site_proxy

from ansible_collections.ecs_anywhere.fleet.tests.integration import support


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A signed file served on loopback, and two keys: the signer and another."""
    root = tmp_path_factory.mktemp("mirror")
    home = str(tmp_path_factory.mktemp("gnupg"))
    os.chmod(home, 0o700)
    gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    fingerprints = {}
    for name in ("vendor", "other"):
        uid = "%s <%s@test>" % (name, name)
        subprocess.run(gpg + ["--quick-generate-key", uid, "ed25519", "sign", "1d"], check=True)
        listing = subprocess.run(
            gpg + ["--with-colons", "--list-keys", "=" + uid], capture_output=True, text=True, check=True
        )
        fingerprints[name] = [l.split(":")[9] for l in listing.stdout.splitlines() if l.startswith("fpr:")][0]
    (root / "agent.deb").write_bytes(b"the real package " * 100)
    (root / "tampered.deb").write_bytes(b"the real package " * 99 + b"the evil package ")
    subprocess.run(
        gpg
        + [
            "--local-user",
            fingerprints["vendor"],
            "--output",
            str(root / "agent.deb.sig"),
            "--detach-sign",
            str(root / "agent.deb"),
        ],
        check=True,
    )
    (root / "tampered.deb.sig").write_bytes((root / "agent.deb.sig").read_bytes())
    keys = subprocess.run(
        gpg + ["--armor", "--export", fingerprints["vendor"], fingerprints["other"]], capture_output=True, check=True
    ).stdout
    (root / "keys.asc").write_bytes(keys)
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {
        "url": "http://mirror.test:%d" % server.server_port,
        "port": server.server_port,
        "root": root,
        "fingerprints": fingerprints,
    }
    server.shutdown()


@pytest.fixture(scope="module")
def proxy(mirror, tmp_path_factory):
    """The lab's site proxy, asking for a password; the mirror is reachable only through it (as mirror.test)."""
    log = tmp_path_factory.mktemp("proxy") / "proxy.log"
    credentials = "site:%s" % secrets.token_urlsafe(12)
    config = site_proxy.Config(
        {("mirror.test", mirror["port"]): ("127.0.0.1", mirror["port"])}, [], ["127.0.0.0/8"], str(log), credentials
    )
    servers = site_proxy.serve(["127.0.0.1:0"], config)
    port = servers[0].server_address[1]
    yield {"url": "http://%s@127.0.0.1:%d" % (credentials, port), "password": credentials.split(":")[1], "log": log}
    for server in servers:
        server.shutdown()
        server.server_close()


def download(aws_env, tmp_path, proxy, mirror, name="agent.deb", fingerprint="vendor", expect_rc=0, **extra):
    dest = tmp_path / "out" / "agent.deb"
    dest.parent.mkdir(exist_ok=True)
    args = {
        "url": "%s/%s" % (mirror["url"], name),
        "signature_url": "%s/%s.sig" % (mirror["url"], name),
        "keyring": str(mirror["root"] / "keys.asc"),
        "fingerprints": [mirror["fingerprints"][fingerprint]],
        "dest": str(dest),
        "proxy_url": proxy["url"],
    }
    args.update(extra)
    result = support.run_tasks(
        aws_env, tmp_path, [{"ecs_anywhere.fleet.verified_download": args}], ["-vvvv"], expect_rc=expect_rc
    )
    output = result.stdout + result.stderr
    assert (
        proxy["password"] not in output
        and base64.b64encode(b"site:" + proxy["password"].encode()).decode() not in output
    ), "the proxy password reached the output"
    return result[0], dest, output


def test_signed_by_the_pinned_key_through_the_proxy(aws_env, tmp_path, proxy, mirror):
    result, dest, _output = download(aws_env, tmp_path, proxy, mirror)
    assert not result.get("failed"), result
    assert result["changed"] and dest.read_bytes() == (mirror["root"] / "agent.deb").read_bytes()
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    assert result["signers"] == [mirror["fingerprints"]["vendor"]]
    assert result["sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert "GET http://mirror.test:%d/agent.deb -> 200" % mirror["port"] in proxy["log"].read_text()
    again, _dest, _output = download(aws_env, tmp_path, proxy, mirror)
    assert again["changed"] is False


def test_a_stale_file_is_replaced_by_the_fresh_download(aws_env, tmp_path, proxy, mirror):
    dest = tmp_path / "out" / "agent.deb"
    dest.parent.mkdir()
    dest.write_bytes(b"an old build")
    result, dest, _output = download(aws_env, tmp_path, proxy, mirror)
    assert result["changed"] and dest.read_bytes() == (mirror["root"] / "agent.deb").read_bytes()


@pytest.mark.parametrize(
    "case, message",
    [
        ({"fingerprint": "other"}, "which is not a pinned fingerprint"),
        ({"name": "tampered.deb"}, "the signature does not verify"),
        ({"signature_url": None, "sha256": "0" * 64}, "not the pinned"),
    ],
)
def test_refused_downloads_leave_nothing(aws_env, tmp_path, proxy, mirror, case, message):
    extra = {k: v for k, v in case.items() if k not in ("fingerprint", "name")}
    if "signature_url" in extra:
        extra.update(keyring=None, fingerprints=[])
    result, dest, _output = download(
        aws_env,
        tmp_path,
        proxy,
        mirror,
        name=case.get("name", "agent.deb"),
        fingerprint=case.get("fingerprint", "vendor"),
        **extra
    )
    assert result.get("failed") and message in result["msg"], result
    assert not dest.exists()
    assert os.listdir(dest.parent) == [], "a download was left behind"


def test_wrong_proxy_password_fails_without_showing_it(aws_env, tmp_path, proxy, mirror):
    wrong = dict(proxy, url=proxy["url"].replace(proxy["password"], "wrong-" + proxy["password"]))
    result, dest, output = download(aws_env, tmp_path, wrong, mirror)
    assert result.get("failed") and "407" in result["msg"], result
    assert "wrong-" + proxy["password"] not in output and not dest.exists()


@pytest.mark.parametrize(
    "args, param",
    [
        ({"signature_url": None, "keyring": None, "fingerprints": []}, "signature_url or sha256"),
        ({"fingerprints": ["ABC"]}, "fingerprints"),
        ({"sha256": "xyz"}, "sha256"),
        ({"proxy_url": "proxy:3128"}, "proxy_url"),
        ({"keyring": None}, "keyring"),
        ({"mode": "rw"}, "mode"),
    ],
)
def test_bad_input_names_the_parameter(aws_env, tmp_path, proxy, mirror, args, param):
    result, dest, _output = download(aws_env, tmp_path, proxy, mirror, **args)
    assert result.get("failed") and result["msg"].startswith("Invalid input: ") and param + ":" in result["msg"]
    assert not dest.exists()
