# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration-test support: run tasks in one ansible-playbook process and return what each registered."""

import json
import os
import subprocess
import sys
import time

ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")


class PlayResult:
    def __init__(self, results, completed, seconds):
        self.results = results  # one registered result per task, in order
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.returncode = completed.returncode
        self.seconds = seconds

    def __getitem__(self, index):
        return self.results[index]


def play_command(workdir, tasks, name="play", extra_args=()):
    """Write a play of ``tasks`` on localhost to ``workdir/<name>.yml``; return the ansible-playbook command."""
    playbook = os.path.join(str(workdir), "%s.yml" % name)
    with open(playbook, "w", encoding="utf-8") as f:
        json.dump([dict(hosts="localhost", gather_facts=False, tasks=tasks)], f)
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", playbook]
    return command + ["-e", "ansible_python_interpreter=" + sys.executable] + list(extra_args)


def run_play(env, workdir, tasks, name="play", extra_args=()):
    """Run a play of ``tasks``; return the CompletedProcess (output captured, colour off)."""
    env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = play_command(workdir, tasks, name, extra_args)
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def run_tasks(env, workdir, tasks, extra_args=(), expect_rc=0):
    """Run ``tasks`` (dicts: ``{"fqcn.module": {args}, ...}``) on localhost, each with ``ignore_errors``,
    and return their registered results (and the play's output, for secret checks)."""
    play_tasks = []
    files = []
    for index, task in enumerate(tasks):
        out = os.path.join(str(workdir), "task-%d.json" % index)
        files.append(out)
        play_tasks.append(dict(task, register="task_result", ignore_errors=True))
        play_tasks.append(
            {
                "name": "Save task %d" % index,
                "no_log": True,
                "ansible.builtin.copy": {"content": "{{ task_result | to_json }}", "dest": out, "mode": "0600"},
            }
        )
    started = time.monotonic()
    completed = run_play(env, workdir, play_tasks, extra_args=extra_args)
    seconds = time.monotonic() - started
    assert completed.returncode == expect_rc, completed.stdout + completed.stderr
    results = []
    for out in files:
        with open(out, encoding="utf-8") as f:
            results.append(json.load(f))
        os.remove(out)
    return PlayResult(results, completed, seconds)
