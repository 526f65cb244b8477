# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_gpg: gpgv against pinned fingerprints, with real keys and signatures made here; and the keys the
roles ship are AWS's, with the fingerprints their defaults pin (read from the files with gpg)."""

import os
import subprocess

import pytest
import yaml

from ansible_collections.ecs_anywhere.fleet.plugins.module_utils import _gpg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def primary_fingerprints(path):
    proc = subprocess.run(["gpg", "--show-keys", "--with-colons", path], capture_output=True, text=True, check=True)
    fingerprints, after_pub = [], False
    for line in proc.stdout.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            after_pub = True
        elif fields[0] == "fpr" and after_pub:
            fingerprints.append(fields[9])
            after_pub = False
    return fingerprints


@pytest.mark.parametrize(
    "role, key_file, option",
    [
        ("ssm_agent", "amazon-ssm-agent.asc", "ssm_agent_gpg_fingerprints"),
        ("ecs_agent", "amazon-ecs-agent.asc", "ecs_agent_gpg_fingerprints"),
    ],
)
def test_shipped_keys_are_the_default_pins(role, key_file, option):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        default = yaml.safe_load(handle)[option]
    pinned = default.split("default(")[1].split(")")[0]
    shipped = primary_fingerprints(os.path.join(ROOT, "roles", role, "files", key_file))
    assert yaml.safe_load(pinned) == shipped


def test_each_package_pins_only_its_own_vendor_key():
    ssm = primary_fingerprints(os.path.join(ROOT, "roles", "ssm_agent", "files", "amazon-ssm-agent.asc"))
    ecs = primary_fingerprints(os.path.join(ROOT, "roles", "ecs_agent", "files", "amazon-ecs-agent.asc"))
    assert ssm == ["1C5B395CBE5E74E2F1CA21592784DBF388D19D46"]
    assert ecs == ["F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"]


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    home = str(tmp_path_factory.mktemp("gnupg"))
    os.chmod(home, 0o700)
    gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    keys = {}
    for name in ("a", "b"):
        subprocess.run(
            gpg + ["--quick-generate-key", "%s <%s@test>" % (name, name), "ed25519", "sign", "1d"], check=True
        )
        out = subprocess.run(
            gpg + ["--with-colons", "--list-keys", "=%s <%s@test>" % (name, name)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        keys[name] = [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]
    work = tmp_path_factory.mktemp("files")
    data = work / "package.deb"
    data.write_bytes(b"package contents")
    subprocess.run(
        gpg
        + ["--local-user", keys["a"], "--armor", "--output", str(work / "package.deb.asc"), "--detach-sign", str(data)],
        check=True,
    )
    armored = subprocess.run(
        gpg + ["--armor", "--export", keys["a"], keys["b"]], capture_output=True, check=True
    ).stdout
    keyring = work / "keyring.gpg"
    keyring.write_bytes(_gpg.dearmor(armored))
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
    return {"keys": keys, "data": str(data), "signature": str(work / "package.deb.asc"), "keyring": str(keyring)}


def test_a_pinned_signer_is_accepted(signer):
    accepted = _gpg.check(run, signer["keyring"], signer["signature"], signer["data"], [signer["keys"]["a"].lower()])
    assert accepted == [signer["keys"]["a"]]


def test_a_valid_signature_by_another_trusted_key_is_refused(signer):
    with pytest.raises(_gpg.SignatureError, match="not a pinned fingerprint"):
        _gpg.check(run, signer["keyring"], signer["signature"], signer["data"], [signer["keys"]["b"]])


def test_a_tampered_file_is_refused(signer, tmp_path):
    tampered = tmp_path / "package.deb"
    tampered.write_bytes(b"package contents, changed")
    with pytest.raises(_gpg.SignatureError, match="does not verify"):
        _gpg.check(run, signer["keyring"], signer["signature"], str(tampered), [signer["keys"]["a"]])


def test_signers_reports_subkey_and_primary():
    line = (
        "[GNUPG:] VALIDSIG EB3DF841E2C9212A2BD42232DE3CBD61ADAF8B8E 2026-06-01 1780000000 0 4 0 1 8 00 "
        "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F"
    )
    assert _gpg.signers(line) == [
        "EB3DF841E2C9212A2BD42232DE3CBD61ADAF8B8E",
        "F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F",
    ]
