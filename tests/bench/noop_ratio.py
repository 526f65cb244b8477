# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How much a no-op re-run of playbooks/onboard.yml costs, relative to a facts-only play over the same hosts.

    .venv/bin/python tests/bench/noop_ratio.py --hosts 6 --repeat 3 [--inventory FILE] [--keep-lab] [--calls] [-e @vars.yml]

Without --inventory it brings a lab up with --hosts hosts (tests/lab/lab; export LAB_INSTANCE and LAB_SUBNET to run
beside other labs), onboards them once (timed: the first run), then runs, --repeat times back to back, the facts-only
play (tests/bench/facts_only.yml: gather_facts with become, nothing else) and onboard.yml again, and takes the
medians. With --inventory it uses hosts that are onboarded already (the first run is skipped).

Prints one JSON line (`"bench": "noop_ratio"`: ratio, medians, every sample, the no-op runs' changed counts, the
first run's time, the controller's CPU seconds per run, the load average before and after, ansible-core's version)
and then one line for people. Exit
status 0 when every run succeeded, whatever the times: nothing here asserts a duration (they depend on the machine
and its load); a no-op run that changed something is reported ("noop_changed") and makes the exit status 3.
With --calls it also counts the controller's AWS calls of the first run and of each no-op run, from the lab
emulator's call log (tests/lab/labctl/calls.py says which calls are the controller's).

