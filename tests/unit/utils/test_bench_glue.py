# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make bench` measures the no-op ratio with tests/bench/noop_ratio.py (one implementation), and noop_ratio reads the
play recap with labctl's parser. The measurements themselves need a lab and minutes: `make bench`, not `make test`."""

import os
import subprocess
import sys

import labctl.testing

from ansible_collections.ecs_anywhere.fleet.tests.bench import bench
from ansible_collections.ecs_anywhere.fleet.tests.bench import noop_ratio

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

MEASURED = {
    "bench": "noop_ratio",
    "hosts": 2,
    "repeat": 3,
    "first_run_s": 120.4,
    "first_run_calls": 24,
    "first_run_by_operation": {"ssm:CreateActivation": 1},
    "noop_calls": 10,
    "noop_by_operation": {"ssm:DescribeInstanceInformation": 1},
    "facts_s": [4.0, 5.0, 6.0],
    "noop_s": [12.0, 14.0, 13.0],
    "facts_median_s": 5.0,
    "noop_median_s": 13.0,
    "noop_cpu_median_s": 9.4,
    "ratio": 2.6,
    "noop_changed": {"opx-1": 0},
    "load_before": [1.04, 1.0, 1.0],
    "load_after": [2.26, 1.5, 1.0],
    "cpus": 2,
}


def test_noop_ratio_reads_the_recap_with_labctl():
    assert noop_ratio.recap is labctl.testing.recap


def test_bench_takes_its_lab_rows_from_noop_ratio(monkeypatch):
    seen = []

    def measure(hosts, repeat, **kwargs):
        seen.append((hosts, repeat, kwargs))
        return dict(MEASURED)

    monkeypatch.setattr(noop_ratio, "measure", measure)
    row = bench.measure_lab(2, 3)
    assert seen == [(2, 3, {"extra": ["-e", "ecs_anywhere_cluster=" + bench.CLUSTER], "count_calls": True})]
    assert row == {
        "first_run_s": 120.4,
        "first_run_calls": 24,
        "first_run_by_operation": {"ssm:CreateActivation": 1},
        "noop_calls": 10,
        "noop_s": 13.0,
        "facts_s": 5.0,
        "ratio": 2.6,
        "noop_cpu_s": 9.4,
        "load": [1.0, 2.3],
    }
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in bench.table({2: row}, {}, None).splitlines()
    ]
    assert ["no-op ratio, N=2 (median of runs)", "2.60 (13.0 s / 5.0 s, load 1.0 -> 2.3)", "<= 3.0"] in rows
    assert ["controller CPU per no-op, N=2 (median)", "9.4 s", "-"] in rows
    assert ["controller calls, no-op, N=2", "10", "<= 11"] in rows


def test_summary_line_names_ratio_load_and_calls():
    line = noop_ratio.summary(MEASURED)
    assert line.startswith("no-op onboard.yml / facts-only play at N=2: 2.60x (no-op 13.0 s, facts 5.0 s, median of 3")
    assert "first run 120 s" in line and "controller CPU per no-op 9.4 s; load 1.04 -> 2.26 on 2 CPUs" in line
    assert line.endswith("no-op changed: 0; controller AWS calls per no-op: 10")


def test_a_run_counts_the_cpu_of_the_processes_it_waited_for(tmp_path):
    burn = [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"]
    seconds, _output, cpu = noop_ratio.run(burn, str(tmp_path / "log"))
    assert 0.25 <= cpu <= seconds + 0.1


def test_noop_ratio_runs_as_a_script_without_labctl_on_the_path():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "bench", "noop_ratio.py"), "--hosts", "0"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--hosts and --repeat must be at least 1" in proc.stderr
