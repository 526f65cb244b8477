# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make bench`` (issue 12): what onboarding costs, printed as a table. Asserts nothing about time.

Rows:
- lab, N = 2 and 6 hosts (a fresh lab each; root): first-run wall time, the no-op ratio (no-op re-run of onboard.yml
  / a facts-only play over the same hosts, median of --repeat back-to-back runs), the controller's AWS calls of the
  first run (an empty account: the cluster and instance role are created too) and of a no-op re-run;
- emulated 2, 6 and 2,500 hosts (no lab): the controller's calls for onboarding fresh hosts into a set-up account
  (issue 12's budget for N fresh hosts; the lab rows' first run also sets the empty account up) and for a no-op
  re-run (tests/integration/emulated_onboard.py says exactly what is emulated);
- fleet_info over 5,000 emulated instances: calls, wall time of the ansible-playbook run and of the module process,
  the emulator's own time on the calls, and the module side (module process minus the emulator's time).

Controller calls are read from the emulator's call log: the calls signed with the controller's access key (the
agents sign with their managed instance id or their role's STS session keys; RegisterManagedInstance is unsigned).

    make bench BENCH_ARGS="[--hosts 2,6] [--repeat 3] [--emulated 2,6,2500] [--skip-lab] [--json FILE]"
    (by hand: PYTHONPATH=.venv/collections:tests/lab .venv/bin/python tests/bench/bench.py ...)
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time

from emulator.server import EmulatorServer
from labctl.calls import budget_fresh
from labctl.calls import budget_noop

from ansible_collections.ecs_anywhere.fleet.tests.bench import noop_ratio
from ansible_collections.ecs_anywhere.fleet.tests.integration import emulated_onboard

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
CLUSTER = "onprem-bench"
FLEET_INFO_TARGET = 10.0


def measure_lab(hosts, repeat):
    """One fresh lab of ``hosts`` hosts, measured by noop_ratio.measure (the one implementation of the no-op ratio):
    {first_run_s, first_run_calls, first_run_by_operation, noop_calls, noop_s, facts_s, ratio, noop_cpu_s, load}."""
    found = noop_ratio.measure(hosts, repeat, extra=["-e", "ecs_anywhere_cluster=" + CLUSTER], count_calls=True)
    return dict(
        first_run_s=found["first_run_s"],
        first_run_calls=found["first_run_calls"],
        first_run_by_operation=found["first_run_by_operation"],
        noop_calls=found["noop_calls"],
        noop_s=found["noop_median_s"],
        facts_s=found["facts_median_s"],
        ratio=found["ratio"],
        noop_cpu_s=found["noop_cpu_median_s"],
        load=[round(found["load_before"][0], 1), round(found["load_after"][0], 1)],
    )


def _emulator_env(server):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_ENDPOINT_URL=server.url,
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".venv", "collections"),
    )
    return env


def measure_emulated(count):
    with EmulatorServer() as server, tempfile.TemporaryDirectory() as scratch:
        return emulated_onboard.emulated_onboard(
            server, scratch, count, "bench-%d" % count, "BenchRole%d" % count, _emulator_env(server)
        )


def measure_fleet_info(count=5000):
    """fleet_info over ``count`` seeded instances, as a playbook runs it; the module process timed by a wrapper."""
    with EmulatorServer() as server, tempfile.TemporaryDirectory() as scratch:
        env = _emulator_env(server)
        import boto3

        boto3.client(
            "ecs", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        ).create_cluster(clusterName="bench")
        server.seed(count, cluster="bench", tags={"bench": "fleet"}, create_role=True)
        timing = os.path.join(scratch, "module-time")
        wrapper = os.path.join(scratch, "python")
        with open(wrapper, "w", encoding="utf-8") as handle:
            handle.write(
                '#!/bin/sh\nstart=$(date +%%s.%%N)\n%s "$@"\nrc=$?\necho "$start $(date +%%s.%%N)" > %s\nexit $rc\n'
                % (sys.executable, timing)
            )
        os.chmod(wrapper, 0o755)
        play = [
            {
                "hosts": "localhost",
                "gather_facts": False,
                "tasks": [
                    {
                        "ecs_anywhere.fleet.fleet_info": {"clusters": ["bench"], "tags": {"bench": "fleet"}},
                        "register": "fleet",
                    },
                    {"ansible.builtin.assert": {"that": ["fleet.summary.both == %d" % count], "quiet": True}},
                ],
            }
        ]
        playbook = os.path.join(scratch, "fleet.json")
        with open(playbook, "w", encoding="utf-8") as handle:
            json.dump(play, handle)
        server.clear_calls()
        env = dict(env, ANSIBLE_NOCOLOR="1")
        started = time.monotonic()
        done = subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "-e",
             "ansible_python_interpreter=" + wrapper, playbook],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        wall = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit("fleet_info failed:\n" + done.stdout[-4000:])
        with open(timing, encoding="utf-8") as handle:
            begin, end = (float(v) for v in handle.read().split())
        calls = server.calls()
        emulator_s = sum(call.get("seconds", 0) for call in calls)
        return dict(
            calls=len(calls),
            playbook_s=wall,
            module_s=end - begin,
            emulator_s=emulator_s,
            module_side_s=end - begin - emulator_s,
        )


