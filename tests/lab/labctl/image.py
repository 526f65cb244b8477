# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cached Debian root filesystems (debootstrap, minbase) the hosts boot from with ``--volatile=overlay``."""

import fcntl
import hashlib
import os
import shutil
import time

from labctl.common import CACHE_DIR
from labctl.common import DEBIAN_MIRROR
from labctl.common import LabError
from labctl.common import run
from labctl.common import say

RELEASES = ("bookworm", "trixie")
# What a plain on-prem Debian server has, plus docker.io (the distro package AWS's installer would
# install; preinstalled to keep `lab up` fast -- apt through the proxy still works for anything else).
PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "python3",
    "openssh-server",
    "sudo",
    "ca-certificates",
    "iproute2",
    "docker.io",
]
# Packages only some releases need: trixie's docker.io merely recommends its CLI.
EXTRA_PACKAGES = {"trixie": ["docker-cli"]}
RECIPE_VERSION = "5"
# The ordinary account a real site logs in with: no root login for Ansible, sudo for `become`.
SITE_USER = "ops"

SSHD_CONFIG = """\
# ecs_anywhere.fleet offline lab: the site user (Ansible) and root (the tests' own inspection) log in
# with the lab's key only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""
# As many sites grant their admins: sudo to root without a password prompt (become_method sudo).
SUDOERS = """\
# ecs_anywhere.fleet offline lab: the site's admin account.
{user} ALL=(ALL:ALL) NOPASSWD: ALL
""".format(user=SITE_USER)
RESOLV_CONF = """\
# ecs_anywhere.fleet offline lab: this site has no DNS of its own; everything goes through the HTTP proxy.
"""


def packages(release):
    return PACKAGES + EXTRA_PACKAGES.get(release, [])


def recipe(release):
    text = "\n".join(
        [RECIPE_VERSION, release, DEBIAN_MIRROR, " ".join(packages(release)), SSHD_CONFIG, RESOLV_CONF, SUDOERS]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def image_dir(release):
    return os.path.join(CACHE_DIR, "images", release)


def is_cached(release):
    try:
        with open(os.path.join(image_dir(release), ".lab-recipe"), encoding="utf-8") as handle:
            return handle.read().strip() == recipe(release)
    except OSError:
        return False


def _customize(root):
    """Make the debootstrapped tree a lab host image (runs once per cache build)."""
    with open(os.path.join(root, "etc/ssh/sshd_config.d/lab.conf"), "w", encoding="utf-8") as handle:
        handle.write(SSHD_CONFIG)
    resolv = os.path.join(root, "etc/resolv.conf")
    if os.path.islink(resolv) or os.path.exists(resolv):
        os.remove(resolv)
    with open(resolv, "w", encoding="utf-8") as handle:
        handle.write(RESOLV_CONF)
    os.makedirs(os.path.join(root, "root/.ssh"), mode=0o700, exist_ok=True)
    with open(os.path.join(root, "root/.ssh/authorized_keys"), "w", encoding="utf-8") as handle:
        handle.write("")  # replaced by a bind mount of the lab's key at boot
    os.chmod(os.path.join(root, "root/.ssh/authorized_keys"), 0o600)
    # The site user: an ordinary account (uid 1000) with a home and sudo; its key is installed at boot.
    run(["chroot", root, "useradd", "--create-home", "--shell", "/bin/bash", "--uid", "1000", SITE_USER])
    sudoers = os.path.join(root, "etc/sudoers.d", SITE_USER)
    with open(sudoers, "w", encoding="utf-8") as handle:
        handle.write(SUDOERS)
    os.chmod(sudoers, 0o440)
    # No background apt runs holding the dpkg lock while tests use apt; no fsck/e2scrub or kernel
    # module loading in a container (systemd-modules-load fails there and leaves the host degraded).
    masked = (
        "apt-daily.timer",
        "apt-daily-upgrade.timer",
        "e2scrub_reap.service",
        "e2scrub_all.timer",
        "systemd-modules-load.service",
    )
    for unit in masked:
        link = os.path.join(root, "etc/systemd/system", unit)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("/dev/null", link)
    for name in os.listdir(os.path.join(root, "var/cache/apt/archives")):
        if name.endswith(".deb"):
            os.remove(os.path.join(root, "var/cache/apt/archives", name))
    # /etc/hostname and machine-id come from systemd-nspawn (-M) at boot.
    for path in ("etc/hostname",):
        if os.path.exists(os.path.join(root, path)):
            os.remove(os.path.join(root, path))
    with open(os.path.join(root, "etc/machine-id"), "w", encoding="utf-8") as handle:
        handle.write("")


def build(release):
    """debootstrap ``release`` into the cache unless a tree of the current recipe is there."""
    if release not in RELEASES:
        raise LabError("unsupported release %s (supported: %s)" % (release, ", ".join(RELEASES)))
    os.makedirs(os.path.join(CACHE_DIR, "images"), exist_ok=True)
    with open(os.path.join(CACHE_DIR, "images", ".%s.lock" % release), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_cached(release):
            return False
        start = time.monotonic()
        target = image_dir(release)
        tmp = target + ".building"
        for path in (tmp, target):
            if os.path.exists(path):
                shutil.rmtree(path)
        say("building the %s image (debootstrap, cached in %s)", release, target)
        run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(packages(release)),
                release,
                tmp,
                DEBIAN_MIRROR,
            ],
            timeout=1200,
        )
        _customize(tmp)
        os.rename(tmp, target)
        with open(os.path.join(target, ".lab-recipe"), "w", encoding="utf-8") as handle:
            handle.write(recipe(release) + "\n")
        say("%s image ready in %.0fs", release, time.monotonic() - start)
        return True
