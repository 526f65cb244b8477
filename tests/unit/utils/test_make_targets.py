# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`, `make demo-down` and `make docs` exist and run their scripts, which parse (the demo itself takes
minutes and a lab, the docs build 40 s: neither is part of `make test`)."""

import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def dry_run(target, *flags):
    """What `make -n <target>` would run (no LAB_/MAKE/MOLECULE settings from the caller), continuation lines joined."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_", "MAKE", "MOLECULE"))}
    proc = subprocess.run(
        ["make", "-n", "--no-print-directory"] + list(flags) + [target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.replace("\\\n", "")


@pytest.mark.parametrize(
    "target, command",
    [("demo", "tests/utils/demo.sh"), ("demo-down", "tests/lab/lab down"), ("docs", "tests/utils/build_docs.sh")],
)
def test_target_runs_its_script(target, command):
    assert command in dry_run(target)


@pytest.mark.parametrize("script", ["tests/utils/demo.sh", "tests/utils/build_docs.sh", "tests/utils/check_package.sh"])
def test_script_parses_and_is_strict(script):
    path = os.path.join(ROOT, script)
    assert os.access(path, os.X_OK), "%s is not executable" % script
    proc = subprocess.run(["bash", "-n", path], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert "set -euo pipefail" in text
    assert "LAB_INSTANCE=" not in text, "the demo must work with no LAB_* set (and not pick one itself)"


def test_readme_opens_with_make_demo():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    first_commands = [
        line.split("#")[0].strip() for line in readme.split("## Content")[0].splitlines() if line.startswith("make ")
    ]
    assert first_commands[:2] == ["make demo", "make test"], first_commands


def test_make_test_runs_molecule_with_the_lab_and_molecule_every_scenario():
    """make test: molecule beside the lab tests, then the fault suite on ansible-core 2.17 in molecule's lane (issue 12:
    both ends of the supported range); the quick stages beside sanity."""
    test = dry_run("test")
    assert "run_stages.py lint,units,package+sanity integration lab+molecule,faults-217" in test, test
    molecule = dry_run("molecule")
    scenarios = sorted(
        name
        for name in os.listdir(os.path.join(ROOT, "extensions", "molecule"))
        if os.path.isfile(os.path.join(ROOT, "extensions", "molecule", name, "molecule.yml")) and name != "default"
    )
    ordered = molecule.split("for scenario in ")[1].split(";")[0].split()
    assert sorted(ordered) == scenarios, "make molecule must run every scenario (%s), runs %s" % (scenarios, ordered)


def test_lab_217_runs_the_lab_onboarding_and_the_fault_suite_with_the_2_17_venv():
    """`make lab-217` builds .venv-2.17 from requirements-2.17.txt (ansible-core 2.17, the lowest meta/runtime.yml
    claims) and runs the lab tests with its ansible-playbook."""
    lab_217 = dry_run("lab-217", "-B")
    assert "-r requirements-2.17.txt" in lab_217, lab_217
    assert "LAB_ANSIBLE_PLAYBOOK=%s/.venv-2.17/bin/ansible-playbook pytest" % ROOT in lab_217, lab_217
    with open(os.path.join(ROOT, "requirements-2.17.txt"), encoding="utf-8") as handle:
        pins = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert "ansible-core==2.17.14" in pins and all("==" in pin for pin in pins), pins
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        assert 'requires_ansible: ">=2.17.0"' in handle.read()


def test_faults_runs_the_fault_suite_on_a_lab_of_its_own_and_faults_217_with_the_2_17_venv():
    """`make faults` runs the fault suite alone on a lab of its own (`make lab`, and so make test, runs it with the other
    lab tests); `faults-217` is the same suite with .venv-2.17's ansible-playbook."""
    lab_env = "LAB_INSTANCE=7 LAB_SUBNET=172.29.87.0/24 LAB_STATE_DIR=%s/.lab-faults" % ROOT
    assert "%s pytest -q --durations=10 tests/lab/test_faults.py" % lab_env in dry_run("faults", "-B")
    assert (
        "%s LAB_ANSIBLE_PLAYBOOK=%s/.venv-2.17/bin/ansible-playbook pytest -q --durations=10 tests/lab/test_faults.py"
        % (lab_env, ROOT)
    ) in dry_run("faults-217", "-B")
    lab = dry_run("lab")
    assert (
        "pytest -q -n 2 --dist loadfile --durations=20 tests/lab " in lab and "--ignore" not in lab
    ), lab  # the suite included