def machine():
    load = os.getloadavg()
    return "%s, %d cores, load %.1f/%.1f/%.1f, %s" % (
        platform.node() or "host",
        os.cpu_count() or 0,
        load[0],
        load[1],
        load[2],
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    )


def table(lab, emulated, fleet):
    rows = [("measure", "value", "budget / target")]
    for hosts, found in sorted(lab.items()):
        rows += [
            ("no-op ratio, N=%d (median of runs)" % hosts, "%.2f (%.1f s / %.1f s, load %.1f -> %.1f)" % (
                found["ratio"], found["noop_s"], found["facts_s"], found["load"][0], found["load"][1]), "<= 3.0"),
            ("controller CPU per no-op, N=%d (median)" % hosts, "%.1f s" % found["noop_cpu_s"], "-"),
            ("first-run wall time, N=%d" % hosts, "%.0f s" % found["first_run_s"], "-"),
            ("controller calls, first run, empty account, N=%d" % hosts, str(found["first_run_calls"]),
             "%d + account set-up" % budget_fresh(hosts)),
            ("controller calls, no-op, N=%d" % hosts, str(found["noop_calls"]),
             "<= %d" % budget_noop(hosts)),
        ]  # fmt: skip
    for count, found in sorted(emulated.items()):
        rows += [
            ("controller calls, fresh hosts, emulated N=%d" % count, "%d (%.0f s)" % (
                found["fresh"]["calls"], found["fresh"]["seconds"]), "<= %d" % budget_fresh(count)),
            ("controller calls, no-op, emulated N=%d" % count, "%d (%.0f s)" % (
                found["noop"]["calls"], found["noop"]["seconds"]), "<= %d" % budget_noop(count)),
        ]  # fmt: skip
    if fleet:
        rows += [
            ("fleet_info, 5,000 instances: calls", str(fleet["calls"]),
             "%d (the paging floor)" % (math.ceil(5000 / 50) + 2 * math.ceil(5000 / 100))),
            ("fleet_info, 5,000: module side (module - emulator)", "%.1f s" % fleet["module_side_s"],
             "< %.0f s" % FLEET_INFO_TARGET),
            ("fleet_info, 5,000: module process / emulator / playbook", "%.1f s / %.1f s / %.1f s" % (
                fleet["module_s"], fleet["emulator_s"], fleet["playbook_s"]), "-"),
        ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["| %s |" % " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "|%s|" % "|".join("-" * (w + 2) for w in widths))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--hosts", default="2,6", help="lab sizes, comma-separated (default 2,6)")
    parser.add_argument("--repeat", type=int, default=3, help="no-op and facts-only runs per lab size (default 3)")
    parser.add_argument(
        "--emulated", default="2,6,2500", help="emulated fleet sizes for the call counts (default 2,6,2500)"
    )
    parser.add_argument("--skip-lab", action="store_true", help="only the emulated measurements (no root needed)")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    lab = {}
    if not args.skip_lab:
        for hosts in [int(n) for n in args.hosts.split(",") if n]:
            print("lab, %d hosts ..." % hosts, file=sys.stderr, flush=True)
            lab[hosts] = measure_lab(hosts, args.repeat)
            print(json.dumps({"lab": hosts, **lab[hosts]}), file=sys.stderr, flush=True)
    emulated = {}
    for count in [int(n) for n in args.emulated.split(",") if n]:
        print("emulated, %d hosts ..." % count, file=sys.stderr, flush=True)
        emulated[count] = measure_emulated(count)
        for scenario in emulated[count].values():
            scenario.pop("output", None)
        print(json.dumps({"emulated": count, **emulated[count]}), file=sys.stderr, flush=True)
    print("fleet_info, 5,000 instances ...", file=sys.stderr, flush=True)
    fleet = measure_fleet_info()
    print("ecs_anywhere.fleet bench, %s\n" % machine())
    print(table(lab, emulated, fleet))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(dict(machine=machine(), lab=lab, emulated=emulated, fleet_info=fleet), handle, indent=1)


if __name__ == "__main__":
    main()