`make bench` (tests/bench/bench.py) measures its lab rows with `measure()` here: one implementation of the ratio.
"""

import argparse
import datetime
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "tests", "lab", "lab")
BIN = os.path.join(REPO, ".venv", "bin")
ONBOARD = os.path.join(REPO, "playbooks", "onboard.yml")
FACTS = os.path.join(HERE, "facts_only.yml")
# labctl and the emulator's client live in tests/lab (on the path under pytest and `make bench`, not when this file
# runs as a script).
if os.path.join(REPO, "tests", "lab") not in sys.path:
    sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
recap = importlib.import_module("labctl.testing").recap
calls = importlib.import_module("labctl.calls")
LabClient = importlib.import_module("emulator.client").LabClient


def children_cpu():
    """CPU seconds (user + system) of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv, log, timeout=3600):
    """Run a command: (wall seconds, stdout, CPU seconds of the command and every process it waited for)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", PATH=BIN + os.pathsep + os.environ["PATH"])
    started, cpu = time.monotonic(), children_cpu()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    seconds, cpu = time.monotonic() - started, children_cpu() - cpu
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(
            "$ %s\n# rc=%d, %.2f s\n%s%s\n" % (" ".join(argv), proc.returncode, seconds, proc.stdout, proc.stderr)
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit("%s failed (rc %d); log: %s" % (os.path.basename(argv[1]), proc.returncode, log))
    return seconds, proc.stdout, cpu


def playbook(inventory, path, extra):
    return [os.path.join(BIN, "ansible-playbook"), "-i", inventory, path] + extra


class CallLog:
    """The controller's AWS calls per playbook run, from the lab emulator's call log (the inventory names both)."""

    def __init__(self, inventory):
        with open(inventory, encoding="utf-8") as handle:
            site = yaml.safe_load(handle)["all"]["vars"]
        self.client = LabClient(site["aws_endpoint_url"])
        self.key = site["aws_access_key_id"]

    def clear(self):
        self.client.clear_calls()

    def controller(self):
        return calls.controller_calls(self.client.calls(), self.key)


def measure(hosts, repeat, inventory=None, keep_lab=False, releases="bookworm,trixie", extra=(), log=None,
            count_calls=False):  # fmt: skip
    """The no-op ratio as a dict (see the module's docstring); raises SystemExit when a run fails."""
    log = log or os.path.join(REPO, "tests", "output", "bench", "noop_ratio.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    open(log, "w", encoding="utf-8").close()
    extra = list(extra)
    result = {"bench": "noop_ratio", "hosts": hosts, "repeat": repeat, "first_run_s": None}
    result["load_before"] = list(os.getloadavg())
    own_lab = not inventory
    log_of_calls = None
    try:
        if own_lab:
            run([LAB, "down"], log)
            run([LAB, "up", "--hosts", str(hosts), "--release", releases], log)
            inventory = os.path.join(tempfile.mkdtemp(prefix="noop-ratio-"), "inventory.yml")
            run([LAB, "inventory", "-o", inventory], log)
            if count_calls:
                log_of_calls = CallLog(inventory)
                log_of_calls.clear()
            result["first_run_s"], _output, _cpu = run(playbook(inventory, ONBOARD, extra), log)
            if count_calls:
                first = log_of_calls.controller()
                result.update(first_run_calls=len(first), first_run_by_operation=calls.by_operation(first))
        elif count_calls:
            log_of_calls = CallLog(inventory)
        facts, noop, noop_changed, noop_calls, facts_cpu, noop_cpu = [], [], {}, [], [], []
        for _round in range(repeat):
            seconds, _output, cpu = run(playbook(inventory, FACTS, extra), log)
            facts.append(seconds)
            facts_cpu.append(cpu)
            if count_calls:
                log_of_calls.clear()
            seconds, out, cpu = run(playbook(inventory, ONBOARD, extra), log)
            noop.append(seconds)
            noop_cpu.append(cpu)
            if count_calls:
                spent = log_of_calls.controller()
                noop_calls.append(len(spent))
                result["noop_by_operation"] = calls.by_operation(spent)
            for host, counts in recap(out).items():
                noop_changed[host] = max(noop_changed.get(host, 0), counts["changed"])
    finally:
        if own_lab and not keep_lab:
            run([LAB, "down"], log)
    if count_calls:
        result["noop_calls"] = max(noop_calls)
    # N is the hosts the no-op runs went over (their recap), not --hosts: an inventory given with --inventory, or an
    # -e onboard_hosts=... in the extra arguments, can make that fewer or more.
    result["hosts"] = len([host for host in noop_changed if host != "localhost"])
    result.update(
        facts_s=[round(s, 2) for s in facts],
        noop_s=[round(s, 2) for s in noop],
        facts_median_s=round(statistics.median(facts), 2),
        noop_median_s=round(statistics.median(noop), 2),
        # The controller's own CPU time (ansible-playbook, its workers, ssh, the local modules): far less moved by
        # the machine's load than wall time, so it shows a change of code better; the hosts' work is not in it.
        facts_cpu_s=[round(s, 2) for s in facts_cpu],
        noop_cpu_s=[round(s, 2) for s in noop_cpu],
        noop_cpu_median_s=round(statistics.median(noop_cpu), 2),
        noop_changed=noop_changed,
        load_after=list(os.getloadavg()),
        cpus=os.cpu_count(),
        ansible_core=subprocess.run(
            [os.path.join(BIN, "python"), "-c", "import ansible; print(ansible.__version__)"],
            capture_output=True, text=True, check=False,
        ).stdout.strip(),
        machine=platform.node(),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip
    result["ratio"] = round(result["noop_median_s"] / result["facts_median_s"], 2)
    if result["first_run_s"] is not None:
        result["first_run_s"] = round(result["first_run_s"], 1)
    return result


def summary(result):
    """The line for people."""
    return (
        "no-op onboard.yml / facts-only play at N=%d: %.2fx (no-op %.1f s, facts %.1f s, median of %d%s); "
        "controller CPU per no-op %.1f s; load %.2f -> %.2f on %d CPUs; no-op changed: %s%s"
        % (
            result["hosts"],
            result["ratio"],
            result["noop_median_s"],
            result["facts_median_s"],
            result["repeat"],
            "; first run %.0f s" % result["first_run_s"] if result["first_run_s"] is not None else "",
            result["noop_cpu_median_s"],
            result["load_before"][0],
            result["load_after"][0],
            result["cpus"],
            sum(result["noop_changed"].values()),
            "; controller AWS calls per no-op: %d" % result["noop_calls"] if "noop_calls" in result else "",
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=6, help="lab hosts to bring up (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="back-to-back pairs to take the median of (default 3)")
    parser.add_argument("--inventory", help="use these onboarded hosts instead of bringing a lab up")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up afterwards (for a later --inventory)")
    parser.add_argument("--releases", default="bookworm,trixie", help="lab releases, round-robin")
    parser.add_argument("--calls", action="store_true", help="also count the controller's AWS calls (lab emulator)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], help="passed on to both playbooks")
    parser.add_argument("--log", default=os.path.join(REPO, "tests", "output", "bench", "noop_ratio.log"))
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.repeat < 1:
        parser.error("--hosts and --repeat must be at least 1")
    result = measure(
        args.hosts,
        args.repeat,
        inventory=args.inventory,
        keep_lab=args.keep_lab,
        releases=args.releases,
        extra=[item for value in args.extra_vars for item in ("-e", value)],
        log=args.log,
        count_calls=args.calls,
    )
    print(json.dumps(result, sort_keys=True))
    print(summary(result))
    return 3 if any(result["noop_changed"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
