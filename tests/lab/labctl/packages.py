# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LAB STAND-IN agent packages, the lab's throwaway signing key and the artifact mirror tree.

The mirror copies the layout of AWS's regional S3 buckets (ecs-anywhere-install.sh):

* ``<base>/amazon-ssm-<region>/<version>/debian_amd64/amazon-ssm-agent.deb`` + ``.sig``, the newest also under
  ``latest/``
* ``<base>/amazon-ecs-agent-<region>/amazon-ecs-init-<version>.amd64.deb`` + ``.asc``, the newest also as
  ``amazon-ecs-init-latest.amd64.deb``

Two releases of each stand-in are published, an older and the newest (``latest``), so that upgrades can be tested;
:func:`publish_release` adds another one to a running lab's mirror, also a deliberately broken one.

plus what AWS does not publish and the collection's roles can use: a ``.sha256`` next to every file,
``<base>/SHA256SUMS`` and the public key under ``<base>/keys/``.
"""

import hashlib
import io
import os
import re
import shutil
import tarfile
import zipapp

from labctl.common import LAB_DIR
from labctl.common import STATE_DIR
from labctl.common import LabError
from labctl.common import run

STANDINS = os.path.join(LAB_DIR, "standins")


def _version(module):
    """The VERSION constant of a stand-in program (the package version follows it)."""
    with open(os.path.join(STANDINS, module + ".py"), encoding="utf-8") as handle:
        return re.search(r'^VERSION = "([^"]+)"', handle.read(), re.M).group(1)


SSM_VERSION = _version("ssm_agent")
ECS_VERSION = _version("ecs_init")
ECS_PACKAGE_VERSION = ECS_VERSION + "-1"
#: The older release of each stand-in on the mirror (the newest is the VERSION in the stand-in's source, ``latest``).
SSM_OLDER_VERSION = "3.3.1802.0"
ECS_OLDER_VERSION = "1.88.0"
#: Ways a published release can be broken on purpose (:func:`publish_release`): correctly signed, but its
#: maintainer script fails (dpkg leaves it half-configured) or its service exits at start (the stand-in's
#: BROKEN_RELEASE), as bad releases have been.
BROKEN_MODES = ("postinst", "service")
BROKEN_POSTINST = """\
#!/bin/sh
# LAB STAND-IN of a bad release: the maintainer script fails.
echo "postinst: LAB STAND-IN of a bad release fails to configure" >&2
exit 1
"""
# AWS signs the two packages with different keys (amazon-ssm-agent.gpg, amazon-ecs-agent.gpg in
# aws/amazon-ecs-agent scripts/); so does the lab, so a crossed key or fingerprint list fails.
KEY_UIDS = {
    "ssm": "LAB STAND-IN SSM Agent signer (throwaway, LAB ONLY) <ssm-agent-signer@lab.internal>",
    "ecs": "LAB STAND-IN Amazon ECS signer (throwaway, LAB ONLY) <ecs-security@lab.internal>",
}
# ecs-anywhere-install.sh (download-ssm-binaries-exec): the SSM binaries ECS Exec needs, a tarball under
# <S3>/amazon-ssm-<region>/<version>/linux_<arch>/ that AWS's script does not signature-check.
EXEC_BINARIES_VERSION = "3.3.4108.0"
EXEC_BINARIES = ("amazon-ssm-agent", "ssm-agent-worker", "ssm-session-worker")
EXEC_BINARY = """\
#!/bin/sh
# LAB STAND-IN for AWS's {name} (ECS Exec dependency) - NOT AWS software.
echo "{name} {version} (LAB STAND-IN)"
"""
MAINTAINER = "ecs_anywhere.fleet offline lab <lab@lab.internal>"

SSM_DESCRIPTION = """\
LAB STAND-IN for AWS's amazon-ssm-agent - NOT AWS software
 This package is a test double built by the ecs_anywhere.fleet collection's offline lab
 (tests/lab). It has the name, file layout, command line and systemd unit of AWS's
 amazon-ssm-agent, registers with the lab's AWS emulator and writes rotating credentials
 the way the real agent does, and does nothing else. Never install it outside the lab."""

ECS_DESCRIPTION = """\
LAB STAND-IN for AWS's amazon-ecs-init (ECS agent) - NOT AWS software
 This package is a test double built by the ecs_anywhere.fleet collection's offline lab
 (tests/lab). It has the name, file layout and ecs.service unit of AWS's amazon-ecs-init,
 registers an external container instance with the lab's AWS emulator and serves the
 agent's introspection endpoint; it runs no containers. Never install it outside the lab."""

