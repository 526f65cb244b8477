# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m labctl``: the lab's command line (see ``tests/lab/README.md``)."""

import sys

from labctl.cli import main

sys.exit(main())
