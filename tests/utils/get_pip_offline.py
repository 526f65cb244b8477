# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for get-pip.py, used by ``ansible-test --requirements``.

ansible-test bootstraps pip in each sanity virtualenv by downloading ``get-pip-<version>.py``
from a host that restricted networks cannot reach, but it first looks in its cache
(``~/.ansible/test/cache/get_pip_<version>.py``).  ``tests/utils/setup_env.py`` puts this file
there.  It does what get-pip.py does: bootstrap pip with the interpreter's bundled ``ensurepip``,
then ``pip install`` the arguments it was given (through the machine's normal pip configuration,
so a local index or proxy keeps working).
"""

import ensurepip
import os
import subprocess
import sys

IGNORED_ARGS = ("--no-setuptools", "--no-wheel")


def main():
    saved_environ = dict(os.environ)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null (hiding the index, proxy and CA settings); undo it.
    ensurepip.bootstrap(upgrade=True)
    os.environ.clear()
    os.environ.update(saved_environ)
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED_ARGS]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))


if __name__ == "__main__":
    main()
