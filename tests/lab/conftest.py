# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lab tests side by side: under pytest-xdist (``make lab`` runs ``-n 2 --dist loadfile``), each worker drives a
lab of its own -- its own LAB_INSTANCE (host names, veth links, firewall table), LAB_SUBNET and state directory --
so two test modules can boot hosts at the same time. Set here, before any test module imports ``labctl`` (whose
settings are read at import) and inherited by the ``lab`` commands the tests run. Outside xdist nothing changes.
"""

import os

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...

if WORKER and "LAB_INSTANCE" not in os.environ:
    INDEX = int(WORKER[2:])
    if INDEX > 9:
        raise SystemExit("the lab tests run with at most 10 xdist workers (one LAB_INSTANCE digit each)")
    REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ["LAB_INSTANCE"] = str(INDEX)
    os.environ.setdefault("LAB_SUBNET", "172.29.%d.0/24" % (80 + INDEX))
    os.environ["LAB_STATE_DIR"] = os.path.join(REPO, ".lab-%s" % WORKER)
