# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``make <stage>`` for each stage given, keep going after a failure, print a summary.

``a+b`` runs stages a and b at the same time (each line of their output prefixed with ``[a]``/``[b]``): the lab
and molecule stages drive labs of their own, and much of their time is spent waiting for hosts and agents.
``a+b,c`` runs c after b, beside a (a lane of stages one after the other: c starts when b ends, whatever its result).
Exit status is non-zero when any stage failed, so ``make test`` fails loudly yet shows the state of every stage.
"""

import subprocess
import sys
import threading
import time


def _lane(stages, lock, results):
    """Run the stages one after the other, each line prefixed with its stage; record (stage, rc, seconds)."""
    for stage in stages:
        start = time.monotonic()
        process = subprocess.Popen(
            ["make", "--no-print-directory", stage], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for line in iter(process.stdout.readline, b""):
            with lock:
                sys.stdout.buffer.write(b"[" + stage.encode() + b"] " + line)
                sys.stdout.buffer.flush()
        process.stdout.close()
        results[stage] = (stage, process.wait(), time.monotonic() - start)


def run_group(lanes):
    """[(stage, rc, seconds)] for lanes run together (a single stage alone runs straight through, unprefixed)."""
    if len(lanes) == 1 and len(lanes[0]) == 1:
        start = time.monotonic()
        rc = subprocess.call(["make", "--no-print-directory", lanes[0][0]])
        return [(lanes[0][0], rc, time.monotonic() - start)]
    lock = threading.Lock()
    results = {}
    threads = [threading.Thread(target=_lane, args=(lane, lock, results), daemon=True) for lane in lanes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [results[stage] for lane in lanes for stage in lane]


def main(groups):
    results = []
    for group in groups:
        lanes = [lane.split(",") for lane in group.split("+")]
        print("\n==> make %s" % " & make ".join(" then make ".join(lane) for lane in lanes), flush=True)
        results += run_group(lanes)
    failed = [stage for stage, rc, _seconds in results if rc != 0]
    print("\n==> summary")
    for stage, rc, seconds in results:
        print("  %-12s %-6s %6.1fs" % (stage, "ok" if rc == 0 else "FAILED", seconds))
    print("stages: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