SSM_POSTINST = """\
#!/bin/sh
# LAB STAND-IN: like AWS's package, enable and start the agent.
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    systemctl enable amazon-ssm-agent.service >/dev/null 2>&1 || true
    systemctl start amazon-ssm-agent.service || true
fi
exit 0
"""
SSM_PRERM = """\
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop amazon-ssm-agent.service || true
    systemctl disable amazon-ssm-agent.service >/dev/null 2>&1 || true
fi
exit 0
"""
ECS_POSTINST = """\
#!/bin/sh
# LAB STAND-IN: like AWS's package, install the unit but leave enabling/starting to the installer.
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
exit 0
"""
ECS_PRERM = """\
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop ecs.service || true
    systemctl disable ecs.service >/dev/null 2>&1 || true
fi
exit 0
"""


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)


def _program(module, target, version, broken=False):
    """A single-file program: a zipapp of the stand-in module and its helper, run by /usr/bin/python3, reporting
    ``version`` (and failing at start when ``broken``)."""
    src = target + ".src"
    os.makedirs(src)
    shutil.copy(os.path.join(STANDINS, "awsreq.py"), os.path.join(src, "awsreq.py"))
    with open(os.path.join(STANDINS, module + ".py"), encoding="utf-8") as handle:
        text = handle.read()
    text = re.sub(r'^VERSION = "[^"]+"$', 'VERSION = "%s"' % version, text, count=1, flags=re.M)
    text = re.sub(r"^BROKEN_RELEASE = False$", "BROKEN_RELEASE = %s" % bool(broken), text, count=1, flags=re.M)
    _write(os.path.join(src, module + ".py"), text)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    zipapp.create_archive(src, target, interpreter="/usr/bin/python3", main=module + ":entry")
    shutil.rmtree(src)
    os.chmod(target, 0o755)


def _control(root, package, version, description, depends, scripts):
    debian = os.path.join(root, "DEBIAN")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _s, fs in os.walk(root) for f in fs) // 1024 + 1
    _write(
        os.path.join(debian, "control"),
        "Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: %s\nInstalled-Size: %d\n"
        "Depends: %s\nSection: admin\nPriority: optional\nHomepage: https://example.invalid/ecs-anywhere-lab\n"
        "Description: %s\n" % (package, version, MAINTAINER, size, depends, description),
    )
    for name, text in scripts.items():
        _write(os.path.join(debian, name), text, 0o755)


def build_ssm_package(workdir, version=SSM_VERSION, broken=None):
    """The stand-in amazon-ssm-agent .deb of ``version`` (upstream version; the package's is ``<version>-1``)."""
    ssm = os.path.join(workdir, "amazon-ssm-agent")
    _program("ssm_agent", os.path.join(ssm, "usr/bin/amazon-ssm-agent"), version, broken == "service")
    files = os.path.join(STANDINS, "files")
    os.makedirs(os.path.join(ssm, "lib/systemd/system"))
    shutil.copy(os.path.join(files, "amazon-ssm-agent.service"), os.path.join(ssm, "lib/systemd/system/"))
    os.makedirs(os.path.join(ssm, "etc/amazon/ssm"))
    shutil.copy(os.path.join(files, "amazon-ssm-agent.json.template"), os.path.join(ssm, "etc/amazon/ssm/"))
    _write(os.path.join(ssm, "usr/share/doc/amazon-ssm-agent/README.lab"), SSM_DESCRIPTION + "\n")
    postinst = BROKEN_POSTINST if broken == "postinst" else SSM_POSTINST
    _control(
        ssm, "amazon-ssm-agent", version + "-1", SSM_DESCRIPTION, "python3", {"postinst": postinst, "prerm": SSM_PRERM}
    )
    return _build_deb(ssm, os.path.join(workdir, "amazon-ssm-agent_%s-1_amd64.deb" % version))


def build_ecs_package(workdir, version=ECS_VERSION, broken=None):
    """The stand-in amazon-ecs-init .deb of agent ``version`` (package version ``<version>-1``, as AWS's)."""
    ecs = os.path.join(workdir, "amazon-ecs-init")
    _program("ecs_init", os.path.join(ecs, "usr/libexec/amazon-ecs-init"), version, broken == "service")
    files = os.path.join(STANDINS, "files")
    os.makedirs(os.path.join(ecs, "lib/systemd/system"))
    shutil.copy(os.path.join(files, "ecs.service"), os.path.join(ecs, "lib/systemd/system/"))
    for path in ("etc/ecs", "var/lib/ecs/data", "var/log/ecs", "var/cache/ecs"):
        os.makedirs(os.path.join(ecs, path))
    _write(os.path.join(ecs, "usr/share/doc/amazon-ecs-init/README.lab"), ECS_DESCRIPTION + "\n")
    postinst = BROKEN_POSTINST if broken == "postinst" else ECS_POSTINST
    _control(
        ecs, "amazon-ecs-init", version + "-1", ECS_DESCRIPTION, "python3", {"postinst": postinst, "prerm": ECS_PRERM}
    )
    return _build_deb(ecs, os.path.join(workdir, "amazon-ecs-init_%s-1_amd64.deb" % version))


