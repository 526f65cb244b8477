# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``make <stage>`` for each stage given, keep going after a failure, print a summary.

Exit status is non-zero when any stage failed, so ``make test`` fails loudly yet shows the state
of every stage.
"""

import subprocess
import sys
import time


def main(stages):
    results = []
    for stage in stages:
        print("\n==> make %s" % stage, flush=True)
        start = time.monotonic()
        rc = subprocess.call(["make", "--no-print-directory", stage])
        results.append((stage, rc, time.monotonic() - start))
    failed = [stage for stage, rc, _seconds in results if rc != 0]
    print("\n==> summary")
    for stage, rc, seconds in results:
        print("  %-12s %-6s %6.1fs" % (stage, "ok" if rc == 0 else "FAILED", seconds))
    print("stages: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
