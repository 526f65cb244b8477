# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/utils/run_stages.py (what `make test` runs): every stage runs even after one fails, the summary names each,
the exit status says whether any failed, and ``a+b`` runs two stages at the same time with their lines prefixed."""

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RUN_STAGES = os.path.join(ROOT, "tests", "utils", "run_stages.py")

# `left` waits for `right` to have started (and the other way round): run one after the other, both time out.
MAKEFILE = textwrap.dedent("""\
    left:
    \t@touch left.started; for i in $$(seq 100); do [ -e right.started ] && break; sleep 0.05; done; \\
    \t  [ -e right.started ] && echo "saw right"
    right:
    \t@touch right.started; for i in $$(seq 100); do [ -e left.started ] && break; sleep 0.05; done; \\
    \t  [ -e left.started ] && echo "saw left"
    fails:
    \t@echo "about to fail"; exit 3
    after:
    \t@echo "ran after the failure"
    """)


def run(tmp_path, *groups, makefile=MAKEFILE):
    (tmp_path / "Makefile").write_text(makefile, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    return subprocess.run(
        [sys.executable, RUN_STAGES] + list(groups),
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stages_joined_by_plus_run_at_the_same_time_with_prefixed_lines(tmp_path):
    proc = run(tmp_path, "left+right")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[left] saw right" in proc.stdout.splitlines()
    assert "[right] saw left" in proc.stdout.splitlines()
    assert "stages: 2 passed, 0 failed" in proc.stdout


def test_a_failed_stage_does_not_stop_the_next_and_fails_the_run(tmp_path):
    proc = run(tmp_path, "fails", "after")

    assert proc.returncode == 1
    assert "ran after the failure" in proc.stdout
    summary = proc.stdout.split("==> summary")[1].split()
    assert summary[:6] == ["fails", "FAILED", summary[2], "after", "ok", summary[5]]
    assert "stages: 1 passed, 1 failed" in proc.stdout


def test_a_failure_inside_a_group_is_reported(tmp_path):
    proc = run(tmp_path, "fails+after")

    assert proc.returncode == 1
    assert "[fails] about to fail" in proc.stdout.splitlines()
    assert "[after] ran after the failure" in proc.stdout.splitlines()
    assert "stages: 1 passed, 1 failed" in proc.stdout


def test_each_stage_of_a_group_has_its_own_time(tmp_path):
    proc = run(tmp_path, "slow+quick", makefile="quick:\n\t@true\nslow:\n\t@sleep 2\n")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.split("==> summary")[1].splitlines()[1:3]
    seconds = {line.split()[0]: float(line.split()[2].rstrip("s")) for line in summary}
    assert seconds["slow"] >= 2.0
    assert seconds["quick"] < 1.5, seconds


def test_stages_joined_by_comma_run_one_after_the_other_beside_the_other_lane(tmp_path):
    """`a+b,c`: c starts only when b has ended (even after b failed), while a runs beside both."""
    makefile = textwrap.dedent("""\
        side:
        \t@touch side.started; for i in $$(seq 100); do [ -e then.started ] && break; sleep 0.05; done; \\
        \t  [ -e then.started ] && echo "saw the second of the lane"
        first:
        \t@touch first.started; for i in $$(seq 100); do [ -e side.started ] && break; sleep 0.05; done; \\
        \t  [ -e side.started ] && echo "saw side"; sleep 0.3; [ ! -e then.started ] && touch first.ended; exit 2
        then:
        \t@touch then.started; [ -e first.ended ] && echo "first had ended"
        """)
    proc = run(tmp_path, "side+first,then", makefile=makefile)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "[side] saw the second of the lane" in lines
    assert "[first] saw side" in lines
    assert "[then] first had ended" in lines
    assert "==> make side & make first then make then" in lines
    summary = [line.split()[:2] for line in proc.stdout.split("==> summary")[1].splitlines()[1:4]]
    assert summary == [["side", "ok"], ["first", "FAILED"], ["then", "ok"]], summary
    assert "stages: 2 passed, 1 failed" in proc.stdout