def _build_deb(root, path):
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, path])
    shutil.rmtree(root)
    return path


def build_packages(workdir):
    """Build both .deb files (newest versions) into ``workdir``; returns {"ssm": path, "ecs": path}."""
    return {"ssm": build_ssm_package(workdir), "ecs": build_ecs_package(workdir)}


def make_key(gnupghome, uid):
    """A throwaway ed25519 signing key in a lab-owned GNUPGHOME; returns its fingerprint."""
    os.makedirs(gnupghome, mode=0o700, exist_ok=True)
    os.chmod(gnupghome, 0o700)
    gpg = ["gpg", "--homedir", gnupghome, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    run(gpg + ["--quick-generate-key", uid, "ed25519", "sign", "7d"])
    listing = run(["gpg", "--homedir", gnupghome, "--batch", "--with-colons", "--list-keys", "=" + uid], capture=True)
    fprs = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
    return fprs[0]


def exec_binaries(path):
    """The stand-in ECS Exec binaries tarball (flat, as AWS's script extracts it)."""
    with tarfile.open(path, "w:gz") as tar:
        for name in EXEC_BINARIES:
            data = EXEC_BINARY.format(name=name, version=EXEC_BINARIES_VERSION).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))


def stop_gpg_agent(gnupghome):
    if os.path.isdir(gnupghome):
        run(["gpgconf", "--homedir", gnupghome, "--kill", "all"], check=False)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gpg(gnupghome):
    return ["gpg", "--homedir", gnupghome, "--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""]


def _place(mirror, region, agent, deb, version, gnupghome, fingerprint, latest):
    """Copy a built .deb into AWS's layout under ``mirror`` and sign it as AWS signs that agent's packages (SSM: a
    binary ``.sig``; ECS: an armoured ``.asc``); ``latest`` also publishes it as the newest. Returns the paths."""
    gpg = _gpg(gnupghome) + ["--local-user", fingerprint]
    if agent == "ssm":
        subs = [version] + (["latest"] if latest else [])
        paths = [
            os.path.join(mirror, "amazon-ssm-%s" % region, sub, "debian_amd64", "amazon-ssm-agent.deb") for sub in subs
        ]
        sign, suffix = ["--detach-sign"], ".sig"
    else:
        names = [version + "-1"] + (["latest"] if latest else [])
        ecs_dir = os.path.join(mirror, "amazon-ecs-agent-%s" % region)
        paths = [os.path.join(ecs_dir, "amazon-ecs-init-%s.amd64.deb" % name) for name in names]
        sign, suffix = ["--armor", "--detach-sign"], ".asc"
    placed = []
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(deb, path)
        run(gpg + ["--output", path + suffix] + sign + [path])
        placed += [path, path + suffix]
    return placed


def _checksums(mirror, placed):
    """A ``.sha256`` next to each placed file and their lines in ``<mirror>/SHA256SUMS`` (kept sorted)."""
    sums_path = os.path.join(mirror, "SHA256SUMS")
    sums = {}
    if os.path.exists(sums_path):
        with open(sums_path, encoding="utf-8") as handle:
            sums = {line.split()[1]: line for line in handle if line.strip()}
    for path in placed:
        digest = _sha256(path)
        _write(path + ".sha256", "%s  %s\n" % (digest, os.path.basename(path)))
        sums[os.path.relpath(path, mirror)] = "%s  %s\n" % (digest, os.path.relpath(path, mirror))
    _write(sums_path, "".join(sums[name] for name in sorted(sums)))


def build_mirror(mirror, workdir, gnupghome, region):
    """Build the packages (an older release and the newest of each), sign them and lay the mirror out; returns a
    dict describing it."""
    os.makedirs(workdir, exist_ok=True)
    fingerprints = {name: make_key(gnupghome, uid) for name, uid in KEY_UIDS.items()}
    placed = []
    for agent, build, versions in (
        ("ssm", build_ssm_package, (SSM_OLDER_VERSION, SSM_VERSION)),
        ("ecs", build_ecs_package, (ECS_OLDER_VERSION, ECS_VERSION)),
    ):
        for version in versions:
            deb = build(workdir, version)
            placed += _place(
                mirror, region, agent, deb, version, gnupghome, fingerprints[agent], version == versions[-1]
            )
    ssm_dir = os.path.join(mirror, "amazon-ssm-%s" % region)
    tarball = os.path.join(ssm_dir, EXEC_BINARIES_VERSION, "linux_amd64", "amazon-ssm-agent-binaries.tar.gz")
    os.makedirs(os.path.dirname(tarball), exist_ok=True)
    exec_binaries(tarball)
    placed.append(tarball)

    keys = os.path.join(mirror, "keys")
    os.makedirs(keys, exist_ok=True)
    public = {}
    for name, fingerprint in fingerprints.items():
        armored = os.path.join(keys, "%s-signing-key.asc" % name)
        run(_gpg(gnupghome) + ["--armor", "--output", armored, "--export", fingerprint])
        _write(armored + ".fingerprint", fingerprint + "\n")
        public[name] = armored
        placed.append(armored)

    _checksums(mirror, placed)
    stop_gpg_agent(gnupghome)
    return {
        "fingerprints": fingerprints,
        "public_keys": public,
        "ssm_deb_path": "amazon-ssm-%s/latest/debian_amd64/amazon-ssm-agent.deb" % region,
        "ecs_deb_path": "amazon-ecs-agent-%s/amazon-ecs-init-latest.amd64.deb" % region,
        "ssm_version": SSM_VERSION,
        "ecs_version": ECS_PACKAGE_VERSION,
        # Every release on the mirror, oldest first, as the roles pin them (ssm_agent_version: the upstream
        # version, its directory; ecs_agent_version: the package version of the file name).
        "ssm_versions": [SSM_OLDER_VERSION, SSM_VERSION],
        "ecs_versions": [ECS_OLDER_VERSION + "-1", ECS_PACKAGE_VERSION],
        "exec_binaries_version": EXEC_BINARIES_VERSION,
        "exec_binaries_sha256": _sha256(tarball),
    }


def publish_release(state, agent, version, broken=None, latest=False):
    """Add a release of a stand-in (``agent`` "ssm" or "ecs", upstream ``version``) to a running lab's mirror, signed
    with the lab's key for that agent; ``broken`` ("postinst" or "service") makes it a bad release, ``latest`` also
    publishes it as the newest. ``state`` is the lab's state.json. Returns the version as the roles pin it."""
    if agent not in ("ssm", "ecs") or broken not in (None,) + BROKEN_MODES:
        raise ValueError("agent must be ssm or ecs, broken one of %s" % (BROKEN_MODES,))
    mirror, workdir = state["mirror"]["root"], os.path.join(STATE_DIR, "build")
    os.makedirs(workdir, exist_ok=True)
    build = build_ssm_package if agent == "ssm" else build_ecs_package
    deb = build(workdir, version, broken)
    gnupghome = os.path.join(STATE_DIR, "gnupg")
    try:
        placed = _place(
            mirror, state["region"], agent, deb, version, gnupghome, state["mirror"]["fingerprints"][agent], latest
        )
    finally:
        stop_gpg_agent(gnupghome)
    os.unlink(deb)
    _checksums(mirror, placed)
    return version if agent == "ssm" else version + "-1"


#: Where tamper() keeps a file's good copy, under the mirror's state (not served: outside the mirror's root).
TAMPER_DIR = os.path.join(STATE_DIR, "tampered")


def _mirror_file(state, path):
    mirror = os.path.realpath(state["mirror"]["root"])
    full = os.path.realpath(os.path.join(mirror, path))
    if not full.startswith(mirror + os.sep) or not os.path.isfile(full):
        raise LabError("%s is not a file on the mirror (%s)" % (path, mirror))
    return full, os.path.join(TAMPER_DIR, os.path.relpath(full, mirror))


def tamper(state, path):
    """Replace the file at ``path`` (relative to the mirror's root) with a modified copy and leave its detached
    signature, ``.sha256`` and ``SHA256SUMS`` line as they were: a package altered on the mirror or on its way (a
    compromised or corrupt mirror, a caching proxy serving a damaged copy). What AWS's installer guards against by
    checking the package against its detached signature before installing it (ecs-anywhere-install.sh,
    ``ssm-agent-signature-verify`` / ``ecs-init-signature-verify``: ``gpg --verify "$1" "$2"``, and it stops when that
    fails). The file stays a package dpkg-deb reads, of the same name and version (a byte is appended after its last
    ar member), so only the signature tells. The good copy is kept for repair()."""
    full, kept = _mirror_file(state, path)
    if not os.path.exists(kept):
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        shutil.copy2(full, kept)
    with open(full, "ab") as handle:
        handle.write(b"\n")
    return full


def repair(state, path):
    """Put the good copy tamper() kept back in place (the mirror repaired, with the same name, as a site republishes
    it)."""
    full, kept = _mirror_file(state, path)
    if not os.path.exists(kept):
        raise LabError("%s was not tampered with (no good copy in %s)" % (path, TAMPER_DIR))
    os.replace(kept, full)
    return full
