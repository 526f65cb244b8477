# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the working tree usable as ``ecs_anywhere.fleet`` inside the project's virtualenv.

Run by ``make setup`` with the virtualenv's interpreter, after the pinned toolchain is installed.
Idempotent and quick when already done:

1. amazon.aws (and the few other collections the tests read) are unpacked from the pinned
   ``ansible`` bundle wheel into ``.venv/collections`` -- Galaxy is not needed.
2. ``.venv/collections/ansible_collections/ecs_anywhere/fleet`` is a symlink to the working tree,
   so edits are what Ansible, pytest and ansible-test see (no copy that goes stale).
3. ansible-test's pip bootstrap script is replaced by an offline stand-in in its cache.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

BUNDLE = "ansible==12.3.0"
COLLECTIONS = ("amazon/aws", "awx/awx")  # awx.awx: extensions/awx/controller (applied to AWX/AAP)


def bundle_wheel(cache_dir):
    name, version = BUNDLE.split("==")
    wheel = os.path.join(cache_dir, "%s-%s-py3-none-any.whl" % (name, version))
    if not os.path.exists(wheel):
        subprocess.check_call(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", cache_dir, BUNDLE]
        )
    return wheel


def unpack_collections(root, cache_dir):
    stamp = os.path.join(root, ".bundle")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == "%s %s" % (BUNDLE, " ".join(COLLECTIONS)):
                return
    wheel = bundle_wheel(cache_dir)
    with zipfile.ZipFile(wheel) as archive:
        for collection in COLLECTIONS:
            prefix = "ansible_collections/%s/" % collection
            target = os.path.join(root, prefix)
            shutil.rmtree(target, ignore_errors=True)
            archive.extractall(root, [n for n in archive.namelist() if n.startswith(prefix)])
            with open(os.path.join(target, "MANIFEST.json")) as f:
                info = json.load(f)["collection_info"]
            print("unpacked %s.%s %s" % (info["namespace"], info["name"], info["version"]))
    with open(stamp, "w") as f:
        f.write("%s %s\n" % (BUNDLE, " ".join(COLLECTIONS)))


def link_working_tree(root, tree):
    namespace_dir = os.path.join(root, "ansible_collections", "ecs_anywhere")
    link = os.path.join(namespace_dir, "fleet")
    os.makedirs(namespace_dir, exist_ok=True)
    if os.path.islink(link) and os.readlink(link) == tree:
        return
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(tree, link)
    print("linked %s -> %s" % (link, tree))


def install_pip_bootstrap(tree):
    import ansible_test  # pylint: disable=import-outside-toplevel

    requirements = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
    with open(requirements) as f:
        pip_version = re.search(r"pip='([0-9.]+)'", f.read()).group(1)
    cache = os.path.expanduser("~/.ansible/test/cache/get_pip_%s.py" % pip_version.replace(".", "_"))
    source = os.path.join(tree, "tests", "utils", "get_pip_offline.py")
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(source, "rb") as f:
        wanted = f.read()
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            if f.read() == wanted:
                return
    with open(cache, "wb") as f:
        f.write(wanted)
    print("installed offline pip bootstrap at %s" % cache)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True)
    parser.add_argument("--tree", required=True)
    args = parser.parse_args()
    venv = os.path.abspath(args.venv)
    tree = os.path.abspath(args.tree)
    root = os.path.join(venv, "collections")
    unpack_collections(root, os.path.join(venv, "cache"))
    link_working_tree(root, tree)
    install_pip_bootstrap(tree)


if __name__ == "__main__":
    main()
