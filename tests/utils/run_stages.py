# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ``make <stage>`` for each stage given, keep going after a failure, print a summary.

``a+b`` runs stages a and b at the same time (each line of their output prefixed with ``[a]``/``[b]``): the lab
and molecule stages drive labs of their own, and much of their time is spent waiting for hosts and agents.
Exit status is non-zero when any stage failed, so ``make test`` fails loudly yet shows the state of every stage.
"""

import subprocess
import sys
import threading
import time


def _relay(stage, process, lock, ended):
    for line in iter(process.stdout.readline, b""):
        with lock:
            sys.stdout.buffer.write(b"[" + stage.encode() + b"] " + line)
            sys.stdout.buffer.flush()
    process.stdout.close()
    process.wait()
    ended[stage] = time.monotonic()


def run_group(stages):
    """[(stage, rc, seconds)] for stages run together (one alone runs straight through, unprefixed)."""
    start = time.monotonic()
    if len(stages) == 1:
        rc = subprocess.call(["make", "--no-print-directory", stages[0]])
        return [(stages[0], rc, time.monotonic() - start)]
    lock = threading.Lock()
    ended = {}
    running = []
    for stage in stages:
        process = subprocess.Popen(
            ["make", "--no-print-directory", stage], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        relay = threading.Thread(target=_relay, args=(stage, process, lock, ended), daemon=True)
        relay.start()
        running.append((stage, process, relay))
    results = []
    for stage, process, relay in running:
        relay.join()
        results.append((stage, process.returncode, ended[stage] - start))
    return results


def main(groups):
    results = []
    for group in groups:
        print("\n==> make %s" % " & make ".join(group.split("+")), flush=True)
        results += run_group(group.split("+"))
    failed = [stage for stage, rc, _seconds in results if rc != 0]
    print("\n==> summary")
    for stage, rc, seconds in results:
        print("  %-12s %-6s %6.1fs" % (stage, "ok" if rc == 0 else "FAILED", seconds))
    print("stages: %d passed, %d failed" % (len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
